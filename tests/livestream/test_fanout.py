"""The public feed's fan-out: every reader gets each event once, described once per
language, and a reader that cannot keep up holds up no one else."""

from __future__ import annotations

import asyncio
import datetime

from congress.eventlog import RecordedEvent
from congress.i18n import current_language
from livestream.public.fanout import BACKLOG, TRY_AGAIN_LATER, FanOut, Reader


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

    async def send(self, text: str) -> None:
        if self.stuck:
            await self.unstick.wait()
        self.sent.append(text)

    async def close(self, code: int) -> None:
        self.closed_with = code


def reader(socket: Socket, language: str = "vi", after: int = 0) -> Reader:
    return Reader(socket.send, socket.close, language, after)


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
    caught_reader = reader(caught)
    caught_reader.caught_up.add(5)
    fan_out.readers[1] = {reader(behind), reader(ahead, after=9), caught_reader}
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
    assert stuck.closed_with == TRY_AGAIN_LATER
    assert fast.sent[-1] == str(3 + BACKLOG + 2)
    stuck.unstick.set()
    await asyncio.sleep(0)
