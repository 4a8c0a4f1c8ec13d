"""The public feed's fan-out: one subscription per congress and process, each event described
once per language, the same text written to every reader's socket.

A newspaper's readers can be thousands. With a Channels subscription per socket, every
event went into thousands of queues and woke thousands of tasks, each decoding the same
bytes again. Here a reader is a small object in a set; the writer task of its congress
sends to it directly. A reader whose connection cannot take more (the transport paused)
gets its own task that sends its backlog in order, so one slow phone never holds up the
others; a reader that falls too far behind is closed and comes back with ``after=<seq>``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar.channels import ChannelsPlugin

from congress.eventlog import RecordedEvent, congress_channel
from congress.i18n import current_language

log = logging.getLogger(__name__)

Describe = Callable[[int, RecordedEvent], Awaitable[str | None]]
# How long one write may wait for a paused transport before the reader gets its own task.
SEND_WAIT_S = 0.02
BACKLOG = 64
TRY_AGAIN_LATER = 1013


class Reader:
    """One open public socket: what it has already been sent, and how to send to it."""

    __slots__ = ("after", "backlog", "caught_up", "close", "closed", "language", "send")

    def __init__(
        self,
        send: Callable[[str], Awaitable[None]],
        close: Callable[[int], Awaitable[None]],
        language: str,
        after: int,
    ) -> None:
        self.send = send
        self.close = close
        self.language = language
        self.after = after
        self.caught_up: set[int] = set()
        self.backlog: collections.deque[str] | None = None  # set while a task drains it
        self.closed = False

    def wants(self, seq: int) -> bool:
        return not self.closed and seq > self.after and seq not in self.caught_up


class FanOut:
    """The readers of every congress in this process, and one writer task per congress."""

    def __init__(self, channels: ChannelsPlugin, describe: Describe) -> None:
        self.channels = channels
        self.describe = describe
        self.readers: dict[int, set[Reader]] = {}
        self.writers: dict[int, asyncio.Task[None]] = {}
        self.ready: dict[int, asyncio.Event] = {}
        self.draining: set[asyncio.Task[None]] = set()

    async def join(self, congress_id: int, reader: Reader) -> None:
        """Adds the reader; returns once events of this congress are being received, so a
        catch-up read afterwards misses nothing."""
        self.readers.setdefault(congress_id, set()).add(reader)
        if congress_id not in self.writers:
            self.ready[congress_id] = asyncio.Event()
            self.writers[congress_id] = asyncio.create_task(self._write(congress_id))
        await self.ready[congress_id].wait()

    def leave(self, congress_id: int, reader: Reader) -> None:
        reader.closed = True
        readers = self.readers.get(congress_id)
        if readers is not None:
            readers.discard(reader)
            if not readers:
                del self.readers[congress_id]
                self.ready.pop(congress_id, None)
                writer = self.writers.pop(congress_id, None)
                if writer is not None:
                    writer.cancel()

    async def _write(self, congress_id: int) -> None:
        async with self.channels.start_subscription([congress_channel(congress_id)]) as events:
            self.ready[congress_id].set()
            async for raw in events.iter_events():
                try:
                    await self._deliver(congress_id, msgspec.json.decode(raw, type=RecordedEvent))
                except Exception:
                    log.exception("the public feed could not deliver an event")

    async def _deliver(self, congress_id: int, event: RecordedEvent) -> None:
        readers = [r for r in self.readers.get(congress_id, ()) if r.wants(event.seq)]
        texts: dict[str, str | None] = {}
        for n, reader in enumerate(readers, start=1):
            if n % 500 == 0:
                await asyncio.sleep(0)  # let the rest of the app breathe between batches
            if reader.language not in texts:
                token = current_language.set(reader.language)
                try:
                    texts[reader.language] = await self.describe(congress_id, event)
                finally:
                    current_language.reset(token)
            text = texts[reader.language]
            if text is not None:
                await self._send(reader, text)

    async def _send(self, reader: Reader, text: str) -> None:
        if reader.backlog is not None:  # its own task is sending: keep the order
            if len(reader.backlog) >= BACKLOG:
                await self._drop(reader)
            else:
                reader.backlog.append(text)
            return
        try:
            async with asyncio.timeout(SEND_WAIT_S):
                await reader.send(text)
        except TimeoutError:
            # Nothing was written (the send waits before writing): send it later, in order.
            reader.backlog = collections.deque([text])
            task = asyncio.create_task(self._drain(reader))
            self.draining.add(task)
            task.add_done_callback(self.draining.discard)
        except Exception:
            reader.closed = True  # gone; its handler leaves the set

    async def _drain(self, reader: Reader) -> None:
        try:
            while reader.backlog and not reader.closed:
                await reader.send(reader.backlog[0])
                reader.backlog.popleft()
        except Exception:
            reader.closed = True
        finally:
            reader.backlog = None

    async def _drop(self, reader: Reader) -> None:
        """Too far behind: close it; the page reconnects and catches up by sequence."""
        reader.closed = True
        with contextlib.suppress(Exception):
            await reader.close(TRY_AGAIN_LATER)


def fan_out_of(app: Any, describe: Describe) -> FanOut:
    """The app's FanOut (one per app, made on first use)."""
    fan_out: FanOut | None = getattr(app.state, "public_fan_out", None)
    if fan_out is None:
        fan_out = FanOut(app.plugins.get(ChannelsPlugin), describe)
        app.state.public_fan_out = fan_out
    return fan_out
