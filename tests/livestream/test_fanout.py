"""The public feed's fan-out: every reader gets each event once, described once per
language, and a reader that cannot keep up holds up no one else."""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import gc
import json
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import Any

import msgspec
import pytest
import uvicorn
import websockets
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from congress.app import create_app
from congress.eventlog import RecordedEvent, congress_channel
from congress.i18n import current_language
from congress.services import get_congress
from livestream.public import fanout
from livestream.public.controllers import feed_message, missed_since
from livestream.public.fanout import BACKLOG, TRY_AGAIN_LATER, FanOut, Missed, Reader
from tests.conftest import free_port


def event(seq: int) -> RecordedEvent:
    return RecordedEvent(
        congress=1,
        seq=seq,
        type="CurrentItemSet",
        payload={},
        actor="system",
        actor_name="system",
        at=datetime.datetime.now(datetime.UTC),
    )


class Socket:
    """A reader's socket; a stuck one waits forever, like a paused transport."""

    def __init__(self, stuck: bool = False) -> None:
        self.sent: list[str] = []
        self.closed_with: int | None = None
        self.stuck = stuck
        self.unstick = asyncio.Event()

    async def send_text(self, data: str) -> None:
        if self.stuck:
            await self.unstick.wait()
        self.sent.append(data)

    async def close(self, code: int = 1000) -> None:
        if self.stuck:
            await self.unstick.wait()
        self.closed_with = code


def reader(socket: Socket, language: str = "vi", after: int = 0) -> Reader:
    return Reader(socket, language, after)


async def test_one_description_per_language_and_every_reader_served() -> None:
    described: list[tuple[int, str]] = []

    async def describe(congress_id: int, recorded: RecordedEvent) -> str:
        described.append((recorded.seq, current_language.get()))
        return f"{current_language.get()}:{recorded.seq}"

    fan_out = FanOut(channels=None, describe=describe)  # type: ignore[arg-type]
    sockets = [Socket() for _ in range(300)]
    readers = [reader(s, "vi" if n % 3 else "en") for n, s in enumerate(sockets)]
    fan_out.readers[1] = set(readers)
    await fan_out._deliver(1, event(7))
    assert sorted(described) == [(7, "en"), (7, "vi")]
    assert all(s.sent == [f"{r.language}:7"] for s, r in zip(sockets, readers, strict=True))


async def test_a_reader_caught_up_or_ahead_is_not_sent_it_again() -> None:
    async def describe(congress_id: int, recorded: RecordedEvent) -> str:
        return str(recorded.seq)

    fan_out = FanOut(channels=None, describe=describe)  # type: ignore[arg-type]
    behind, ahead, caught = Socket(), Socket(), Socket()
    fan_out.readers[1] = {reader(behind), reader(ahead, after=9), reader(caught, after=5)}
    await fan_out._deliver(1, event(5))
    assert (behind.sent, ahead.sent, caught.sent) == (["5"], [], [])


async def test_a_stuck_reader_holds_up_no_one_and_is_dropped_when_too_far_behind() -> None:
    async def describe(congress_id: int, recorded: RecordedEvent) -> str:
        return str(recorded.seq)

    fan_out = FanOut(channels=None, describe=describe)  # type: ignore[arg-type]
    stuck, fast = Socket(stuck=True), Socket()
    stuck_reader = reader(stuck)
    fan_out.readers[1] = {stuck_reader, reader(fast)}
    for seq in range(1, 4):
        await asyncio.wait_for(fan_out._deliver(1, event(seq)), timeout=1)
    assert fast.sent == ["1", "2", "3"]
    assert stuck.sent == []
    stuck.stuck = False
    stuck.unstick.set()
    await asyncio.sleep(0.05)
    assert stuck.sent == ["1", "2", "3"], "the backlog is sent in order once it can"

    stuck.stuck, stuck.unstick = True, asyncio.Event()
    for seq in range(4, 4 + BACKLOG + 2):
        await asyncio.wait_for(fan_out._deliver(1, event(seq)), timeout=1)
    assert fast.sent[-1] == str(3 + BACKLOG + 2), "nobody waits for the stuck one's close"
    stuck.unstick.set()
    await asyncio.sleep(0.05)
    assert stuck.closed_with == TRY_AGAIN_LATER


# --- readers coming back: what they missed, read once for all of them -----------------------


