"""The public face of the live congress: stream links, the live page, its timeline and feeds."""
