"""Rate limits: how often one client may do something that guessing would abuse.

Every limit is named in ``LIMITS`` with its numbers (``CONGRESS_RATE_LIMITS`` may change
them). Two ways of counting:

- ``attempt``: counted *before* it is made and given back if it went well. A sign-in: a
  burst of parallel password guesses cannot all slip in before the first is counted, and
  only failures count in the end. A tablet's scans: counted and kept.
- ``allowed`` then ``failed``: only failures are counted, after the fact. Card, screen and
  pairing addresses, where a whole hall behind one Wi-Fi address opens its cards at once,
  and a valid one must never wait for the others in flight; their secrets are far too long
  for the few parallel guesses this lets through to matter.

The counts live in this process's memory, or with ``CONGRESS_REDIS_URL`` in Redis, so that
several instances behind a load balancer share them. When Redis does not answer, each
instance counts in its own memory until it does again (a warning in the log says so): a
congress must not stop because Redis blinked.

The key for a client is its address as ``client_address`` finds it behind the reverse
proxies named in ``CONGRESS_TRUSTED_PROXIES``, never from a header anyone could send.
"""

from __future__ import annotations

import collections
import functools
import ipaddress
import itertools
import logging
import secrets
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

from congress.errors import CongressError

if TYPE_CHECKING:
    from litestar.connection import ASGIConnection
    from redis.asyncio import Redis

    from congress.settings import Settings

log = logging.getLogger(__name__)


class Limit(NamedTuple):
    attempts: int
    seconds: float


LIMITS: dict[str, Limit] = {
    # Failed sign-ins per client address, and per user name from anywhere.
    "sign_in_address": Limit(10, 60),
    "sign_in_username": Limit(5, 60),
    # Card addresses (/D/…) that are malformed or unknown, per client address: only failures
    # count, since a whole hall may share one address behind its Wi-Fi.
    "card_lookup": Limit(20, 60),
    # Wrong tablet pairing codes (/P/…) per client address.
    "pairing": Limit(10, 60),
    # Malformed or unknown screen keys (/S/…, its state, pictures and socket) per address.
    "screen_lookup": Limit(20, 60),
    # Scan requests per paired tablet: a person at a door scans at most about 2 a second;
    # an upload of the offline queue (up to 200 scans) counts once.
    "checkin_scans": Limit(300, 60),
}
REDIS_PREFIX = "congress:rl:"
# After Redis failed, how long this instance counts in memory before asking Redis again.
REDIS_RETRY_SECONDS = 5.0
REDIS_TIMEOUT_SECONDS = 0.5


class TooManyRequests(CongressError):
    status_code = 429


# --- the client's address -------------------------------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@functools.cache
def _networks(trusted: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(item, strict=False) for item in trusted)


def _ip(text: str) -> Address | None:
    """An address as peers and proxies write it: bare, ``1.2.3.4:port`` or ``[v6]:port``."""
    text = text.strip()
    if text.startswith("[") and "]" in text:
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:
        text = text.split(":")[0]
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
        return address.ipv4_mapped
    return address


def _is_trusted(address: Address | None, networks: Iterable[Network]) -> bool:
    return address is not None and any(address in network for network in networks)


