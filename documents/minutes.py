"""Minutes of a sitting: a draft assembled from the record, edited, finalised to a PDF.

The draft is plain text the secretariat edits in the browser: a line starting with "# " is a
heading, "- " an item of a list, a blank line ends a paragraph.
"""

from __future__ import annotations

import asyncio
import datetime
import io
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from congress import services as congress_services
from congress.eventlog import Actor, Change, events_of
from congress.i18n import N_, gettext
from congress.tables import Sitting
from congress.templating import SITTING_KIND_LABELS
from documents import events, services
from documents.pdf import render_pdf
from documents.schemas import DocumentIn
from documents.tables import Document, MinutesDraft
from documents.vocabulary import CATEGORY_LABELS

MAX_BODY = 200_000


class Block(msgspec.Struct, frozen=True):
    kind: str  # heading | item | paragraph
    text: str


def blocks(body: str) -> list[Block]:
    """The draft's text as headings, list items and paragraphs, for the PDF."""
    parsed: list[Block] = []
    paragraph: list[str] = []

    def flush() -> None:
        if paragraph:
            parsed.append(Block("paragraph", " ".join(paragraph)))
            paragraph.clear()

    for raw in body.splitlines():
        line = raw.strip()
        if not line:
            flush()
        elif line.startswith("# "):
            flush()
            parsed.append(Block("heading", line[2:].strip()))
        elif line.startswith("- "):
            flush()
            parsed.append(Block("item", line[2:].strip()))
        else:
            paragraph.append(line)
    flush()
    return parsed


async def _sitting(congress_id: int, sitting_id: int) -> dict[str, Any]:
    for sitting in await congress_services.sittings_of(congress_id):
        if sitting["id"] == sitting_id:
            return sitting
    from congress.errors import NotFound

    raise NotFound("sitting_not_found", N_("This sitting does not exist."))


async def assemble(congress_id: int, sitting_id: int) -> str:
    """A first draft from what the system knows: the sitting, its agenda, its papers, and
    what the event log says happened in it."""
    congress = await congress_services.get_congress(congress_id)
    sitting = await _sitting(congress_id, sitting_id)
    zone = ZoneInfo(congress["timezone"])
    heading = {
        "sitting": gettext(N_("Sitting")),
        "starts": gettext(N_("Starts at")),
        "location": gettext(N_("Location")),
        "agenda": gettext(N_("Agenda")),
        "papers": gettext(N_("Papers presented")),
        "proceedings": gettext(N_("Proceedings")),
        "conclusions": gettext(N_("Discussion and conclusions")),
    }
    lines = [f"# {heading['sitting']}: {sitting['title']}", ""]
    lines += [gettext(SITTING_KIND_LABELS.get(sitting["kind"], N_("Plenary sitting"))), ""]
    if sitting["starts_at"]:
        started = sitting["starts_at"].astimezone(zone).strftime("%H:%M %d/%m/%Y")
        lines += [f"{heading['starts']}: {started}", ""]
    if sitting["location"] or congress["venue"]:
        lines += [f"{heading['location']}: {sitting['location'] or congress['venue']}", ""]
    lines += ["", f"# {heading['agenda']}", ""]
    for item in sitting["agenda"]:
        presenter = f" ({item['presenter']})" if item["presenter"] else ""
        lines.append(f"- {item['title']}{presenter}")
    papers = await Document.select(Document.title, Document.category).where(
        (Document.congress == congress_id)
        & (Document.sitting == sitting_id)
        & (Document.access != "confidential")
        & (Document.category != "minutes")
    )
    if papers:
        lines += ["", f"# {heading['papers']}", ""]
        lines += [f"- {p['title']} ({gettext(CATEGORY_LABELS[p['category']])})" for p in papers]
    happened = [
        e
        for e in await events_of(congress_id, limit=100_000)
        if e.payload.get("sitting_id") == sitting_id and e.type in TIMELINE
    ]
    if happened:
        lines += ["", f"# {heading['proceedings']}", ""]
        for event in happened:
            at = event.at.astimezone(zone).strftime("%H:%M")
            lines.append(f"- {at} {gettext(TIMELINE[event.type])}")
    lines += ["", f"# {heading['conclusions']}", "", ""]
    return "\n".join(lines)