class Reads:
    """The feed's read of what a reader missed, counted; it waits until let go."""

    def __init__(self) -> None:
        self.calls: list[tuple[int, str]] = []
        self.go = asyncio.Event()
        self.go.set()
        self.fail = False

    async def __call__(self, congress_id: int, after: int) -> Missed:
        self.calls.append((after, current_language.get()))
        await self.go.wait()
        if self.fail:
            raise RuntimeError("the database went away")
        n = len(self.calls)
        return Missed([f"now#{n}", f"entry:{after + 1}", f"entry:{after + 2}"], after + 2)


@contextlib.asynccontextmanager
async def live_fan_out(reads: Reads) -> AsyncIterator[tuple[FanOut, ChannelsPlugin]]:
    async def describe(congress_id: int, recorded: RecordedEvent) -> str:
        return f"live:{recorded.seq}"

    channels = ChannelsPlugin(backend=MemoryChannelsBackend(), arbitrary_channels_allowed=True)
    async with channels:
        fan_out = FanOut(channels, describe, reads)
        try:
            yield fan_out, channels
        finally:
            for writer in fan_out.writers.values():
                writer.cancel()


async def publish(channels: ChannelsPlugin, seq: int) -> None:
    await channels.wait_published(msgspec.json.encode(event(seq)), congress_channel(1))


async def test_readers_coming_back_together_share_one_read() -> None:
    reads = Reads()
    async with live_fan_out(reads) as (fan_out, _):
        sockets = [Socket() for _ in range(200)]
        readers = [reader(s, "vi" if n % 4 else "en", after=10) for n, s in enumerate(sockets)]
        await asyncio.gather(*(fan_out.join(1, r) for r in readers))
        assert sorted(reads.calls) == [(10, "en"), (10, "vi")]
        for s, r in zip(sockets, readers, strict=True):
            assert s.sent[1:] == ["entry:11", "entry:12"]
            assert r.after == 12
            assert r.backlog is None
        late = Socket()
        await fan_out.join(1, reader(late, after=7))
        assert reads.calls[-1] == (7, "vi"), "another place in the timeline is read on its own"
        assert late.sent[1:] == ["entry:8", "entry:9"]


async def test_an_event_ends_the_shared_read_and_no_reader_loses_it() -> None:
    reads = Reads()
    async with live_fan_out(reads) as (fan_out, channels):
        first = Socket()
        await fan_out.join(1, reader(first, after=10))
        await publish(channels, 13)
        await asyncio.sleep(0.05)
        assert first.sent == ["now#1", "entry:11", "entry:12", "live:13"]
        second = Socket()
        await fan_out.join(1, reader(second, after=10))
        assert len(reads.calls) == 2, "a read older than the last event is not shared"
        assert second.sent == ["now#2", "entry:11", "entry:12"]

        third = Socket()
        await fan_out.join(1, reader(third, after=10))
        assert third.sent == second.sent, "no event since: the same read"

        # An event while the read is under way: sent after the catch-up, never before it.
        await publish(channels, 14)
        await asyncio.sleep(0.05)
        reads.go.clear()
        fourth = Socket()
        joining = asyncio.create_task(fan_out.join(1, reader(fourth, after=10)))
        await asyncio.sleep(0.05)
        await publish(channels, 15)
        await asyncio.sleep(0.05)
        assert fourth.sent == []
        reads.go.set()
        await joining
        assert fourth.sent == ["now#3", "entry:11", "entry:12", "live:15"]


