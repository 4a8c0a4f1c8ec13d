"""Stream links, and the public view of a congress: what is on now, the announced results,
the papers released to the public and the timeline of what happened.

Everything read here for the public goes through one rule per kind: a paper only while
``documents.services.visible(document, PUBLIC)``, a poll only once it is published, and no
turnout, ballot or delegate at all.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from congress import services as congress_services
from congress.errors import InvalidInput, NotFound
from congress.eventlog import Actor, Change, RecordedEvent, row_to_recorded
from congress.i18n import N_, gettext, translate
from congress.tables import AgendaItem, Sitting
from congress.tables import Event as EventRow
from congress.voting import services as voting_services
from congress.voting.events import PollPublished
from congress.voting.tables import Poll
from documents import services as document_services
from documents.events import DocumentReleased
from documents.tables import Document
from documents.vocabulary import CATEGORY_LABELS
from livestream.public import events
from livestream.public.schemas import (
    PublicDocument,
    PublicNow,
    PublicOutcome,
    PublicResult,
    Stream,
    StreamLinkIn,
    StreamLinkOut,
    TimelineEntry,
)
from livestream.screens.events import CurrentItemSet
from livestream.tables import LiveState, StreamLink

# --- stream addresses ----------------------------------------------------------------------

YOUTUBE_HOSTS = {
    "youtube.com",
    "www.youtube.com",
    "m.youtube.com",
    "youtu.be",
    "youtube-nocookie.com",
    "www.youtube-nocookie.com",
}
FACEBOOK_HOSTS = {"facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com"}
YOUTUBE_ID = re.compile(r"^[A-Za-z0-9_-]{11}$")
YOUTUBE_PATH = re.compile(r"^/(?:live|embed|shorts)/([A-Za-z0-9_-]{11})/?$")
FACEBOOK_VIDEO_PATH = re.compile(r"^/([A-Za-z0-9.\-]{1,100})/videos/(?:[^/]+/)?(\d{1,30})/?$")
FACEBOOK_REEL_PATH = re.compile(r"^/reel/(\d{1,30})/?$")
FB_WATCH_PATH = re.compile(r"^/([A-Za-z0-9_-]{1,40})/?$")
NUMERIC_ID = re.compile(r"^\d{1,30}$")
# The players the public page may frame: its Content-Security-Policy lists them.
YOUTUBE_EMBED = "https://www.youtube-nocookie.com/embed/"
FACEBOOK_EMBED = "https://www.facebook.com/plugins/video.php"


def _not_a_stream(message: str = "") -> InvalidInput:
    return InvalidInput(
        "stream_url_invalid",
        message
        or N_(
            "This is not a stream address we can show. Give a YouTube or Facebook video "
            "address, or an HLS playlist ending in .m3u8."
        ),
        field="url",
    )


def parse_stream_url(url: str) -> Stream:
    """A stream address checked (https only) and turned into what the page embeds."""
    url = url.strip()
    if any(ch.isspace() or not ch.isprintable() for ch in url):
        raise _not_a_stream()
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a malformed port
    except ValueError:
        raise _not_a_stream() from None
    if parts.scheme.lower() != "https" or not parts.hostname:
        raise _not_a_stream(N_("A stream address must start with https://."))
    if parts.username is not None or parts.password is not None:
        raise _not_a_stream()
    host = parts.hostname.lower()
    if host in YOUTUBE_HOSTS:
        return Stream("youtube", url, YOUTUBE_EMBED + _youtube_id(host, parts.path, parts.query))
    if host in FACEBOOK_HOSTS or host == "fb.watch":
        href = _facebook_video(host, parts.path, parts.query)
        query = urlencode({"href": href, "show_text": "false", "t": "0"}, quote_via=quote)
        return Stream("facebook", url, f"{FACEBOOK_EMBED}?{query}")
    if parts.path.lower().endswith(".m3u8"):
        return Stream("hls", url, url)
    raise _not_a_stream()


def _youtube_id(host: str, path: str, query: str) -> str:
    if host == "youtu.be":
        video = path.strip("/")
    elif path.rstrip("/") == "/watch":
        video = parse_qs(query).get("v", [""])[0]
    else:
        match = YOUTUBE_PATH.match(path)
        video = match.group(1) if match else ""
    if not YOUTUBE_ID.match(video):
        raise _not_a_stream(
            N_(
                "Give the address of one YouTube video or live stream "
                "(youtube.com/watch?v=…, youtube.com/live/…, youtu.be/…)."
            )
        )
    return video


def _facebook_video(host: str, path: str, query: str) -> str:
    """The canonical address of a Facebook video, as the embedded player wants it."""
    if host == "fb.watch":
        match = FB_WATCH_PATH.match(path)
        if match:
            return f"https://fb.watch/{match.group(1)}/"
    elif match := FACEBOOK_VIDEO_PATH.match(path):
        return f"https://www.facebook.com/{match.group(1)}/videos/{match.group(2)}/"
    elif match := FACEBOOK_REEL_PATH.match(path):
        return f"https://www.facebook.com/reel/{match.group(1)}/"
    elif path.rstrip("/") in {"/watch", "/watch/live", "/video.php"}:
        video = parse_qs(query).get("v", [""])[0]
        if NUMERIC_ID.match(video):
            return f"https://www.facebook.com/watch/?v={video}"
    raise _not_a_stream(
        N_(
            "Give the address of one Facebook video or live video "
            "(facebook.com/<page>/videos/<number>, facebook.com/watch/?v=<number>, fb.watch/…)."
        )
    )


def stream_out(row: dict[str, Any]) -> StreamLinkOut:
    stream = parse_stream_url(row["url"])
    return StreamLinkOut(
        sitting_id=row["sitting"],
        url=row["url"],
        kind=stream.kind,
        embed_url=stream.embed_url,
        public=row["public"],
    )


# --- stream links: reading and changing ----------------------------------------------------


async def stream_links(congress_id: int) -> list[dict[str, Any]]:
    return await (
        StreamLink.select().where(StreamLink.congress == congress_id).order_by(StreamLink.sitting)
    )


async def sittings_with_streams(congress_id: int) -> list[dict[str, Any]]:
    """Every sitting in order, each with its stream link (or None): the console's list."""
    links = {row["sitting"]: row for row in await stream_links(congress_id)}
    sittings = await congress_services.sittings_of(congress_id)
    for sitting in sittings:
        link = links.get(sitting["id"])
        sitting["stream"] = stream_out(link) if link else None
    return sittings


