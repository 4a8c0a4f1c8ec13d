"""The speakers' list: one function per state change, each in one transaction with its event.

A speaker is requested (from a phone) or added (by the secretariat, straight into the
queue), queued, called (speaking), and done; or withdrawn on the way. The timer is two
columns: `elapsed_ms`, what ran before the last pause, and `timer_started_at`, set while it
runs. Time left = allotted − elapsed − (now − started, while running); it goes below zero
when the speaker runs over, and the screens show it so.

Every change to a sitting's list first locks the sitting's row (PostgreSQL; SQLite's write
transaction holds the whole database already), so two presidium members pressing "next" at
once call two speakers one after the other, never the same one twice.
"""

from __future__ import annotations

import datetime
from typing import Any

from piccolo.engine.postgres import PostgresEngine
from piccolo.query.mixins import OnConflictAction

from congress import database
from congress import services as congress_services
from congress.errors import Conflict, InvalidInput, NotFound
from congress.eventlog import Actor, Change
from congress.i18n import N_
from congress.tables import Delegate, Sitting
from documents.tables import Document
from livestream.speakers import events
from livestream.speakers.schemas import (
    MyRequest,
    PhoneSpeakers,
    RequestIn,
    SpeakerIn,
    SpeakerOut,
)
from livestream.tables import LiveState, Speaker

OPEN = ("requested", "queued", "speaking")
MAX_ALLOTTED_SECONDS = 3600
STATUS_ORDER = {"speaking": 0, "queued": 1, "requested": 2, "done": 3, "withdrawn": 4}


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# --- the timer's arithmetic ----------------------------------------------------------------


def elapsed_ms(speaker: dict[str, Any], now: datetime.datetime) -> int:
    """Time used: what ran before the last pause, plus the running stretch."""
    used = int(speaker["elapsed_ms"])
    started = speaker["timer_started_at"]
    if started is not None:
        used += max(0, int((now - started).total_seconds() * 1000))
    return used


def time_left_ms(speaker: dict[str, Any], now: datetime.datetime) -> int:
    """Below zero when the speaker is over time."""
    return int(speaker["allotted_seconds"]) * 1000 - elapsed_ms(speaker, now)


def speaker_out(speaker: dict[str, Any], now: datetime.datetime | None = None) -> SpeakerOut:
    now = now or utc_now()
    return SpeakerOut(
        id=speaker["id"],
        sitting_id=speaker["sitting"],
        delegate_id=speaker["delegate"],
        name=speaker["name"],
        delegation=speaker["delegation"],
        topic=speaker["topic"],
        document_id=speaker["document_id"],
        source=speaker["source"],
        status=speaker["status"],
        position=speaker["position"],
        allotted_seconds=speaker["allotted_seconds"],
        elapsed_ms=elapsed_ms(speaker, now),
        running=speaker["timer_started_at"] is not None,
        time_left_ms=time_left_ms(speaker, now),
        requested_at=speaker["requested_at"],
    )


# --- reading -------------------------------------------------------------------------------


async def sitting_of(congress_id: int, sitting_id: int | None = None) -> dict[str, Any]:
    """The sitting asked for; else the one the live state names; else today's."""
    if sitting_id is None:
        live = await (
            LiveState.select(LiveState.sitting).where(LiveState.congress == congress_id).first()
        )
        sitting_id = live["sitting"] if live else None
        if sitting_id is None:
            return await congress_services.current_sitting(congress_id)
    row = await (
        Sitting.select()
        .where((Sitting.id == sitting_id) & (Sitting.congress == congress_id))
        .first()
    )
    if row is None:
        raise NotFound("sitting_not_found", N_("This sitting does not exist."))
    return row


async def list_speakers(congress_id: int, sitting_id: int) -> list[dict[str, Any]]:
    """The sitting's list: who speaks, the queue in order, the requests oldest first, then
    those who spoke or withdrew."""
    rows = await (
        Speaker.select()
        .where((Speaker.congress == congress_id) & (Speaker.sitting == sitting_id))
        .order_by(Speaker.requested_at)
        .order_by(Speaker.id)
    )
    rows.sort(key=lambda r: (STATUS_ORDER[r["status"]], r["position"] or 0))
    return rows


