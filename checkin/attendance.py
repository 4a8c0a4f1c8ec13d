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
from piccolo.query.mixins import OnConflictAction

from checkin import credentials, events
from checkin.devices import PairedDevice
from checkin.tables import Attendance, CheckinScan, QuorumRule
from congress.errors import InvalidInput, NotFound
from congress.eventlog import Actor, Change
from congress.i18n import N_, translate
from congress.tables import Congress, Delegate, Sitting
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


class ScanIn(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    nonce: str
    sitting_id: int
    code: str | None = None
    delegate_id: int | None = None
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


async def _delegate(delegate_id: int) -> dict[str, Any] | None:
    return (
        await Delegate.select(
            *Delegate.all_columns(), Delegate.delegation.name.as_alias("delegation_name")
        )
        .where(Delegate.id == delegate_id)
        .first()
    )


async def _resolve(device: PairedDevice, scan: ScanIn) -> tuple[str | None, int | None, str]:
    """(problem code or None, delegate id, method) for what was scanned or picked."""
    if scan.delegate_id is not None:
        found = await Delegate.exists().where(
            (Delegate.id == scan.delegate_id) & (Delegate.congress == device.congress_id)
        )
        return (None, scan.delegate_id, "name") if found else ("other_congress", None, "name")
    raw = (scan.code or "").strip()
    match = _CARD_IN_URL.search(raw)
    token = credentials.parse_token(match.group(1) if match else raw)
    if token is None:
        by_number = (
            await Delegate.select(Delegate.id)
            .where((Delegate.congress == device.congress_id) & (Delegate.card_number == raw))
            .first()
            if raw and len(raw) <= 32
            else None
        )
        if by_number:
            return None, by_number["id"], "number"
        return "not_a_card", None, "card"
    card = await credentials.look_up(token)
    problem = {"unknown": "unknown_card", "replaced": "card_replaced", "revoked": "card_revoked"}
    if card.status in problem:
        return problem[card.status], card.delegate_id, "card"
    if card.congress_id != device.congress_id:
        return "other_congress", None, "card"
    return None, card.delegate_id, "card"


class _Known(msgspec.Struct):
    """What a scan needs to know before it takes the write lock: reads only."""

    problem: str | None
    delegate_id: int | None
    method: str
    view: dict[str, Any] | None
    base: str
    expected: int


async def _present(sitting_id: int, base: str) -> int:
    where: Any = (Attendance.sitting == sitting_id) & Attendance.undone_at.is_null()
    if base == "official":
        where &= Attendance.delegate.kind == "official"
    return await Attendance.count().where(where)


async def _prepare(device: PairedDevice, scan: ScanIn) -> _Known:
    if not await Sitting.exists().where(
        (Sitting.id == scan.sitting_id) & (Sitting.congress == device.congress_id)
    ):
        raise NotFound("sitting_not_found", N_("This sitting does not exist."))
    problem, delegate_id, method = await _resolve(device, scan)
    view = None
    if problem is None and delegate_id is not None:
        delegate = await _delegate(delegate_id)
        view = delegate_view(delegate) if delegate else None
    _, _, base = await quorum_rule(device.congress_id)
    convened: Any = Delegate.congress == device.congress_id
    if base == "official":
        convened &= Delegate.kind == "official"
    return _Known(problem, delegate_id, method, view, base, await Delegate.count().where(convened))


async def check_in(device: PairedDevice, scan: ScanIn) -> Answer:
    """Mark the scanned delegate present for the sitting; answer the tablet.

    Everything that only reads happens before the write transaction, so a door's scan holds
    the (SQLite) write lock for a handful of statements only.
    """
    if not scan.nonce or len(scan.nonce) > 64:
        raise InvalidInput("bad_nonce", N_("Every scan needs its own nonce."), field="nonce")
    stored = await _stored_answer(device, scan.nonce)
    if stored is not None:
        return stored
    known = await _prepare(device, scan)
    zone = await _zone(device.congress_id)
    actor = Actor(kind="device", id=device.id, name=device.name)
    async with Change(device.congress_id, actor) as change:
        claimed = (
            await CheckinScan.insert(
                CheckinScan(
                    congress=device.congress_id,
                    device=device.id,
                    nonce=scan.nonce,
                    sitting=scan.sitting_id,
                    result="",
                    code="",
                    scanned_at=scan.scanned_at,
                    received_at=_now(),
                )
            )
            .on_conflict(action=OnConflictAction.do_nothing)
            .returning(CheckinScan.id)
        )
        if claimed:
            answer = await _answer(device, scan, known, zone, change)
            await CheckinScan.update(
                {
                    CheckinScan.delegate: known.delegate_id if known.problem is None else None,
                    CheckinScan.result: answer.result,
                    CheckinScan.code: answer.code,
                    CheckinScan.duplicate: answer.code == "already_checked_in",
                    CheckinScan.answer: msgspec.json.encode(answer).decode(),
                }
            ).where(CheckinScan.id == claimed[0]["id"])
    if not claimed:  # the same nonce, sent twice at once: the first one's answer
        again = await _stored_answer(device, scan.nonce)
        assert again is not None
        return again
    return answer


async def _stored_answer(device: PairedDevice, nonce: str) -> Answer | None:
    row = (
        await CheckinScan.select(CheckinScan.answer)
        .where((CheckinScan.device == device.id) & (CheckinScan.nonce == nonce))
        .first()
    )
    return msgspec.json.decode(row["answer"], type=Answer) if row else None


async def _answer(
    device: PairedDevice, scan: ScanIn, known: _Known, zone: ZoneInfo, change: Change
) -> Answer:
    if known.problem is not None:
        present = await _present(scan.sitting_id, known.base)
        message = translate(MESSAGES[known.problem])
        return Answer("red", known.problem, message, None, None, None, present, known.expected)
    assert known.delegate_id is not None
    inserted = (
        await Attendance.insert(
            Attendance(
                congress=device.congress_id,
                sitting=scan.sitting_id,
                delegate=known.delegate_id,
                device=device.id,
                device_name=device.name,
                method=known.method,
                checked_in_at=_now(),
                scanned_at=scan.scanned_at,
            )
        )
        .on_conflict(action=OnConflictAction.do_nothing)
        .returning(Attendance.id)
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
    first = (
        await Attendance.select(Attendance.checked_in_at, Attendance.device_name)
        .where(
            (Attendance.sitting == scan.sitting_id)
            & (Attendance.delegate == known.delegate_id)
            & Attendance.undone_at.is_null()
        )
        .first()
    )
    at = first["checked_in_at"].astimezone(zone).strftime("%H:%M") if first else ""
    where = first["device_name"] if first else ""
    already = MESSAGES["already_checked_in"]
    message = translate(already, time=at, device=where or "—")
    return Answer(
        "orange", "already_checked_in", message, known.view, at, where, present, known.expected
    )


async def _zone(congress_id: int) -> ZoneInfo:
    row = await Congress.select(Congress.timezone).where(Congress.id == congress_id).first()
    return ZoneInfo(row["timezone"] if row else "Asia/Ho_Chi_Minh")


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
