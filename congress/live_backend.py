"""The live feed's Redis backend: congress events between instances, none lost for good.

Redis pub/sub delivers at most once: an instance killed between its commit and its publish,
a Redis restart, a subscription not yet in place each lose a message. Litestar's own
backend also stops for good at the first connection error (its worker tasks end). This one
keeps going: publishing retries for a moment and then gives up (the event log is the
record), the subscriber reconnects with back-off and subscribes again, and because every
congress event carries its sequence number, the subscriber notices what it did not get — a
gap before an event, or a quiet channel whose log has moved on — and reads it from the event
log before passing on what follows. Each process's subscribers therefore get every event of
a congress in order, whichever instance made it and whatever happened to Redis.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator, Iterable
from typing import Any

import msgspec
from litestar.channels.backends.base import ChannelsBackend
from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from congress.eventlog import events_of

log = logging.getLogger(__name__)

REDIS_DOWN = (RedisConnectionError, RedisTimeoutError, OSError)
CHANNEL_PREFIX = "congress:"
PUBLISH_RETRIES = (0.1, 0.3, 0.6, 1.0, 2.0)
"""Seconds to wait before each new try of a publish that failed; then it is dropped."""
MAX_BACK_OFF = 5.0


class _Envelope(msgspec.Struct):
    """The part of a published event the backend reads: which congress, which number."""

    congress: int | None = None
    seq: int = 0


def _congress_of(channel: str) -> int | None:
    number = channel.removeprefix(CHANNEL_PREFIX)
    return int(number) if channel.startswith(CHANNEL_PREFIX) and number.isdigit() else None


class CongressRedisBackend(ChannelsBackend):
    """Redis pub/sub for the congress channels, mended from the event log."""

    def __init__(self, url: str, *, tail_check: float = 2.0) -> None:
        self._redis = Redis.from_url(url, socket_connect_timeout=2, health_check_interval=15)
        self._pubsub: PubSub | None = None
        self._last: dict[str, int] = {}  # channel -> the last sequence number passed on
        self._tail_check = tail_check
        self._checked_at = 0.0
        self._subscribed: asyncio.Event | None = None
        self._out_since: float | None = None

    @property
    def _has_channels(self) -> asyncio.Event:
        if self._subscribed is None:  # made on the running loop, not at import
            self._subscribed = asyncio.Event()
        return self._subscribed

    async def on_startup(self) -> None:
        pass

    async def on_shutdown(self) -> None:
        await self._drop_pubsub()
        await self._redis.aclose()

    async def subscribe(self, channels: Iterable[str]) -> None:
        new = [channel for channel in channels if channel not in self._last]
        for channel in new:
            congress_id = _congress_of(channel)
            newest = await events_of(congress_id, newest_first=True, limit=1) if congress_id else []
            self._last[channel] = newest[0].seq if newest else 0
        if new and self._pubsub is not None:
            try:
                await self._pubsub.subscribe(*new)
            except REDIS_DOWN:
                await self._lost("subscribe")  # subscribed again once Redis is back
        self._has_channels.set()

    async def unsubscribe(self, channels: Iterable[str]) -> None:
        gone = [channel for channel in channels if self._last.pop(channel, None) is not None]
        if gone and self._pubsub is not None:
            try:
                await self._pubsub.unsubscribe(*gone)
            except REDIS_DOWN:
                await self._lost("unsubscribe")
        if not self._last:
            self._has_channels.clear()

    async def publish(self, data: bytes, channels: Iterable[str]) -> None:
        targets = set(channels)
        for wait in (0.0, *PUBLISH_RETRIES):
            await asyncio.sleep(wait)
            try:
                for channel in targets:
                    await self._redis.publish(channel, data)
                return
            except REDIS_DOWN:
                continue
        # The other instances read it from the event log when they notice the gap.
        log.warning("Redis unreachable: a live event was not published (it is in the log)")

    async def stream_events(self) -> AsyncGenerator[tuple[str, Any], None]:
        back_off = 0.2
        while True:
            await self._has_channels.wait()
            if not self._last:
                self._has_channels.clear()
                continue
            try:
                if self._pubsub is None:
                    self._pubsub = self._redis.pubsub()
                    await self._pubsub.subscribe(*self._last)
                    if self._out_since is not None:
                        log.warning(
                            "Redis answers again after %.1f s; live events resume",
                            time.monotonic() - self._out_since,
                        )
                        self._out_since = None
                    self._checked_at = 0.0  # what was published meanwhile is in the log
                message = await self._pubsub.get_message(ignore_subscribe_messages=True, timeout=1)
                back_off = 0.2
            except REDIS_DOWN:
                await self._lost("listen")
                message = None
                await asyncio.sleep(back_off)
                back_off = min(back_off * 2, MAX_BACK_OFF)
            except Exception:  # never end the worker: without it no live event arrives
                log.exception("the live feed's Redis subscriber failed; starting it again")
                await self._drop_pubsub()
                message = None
                await asyncio.sleep(back_off)
                back_off = min(back_off * 2, MAX_BACK_OFF)
            if message is not None:
                channel = message["channel"].decode()
                async for item in self._in_order(channel, message["data"]):
                    yield item
            if time.monotonic() - self._checked_at >= self._tail_check:
                # A quiet channel may have missed its last events: the log says.
                self._checked_at = time.monotonic()
                for channel in list(self._last):
                    async for item in self._from_log(channel, before=None):
                        yield item

    async def get_history(self, channel: str, limit: int | None = None) -> list[bytes]:
        raise NotImplementedError  # no history: the event log is the history

    async def _in_order(self, channel: str, data: bytes) -> AsyncGenerator[tuple[str, bytes], None]:
        """The event, after those it skipped; nothing already passed on."""
        last = self._last.get(channel)
        if last is None:
            return  # unsubscribed meanwhile
        try:
            seq = msgspec.json.decode(data, type=_Envelope).seq
        except msgspec.DecodeError:
            yield channel, data  # not an event: passed on as it came
            return
        if seq <= last:
            return
        if seq > last + 1:
            async for item in self._from_log(channel, before=seq):
                yield item
        if seq > self._last.get(channel, seq):
            self._last[channel] = seq
            yield channel, data

    async def _from_log(
        self, channel: str, *, before: int | None
    ) -> AsyncGenerator[tuple[str, bytes], None]:
        congress_id = _congress_of(channel)
        last = self._last.get(channel)
        if congress_id is None or last is None:
            return
        limit = 10_000 if before is None else before - last - 1
        try:
            missed = await events_of(congress_id, after_seq=last, limit=limit)
        except Exception:  # the database is away too: the next check tries again
            log.warning("could not read the event log to mend the live feed", exc_info=True)
            return
        for event in missed:
            if (before is not None and event.seq >= before) or event.seq <= self._last[channel]:
                continue
            self._last[channel] = event.seq
            yield channel, msgspec.json.encode(event)

    async def _lost(self, doing: str) -> None:
        if self._out_since is None:
            self._out_since = time.monotonic()
            log.warning("Redis unreachable (%s); live events come from the event log", doing)
        await self._drop_pubsub()

    async def _drop_pubsub(self) -> None:
        pubsub, self._pubsub = self._pubsub, None
        if pubsub is not None:
            with contextlib.suppress(*REDIS_DOWN):
                await pubsub.aclose()