async def get_speaker(congress_id: int, speaker_id: int) -> dict[str, Any]:
    row = await (
        Speaker.select()
        .where((Speaker.id == speaker_id) & (Speaker.congress == congress_id))
        .first()
    )
    if row is None:
        raise NotFound("speaker_not_found", N_("This speaker is not on the list."))
    return row


async def speeches_to_attach(congress_id: int) -> list[dict[str, Any]]:
    """The congress's papers a written speech can be picked from: speeches first, never a
    confidential one (a speaker's paper may reach the delegates and the screens)."""
    rows = await (
        Document.select(Document.id, Document.title, Document.category)
        .where((Document.congress == congress_id) & (Document.access != "confidential"))
        .order_by(Document.title)
    )
    rows.sort(key=lambda r: r["category"] != "speech")
    return rows


async def phone_view(congress_id: int, delegate_id: int) -> PhoneSpeakers:
    """What the delegate's phone shows: their open request and its place in the queue."""
    try:
        sitting = await sitting_of(congress_id)
    except NotFound:
        return PhoneSpeakers(None, "", None, "", 0)
    rows = await (
        Speaker.select(
            Speaker.id,
            Speaker.delegate,
            Speaker.name,
            Speaker.topic,
            Speaker.status,
            Speaker.position,
        )
        .where((Speaker.sitting == sitting["id"]) & Speaker.status.is_in(list(OPEN)))
        .order_by(Speaker.position)
    )
    queued = [r for r in rows if r["status"] == "queued"]
    speaking = next((r["name"] for r in rows if r["status"] == "speaking"), "")
    mine_row = next((r for r in rows if r["delegate"] == delegate_id), None)
    mine = None
    if mine_row is not None:
        place = None
        if mine_row["status"] == "queued":
            place = 1 + sum(1 for r in queued if r["position"] < mine_row["position"])
        mine = MyRequest(
            id=mine_row["id"], status=mine_row["status"], topic=mine_row["topic"], place=place
        )
    return PhoneSpeakers(
        sitting_id=sitting["id"],
        sitting_title=sitting["title"],
        mine=mine,
        speaking_now=speaking,
        queued=len(queued),
    )


# --- locks and helpers ---------------------------------------------------------------------


async def _lock_sitting(sitting_id: int) -> None:
    """Serialises the changes of one sitting's list (NO KEY: check-ins, which only point at
    the sitting, go on)."""
    if isinstance(database.engine(), PostgresEngine):
        await database.query("SELECT id FROM sitting WHERE id = {} FOR NO KEY UPDATE", sitting_id)


async def _locked(congress_id: int, speaker_id: int) -> dict[str, Any]:
    """The speaker, read again after its sitting is locked."""
    speaker = await get_speaker(congress_id, speaker_id)
    await _lock_sitting(speaker["sitting"])
    return await get_speaker(congress_id, speaker_id)


async def _queued_ids(sitting_id: int) -> list[int]:
    rows = await (
        Speaker.select(Speaker.id)
        .where((Speaker.sitting == sitting_id) & (Speaker.status == "queued"))
        .order_by(Speaker.position)
        .order_by(Speaker.id)
    )
    return [r["id"] for r in rows]


async def _number(ids: list[int]) -> None:
    """Positions 1..n in this order."""
    for position, speaker_id in enumerate(ids, start=1):
        await Speaker.update({Speaker.position: position}).where(Speaker.id == speaker_id)


async def _leave_queue(speaker: dict[str, Any]) -> None:
    """The queue closes up behind a speaker who leaves it."""
    await Speaker.update({Speaker.position: 0}).where(Speaker.id == speaker["id"])
    await _number([i for i in await _queued_ids(speaker["sitting"]) if i != speaker["id"]])


async def _delegate(congress_id: int, delegate_id: int) -> dict[str, Any]:
    row = await (
        Delegate.select(
            Delegate.id, Delegate.full_name, Delegate.delegation.name.as_alias("delegation_name")
        )
        .where((Delegate.id == delegate_id) & (Delegate.congress == congress_id))
        .first()
    )
    if row is None:
        raise NotFound("delegate_not_found", N_("This delegate is not of this congress."))
    return row


def _as_actor(delegate: dict[str, Any]) -> Actor:
    return Actor(kind="delegate", id=delegate["id"], name=delegate["full_name"])


