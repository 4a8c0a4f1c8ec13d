"""Rate limits: how often one client may do something that guessing would abuse.

The memory backend counts per process; several instances share nothing through it (a
Redis backend can be added behind the same two methods).
"""

from __future__ import annotations

import collections
import time
from typing import Protocol


class RateLimiter(Protocol):
    def allowed(self, key: str) -> bool: ...

    def hit(self, key: str) -> None: ...


class MemoryRateLimiter:
    """At most ``limit`` hits per ``window`` seconds for each key (a sliding window)."""

    def __init__(self, limit: int, window: float, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.window = window
        self.max_keys = max_keys
        self._hits: dict[str, collections.deque[float]] = {}

    def _recent(self, key: str) -> collections.deque[float]:
        now = time.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._hits.clear()  # a flood of keys: start over rather than grow
            hits = self._hits[key] = collections.deque()
        while hits and hits[0] <= now - self.window:
            hits.popleft()
        return hits

    def allowed(self, key: str) -> bool:
        return len(self._recent(key)) < self.limit

    def hit(self, key: str) -> None:
        self._recent(key).append(time.monotonic())