async def _check_sitting(congress_id: int, sitting_id: int) -> None:
    if not await Sitting.exists().where(
        (Sitting.id == sitting_id) & (Sitting.congress == congress_id)
    ):
        raise NotFound("sitting_not_found", N_("This sitting does not exist."))


async def set_stream_link(
    congress_id: int, sitting_id: int, data: StreamLinkIn, actor: Actor
) -> StreamLinkOut:
    """Set (or change) the stream of a sitting; the address decides the kind."""
    stream = parse_stream_url(data.url)
    async with Change(congress_id, actor) as change:
        await _check_sitting(congress_id, sitting_id)
        row = await StreamLink.select().where(StreamLink.sitting == sitting_id).first()
        values: dict[str, Any] = {"url": stream.url, "kind": stream.kind, "public": data.public}
        if row is None:
            await StreamLink.insert(StreamLink(congress=congress_id, sitting=sitting_id, **values))
        elif any(row[key] != value for key, value in values.items()):
            await StreamLink.update({getattr(StreamLink, k): v for k, v in values.items()}).where(
                StreamLink.id == row["id"]
            )
        else:
            return stream_out(row)
        await change.record(
            events.StreamLinkSet(sitting_id=sitting_id, kind=stream.kind, public=data.public)
        )
    return StreamLinkOut(sitting_id, stream.url, stream.kind, stream.embed_url, data.public)