async def test_a_shared_read_expires_and_a_failed_one_is_not_kept(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reads = Reads()
    async with live_fan_out(reads) as (fan_out, _):
        await fan_out.join(1, reader(Socket(), after=10))
        monkeypatch.setattr(fanout, "SHARE_MISSED_S", 0.0)
        await fan_out.join(1, reader(Socket(), after=10))
        assert len(reads.calls) == 2, "what is on now may change with the date alone"

        monkeypatch.setattr(fanout, "SHARE_MISSED_S", 60.0)
        reads.fail = True
        with pytest.raises(RuntimeError):
            await fan_out.join(1, reader(Socket(), after=20))
        reads.fail = False
        back = Socket()
        await fan_out.join(1, reader(back, after=20))
        assert back.sent[0] == f"now#{len(reads.calls)}", "read again, not the failure"


# --- the garbage collector with many readers -------------------------------------------------


class CyclicSocket(Socket):
    """A socket in a reference cycle, as uvicorn's are: only a collection frees it."""

    def __init__(self) -> None:
        super().__init__()
        self.me = self


def is_frozen(thing: object) -> bool:
    return not any(tracked is thing for tracked in gc.get_objects())


@pytest.fixture
def unfrozen_afterwards() -> Iterator[None]:
    """This test freezes this process's objects: let them all be collected again after."""
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("unfrozen_afterwards")
async def test_many_readers_are_frozen_and_those_who_leave_are_collected() -> None:
    async def describe(congress_id: int, recorded: RecordedEvent) -> str:
        return str(recorded.seq)

    fan_out = FanOut(channels=None, describe=describe, many_readers=50, promote_after=20)  # type: ignore[arg-type]
    collector = fan_out.collector
    live: list[Reader] = []
    gone: list[weakref.ref[Any]] = []
    most_kept = 0
    for round_ in range(12):  # readers come and go, 200 live
        for _ in range(50 if live else 200):
            joined = reader(CyclicSocket())
            fan_out.readers.setdefault(1, set()).add(joined)
            collector.joined += 1
            live.append(joined)
        collector.tick()
        assert is_frozen(live[-1].socket), "a full collection does not walk the readers"
        for leaving in live[:50]:
            gone.append(weakref.ref(leaving.socket))
            fan_out.leave(1, leaving)
        del live[:50], leaving
        collector.tick()
        kept = sum(ref() is not None for ref in gone)
        if round_ == 0:
            assert kept == 50, "frozen: only a clean-up frees them"
        most_kept = max(most_kept, kept)
    assert most_kept <= 200, "what left never outgrows what is live"

    for leaving in live:
        gone.append(weakref.ref(leaving.socket))
        fan_out.leave(1, leaving)
    del live, leaving, joined
    collector.tick()  # the last reader has gone: its handler may not have finished
    collector.tick()
    assert sum(ref() is not None for ref in gone) == 0
    assert not collector.holding


def uvicorn_sockets() -> int:
    """Server-side websocket connections that still exist, garbage not yet collected
    included: frozen objects are counted too, and nothing is collected to count them."""
    frozen = gc.get_freeze_count() > 0
    gc.unfreeze()
    try:
        return sum(type(o) is WebSocketsSansIOProtocol for o in gc.get_objects())
    finally:
        if frozen:
            gc.freeze()


@pytest.mark.usefixtures("unfrozen_afterwards")
async def test_readers_through_the_real_server_come_and_go_and_nothing_stays_behind(
    make_congress: Callable[..., Awaitable[int]],
) -> None:
    """The app under uvicorn in this process, real sockets: each round a crowd of readers
    connects, the collector freezes them, they all leave, and the collector frees them."""
    congress = await make_congress()
    after = (await get_congress(congress))["last_event_seq"]
    app = create_app()
    fan_out = FanOut(
        app.plugins.get(ChannelsPlugin),
        feed_message,
        missed_since,
        many_readers=40,
        promote_after=20,
    )
    app.state.public_fan_out = fan_out
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    serving = asyncio.create_task(server.serve())
    url = f"ws://127.0.0.1:{port}/live/{congress}/feed?after={after}"
    origin = app.state.settings.public_url
    try:
        for _ in range(500):
            if server.started:
                break
            await asyncio.sleep(0.01)
        for _ in range(4):
            clients = await asyncio.gather(
                *(websockets.connect(url, origin=origin) for _ in range(60))
            )
            snapshots = [json.loads(await c.recv()) for c in clients]
            assert {s["seq"] for s in snapshots} == {after}
            fan_out.collector.tick()
            connected = [r.socket for r in fan_out.readers[congress]]
            assert len(connected) == 60
            assert not any(type(o) is WebSocketsSansIOProtocol for o in gc.get_objects()), (
                "frozen: full collections skip the readers"
            )
            del connected
            await asyncio.gather(*(c.close() for c in clients))
            del clients
            for _ in range(100):
                if not fan_out.reader_count:
                    break
                await asyncio.sleep(0.02)
            assert uvicorn_sockets() > 0, "the readers' sockets are frozen, not yet collected"
            await asyncio.sleep(0.1)
            fan_out.collector.tick()
            fan_out.collector.tick()
            assert uvicorn_sockets() == 0
    finally:
        server.should_exit = True
        await serving
