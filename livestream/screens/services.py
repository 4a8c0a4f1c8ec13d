"""The hall's screens: register, renew, revoke, set what they show; the congress's current
item and announcement; and the state a screen draws, read from the database.

A screen's address carries a random 128-bit key (base32, as the delegate cards'); only its
keyed hash is stored, so the address is shown once, when the screen is registered.
"""

from __future__ import annotations

import datetime
from typing import Any

import msgspec
from piccolo.query.mixins import OnConflictAction

from checkin import attendance
from checkin.credentials import keyed_hash, new_token, parse_token
from congress import services as congress_services
from congress.errors import InvalidInput, NotFound
from congress.eventlog import Actor, Change
from congress.i18n import N_, gettext
from congress.settings import get_settings
from congress.tables import AgendaItem, Sitting
from congress.text import clean
from congress.voting import services as voting
from congress.voting.tables import Poll
from documents import services as documents
from documents.tables import DocumentVersion
from livestream.screens import events
from livestream.screens.schemas import (
    AnnouncementView,
    AttendanceView,
    DocumentView,
    Picture,
    PlaylistView,
    PollResultView,
    PollView,
    ResultLine,
    ScreenContent,
    ScreenState,
    SpeakerView,
    TitleView,
    View,
)
from livestream.tables import LiveState, Screen, Speaker

MAX_ANNOUNCEMENT = 1000
# What a screen may show of the archive: what a delegate may read (released, for delegates
# or the public). Never an organizers' or a confidential paper.
SCREEN_VIEWER = documents.DELEGATE
PICTURE_TYPES = {"image/png", "image/jpeg", "image/gif", "image/webp"}
BASE_LABELS = {
    "collected": N_("Percentages of the ballots collected"),
    "valid": N_("Percentages of the valid ballots"),
    "present": N_("Percentages of the delegates present"),
    "convened": N_("Percentages of the delegates convened"),
}


class ScreenLookup(msgspec.Struct, frozen=True):
    status: str  # active | revoked | unknown | malformed
    screen_id: int | None = None
    congress_id: int | None = None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def now_ms() -> int:
    """The server's clock for the screens' clock and count-down, ms since the epoch."""
    return int(_now().timestamp() * 1000)


def key_hash(key: str) -> str:
    return keyed_hash("screen", key)


def screen_address(key: str) -> str:
    return f"{get_settings().public_url.rstrip('/')}/S/{key}"


def _check_name(name: str) -> str:
    name = clean(name)
    if not name or len(name) > 200:
        raise InvalidInput(
            "bad_screen_name",
            N_("Give the screen a name, e.g. “Màn hình LED hội trường”."),
            field="name",
        )
    return name


# --- registering --------------------------------------------------------------------------


async def register_screen(congress_id: int, name: str, actor: Actor) -> tuple[int, str]:
    """A new screen and its key, which exists nowhere else: show it once."""
    name = _check_name(name)
    key = new_token()
    async with Change(congress_id, actor) as change:
        rows = await Screen.insert(
            Screen(
                congress=congress_id,
                name=name,
                key_hash=key_hash(key),
                content=msgspec.json.encode(ScreenContent()).decode(),
                created_at=_now(),
            )
        ).returning(Screen.id)
        screen_id = int(rows[0]["id"])
        await change.record(events.ScreenRegistered(screen_id=screen_id, name=name))
    return screen_id, key


async def renew_screen_key(congress_id: int, screen_id: int, actor: Actor) -> str:
    """A new address for a screen (a lost one, or a revoked one brought back)."""
    key = new_token()
    async with Change(congress_id, actor) as change:
        updated = (
            await Screen.update({Screen.key_hash: key_hash(key), Screen.revoked_at: None})
            .where((Screen.id == screen_id) & (Screen.congress == congress_id))
            .returning(Screen.id)
        )
        if not updated:
            raise NotFound("screen_not_found", N_("This screen does not exist."))
        await change.record(events.ScreenKeyRenewed(screen_id=screen_id))
    return key