async def _delegate_for(congress_id: int, data: SpeakerIn) -> dict[str, Any] | None:
    where: Any = Delegate.congress == congress_id
    if data.delegate_id is not None:
        where &= Delegate.id == data.delegate_id
    elif data.card_number.strip():
        where &= Delegate.card_number == data.card_number.strip()
    else:
        return None
    row = await (
        Delegate.select(
            Delegate.id, Delegate.full_name, Delegate.delegation.name.as_alias("delegation_name")
        )
        .where(where)
        .first()
    )
    if row is None:
        raise NotFound(
            "delegate_not_found", N_("No delegate of this congress has this card number.")
        )
    return row


async def _check_speech(congress_id: int, document_id: int | None) -> None:
    if document_id is None:
        return
    row = await (
        Document.select(Document.access)
        .where((Document.id == document_id) & (Document.congress == congress_id))
        .first()
    )
    if row is None:
        raise InvalidInput(
            "speech_not_found",
            N_("This paper is not in the congress's archive."),
            field="document_id",
        )
    if row["access"] == "confidential":
        raise InvalidInput(
            "speech_confidential",
            N_("A confidential paper cannot be attached to a speaker."),
            field="document_id",
        )


async def _insert_open(values: dict[str, Any]) -> int | None:
    """Inserts an open entry; None when the delegate has one already in this sitting (the
    unique index speaker_open says so, also when two requests arrive at the same time)."""
    rows = await (
        Speaker.insert(Speaker(**values, requested_at=utc_now()))
        .on_conflict(action=OnConflictAction.do_nothing)
        .returning(Speaker.id)
    )
    return int(rows[0]["id"]) if rows else None


# --- asking and adding ---------------------------------------------------------------------


async def request_to_speak(congress_id: int, delegate_id: int, data: RequestIn) -> int:
    """A delegate's request from the phone, for the sitting under way; one open request per
    delegate and sitting."""
    sitting = await sitting_of(congress_id)
    delegate = await _delegate(congress_id, delegate_id)
    async with Change(congress_id, _as_actor(delegate)) as change:
        await _lock_sitting(sitting["id"])
        speaker_id = await _insert_open(
            {
                "congress": congress_id,
                "sitting": sitting["id"],
                "delegate": delegate_id,
                "name": delegate["full_name"],
                "delegation": delegate["delegation_name"] or "",
                "topic": data.topic.strip(),
                "source": "phone",
                "status": "requested",
            }
        )
        if speaker_id is None:
            raise Conflict(
                "already_requested",
                N_("You have asked to speak in this sitting already."),
            )
        await change.record(
            events.SpeakerRequested(
                speaker_id=speaker_id, sitting_id=sitting["id"], delegate_id=delegate_id
            )
        )
    return speaker_id


async def add_speaker(congress_id: int, data: SpeakerIn, actor: Actor) -> int:
    """The secretariat adds a speaker at the end of the queue, with the written speech."""
    sitting = await sitting_of(congress_id, data.sitting_id)
    delegate = await _delegate_for(congress_id, data)
    name = delegate["full_name"] if delegate else data.name.strip()
    delegation = data.delegation.strip()
    if delegate and not delegation:
        delegation = delegate["delegation_name"] or ""
    if not name:
        raise InvalidInput(
            "no_speaker", N_("Pick a delegate, or give the speaker's name."), field="name"
        )
    await _check_speech(congress_id, data.document_id)
    async with Change(congress_id, actor) as change:
        await _lock_sitting(sitting["id"])
        position = len(await _queued_ids(sitting["id"])) + 1
        speaker_id = await _insert_open(
            {
                "congress": congress_id,
                "sitting": sitting["id"],
                "delegate": delegate["id"] if delegate else None,
                "name": name,
                "delegation": delegation,
                "topic": data.topic.strip(),
                "document_id": data.document_id,
                "source": "secretariat",
                "status": "queued",
                "position": position,
                "allotted_seconds": data.allotted_seconds,
            }
        )
        if speaker_id is None:
            raise Conflict(
                "already_on_list",
                N_("This delegate is on the speakers' list of this sitting already."),
            )
        await change.record(
            events.SpeakerAdded(
                speaker_id=speaker_id,
                sitting_id=sitting["id"],
                delegate_id=delegate["id"] if delegate else None,
                document_id=data.document_id,
            )
        )
    return speaker_id


