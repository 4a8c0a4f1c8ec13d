"""The tally protocol (biên bản kiểm phiếu): the PDF the tally committee signs, filed in the
archive as soon as a poll's result is there.

Everything on it comes from the sealed result (voting.rules.Result), the poll's row and the
two members' paper entries; the chain's head digest at the bottom lets anyone holding the
poll's export check that the protocol and the record say the same.
"""

from __future__ import annotations

import datetime
import io
import logging
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from babel.numbers import format_decimal

from congress import i18n
from congress.errors import Conflict
from congress.eventlog import Actor, Change
from congress.i18n import N_, gettext, translate
from congress.services import titled_congress
from congress.settings import get_settings
from congress.tables import Sitting
from congress.voting import chain, rules, services
from congress.voting.tables import Poll, PollPaperEntry
from documents import services as documents
from documents.pdf import render_pdf_apart
from documents.schemas import DocumentIn

log = logging.getLogger(__name__)

TEMPLATE = "tally_protocol_pdf.html"

METHOD_LABELS = {
    "phone": N_("Secret ballot by phone"),
    "paper": N_("Secret ballot on paper"),
    "phone_and_paper": N_("Secret ballot by phone and on paper"),
    "show_of_cards": N_("Show of cards"),
}
NAMED_METHOD_LABELS = {
    "phone": N_("Named vote by phone"),
    "phone_and_paper": N_("Named vote by phone and on paper"),
}
BASE_LABELS = {
    "collected": N_("more than half of the ballots collected"),
    "valid": N_("more than half of the valid ballots"),
    "present": N_("more than half of the delegates present"),
    "convened": N_("more than half of the delegates convened"),
}


class Line(msgspec.Struct, frozen=True):
    """One option or candidate on the protocol's results table."""

    key: str
    label: str
    note: str
    votes: int
    percent: str
    elected: bool
    tied: bool


class Count(msgspec.Struct, frozen=True):
    """A row of the numbers: what was counted, how many; `part` rows are indented."""

    label: str
    value: int
    part: bool = False


class PaperEntry(msgspec.Struct, frozen=True):
    entry: int
    member: str
    entered_at: datetime.datetime
    counts: rules.PaperCounts


def percent(votes: int, base: int, language: str) -> str:
    """votes / base in per cent with two decimals, rounded half up in integers only."""
    if base <= 0:
        return "—"
    hundredths = (votes * 20_000 + base) // (2 * base)
    number = format_decimal(Decimal(hundredths).scaleb(-2), format="0.00", locale=language)
    return f"{number}%"


def needed(base: int) -> int:
    """The fewest votes that are more than half of the base."""
    return base // 2 + 1


def _label(poll: dict[str, Any], option: dict[str, Any]) -> str:
    """A motion's answers are msgids; a candidate's name is shown as it was entered."""
    label = str(option["label"])
    return translate(label) if poll["kind"] == "motion" else label


def _lines(poll: dict[str, Any], result: rules.Result, language: str) -> list[Line]:
    options = {o["key"]: o for o in poll["options"]}
    lines = []
    for outcome in result.outcomes:
        option = options[outcome.option]
        lines.append(
            Line(
                key=outcome.option,
                label=_label(poll, option),
                note=option["note"],
                votes=outcome.votes,
                percent=percent(outcome.votes, result.base, language),
                elected=outcome.elected,
                tied=outcome.tied,
            )
        )
    return lines


def _counts(poll: dict[str, Any], result: rules.Result) -> list[Count]:
    officials = poll["voters"] in {"official_present", "official"}
    counts = [
        Count(
            gettext("Official delegates convened") if officials else gettext("Delegates convened"),
            result.convened,
        ),
        Count(
            gettext("Official delegates present") if officials else gettext("Delegates present"),
            result.present,
        ),
        Count(gettext("Delegates entitled to vote"), poll["eligible"]),
    ]
    if poll["method"] == "show_of_cards":
        return [*counts, Count(gettext("Delegates who raised a card"), result.ballots_valid)]
    counts.append(Count(gettext("Ballots issued"), result.paper_issued + result.e_ballots))
    if poll["method"] == "phone_and_paper":
        counts += [
            Count(gettext("paper ballots handed out"), result.paper_issued, part=True),
            Count(gettext("e-ballots cast by phone"), result.e_ballots, part=True),
        ]
    counts.append(Count(gettext("Ballots collected"), result.ballots_collected))
    if poll["method"] in services.BY_PHONE:
        counts.append(Count(gettext("of which e-ballots (all valid)"), result.e_ballots, True))
    return [
        *counts,
        Count(gettext("Valid ballots"), result.ballots_valid),
        Count(gettext("Invalid ballots"), result.ballots_invalid),
    ]