async def revoke_screen(congress_id: int, screen_id: int, actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        updated = (
            await Screen.update({Screen.revoked_at: _now()})
            .where(
                (Screen.id == screen_id)
                & (Screen.congress == congress_id)
                & Screen.revoked_at.is_null()
            )
            .returning(Screen.id)
        )
        if not updated:
            await _screen(congress_id, screen_id)  # not there: 404; already revoked: done
            return
        await change.record(events.ScreenRevoked(screen_id=screen_id))


async def look_up(raw_key: str) -> ScreenLookup:
    key = parse_token(raw_key)
    if key is None:
        return ScreenLookup("malformed")
    row = (
        await Screen.select(Screen.id, Screen.congress, Screen.revoked_at)
        .where(Screen.key_hash == key_hash(key))
        .first()
    )
    if row is None:
        return ScreenLookup("unknown")
    status = "revoked" if row["revoked_at"] else "active"
    return ScreenLookup(status, row["id"], row["congress"])


async def _screen(congress_id: int, screen_id: int) -> dict[str, Any]:
    row = (
        await Screen.select()
        .where((Screen.id == screen_id) & (Screen.congress == congress_id))
        .first()
    )
    if row is None:
        raise NotFound("screen_not_found", N_("This screen does not exist."))
    return row


async def screens_of(congress_id: int) -> list[dict[str, Any]]:
    rows = await (
        Screen.select(Screen.id, Screen.name, Screen.content, Screen.created_at, Screen.revoked_at)
        .where(Screen.congress == congress_id)
        .order_by(Screen.name)
    )
    for row in rows:
        row["content"] = content_of(row)
    return rows


def content_of(screen: dict[str, Any]) -> ScreenContent:
    if not screen["content"]:
        return ScreenContent()
    return msgspec.json.decode(screen["content"], type=ScreenContent)


# --- driving ------------------------------------------------------------------------------


async def _check_content(congress_id: int, content: ScreenContent) -> None:
    if content.kind == "poll" and content.poll_id is not None:
        await voting.get_poll(congress_id, content.poll_id)
    if content.kind == "document":
        if content.document_id is None:
            raise InvalidInput(
                "document_needed", N_("Choose the document to show."), field="document_id"
            )
        await _shown_document(congress_id, content.document_id)
    if content.kind == "playlist":
        if not content.playlist:
            raise InvalidInput(
                "playlist_empty", N_("Choose at least one picture to show."), field="playlist"
            )
        for item in content.playlist:
            await _shown_document(congress_id, item.document_id)


async def _shown_document(congress_id: int, document_id: int) -> tuple[dict[str, Any], Any]:
    """A document a screen may show, with the version delegates read; else not found."""
    document, version = await documents.get_version(congress_id, document_id, None, SCREEN_VIEWER)
    if version["media_type"] != "application/pdf" and version["media_type"] not in PICTURE_TYPES:
        raise InvalidInput(
            "not_a_picture",
            N_("A screen shows PDF pages and pictures only."),
            field="document_id",
        )
    return document, version


async def set_screen_content(
    congress_id: int, screen_id: int, content: ScreenContent, actor: Actor
) -> None:
    await _check_content(congress_id, content)
    async with Change(congress_id, actor) as change:
        await _screen(congress_id, screen_id)
        await Screen.update({Screen.content: msgspec.json.encode(content).decode()}).where(
            Screen.id == screen_id
        )
        await change.record(events.ScreenContentSet(screen_id=screen_id, kind=content.kind))


async def live_state(congress_id: int) -> dict[str, Any]:
    row = await LiveState.select().where(LiveState.congress == congress_id).first()
    return row or {"sitting": None, "agenda_item": None, "announcement": ""}


async def _save_live_state(congress_id: int, values: dict[str, Any]) -> None:
    columns = {getattr(LiveState, k): v for k, v in values.items()}
    await LiveState.insert(
        LiveState(congress=congress_id, updated_at=_now(), **values)
    ).on_conflict(
        target=LiveState.congress,
        action=OnConflictAction.do_update,
        values=[*columns, LiveState.updated_at],
    )


async def set_current_item(
    congress_id: int, sitting_id: int | None, agenda_item_id: int | None, actor: Actor
) -> None:
    """The sitting and the agenda item under way; an item implies its sitting."""
    async with Change(congress_id, actor) as change:
        if agenda_item_id is not None:
            item = (
                await AgendaItem.select(AgendaItem.sitting)
                .where((AgendaItem.id == agenda_item_id) & (AgendaItem.congress == congress_id))
                .first()
            )
            if item is None:
                raise NotFound("agenda_item_not_found", N_("This agenda item does not exist."))
            sitting_id = item["sitting"]
        elif sitting_id is not None:
            found = await Sitting.exists().where(
                (Sitting.id == sitting_id) & (Sitting.congress == congress_id)
            )
            if not found:
                raise NotFound("sitting_not_found", N_("This sitting does not exist."))
        await _save_live_state(congress_id, {"sitting": sitting_id, "agenda_item": agenda_item_id})
        await change.record(
            events.CurrentItemSet(sitting_id=sitting_id, agenda_item_id=agenda_item_id)
        )


async def set_announcement(congress_id: int, text: str, actor: Actor) -> None:
    text = clean(text)
    if len(text) > MAX_ANNOUNCEMENT:
        raise InvalidInput(
            "announcement_too_long",
            N_("An announcement has at most {n} characters."),
            field="announcement",
            n=MAX_ANNOUNCEMENT,
        )
    async with Change(congress_id, actor) as change:
        await _save_live_state(congress_id, {"announcement": text})
        await change.record(events.AnnouncementSet(cleared=not text))


# --- what a screen draws ------------------------------------------------------------------


async def screen_state(screen_id: int) -> ScreenState | None:
    """The state of an active screen, or None once it is revoked or gone.

    The congress's sequence number is read first: an event committed while the rest is
    read is then sent again on the feed, never lost.
    """
    screen = await Screen.select().where(Screen.id == screen_id).first()
    if screen is None or screen["revoked_at"]:
        return None
    congress_id = screen["congress"]
    congress = await congress_services.titled_congress(congress_id)
    live = await live_state(congress_id)
    content = content_of(screen)
    sitting, item = await _current(congress_id, live)
    return ScreenState(
        seq=congress["last_event_seq"],
        now=now_ms(),
        timezone=congress["timezone"],
        congress=congress["title"],
        sitting=sitting["title"] if sitting else None,
        agenda_item=item["title"] if item else None,
        announcement=live["announcement"],
        ticker=content.ticker and content.kind != "announcement",
        view=await _view(screen, content, congress, live, sitting, item),
    )


async def _current(
    congress_id: int, live: dict[str, Any]
) -> tuple[dict[str, Any] | None, dict[str, Any] | None]:
    item = None
    if live["agenda_item"]:
        item = await AgendaItem.select().where(AgendaItem.id == live["agenda_item"]).first()
    sitting = None
    if live["sitting"]:
        sitting = await Sitting.select().where(Sitting.id == live["sitting"]).first()
    return sitting, item


async def _view(
    screen: dict[str, Any],
    content: ScreenContent,
    congress: dict[str, Any],
    live: dict[str, Any],
    sitting: dict[str, Any] | None,
    item: dict[str, Any] | None,
) -> View:
    congress_id = congress["id"]
    if content.kind == "speaker":
        return await speaker_view(congress_id)
    if content.kind == "attendance":
        return await attendance_view(congress_id, sitting)
    if content.kind == "poll":
        return await poll_view(congress_id, content.poll_id)
    if content.kind == "document":
        return await document_view(screen, content.document_id or 0, content.page)
    if content.kind == "announcement":
        return AnnouncementView(text=live["announcement"], mode=content.announcement_mode)
    if content.kind == "playlist":
        return await playlist_view(screen, content)
    return TitleView(
        congress=congress["title"],
        organizing_union=congress["organizing_union"],
        venue=congress["venue"],
        term=congress["term"],
        sitting=sitting["title"] if sitting else None,
        agenda_item=item["title"] if item else None,
        presenter=(item["presenter"] or None) if item else None,
    )


def remaining_ms(speaker: dict[str, Any], now: datetime.datetime) -> int:
    """The speaker's time left: allotted, less what ran before a pause, less the run now."""
    left = int(speaker["allotted_seconds"]) * 1000 - int(speaker["elapsed_ms"])
    started = speaker["timer_started_at"]
    if started is not None:
        left -= int((now - started).total_seconds() * 1000)
    return left


async def speaker_view(congress_id: int) -> SpeakerView:
    now = _now()
    speaking = (
        await Speaker.select()
        .where((Speaker.congress == congress_id) & (Speaker.status == "speaking"))
        .order_by(Speaker.id, ascending=False)
        .first()
    )
    upcoming = (
        await Speaker.select(Speaker.name, Speaker.delegation)
        .where((Speaker.congress == congress_id) & (Speaker.status == "queued"))
        .order_by(Speaker.position)
        .first()
    )
    next_name = upcoming["name"] if upcoming else ""
    next_delegation = upcoming["delegation"] if upcoming else ""
    if speaking is None:
        return SpeakerView(speaking=False, next_name=next_name, next_delegation=next_delegation)
    return SpeakerView(
        speaking=True,
        name=speaking["name"],
        delegation=speaking["delegation"],
        topic=speaking["topic"],
        allotted_ms=int(speaking["allotted_seconds"]) * 1000,
        remaining_ms=remaining_ms(speaking, now),
        running=speaking["timer_started_at"] is not None,
        next_name=next_name,
        next_delegation=next_delegation,
    )


async def attendance_view(congress_id: int, sitting: dict[str, Any] | None) -> AttendanceView:
    if sitting is None:
        try:
            sitting = await congress_services.current_sitting(congress_id)
        except NotFound:
            return AttendanceView(sitting=None)
    counts = await attendance.counts(congress_id, sitting["id"])
    return AttendanceView(
        sitting=sitting["title"],
        present=counts.present,
        expected=counts.expected,
        required=counts.required,
        reached=counts.reached,
        numerator=counts.numerator,
        denominator=counts.denominator,
    )


async def _latest_poll(congress_id: int) -> int | None:
    row = (
        await Poll.select(Poll.id)
        .where((Poll.congress == congress_id) & (Poll.status != "draft"))
        .order_by(Poll.opened_at, ascending=False)
        .order_by(Poll.id, ascending=False)
        .first()
    )
    return row["id"] if row else None


async def poll_view(congress_id: int, poll_id: int | None) -> PollView:
    """The question; while open only voted / eligible (from the checkpoints, never per
    ballot); once counted the result."""
    if poll_id is None:
        poll_id = await _latest_poll(congress_id)
    if poll_id is None:
        return PollView(found=False)
    try:
        poll = await voting.get_poll(congress_id, poll_id)
    except NotFound:
        return PollView(found=False)
    view = PollView(
        found=True,
        poll_id=poll_id,
        poll_kind=poll["kind"],
        title=poll["title"],
        question=poll["question"],
        status=poll["status"],
    )
    if poll["status"] == "open":
        view.voted, view.eligible = poll["voted"], poll["eligible"]
    result = voting.result_of(poll) if poll["status"] in {"closed", "published"} else None
    if poll["status"] == "closed" and result is None:
        view.counting = True
    if result is not None:
        view.result = _result_view(poll, result)
    return view


def _result_view(poll: dict[str, Any], result: Any) -> PollResultView:
    options = {o["key"]: o for o in poll["options"]}
    lines = [
        ResultLine(
            label=voting.option_label(
                poll["kind"], options.get(o.option, {"key": o.option, "label": o.option})
            ),
            note=options.get(o.option, {}).get("note", "") or "",
            votes=o.votes,
            elected=o.elected,
            tied=o.tied,
        )
        for o in result.outcomes
    ]
    return PollResultView(
        base=result.base,
        base_label=gettext(BASE_LABELS.get(result.majority_base, "")),
        collected=result.ballots_collected,
        valid=result.ballots_valid,
        invalid=result.ballots_invalid,
        seats=result.seats,
        passed=result.passed,
        lines=lines,
        tied=bool(result.tied),
    )


async def document_view(screen: dict[str, Any], document_id: int, page: int) -> DocumentView:
    try:
        document, version = await _shown_document(screen["congress"], document_id)
    except (NotFound, InvalidInput):
        return DocumentView(found=False)
    return DocumentView(
        found=True,
        title=document["title"],
        page=page,
        page_count=version["page_count"],
        url=f"documents/{document_id}/pages/{page}",
    )


async def playlist_view(screen: dict[str, Any], content: ScreenContent) -> PlaylistView:
    pictures = []
    for item in content.playlist:
        shown = await document_view(screen, item.document_id, item.page)
        if shown.found:
            pictures.append(Picture(url=shown.url, title=shown.title))
    return PlaylistView(pictures=pictures, interval_ms=content.interval_seconds * 1000)


def pictures_of(content: ScreenContent) -> set[tuple[int, int]]:
    """The (document, page) pairs a screen shows now: the only ones its address serves."""
    if content.kind == "document" and content.document_id:
        return {(content.document_id, content.page)}
    if content.kind == "playlist":
        return {(i.document_id, i.page) for i in content.playlist}
    return set()


async def shown_version(screen_id: int, document_id: int, page: int) -> dict[str, Any] | None:
    """The version whose page the screen asks for, if it is showing it and may."""
    screen = await Screen.select().where(Screen.id == screen_id).first()
    if screen is None or screen["revoked_at"]:
        return None
    if (document_id, page) not in pictures_of(content_of(screen)):
        return None
    try:
        _, version = await _shown_document(screen["congress"], document_id)
    except (NotFound, InvalidInput):
        return None
    return version


async def documents_for_screens(congress_id: int) -> list[dict[str, Any]]:
    """What the control page offers: released PDFs and pictures, with their page counts."""
    rows = await documents.list_documents(congress_id, SCREEN_VIEWER)
    if not rows:
        return []
    versions = await DocumentVersion.select(
        DocumentVersion.document,
        DocumentVersion.number,
        DocumentVersion.media_type,
        DocumentVersion.page_count,
    ).where(DocumentVersion.document.is_in([r["id"] for r in rows]))
    by_key = {(v["document"], v["number"]): v for v in versions}
    shown = []
    for row in rows:
        version = by_key.get((row["id"], row["released_version"]))
        if version and (
            version["media_type"] == "application/pdf" or version["media_type"] in PICTURE_TYPES
        ):
            shown.append(
                {**row, "media_type": version["media_type"], "page_count": version["page_count"]}
            )
    return shown