# --- the queue -----------------------------------------------------------------------------


async def queue_speaker(congress_id: int, speaker_id: int, actor: Actor) -> int:
    """Accepts a request into the queue, at its end; the position."""
    async with Change(congress_id, actor) as change:
        speaker = await _locked(congress_id, speaker_id)
        if speaker["status"] != "requested":
            raise Conflict("not_requested", N_("Only a request can be taken into the queue."))
        position = len(await _queued_ids(speaker["sitting"])) + 1
        await Speaker.update({Speaker.status: "queued", Speaker.position: position}).where(
            Speaker.id == speaker_id
        )
        await change.record(
            events.SpeakerQueued(
                speaker_id=speaker_id, sitting_id=speaker["sitting"], position=position
            )
        )
    return position


async def reorder_speakers(congress_id: int, ids: list[int], actor: Actor) -> None:
    """The queue of one sitting in a new order: every queued speaker exactly once."""
    if not ids:
        raise InvalidInput(
            "order_mismatch", N_("The new order must list every item exactly once."), field="ids"
        )
    async with Change(congress_id, actor) as change:
        first = await _locked(congress_id, ids[0])
        if sorted(ids) != sorted(await _queued_ids(first["sitting"])):
            raise InvalidInput(
                "order_mismatch",
                N_("The new order must list every queued speaker exactly once."),
                field="ids",
            )
        await _number(ids)
        await change.record(events.SpeakersReordered(sitting_id=first["sitting"], speaker_ids=ids))


async def move_speaker(congress_id: int, speaker_id: int, position: int, actor: Actor) -> None:
    """Puts a queued speaker at `position` (1 = next; beyond the end = last)."""
    async with Change(congress_id, actor):
        speaker = await _locked(congress_id, speaker_id)
        if speaker["status"] != "queued":
            raise Conflict("not_queued", N_("This speaker is not in the queue."))
        ids = [i for i in await _queued_ids(speaker["sitting"]) if i != speaker_id]
        ids.insert(min(max(position, 1), len(ids) + 1) - 1, speaker_id)
        await reorder_speakers(congress_id, ids, actor)


async def call_speaker(
    congress_id: int,
    actor: Actor,
    *,
    speaker_id: int | None = None,
    sitting_id: int | None = None,
) -> int:
    """Calls a queued speaker (by default the first of the sitting's queue) to the rostrum;
    whoever was speaking is done. The timer waits for "start"."""
    async with Change(congress_id, actor) as change:
        if speaker_id is not None:
            speaker = await _locked(congress_id, speaker_id)
        else:
            sitting = await sitting_of(congress_id, sitting_id)
            await _lock_sitting(sitting["id"])
            queue = await _queued_ids(sitting["id"])
            if not queue:
                raise Conflict("queue_empty", N_("Nobody is waiting in the queue."))
            speaker = await get_speaker(congress_id, queue[0])
        if speaker["status"] != "queued":
            raise Conflict("not_queued", N_("This speaker is not in the queue."))
        previous = await (
            Speaker.select()
            .where((Speaker.sitting == speaker["sitting"]) & (Speaker.status == "speaking"))
            .first()
        )
        now = utc_now()
        if previous is not None:
            await _finish(previous, now)
        await _leave_queue(speaker)
        await Speaker.update({Speaker.status: "speaking"}).where(Speaker.id == speaker["id"])
        await change.record(
            events.SpeakerCalled(
                speaker_id=speaker["id"],
                sitting_id=speaker["sitting"],
                previous_id=previous["id"] if previous else None,
            )
        )
    return int(speaker["id"])