# What an event of the log means in the minutes; the live parts add their events here.
TIMELINE: dict[str, str] = {
    "AgendaReordered": N_("The agenda of the sitting was changed."),
    "AgendaItemAdded": N_("An item was added to the agenda."),
}


async def draft_of(congress_id: int, sitting_id: int) -> dict[str, Any]:
    """The saved draft, or a fresh one assembled from the record (not saved yet)."""
    await _sitting(congress_id, sitting_id)
    row = await MinutesDraft.select().where(MinutesDraft.sitting == sitting_id).first()
    if row is not None:
        return row
    return {
        "sitting": sitting_id,
        "body": await assemble(congress_id, sitting_id),
        "updated_by_name": "",
        "updated_at": None,
        "document": None,
    }


def _check_body(body: str) -> str:
    from congress.errors import InvalidInput

    if len(body) > MAX_BODY:
        raise InvalidInput("minutes_too_long", N_("The minutes are too long."), field="body")
    return body.replace("\r\n", "\n")


async def save_draft(congress_id: int, sitting_id: int, body: str, actor: Actor) -> None:
    body = _check_body(body)
    async with Change(congress_id, actor) as change:
        await _sitting(congress_id, sitting_id)
        now = datetime.datetime.now(datetime.UTC)
        exists = await MinutesDraft.exists().where(MinutesDraft.sitting == sitting_id)
        if exists:
            await MinutesDraft.update(
                {
                    MinutesDraft.body: body,
                    MinutesDraft.updated_by_name: actor.name,
                    MinutesDraft.updated_at: now,
                }
            ).where(MinutesDraft.sitting == sitting_id)
        else:
            await MinutesDraft.insert(
                MinutesDraft(
                    congress=congress_id,
                    sitting=sitting_id,
                    body=body,
                    updated_by_name=actor.name,
                    updated_at=now,
                )
            )
        await change.record(events.MinutesDraftSaved(sitting_id=sitting_id))


async def render_minutes(congress_id: int, sitting_id: int, body: str) -> bytes:
    congress = await congress_services.titled_congress(congress_id)
    sitting = await Sitting.select().where(Sitting.id == sitting_id).first()
    zone = ZoneInfo(congress["timezone"])
    held = sitting["starts_at"] if sitting and sitting["starts_at"] else None
    today = (held or datetime.datetime.now(datetime.UTC)).astimezone(zone).date()
    return await asyncio.to_thread(
        render_pdf,
        "minutes_pdf.html",
        congress=congress,
        sitting=sitting,
        blocks=blocks(body),
        today=today,
    )


async def finalise(
    congress_id: int, sitting_id: int, body: str, actor: Actor, viewer: services.Viewer
) -> tuple[int, int]:
    """Save the draft, print it to PDF and archive it as the sitting's minutes (a new
    version when minutes were finalised before). Returns (document id, version)."""
    body = _check_body(body)
    sitting = await _sitting(congress_id, sitting_id)
    pdf = await render_minutes(congress_id, sitting_id, body)
    filename = f"bien-ban-{sitting_id}.pdf"
    prepared = await services.prepare_upload(io.BytesIO(pdf), filename)
    async with Change(congress_id, actor) as change:
        await save_draft(congress_id, sitting_id, body, actor)
        draft = await MinutesDraft.select().where(MinutesDraft.sitting == sitting_id).first()
        assert draft is not None
        document_id = draft["document"]
        if document_id is None:
            minutes_word = gettext(N_("Minutes"))
            title = f"{minutes_word} – {sitting['title']}"
            document_id = await services.upload_document(
                congress_id,
                DocumentIn(
                    title=title, category="minutes", access="organizers", sitting_id=sitting_id
                ),
                prepared,
                actor,
                viewer,
            )
            version = 1
            await MinutesDraft.update({MinutesDraft.document: document_id}).where(
                MinutesDraft.sitting == sitting_id
            )
        else:
            version = await services.add_version(congress_id, document_id, prepared, actor, viewer)
        await change.record(
            events.MinutesFinalised(sitting_id=sitting_id, document_id=document_id, version=version)
        )
    return document_id, version
