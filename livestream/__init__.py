"""Live feeds, LED screens, the public live page and stream links."""