def client_address(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    """Who is asking, for a request or a websocket: the peer's address, or, when the peer is
    a trusted proxy, the right-most X-Forwarded-For entry that is not itself a trusted
    proxy. Each proxy appends the address it was reached from, so entries left of that one
    are whatever the client chose to send, and are never believed."""
    peer_text = connection.client.host if connection.client else ""
    peer = _ip(peer_text)
    networks = _networks(connection.app.state.settings.trusted_proxies)
    if not _is_trusted(peer, networks):
        return str(peer) if peer else peer_text or "unknown"
    hops = [
        hop.strip()
        for header in connection.headers.getall("x-forwarded-for", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    nearest = str(peer)
    for hop in reversed(hops):
        address = _ip(hop)
        if address is None:
            # Not written by a proxy of ours: stop at the last address that was.
            return nearest
        if not _is_trusted(address, networks):
            return str(address)
        nearest = str(address)
    return nearest


def address_key(address: str) -> str:
    """What a client's attempts are counted under: its IPv4 address, or its IPv6 /64 (one
    household or site, which holds billions of addresses to change between guesses)."""
    ip = _ip(address)
    if isinstance(ip, ipaddress.IPv6Address):
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return address


# --- counting -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Taken:
    """One counted attempt, to give back if it went well."""

    key: str
    ticket: str
    in_redis: bool = False


class RateLimiter(Protocol):
    limit: Limit

    async def take(self, key: str) -> Taken | None:
        """Counts one attempt under key; None, counting nothing, when key is at its limit."""
        ...

    async def give_back(self, taken: Taken) -> None:
        """The attempt went well: it no longer counts."""
        ...

    async def allowed(self, key: str) -> bool:
        """Whether key is below its limit, counting nothing."""
        ...

    def clear(self) -> None:
        """Forgets what this process counted."""
        ...


class MemoryRateLimiter:
    """At most ``limit.attempts`` attempts per ``limit.seconds`` for each key (a sliding window),
    counted in this process."""

    def __init__(self, limit: Limit, max_keys: int = 100_000) -> None:
        self.limit = limit
        self.max_keys = max_keys
        self._hits: dict[str, collections.deque[tuple[float, str]]] = {}
        self._tickets = itertools.count()

    def _recent(self, key: str) -> collections.deque[tuple[float, str]]:
        now = time.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self.max_keys:
                self._hits.clear()  # a flood of keys: start over rather than grow
            hits = self._hits[key] = collections.deque()
        while hits and hits[0][0] <= now - self.limit.seconds:
            hits.popleft()
        return hits

    async def take(self, key: str) -> Taken | None:
        hits = self._recent(key)
        if len(hits) >= self.limit.attempts:
            return None
        ticket = str(next(self._tickets))
        hits.append((time.monotonic(), ticket))
        return Taken(key, ticket)

    async def allowed(self, key: str) -> bool:
        return len(self._recent(key)) < self.limit.attempts

    async def give_back(self, taken: Taken) -> None:
        hits = self._hits.get(taken.key)
        for hit in hits or ():
            if hit[1] == taken.ticket:
                hits.remove(hit)  # type: ignore[union-attr]
                return

    def clear(self) -> None:
        self._hits.clear()


# A sliding window in a sorted set: the scores are the times of the attempts (Redis's own
# clock, the same for every instance), one member per attempt. Atomic as a script.
TAKE_SCRIPT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local window_ms = tonumber(ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now_ms - window_ms)
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[2]) then
  return 0
end
redis.call('ZADD', KEYS[1], now_ms, ARGV[3])
redis.call('PEXPIRE', KEYS[1], window_ms)
return 1
"""
COUNT_SCRIPT = """
local now = redis.call('TIME')
local now_ms = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
return redis.call('ZCOUNT', KEYS[1], '(' .. (now_ms - tonumber(ARGV[1])), '+inf')
"""


class RedisHealth:
    """Whether Redis answered lately; shared by an app's limiters, so an outage is logged
    once and not every request waits for a Redis that is gone."""

    def __init__(self) -> None:
        self.down_until = 0.0
        self.down = False

    def usable(self) -> bool:
        return time.monotonic() >= self.down_until

    def failed(self, error: Exception) -> None:
        self.down_until = time.monotonic() + REDIS_RETRY_SECONDS
        if not self.down:
            self.down = True
            log.warning(
                "Redis does not answer (%s): rate limits are counted in this instance's "
                "memory until it does",
                error,
            )

    def answered(self) -> None:
        if self.down:
            self.down = False
            log.warning("Redis answers again: rate limits are shared by the instances again")


class RedisRateLimiter:
    """The same window in Redis, shared by every instance; counts in memory while Redis
    does not answer."""

    def __init__(self, name: str, limit: Limit, redis: Redis, health: RedisHealth) -> None:
        self.limit = limit
        self.prefix = f"{REDIS_PREFIX}{name}:"
        self.redis = redis
        self.health = health
        self.take_script = redis.register_script(TAKE_SCRIPT)
        self.count_script = redis.register_script(COUNT_SCRIPT)
        self.fallback = MemoryRateLimiter(limit)
        self.window_ms = round(limit.seconds * 1000)

    async def take(self, key: str) -> Taken | None:
        from redis.exceptions import RedisError

        if self.health.usable():
            ticket = secrets.token_hex(8)
            try:
                counted = await self.take_script(
                    keys=[self.prefix + key], args=[self.window_ms, self.limit.attempts, ticket]
                )
            except (RedisError, OSError) as error:
                self.health.failed(error)
            else:
                self.health.answered()
                return Taken(key, ticket, in_redis=True) if counted else None
        return await self.fallback.take(key)

    async def allowed(self, key: str) -> bool:
        from redis.exceptions import RedisError

        if self.health.usable():
            try:
                count = await self.count_script(keys=[self.prefix + key], args=[self.window_ms])
            except (RedisError, OSError) as error:
                self.health.failed(error)
            else:
                self.health.answered()
                return int(count) < self.limit.attempts
        return await self.fallback.allowed(key)

    async def give_back(self, taken: Taken) -> None:
        from redis.exceptions import RedisError

        if not taken.in_redis:
            await self.fallback.give_back(taken)
            return
        try:
            await self.redis.zrem(self.prefix + taken.key, taken.ticket)
        except (RedisError, OSError) as error:
            self.health.failed(error)

    def clear(self) -> None:
        self.fallback.clear()


class Attempt:
    """Attempts counted against one or more limits, given back together if all went well."""

    def __init__(self, taken: list[tuple[RateLimiter, Taken]]) -> None:
        self.taken = taken

    async def went_well(self) -> None:
        for limiter, taken in self.taken:
            await limiter.give_back(taken)
        self.taken = []


class RateLimits:
    """The named limiters of one app, counting in memory or, with a Redis URL, in Redis."""

    def __init__(self, settings: Settings) -> None:
        limits = {**LIMITS, **{name: Limit(n, s) for name, n, s in settings.rate_limits}}
        self.redis: Redis | None = None
        self.limiters: dict[str, RateLimiter]
        if settings.redis_url:
            from redis.asyncio import Redis
            from redis.asyncio.retry import Retry
            from redis.backoff import NoBackoff

            self.redis = Redis.from_url(
                settings.redis_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
                retry=Retry(NoBackoff(), 0),  # no waiting on a Redis that is gone
            )
            health = RedisHealth()
            self.limiters = {
                name: RedisRateLimiter(name, limit, self.redis, health)
                for name, limit in limits.items()
            }
        else:
            self.limiters = {name: MemoryRateLimiter(limit) for name, limit in limits.items()}

    def __getitem__(self, name: str) -> RateLimiter:
        return self.limiters[name]

    async def attempt(self, *counts: tuple[str, str]) -> Attempt | None:
        """Counts one attempt for each (limit name, key); None, with nothing counted, when
        any of them is at its limit."""
        taken: list[tuple[RateLimiter, Taken]] = []
        for name, key in counts:
            limiter = self.limiters[name]
            one = await limiter.take(key)
            if one is None:
                await Attempt(taken).went_well()
                return None
            taken.append((limiter, one))
        return Attempt(taken)

    async def allowed(self, name: str, key: str) -> bool:
        """Whether key is below the named limit, counting nothing."""
        return await self.limiters[name].allowed(key)

    async def failed(self, name: str, key: str) -> None:
        """Counts one failure of key against the named limit."""
        await self.limiters[name].take(key)

    def forget(self) -> None:
        """Forgets what this process counted (the tests start each one afresh)."""
        for limiter in self.limiters.values():
            limiter.clear()

    async def close(self) -> None:
        if self.redis is not None:
            await self.redis.aclose()


def rate_limits(connection: ASGIConnection[Any, Any, Any, Any]) -> RateLimits:
    """The app's limiters, made from its settings on first use."""
    state = connection.app.state
    limits: RateLimits | None = state.get("rate_limits")
    if limits is None:
        limits = state["rate_limits"] = RateLimits(state.settings)
    return limits


def retry_after(name: str, connection: ASGIConnection[Any, Any, Any, Any]) -> dict[str, str]:
    """The Retry-After header for a refusal by the named limit: its whole window."""
    seconds = rate_limits(connection)[name].limit.seconds
    return {"Retry-After": str(max(1, round(seconds)))}