async def _paper_entries(poll_id: int) -> list[PaperEntry]:
    rows = await (
        PollPaperEntry.select(
            PollPaperEntry.entry,
            PollPaperEntry.counts,
            PollPaperEntry.entered_at,
            PollPaperEntry.account.full_name.as_alias("member"),
        )
        .where(PollPaperEntry.poll == poll_id)
        .order_by(PollPaperEntry.entry)
    )
    return [
        PaperEntry(
            entry=row["entry"],
            member=row["member"] or "—",
            entered_at=row["entered_at"],
            counts=msgspec.json.decode(row["counts"], type=rules.PaperCounts),
        )
        for row in rows
    ]


async def _title_of(poll_id: int | None) -> str:
    if poll_id is None:
        return ""
    row = await Poll.select(Poll.title).where(Poll.id == poll_id).first()
    return row["title"] if row else ""


async def _runoff_title(poll: dict[str, Any]) -> str:
    """The runoff as it is (or will be, once the presidium creates it) called."""
    row = await Poll.select(Poll.title).where(Poll.runoff_of == poll["id"]).first()
    return row["title"] if row else f"{poll['title']} – {services.RUNOFF_SUFFIX}"


async def protocol_context(congress_id: int, poll_id: int) -> dict[str, Any]:
    """What the protocol's template shows, read from the poll and its sealed result."""
    poll = await services.get_poll(congress_id, poll_id)
    result = services.result_of(poll)
    if result is None:
        raise Conflict("result_pending", N_("The result is not there yet: the counts are missing."))
    congress = await titled_congress(congress_id)
    language = i18n.current_language.get()
    sitting = await Sitting.select(Sitting.title).where(Sitting.id == poll["sitting"]).first()
    method = NAMED_METHOD_LABELS.get(poll["method"]) if poll["named"] else None
    method = method or METHOD_LABELS[poll["method"]]
    voters = services.VOTERS[poll["voters"]]
    lines = _lines(poll, result, language)
    return {
        "lang": language,
        "congress": congress,
        "poll": poll,
        "result": result,
        "sitting_title": sitting["title"] if sitting else "",
        "method": gettext(method),
        "base_rule": gettext(BASE_LABELS[result.majority_base]),
        "voters": gettext(voters),
        "needed": needed(result.base),
        "counts": _counts(poll, result),
        "lines": lines,
        "elected": [line for line in lines if line.elected],
        "tied": [line for line in lines if line.tied],
        "runoff_title": await _runoff_title(poll) if result.tied else "",
        "runoff_of_title": await _title_of(poll["runoff_of"]),
        "paper_entries": await _paper_entries(poll_id),
        "ballot": [(o["key"], _label(poll, o)) for o in poll["options"]],
        "fingerprint": chain.fingerprint(poll["chain_head"]),
        "head": poll["chain_head"],
        "today": datetime.datetime.now(ZoneInfo(congress["timezone"])).date(),
    }


async def file_tally_protocol(congress_id: int, poll_id: int, actor: Actor) -> int:
    """Renders the poll's tally protocol, files it in the archive for the organizers and
    links it to the poll; the id of its document. A poll that has one keeps it."""
    poll = await services.get_poll(congress_id, poll_id)
    if poll["protocol_document"] is not None:
        return int(poll["protocol_document"])
    # The record is in the installation's language, whoever's console closed the poll.
    language = i18n.current_language.set(get_settings().default_language)
    try:
        context = await protocol_context(congress_id, poll_id)
        pdf = await render_pdf_apart(TEMPLATE, **context)
        label = gettext("Tally protocol")
    finally:
        i18n.current_language.reset(language)
    prepared = await documents.prepare_upload(io.BytesIO(pdf), f"bien-ban-kiem-phieu-{poll_id}.pdf")
    title = f"{label} – {poll['title']}"[:300]
    async with Change(congress_id, actor):
        # Rendering took a while without a lock: whoever filed first in the meantime wins.
        poll = await services._locked(congress_id, poll_id)
        if poll["protocol_document"] is not None:
            return int(poll["protocol_document"])
        document_id = await documents.upload_document(
            congress_id,
            DocumentIn(
                title=title,
                category="tally_protocol",
                access="organizers",
                sitting_id=poll["sitting"],
            ),
            prepared,
            actor,
            documents.Viewer("organizer"),
        )
        await Poll.update({Poll.protocol_document: document_id}).where(Poll.id == poll_id)
    return document_id


async def file_if_ready(congress_id: int, poll_id: int, actor: Actor) -> int | None:
    """Files the protocol once the poll's result is there; its document id, or None.

    Called after a state change that has committed already (a close, counts that agree):
    a protocol that cannot be made is logged rather than turned into an error of that change.
    """
    poll = await services.get_poll(congress_id, poll_id)
    if not poll["result"]:
        return None
    if poll["protocol_document"] is not None:
        return int(poll["protocol_document"])
    try:
        return await file_tally_protocol(congress_id, poll_id, actor)
    except Exception:
        log.exception("filing the tally protocol of poll %s failed", poll_id)
        return None
