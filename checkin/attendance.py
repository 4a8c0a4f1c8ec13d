"""Check-in per sitting: an idempotent "set present", the live counts and the quorum.

A tablet's scan is answered green (welcome), orange (already here) or red (a card that is
replaced, revoked, unknown, or of another congress). Every scan carries a nonce: the
answer is stored with it, so a retried or queued scan gets the same answer again, and a
second scan of the same card is recorded as a duplicate, not a failure.
"""

from __future__ import annotations

import datetime
import re
from typing import Any
from zoneinfo import ZoneInfo

import msgspec
from piccolo.query.functions.aggregate import Count

from checkin import credentials, events
from checkin.devices import PairedDevice
from checkin.tables import Attendance, QuorumRule
from congress.database import query
from congress.errors import InvalidInput, NotFound
from congress.eventlog import Actor, Change
from congress.i18n import N_, translate
from congress.schemas import Input, RowId
from congress.tables import Delegate
from congress.templating import DELEGATE_KIND_LABELS

_CARD_IN_URL = re.compile(r"/[Dd]/([A-Za-z2-7]{26})/?$")
MESSAGES = {
    "checked_in": N_("Welcome to the congress!"),
    "already_checked_in": N_("Already checked in at {time} at {device}."),
    "card_replaced": N_("This card was replaced: the delegate has a newer card."),
    "card_revoked": N_("This card has been withdrawn."),
    "unknown_card": N_("Unknown card."),
    "other_congress": N_("Not a delegate of this congress."),
    "not_a_card": N_("This code is not a delegate card."),
}


class ScanIn(Input):
    nonce: str
    sitting_id: RowId
    code: str | None = None
    delegate_id: RowId | None = None
    scanned_at: datetime.datetime | None = None


class Answer(msgspec.Struct):
    result: str  # green | orange | red
    code: str
    message: str
    delegate: dict[str, Any] | None
    first_at: str | None
    first_device: str | None
    present: int
    expected: int


class Counts(msgspec.Struct):
    sitting_id: int
    present: int  # official delegates present
    present_all: int
    expected: int  # official delegates convened
    required: int
    reached: bool
    numerator: int
    denominator: int


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def quorum_rule(congress_id: int) -> tuple[int, int, str]:
    row = await QuorumRule.select().where(QuorumRule.congress == congress_id).first()
    return (row["numerator"], row["denominator"], row["base"]) if row else (2, 3, "official")


