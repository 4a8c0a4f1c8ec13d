"""Delegate credentials, tablets, scanning, attendance and quorum."""
