"""The public feed's fan-out: one subscription per congress and process, each event described
once per language, the same text written to every reader's socket.

A newspaper's readers can be thousands. With a Channels subscription per socket, every
event went into thousands of queues and woke thousands of tasks, each decoding the same
bytes again. Here a reader is a small object in a set; the writer task of its congress
sends to it directly. A reader whose connection cannot take more (the transport paused)
gets its own task that sends its backlog in order, so one slow phone never holds up the
others; a reader that falls too far behind is closed and comes back with ``after=<seq>``.

Readers coming back arrive in bursts (the hall's Wi-Fi returns, a newspaper links the page)
and nearly all with the same ``after``: what they missed is read once and shared until the
next event of the congress, never longer than ``SHARE_MISSED_S``.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any, NamedTuple, Protocol

import msgspec
from litestar.channels import ChannelsPlugin

from congress.eventlog import RecordedEvent, congress_channel
from congress.i18n import current_language

log = logging.getLogger(__name__)

# How long one write may wait for a paused transport before the reader gets its own task.
SEND_WAIT_S = 0.02
DEADLINE_EVERY = 50  # sends: how often that deadline is moved on
SEND_BATCH = 500  # sends between two turns of the event loop for the rest of the app
BACKLOG = 64
TRY_AGAIN_LATER = 1013
# How long one read of what readers missed is shared at most (an event ends it at once):
# what is on now falls back to today's sitting, which changes with the date, not an event.
SHARE_MISSED_S = 1.0
SHARED_READS = 32  # per congress; distinct ``after`` values beyond it read on their own
# Below this many readers in the process, the interpreter's collector is left alone.
MANY_READERS = 1000
PROMOTE_AFTER = 100
COLLECT_EVERY_S = 1.0


class Missed(NamedTuple):
    """What a reader coming back is sent, in order, and the sequence number it brings the
    reader up to (every public entry up to it is among the messages)."""

    messages: list[str]
    up_to: int


Describe = Callable[[int, RecordedEvent], Awaitable[str | None]]
ReadMissed = Callable[[int, int], Awaitable[Missed]]


class Socket(Protocol):
    async def send_text(self, data: str) -> None: ...

    async def close(self, code: int = 1000) -> None: ...


class Reader:
    """One open public socket: the sequence number it has, and how to send to it."""

    __slots__ = ("after", "backlog", "closed", "language", "socket")

    def __init__(self, socket: Socket, language: str, after: int) -> None:
        self.socket = socket
        self.language = language
        self.after = after
        # Set while a task sends it (a paused transport, or its catch-up): keeps the order.
        self.backlog: collections.deque[str] | None = None
        self.closed = False

    def wants(self, seq: int) -> bool:
        return not self.closed and seq > self.after


class _SharedRead(NamedTuple):
    task: asyncio.Task[Missed]
    started: float


class FanOut:
    """The readers of every congress in this process, and one writer task per congress."""

    def __init__(
        self,
        channels: ChannelsPlugin,
        describe: Describe,
        read_missed: ReadMissed | None = None,
        *,
        many_readers: int = MANY_READERS,
        promote_after: int = PROMOTE_AFTER,
    ) -> None:
        self.channels = channels
        self.describe = describe
        self.read_missed = read_missed
        self.readers: dict[int, set[Reader]] = {}
        self.writers: dict[int, asyncio.Task[None]] = {}
        self.ready: dict[int, asyncio.Event] = {}
        self.missed: dict[int, dict[tuple[str, int], _SharedRead]] = {}
        self.background: set[asyncio.Task[Any]] = set()
        self.delivering = 0
        self.collector = Collector(self, many_readers, promote_after)

    @property
    def reader_count(self) -> int:
        return sum(map(len, self.readers.values()))

    async def join(self, congress_id: int, reader: Reader) -> None:
        """Adds the reader; returns once events of this congress are being received and,
        for a reader coming back (``after``), once it has been sent what it missed. Live
        messages meanwhile wait for the catch-up: a stale snapshot never follows them."""
        if reader.after and self.read_missed is not None:
            reader.backlog = collections.deque()
        self.readers.setdefault(congress_id, set()).add(reader)
        self.collector.reader_joined()
        if congress_id not in self.writers:
            self.ready[congress_id] = asyncio.Event()
            self.writers[congress_id] = asyncio.create_task(self._write(congress_id))
        await self.ready[congress_id].wait()
        if reader.backlog is not None:
            await self._catch_up(congress_id, reader)

    def leave(self, congress_id: int, reader: Reader) -> None:
        reader.closed = True
        readers = self.readers.get(congress_id)
        if readers is None or reader not in readers:
            return
        readers.discard(reader)
        self.collector.reader_left()
        if not readers:
            del self.readers[congress_id]
            self.ready.pop(congress_id, None)
            self.missed.pop(congress_id, None)
            writer = self.writers.pop(congress_id, None)
            if writer is not None:
                writer.cancel()

    async def _catch_up(self, congress_id: int, reader: Reader) -> None:
        """The snapshot and the entries the reader missed (read once for everyone coming
        back with the same ``after``), then what came live meanwhile, in order."""
        try:
            missed = await self._read_shared(congress_id, reader.language, reader.after)
            reader.after = max(reader.after, missed.up_to)
            for text in missed.messages:
                await reader.socket.send_text(text)
            while reader.backlog:
                await reader.socket.send_text(reader.backlog.popleft())
        finally:
            reader.backlog = None

    async def _read_shared(self, congress_id: int, language: str, after: int) -> Missed:
        """A read started since the congress's last event and less than SHARE_MISSED_S ago
        is as good as a new one for a reader that has joined: whatever it missed comes
        after it, through the writer, which drops the shared reads first."""
        assert self.read_missed is not None
        reads = self.missed.setdefault(congress_id, {})
        key = (language, after)
        now = time.monotonic()
        shared = reads.get(key)
        if shared is None or now - shared.started > SHARE_MISSED_S:
            reads.pop(key, None)
            if len(reads) >= SHARED_READS:
                del reads[next(iter(reads))]
            task = self._in_background(self._read_missed(congress_id, language, after))
            shared = reads[key] = _SharedRead(task, now)
            task.add_done_callback(lambda done: _forget_failed(reads, key, done))
        # Shielded: a reader that goes away does not cancel the read for the others.
        return await asyncio.shield(shared.task)

    async def _read_missed(self, congress_id: int, language: str, after: int) -> Missed:
        assert self.read_missed is not None
        current_language.set(language)  # the task's own copy of the context
        return await self.read_missed(congress_id, after)

    def _in_background(self, work: Awaitable[Any]) -> asyncio.Task[Any]:
        task = asyncio.ensure_future(work)
        self.background.add(task)
        task.add_done_callback(self.background.discard)
        return task

    async def _write(self, congress_id: int) -> None:
        async with self.channels.start_subscription([congress_channel(congress_id)]) as events:
            self.ready[congress_id].set()
            async for raw in events.iter_events():
                # Before anything else: a reader joining from now on reads what it missed
                # anew, and one that used an older read is in the set already.
                self.missed.pop(congress_id, None)
                try:
                    await self._deliver(congress_id, msgspec.json.decode(raw, type=RecordedEvent))
                except Exception:
                    log.exception("the public feed could not deliver an event")

    async def _deliver(self, congress_id: int, event: RecordedEvent) -> None:
        readers = [r for r in self.readers.get(congress_id, ()) if r.wants(event.seq)]
        texts: dict[str, str | None] = {}
        for language in {reader.language for reader in readers}:
            token = current_language.set(language)
            try:
                texts[language] = await self.describe(congress_id, event)
            finally:
                current_language.reset(token)
        sends = [(r, text) for r in readers if (text := texts[r.language]) is not None]
        self.delivering += 1
        try:
            for start in range(0, len(sends), SEND_BATCH):
                if start:
                    await asyncio.sleep(0)  # let the rest of the app breathe between batches
                await self._send_all(sends[start : start + SEND_BATCH])
        finally:
            self.delivering -= 1

    async def _send_all(self, sends: list[tuple[Reader, str]]) -> None:
        """Each text to its reader, in turn. A send that has to wait (the reader's transport
        is paused) is given up after at most SEND_WAIT_S, having written nothing (a send
        waits before it writes), and goes on in the reader's own task. One deadline serves
        many sends, moved on every DEADLINE_EVERY: a timer per send cost 5 µs, a sixth of
        the whole fan-out."""
        loop = asyncio.get_running_loop()
        n = 0
        while n < len(sends):
            try:
                async with asyncio.timeout(SEND_WAIT_S) as deadline:
                    while n < len(sends):
                        reader, text = sends[n]
                        n += 1
                        await self._send(reader, text)
                        if n % DEADLINE_EVERY == 0:
                            deadline.reschedule(loop.time() + SEND_WAIT_S)
            except TimeoutError:
                reader, text = sends[n - 1]
                reader.backlog = collections.deque([text])
                self._in_background(self._drain(reader))

    async def _send(self, reader: Reader, text: str) -> None:
        if reader.closed:
            return
        if reader.backlog is not None:  # its own task is sending: keep the order
            if len(reader.backlog) >= BACKLOG:
                self._drop(reader)
            else:
                reader.backlog.append(text)
            return
        try:
            await reader.socket.send_text(text)
        except Exception:
            reader.closed = True  # gone; its handler leaves the set

    async def _drain(self, reader: Reader) -> None:
        try:
            while reader.backlog and not reader.closed:
                await reader.socket.send_text(reader.backlog[0])
                reader.backlog.popleft()
        except Exception:
            reader.closed = True
        finally:
            reader.backlog = None

    def _drop(self, reader: Reader) -> None:
        """Too far behind: close it; the page reconnects and catches up by sequence. The
        close waits for the paused transport too: in its own task."""
        reader.closed = True
        self._in_background(self._close(reader.socket))

    @staticmethod
    async def _close(socket: Socket) -> None:
        with contextlib.suppress(Exception):
            await socket.close(code=TRY_AGAIN_LATER)


def _forget_failed(reads: dict[tuple[str, int], _SharedRead], key: Any, task: Any) -> None:
    """A failed read is not shared with readers still to come; they try again."""
    if not task.cancelled() and task.exception() is not None:
        shared = reads.get(key)
        if shared is not None and shared.task is task:
            del reads[key]


class Collector:
    """Keeps full garbage collections out of the fan-out's way while the process holds many
    readers.

    A full collection walks every object the interpreter tracks and has not frozen. An open
    socket is about 135 of them (uvicorn's protocol, Litestar's connection, the coroutines of
    the middleware around the handler), so with 10,000 readers one took over a second, and
    the interpreter starts one whenever what survived young has grown by a quarter: at any
    moment, a fan-out included, and every reader waited. So with many readers, once
    ``promote_after`` more have joined, at the next tick (every ``COLLECT_EVERY_S``,
    never during a delivery) what is not frozen is collected (only what came since the last
    time) and what survives is frozen (``gc.freeze``): the interpreter's own collections
    then walk only what is new.

    Frozen objects are never collected, and a reader that leaves leaves its socket's cycles
    behind (about 75 objects). So once as many readers have left since the last clean-up as
    are still there, and when the last one has gone, everything is unfrozen, collected and
    frozen again: one long pause per turnover of the readers, and garbage that never
    outgrows what is live. Freezing only after joins keeps the rest of the app's garbage
    (requests under way at a tick) to a few objects per ``promote_after`` readers.
    """

    def __init__(
        self, fan_out: FanOut, many: int = MANY_READERS, promote_after: int = PROMOTE_AFTER
    ) -> None:
        self.fan_out = fan_out
        self.many = many
        self.promote_after = promote_after
        self.joined = 0  # readers come since the last freeze
        self.left = 0  # readers gone since the last clean-up
        self.holding = False  # readers' objects frozen since the last clean-up
        self.empty_ticks = 0
        self.timer: asyncio.TimerHandle | None = None
        self.loop: asyncio.AbstractEventLoop | None = None

    def reader_joined(self) -> None:
        self.joined += 1
        loop = asyncio.get_running_loop()
        if self.timer is None or self.loop is not loop:  # an app served by another loop
            self.loop = loop
            self.timer = loop.call_later(COLLECT_EVERY_S, self._tick)

    def reader_left(self) -> None:
        self.left += 1

    def _tick(self) -> None:
        self.timer = None
        self.tick()
        if self.fan_out.reader_count or self.holding:
            self.timer = asyncio.get_running_loop().call_later(COLLECT_EVERY_S, self._tick)

    def tick(self) -> None:
        if self.fan_out.delivering:
            return
        readers = self.fan_out.reader_count
        # The last reader gone: a tick later, its handler has finished too.
        self.empty_ticks = self.empty_ticks + 1 if readers == 0 else 0
        if self.holding and (
            self.empty_ticks >= 2 or (readers and self.left >= max(self.many, readers))
        ):
            self.clean_up(readers)
        elif readers >= self.many and self.joined >= self.promote_after:
            gc.collect()
            gc.freeze()
            self.joined = 0
            self.holding = True

    def clean_up(self, readers: int) -> None:
        gc.unfreeze()
        gc.collect()
        gc.freeze()  # the app's own objects, as at its start, and the readers still there
        self.joined = self.left = 0
        self.holding = readers > 0


def fan_out_of(app: Any, describe: Describe, read_missed: ReadMissed) -> FanOut:
    """The app's FanOut (one per app, made on first use)."""
    fan_out: FanOut | None = getattr(app.state, "public_fan_out", None)
    if fan_out is None:
        fan_out = FanOut(app.plugins.get(ChannelsPlugin), describe, read_missed)
        app.state.public_fan_out = fan_out
    return fan_out