async def counts(congress_id: int, sitting_id: int) -> Counts:
    numerator, denominator, base = await quorum_rule(congress_id)
    convened_where: Any = Delegate.congress == congress_id
    if base == "official":
        convened_where &= Delegate.kind == "official"
    convened = await Delegate.count().where(convened_where)
    present_rows = (
        await Attendance.select(Attendance.delegate.kind, Count(alias="n"))
        .where((Attendance.sitting == sitting_id) & Attendance.undone_at.is_null())
        .group_by(Attendance.delegate.kind)
    )
    by_kind = {r["delegate.kind"]: r["n"] for r in present_rows}
    present = by_kind.get("official", 0) if base == "official" else sum(by_kind.values())
    # At least numerator/denominator: integers only, never floats.
    required = -(-convened * numerator // denominator)
    return Counts(
        sitting_id=sitting_id,
        present=present,
        present_all=sum(by_kind.values()),
        expected=convened,
        required=required,
        reached=present * denominator >= convened * numerator and convened > 0,
        numerator=numerator,
        denominator=denominator,
    )


def kind_label(kind: str) -> str:
    return DELEGATE_KIND_LABELS[kind]


def delegate_view(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": row["id"],
        "full_name": row["full_name"],
        "delegation": row.get("delegation_name") or "",
        "kind": row["kind"],
        "kind_label": translate(kind_label(row["kind"])),
        "card_number": row["card_number"] or "",
        "photo_url": f"/api/checkin/device/photos/{row['id']}" if row["photo"] else None,
    }


# The scan's hot path is written in plain SQL that SQLite and PostgreSQL both accept:
# building these statements with Piccolo cost more CPU than running them, and a door's
# scans are the busiest writes of the day.
_DELEGATE_COLUMNS = (
    "d.id, d.full_name, d.kind, d.card_number, d.photo, dl.name AS delegation_name"
    " FROM delegate d LEFT JOIN delegation dl ON dl.id = d.delegation"
)
_DELEGATE_BY_ID = f"SELECT {_DELEGATE_COLUMNS} WHERE d.id = {{}} AND d.congress = {{}}"
_DELEGATE_BY_NUMBER = f"SELECT {_DELEGATE_COLUMNS} WHERE d.congress = {{}} AND d.card_number = {{}}"
_DELEGATE_BY_CARD = (
    "SELECT c.status AS card_status, c.congress AS card_congress,"
    " c.delegate AS card_delegate, d.id, d.full_name, d.kind, d.card_number, d.photo,"
    " dl.name AS delegation_name"
    " FROM delegate_card c JOIN delegate d ON d.id = c.delegate"
    " LEFT JOIN delegation dl ON dl.id = d.delegation WHERE c.token_hash = {}"
)
_CARD_PROBLEMS = {"replaced": "card_replaced", "revoked": "card_revoked"}


async def _resolve(
    device: PairedDevice, scan: ScanIn
) -> tuple[str | None, int | None, str, dict[str, Any] | None]:
    """(problem code or None, delegate id, method, the delegate's row when there is no
    problem) for what was scanned or picked."""
    if scan.delegate_id is not None:
        rows = await query(_DELEGATE_BY_ID, scan.delegate_id, device.congress_id)
        if not rows:
            return "other_congress", None, "name", None
        return None, scan.delegate_id, "name", rows[0]
    raw = (scan.code or "").strip()
    match = _CARD_IN_URL.search(raw)
    token = credentials.parse_token(match.group(1) if match else raw)
    if token is None:
        if raw and len(raw) <= 32:
            rows = await query(_DELEGATE_BY_NUMBER, device.congress_id, raw)
            if rows:
                return None, rows[0]["id"], "number", rows[0]
        return "not_a_card", None, "card", None
    rows = await query(_DELEGATE_BY_CARD, credentials.card_hash(token))
    if not rows:
        return "unknown_card", None, "card", None
    card = rows[0]
    # Another congress's card is that and nothing more: its state is not this door's business.
    if card["card_congress"] != device.congress_id:
        return "other_congress", None, "card", None
    if card["card_status"] != "active":
        return (
            _CARD_PROBLEMS.get(card["card_status"], "unknown_card"),
            card["card_delegate"],
            "card",
            None,
        )
    return None, card["card_delegate"], "card", card


class _Known(msgspec.Struct):
    """What a scan needs to know before it takes the write lock: reads only."""

    problem: str | None
    delegate_id: int | None
    method: str
    view: dict[str, Any] | None
    base: str
    expected: int
    zone: ZoneInfo


# The congress's side of a scan in one statement: an answer already given to this nonce,
# whether the sitting is the congress's, its time zone and quorum base, and how many
# delegates are convened (the officials, unless the quorum rule counts everyone).
_SCAN_CONTEXT = (
    "SELECT (SELECT s.answer FROM checkin_scan s WHERE s.device = {} AND s.nonce = {})"
    " AS stored,"
    " (SELECT count(*) FROM sitting t WHERE t.id = {} AND t.congress = c.id) AS sittings,"
    " c.timezone, COALESCE(q.base, 'official') AS base,"
    " (SELECT count(*) FROM delegate d WHERE d.congress = c.id"
    "  AND (d.kind = 'official' OR COALESCE(q.base, 'official') <> 'official')) AS expected"
    " FROM congress c LEFT JOIN quorum_rule q ON q.congress = c.id WHERE c.id = {}"
)
_PRESENT = {
    "official": "SELECT count(*) AS n FROM attendance a JOIN delegate d ON d.id = a.delegate"
    " WHERE a.sitting = {} AND a.undone_at IS NULL AND d.kind = 'official'",
    "all": "SELECT count(*) AS n FROM attendance a WHERE a.sitting = {} AND a.undone_at IS NULL",
}
_FIRST_CHECK_IN = (
    "SELECT a.checked_in_at, a.device_name FROM attendance a"
    " WHERE a.sitting = {} AND a.delegate = {} AND a.undone_at IS NULL"
)
_INSERT_ATTENDANCE = (
    "INSERT INTO attendance (congress, sitting, delegate, device, device_name, method,"
    " checked_in_at, scanned_at, undone_at, undone_by_name, undo_reason)"
    " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, NULL, '', '') ON CONFLICT DO NOTHING RETURNING id"
)
_INSERT_SCAN = (
    "INSERT INTO checkin_scan (congress, device, nonce, sitting, delegate, result, code,"
    " duplicate, scanned_at, received_at, answer)"
    " VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) ON CONFLICT DO NOTHING RETURNING id"
)


async def _present(sitting_id: int, base: str) -> int:
    rows = await query(_PRESENT["official" if base == "official" else "all"], sitting_id)
    return int(rows[0]["n"])


async def _context(device: PairedDevice, scan: ScanIn) -> dict[str, Any]:
    rows = await query(_SCAN_CONTEXT, device.id, scan.nonce, scan.sitting_id, device.congress_id)
    return rows[0] if rows else {"stored": None, "sittings": 0}


async def _prepare(device: PairedDevice, scan: ScanIn, context: dict[str, Any]) -> _Known:
    if not context["sittings"]:
        raise NotFound("sitting_not_found", N_("This sitting does not exist."))
    problem, delegate_id, method, delegate = await _resolve(device, scan)
    view = delegate_view(delegate) if delegate is not None else None
    zone = ZoneInfo(context["timezone"] or "Asia/Ho_Chi_Minh")
    return _Known(
        problem, delegate_id, method, view, context["base"], int(context["expected"]), zone
    )


class _SentTwice(Exception):
    """The same nonce was answered by another request while this one was working."""


async def check_in(device: PairedDevice, scan: ScanIn) -> Answer:
    """Mark the scanned delegate present for the sitting; answer the tablet.

    Everything that only reads happens before the write transaction, so a door's scan holds
    the (SQLite) write lock for a handful of statements only. The scan is recorded last,
    with its answer, in the same transaction: a nonce that another request claimed first
    undoes this one and gets that request's answer.
    """
    if not scan.nonce or len(scan.nonce) > 64:
        raise InvalidInput("bad_nonce", N_("Every scan needs its own nonce."), field="nonce")
    context = await _context(device, scan)
    if context["stored"] is not None:
        return msgspec.json.decode(context["stored"], type=Answer)
    known = await _prepare(device, scan, context)
    actor = Actor(kind="device", id=device.id, name=device.name)
    try:
        async with Change(device.congress_id, actor) as change:
            answer = await _answer(device, scan, known, change)
            claimed = await query(
                _INSERT_SCAN,
                device.congress_id,
                device.id,
                scan.nonce,
                scan.sitting_id,
                known.delegate_id if known.problem is None else None,
                answer.result,
                answer.code,
                answer.code == "already_checked_in",
                scan.scanned_at,
                _now(),
                msgspec.json.encode(answer).decode(),
            )
            if not claimed:
                raise _SentTwice
    except _SentTwice:  # the same nonce, sent twice at once: the first one's answer
        again = await _stored_answer(device, scan.nonce)
        assert again is not None
        return again
    return answer


async def _stored_answer(device: PairedDevice, nonce: str) -> Answer | None:
    rows = await query(
        "SELECT answer FROM checkin_scan WHERE device = {} AND nonce = {}", device.id, nonce
    )
    return msgspec.json.decode(rows[0]["answer"], type=Answer) if rows else None


async def _answer(device: PairedDevice, scan: ScanIn, known: _Known, change: Change) -> Answer:
    if known.problem is not None:
        present = await _present(scan.sitting_id, known.base)
        message = translate(MESSAGES[known.problem])
        return Answer("red", known.problem, message, None, None, None, present, known.expected)
    assert known.delegate_id is not None
    inserted = await query(
        _INSERT_ATTENDANCE,
        device.congress_id,
        scan.sitting_id,
        known.delegate_id,
        device.id,
        device.name,
        known.method,
        _now(),
        scan.scanned_at,
    )
    present = await _present(scan.sitting_id, known.base)
    if inserted:
        await change.record(
            events.DelegateCheckedIn(
                delegate_id=known.delegate_id,
                sitting_id=scan.sitting_id,
                device_id=device.id,
                method=known.method,
                present=present,
            )
        )
        welcome = MESSAGES["checked_in"]
        return Answer(
            "green",
            "checked_in",
            translate(welcome),
            known.view,
            None,
            None,
            present,
            known.expected,
        )
    first = await query(_FIRST_CHECK_IN, scan.sitting_id, known.delegate_id)
    at = first[0]["checked_in_at"].astimezone(known.zone).strftime("%H:%M") if first else ""
    where = first[0]["device_name"] if first else ""
    already = MESSAGES["already_checked_in"]
    message = translate(already, time=at, device=where or "—")
    return Answer(
        "orange", "already_checked_in", message, known.view, at, where, present, known.expected
    )


async def undo_check_in(
    congress_id: int, sitting_id: int, delegate_id: int, reason: str, actor: Actor
) -> None:
    reason = reason.strip()[:300]
    if not reason:
        raise InvalidInput("reason_needed", N_("Say why the check-in is undone."), field="reason")
    async with Change(congress_id, actor) as change:
        undone = (
            await Attendance.update(
                {
                    Attendance.undone_at: _now(),
                    Attendance.undone_by_name: actor.name,
                    Attendance.undo_reason: reason,
                }
            )
            .where(
                (Attendance.congress == congress_id)
                & (Attendance.sitting == sitting_id)
                & (Attendance.delegate == delegate_id)
                & Attendance.undone_at.is_null()
            )
            .returning(Attendance.id)
        )
        if not undone:
            raise NotFound("not_checked_in", N_("This delegate is not checked in to this sitting."))
        totals = await counts(congress_id, sitting_id)
        await change.record(
            events.CheckInUndone(
                delegate_id=delegate_id,
                sitting_id=sitting_id,
                reason=reason,
                present=totals.present,
            )
        )


async def by_delegation(congress_id: int, sitting_id: int) -> list[dict[str, Any]]:
    """Each delegation with its delegates, present or not, for the console and the report."""
    delegates = (
        await Delegate.select(
            Delegate.id,
            Delegate.full_name,
            Delegate.kind,
            Delegate.card_number,
            Delegate.delegation,
            Delegate.delegation.name.as_alias("delegation_name"),
            Delegate.delegation.ordinal.as_alias("delegation_ordinal"),
        )
        .where(Delegate.congress == congress_id)
        .order_by(Delegate.sort_key)
    )
    present = {
        r["delegate"]: r
        for r in await Attendance.select(
            Attendance.delegate,
            Attendance.checked_in_at,
            Attendance.device_name,
            Attendance.method,
        ).where((Attendance.sitting == sitting_id) & Attendance.undone_at.is_null())
    }
    groups: dict[Any, dict[str, Any]] = {}
    for delegate in delegates:
        group = groups.setdefault(
            delegate["delegation"],
            {
                "name": delegate["delegation_name"] or "—",
                "ordinal": delegate["delegation_ordinal"] or 0,
                "present": [],
                "absent": [],
            },
        )
        seen = present.get(delegate["id"])
        group["present" if seen else "absent"].append({**delegate, "attendance": seen})
    # In the congress's own order of delegations, as the lists are read out in the hall.
    return sorted(groups.values(), key=lambda g: (g["ordinal"], g["name"]))


async def present_ids(sitting_id: int, delegate_ids: list[int]) -> set[int]:
    rows = await Attendance.select(Attendance.delegate).where(
        (Attendance.sitting == sitting_id)
        & Attendance.delegate.is_in(delegate_ids or [0])
        & Attendance.undone_at.is_null()
    )
    return {r["delegate"] for r in rows}