async def remove_stream_link(congress_id: int, sitting_id: int, actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        await _check_sitting(congress_id, sitting_id)
        removed = (
            await StreamLink.delete()
            .where((StreamLink.sitting == sitting_id) & (StreamLink.congress == congress_id))
            .returning(StreamLink.id)
        )
        if removed:
            await change.record(events.StreamLinkRemoved(sitting_id=sitting_id))


# --- the public view -----------------------------------------------------------------------


async def now_of(congress_id: int) -> dict[str, Any]:
    """The congress, the sitting under way (the presidium's, else today's), its agenda item,
    and the sitting's stream when it is public."""
    congress = await congress_services.titled_congress(congress_id)
    state = await LiveState.select().where(LiveState.congress == congress_id).first()
    item = None
    if state and state["agenda_item"]:
        item = (
            await AgendaItem.select()
            .where((AgendaItem.id == state["agenda_item"]) & (AgendaItem.congress == congress_id))
            .first()
        )
    sitting_id = (state and state["sitting"]) or (item and item["sitting"])
    sittings = await congress_services.sittings_of(congress_id)
    sitting = next((s for s in sittings if s["id"] == sitting_id), None)
    if sitting is None:
        sitting = congress_services.today_sitting(sittings, ZoneInfo(congress["timezone"]))
    if item and sitting and item["sitting"] != sitting["id"]:
        item = None
    return {
        "congress": congress,
        "sitting": sitting,
        "agenda_item": item,
        "stream": await public_stream(congress_id, sitting["id"]) if sitting else None,
    }


async def public_stream(congress_id: int, sitting_id: int) -> Stream | None:
    row = (
        await StreamLink.select()
        .where(
            (StreamLink.congress == congress_id)
            & (StreamLink.sitting == sitting_id)
            & (StreamLink.public == True)  # noqa: E712 - a Piccolo condition
        )
        .first()
    )
    if row is None:
        return None
    try:
        return parse_stream_url(row["url"])
    except InvalidInput:  # stored before a rule tightened: show no player rather than fail
        return None


def public_now(now: dict[str, Any]) -> PublicNow:
    sitting, item = now["sitting"], now["agenda_item"]
    return PublicNow(
        sitting=sitting["title"] if sitting else None,
        agenda_item=item["title"] if item else None,
        stream=now["stream"],
    )


async def public_documents(congress_id: int) -> list[PublicDocument]:
    """The papers released to the public, the latest changed first."""
    documents = await document_services.list_documents(congress_id, document_services.PUBLIC)
    return [
        PublicDocument(
            id=d["id"],
            title=d["title"],
            category=gettext(CATEGORY_LABELS.get(d["category"], d["category"])),
            url=document_url(congress_id, d["id"]),
        )
        for d in documents
    ]


def public_result(poll: dict[str, Any]) -> PublicResult | None:
    """An announced result as the public sees it; None until the poll is published."""
    result = voting_services.result_of(poll)
    if poll["status"] != "published" or result is None:
        return None
    labels = {o["key"]: voting_services.option_label(poll["kind"], o) for o in poll["options"]}
    return PublicResult(
        poll_id=poll["id"],
        kind=poll["kind"],
        title=poll["title"],
        passed=result.passed,
        elected=[labels.get(key, key) for key in result.elected],
        tied=[labels.get(key, key) for key in result.tied],
        seats=poll["seats"],
        ballots_collected=result.ballots_collected,
        ballots_valid=result.ballots_valid,
        ballots_invalid=result.ballots_invalid,
        outcomes=[
            PublicOutcome(label=labels.get(o.option, o.option), votes=o.votes, elected=o.elected)
            for o in result.outcomes
        ],
        published_at=poll["published_at"],
    )


async def _published_polls(congress_id: int, poll_ids: Sequence[int] | None = None) -> list[Any]:
    condition: Any = (Poll.congress == congress_id) & (Poll.status == "published")
    if poll_ids is not None:
        if not poll_ids:
            return []
        condition &= Poll.id.is_in(list(poll_ids))
    polls = await Poll.select().where(condition).order_by(Poll.published_at, ascending=False)
    for poll in polls:
        poll["options"] = await voting_services.options_of(poll["id"])
    return polls


async def published_results(congress_id: int) -> list[PublicResult]:
    """The announced results, the latest first."""
    polls = await _published_polls(congress_id)
    return [r for r in map(public_result, polls) if r is not None]


def result_summary(result: PublicResult) -> str:
    """A result in one line: "Passed: Agree 250, Disagree 3, No opinion 2"; "Elected: …"."""
    if result.kind == "motion":
        verdict = gettext(N_("Passed") if result.passed else N_("Not passed"))
        counts = ", ".join(f"{o.label} {o.votes}" for o in result.outcomes)
        return f"{verdict}: {counts}"
    parts = [
        translate(N_("Elected: {names}"), names=", ".join(result.elected))
        if result.elected
        else gettext(N_("No one was elected."))
    ]
    if result.tied:
        parts.append(
            translate(N_("Tied for the seats left: {names}"), names=", ".join(result.tied))
        )
    return " ".join(parts)


# --- the timeline --------------------------------------------------------------------------

TIMELINE_TYPES = (
    CurrentItemSet.type_name(),
    DocumentReleased.type_name(),
    PollPublished.type_name(),
)


def on_timeline(event: RecordedEvent) -> bool:
    """Whether an event may make an entry, judged from the event alone (cheap: every event of
    the congress passes here on its way to the public feed)."""
    if event.type == DocumentReleased.type_name():
        return event.payload.get("access") == "public"
    if event.type == CurrentItemSet.type_name():
        return bool(event.payload.get("sitting_id") or event.payload.get("agenda_item_id"))
    return event.type == PollPublished.type_name()


def document_url(congress_id: int, document_id: int) -> str:
    return f"/live/{congress_id}/documents/{document_id}"


async def timeline(
    congress_id: int, *, after: int = 0, limit: int = 50, newest_first: bool = True
) -> list[TimelineEntry]:
    """The public entries after sequence number ``after``: the latest ``limit`` of them,
    newest first, or the first ``limit`` in order."""
    entries: list[TimelineEntry] = []
    cursor: int | None = None
    while len(entries) < limit:
        condition: Any = (
            (EventRow.congress == congress_id)
            & (EventRow.seq > after)
            & EventRow.type.is_in(list(TIMELINE_TYPES))
        )
        if cursor is not None:
            condition &= (EventRow.seq < cursor) if newest_first else (EventRow.seq > cursor)
        rows = (
            await EventRow.select()
            .where(condition)
            .order_by(EventRow.seq, ascending=not newest_first)
            .limit(limit * 2)
        )
        if not rows:
            break
        found = [row_to_recorded(row) for row in rows]
        entries += await entries_for(congress_id, [e for e in found if on_timeline(e)])
        cursor = found[-1].seq
    return entries[:limit]


async def entries_for(congress_id: int, found: Sequence[RecordedEvent]) -> list[TimelineEntry]:
    """The public entries these events make, in their order; the rest are left out."""

    def ids(type_name: str, key: str) -> list[int]:
        return [int(e.payload[key]) for e in found if e.type == type_name and e.payload.get(key)]

    live = CurrentItemSet.type_name()
    documents = await _rows(Document, congress_id, ids(DocumentReleased.type_name(), "document_id"))
    sittings = await _rows(Sitting, congress_id, ids(live, "sitting_id"))
    items = await _rows(AgendaItem, congress_id, ids(live, "agenda_item_id"))
    polls = {
        p["id"]: p
        for p in await _published_polls(congress_id, ids(PollPublished.type_name(), "poll_id"))
    }
    entries = []
    for event in found:
        entry = _entry(congress_id, event, documents, sittings, items, polls)
        if entry is not None:
            entries.append(entry)
    return entries


async def _rows(table: Any, congress_id: int, row_ids: list[int]) -> dict[int, dict[str, Any]]:
    if not row_ids:
        return {}
    rows = await table.select().where(
        (table.id.is_in(sorted(set(row_ids)))) & (table.congress == congress_id)
    )
    return {row["id"]: row for row in rows}


def _entry(
    congress_id: int,
    event: RecordedEvent,
    documents: dict[int, dict[str, Any]],
    sittings: dict[int, dict[str, Any]],
    items: dict[int, dict[str, Any]],
    polls: dict[int, dict[str, Any]],
) -> TimelineEntry | None:
    if not on_timeline(event):
        return None
    payload = event.payload
    if event.type == DocumentReleased.type_name():
        document = documents.get(payload["document_id"])
        if document is None or not document_services.visible(document, document_services.PUBLIC):
            return None
        return TimelineEntry(
            seq=event.seq,
            at=event.at,
            kind="document",
            label=gettext(N_("Paper released to the public")),
            title=document["title"],
            url=document_url(congress_id, document["id"]),
        )
    if event.type == PollPublished.type_name():
        poll = polls.get(payload["poll_id"])
        result = public_result(poll) if poll else None
        if result is None:
            return None
        return TimelineEntry(
            seq=event.seq,
            at=event.at,
            kind="result",
            label=gettext(N_("Result announced")),
            title=result.title,
            summary=result_summary(result),
            result=result,
        )
    sitting = sittings.get(payload.get("sitting_id") or 0)
    item = items.get(payload.get("agenda_item_id") or 0)
    if item is not None:
        return TimelineEntry(
            seq=event.seq,
            at=event.at,
            kind="agenda_item",
            label=gettext(N_("Now on the agenda")),
            title=item["title"],
            summary=sitting["title"] if sitting else "",
        )
    if sitting is not None:
        return TimelineEntry(
            seq=event.seq,
            at=event.at,
            kind="sitting",
            label=gettext(N_("Sitting under way")),
            title=sitting["title"],
        )
    return None


def newest_at(entries: Sequence[TimelineEntry], default: datetime.datetime) -> datetime.datetime:
    return max((e.at for e in entries), default=default)