async def withdraw_speaker(
    congress_id: int, speaker_id: int, actor: Actor, *, delegate_id: int | None = None
) -> None:
    """Takes a request or a queued speaker off the list. With `delegate_id`, the delegate
    withdraws their own request from the phone."""
    async with Change(congress_id, actor) as change:
        speaker = await _locked(congress_id, speaker_id)
        if delegate_id is not None and speaker["delegate"] != delegate_id:
            raise NotFound("speaker_not_found", N_("This speaker is not on the list."))
        if speaker["status"] not in {"requested", "queued"}:
            raise Conflict(
                "cannot_withdraw",
                N_("Only a request or a speaker still waiting can be withdrawn."),
            )
        if speaker["status"] == "queued":
            await _leave_queue(speaker)
        await Speaker.update({Speaker.status: "withdrawn"}).where(Speaker.id == speaker_id)
        await change.record(
            events.SpeakerWithdrawn(
                speaker_id=speaker_id,
                sitting_id=speaker["sitting"],
                by_delegate=delegate_id is not None,
            )
        )


async def withdraw_request(congress_id: int, delegate_id: int, speaker_id: int) -> None:
    """The delegate takes back their own request (or their place in the queue)."""
    actor = _as_actor(await _delegate(congress_id, delegate_id))
    await withdraw_speaker(congress_id, speaker_id, actor, delegate_id=delegate_id)


# --- the timer -----------------------------------------------------------------------------


async def _speaking(congress_id: int, speaker_id: int) -> dict[str, Any]:
    speaker = await _locked(congress_id, speaker_id)
    if speaker["status"] != "speaking":
        raise Conflict("not_speaking", N_("This speaker is not at the rostrum."))
    return speaker


async def _finish(speaker: dict[str, Any], now: datetime.datetime) -> int:
    used = elapsed_ms(speaker, now)
    await Speaker.update(
        {Speaker.status: "done", Speaker.elapsed_ms: used, Speaker.timer_started_at: None}
    ).where(Speaker.id == speaker["id"])
    return used


async def start_timer(congress_id: int, speaker_id: int, actor: Actor) -> None:
    """Starts the speaker's time, or resumes it after a pause."""
    async with Change(congress_id, actor) as change:
        speaker = await _speaking(congress_id, speaker_id)
        if speaker["timer_started_at"] is not None:
            raise Conflict("timer_running", N_("The time is running already."))
        await Speaker.update({Speaker.timer_started_at: utc_now()}).where(Speaker.id == speaker_id)
        await change.record(
            events.SpeakerTimerStarted(
                speaker_id=speaker_id,
                elapsed_ms=speaker["elapsed_ms"],
                allotted_seconds=speaker["allotted_seconds"],
            )
        )


async def pause_timer(congress_id: int, speaker_id: int, actor: Actor) -> None:
    """Stops the clock and keeps the time used."""
    async with Change(congress_id, actor) as change:
        speaker = await _speaking(congress_id, speaker_id)
        if speaker["timer_started_at"] is None:
            raise Conflict("timer_not_running", N_("The time is not running."))
        used = elapsed_ms(speaker, utc_now())
        await Speaker.update({Speaker.elapsed_ms: used, Speaker.timer_started_at: None}).where(
            Speaker.id == speaker_id
        )
        await change.record(events.SpeakerTimerPaused(speaker_id=speaker_id, elapsed_ms=used))


async def stop_speaker(congress_id: int, speaker_id: int, actor: Actor) -> int:
    """Ends the speaker's turn: the timer stops for good and the speaker is done. The time
    used, in ms."""
    async with Change(congress_id, actor) as change:
        speaker = await _speaking(congress_id, speaker_id)
        used = await _finish(speaker, utc_now())
        await change.record(events.SpeakerTimerStopped(speaker_id=speaker_id, elapsed_ms=used))
    return used


async def extend_time(congress_id: int, speaker_id: int, seconds: int, actor: Actor) -> int:
    """More time for a speaker still to finish; the new allotted seconds."""
    async with Change(congress_id, actor) as change:
        speaker = await _locked(congress_id, speaker_id)
        if speaker["status"] not in OPEN:
            raise Conflict("speaker_finished", N_("This speaker has finished."))
        allotted = int(speaker["allotted_seconds"]) + seconds
        if allotted > MAX_ALLOTTED_SECONDS:
            raise InvalidInput(
                "too_much_time", N_("A speaker has at most one hour."), field="seconds"
            )
        await Speaker.update({Speaker.allotted_seconds: allotted}).where(Speaker.id == speaker_id)
        await change.record(
            events.SpeakerTimeExtended(
                speaker_id=speaker_id, added_seconds=seconds, allotted_seconds=allotted
            )
        )
    return allotted
