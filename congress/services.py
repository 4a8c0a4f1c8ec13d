"""State changes of congresses, sittings and agendas: one function each, one transaction each."""

from __future__ import annotations

import datetime
from typing import Any
from zoneinfo import ZoneInfo

import msgspec

from congress import events
from congress.errors import InvalidInput, NotFound
from congress.eventlog import SYSTEM, Actor, Change
from congress.i18n import N_
from congress.schemas import AgendaItemIn, CongressIn, SittingIn
from congress.tables import AgendaItem, Congress, Sitting
from congress.text import clean


def congress_title(row: dict[str, Any]) -> str:
    """ "Đại hội Công đoàn tỉnh Hà Tĩnh lần thứ XIX"; a meeting has no number."""
    if row.get("number"):
        return f"{row['name']} lần thứ {row['number']}"
    return str(row["name"])


def _cleaned(data: msgspec.Struct) -> dict[str, Any]:
    values = msgspec.structs.asdict(data)
    return {k: clean(v) if isinstance(v, str) else v for k, v in values.items()}


def _check_dates(starts_on: datetime.date | None, ends_on: datetime.date | None) -> None:
    if starts_on and ends_on and ends_on < starts_on:
        raise InvalidInput(
            "dates_reversed",
            N_("The congress cannot end before it starts."),
            field="ends_on",
        )


def _changed(row: dict[str, Any], values: dict[str, Any]) -> list[str]:
    return [key for key, value in values.items() if row.get(key) != value]


async def get_congress(congress_id: int) -> dict[str, Any]:
    row = await Congress.select().where(Congress.id == congress_id).first()
    if row is None:
        raise NotFound("congress_not_found", N_("This congress does not exist."))
    return row


async def titled_congress(congress_id: int) -> dict[str, Any]:
    """The congress with its display title, as every page shows it."""
    congress = await get_congress(congress_id)
    congress["title"] = congress_title(congress)
    return congress


async def list_congresses() -> list[dict[str, Any]]:
    return await Congress.select().order_by(Congress.starts_on, ascending=False)


async def create_congress(data: CongressIn, actor: Actor = SYSTEM) -> int:
    values = _cleaned(data)
    values["number"] = values["number"].upper()
    _check_dates(data.starts_on, data.ends_on)
    # The congress must exist before its first event can be numbered, so the row is
    # written first, in the same transaction.
    async with Change(None, actor) as change:
        rows = await Congress.insert(
            Congress(**values, created_at=datetime.datetime.now(datetime.UTC))
        ).returning(Congress.id)
        congress_id = int(rows[0]["id"])
        change.congress_id = congress_id
        await change.record(events.CongressCreated(congress_id=congress_id))
    return congress_id


async def update_congress(congress_id: int, data: CongressIn, actor: Actor) -> list[str]:
    values = _cleaned(data)
    values["number"] = values["number"].upper()
    _check_dates(data.starts_on, data.ends_on)
    async with Change(congress_id, actor) as change:
        row = await get_congress(congress_id)
        fields = _changed(row, values)
        if fields:
            await Congress.update({getattr(Congress, k): values[k] for k in fields}).where(
                Congress.id == congress_id
            )
            await change.record(events.CongressUpdated(congress_id=congress_id, fields=fields))
    return fields


async def sittings_of(congress_id: int) -> list[dict[str, Any]]:
    """The sittings in order, each with its agenda in order."""
    sittings = await (
        Sitting.select().where(Sitting.congress == congress_id).order_by(Sitting.ordinal)
    )
    items = await (
        AgendaItem.select().where(AgendaItem.congress == congress_id).order_by(AgendaItem.ordinal)
    )
    by_sitting: dict[int, list[dict[str, Any]]] = {s["id"]: [] for s in sittings}
    for item in items:
        by_sitting[item["sitting"]].append(item)
    for sitting in sittings:
        sitting["agenda"] = by_sitting[sitting["id"]]
    return sittings


def today_sitting(sittings: list[dict[str, Any]], zone: ZoneInfo) -> dict[str, Any] | None:
    """Today's sitting; before the congress the first one, after it the last one."""
    today = datetime.datetime.now(zone).date()
    dated = [s for s in sittings if s["starts_at"]]
    if not dated:
        return sittings[0] if sittings else None
    for sitting in dated:
        if sitting["starts_at"].astimezone(zone).date() == today:
            return sitting
    upcoming = [s for s in dated if s["starts_at"].astimezone(zone).date() > today]
    if upcoming:
        return upcoming[0]
    return sittings[-1] if sittings else None


async def current_sitting(congress_id: int, wanted: int | None = None) -> dict[str, Any]:
    """The sitting asked for, else today's: what tablets and the attendance page show."""
    sittings = await sittings_of(congress_id)
    if not sittings:
        raise NotFound("sitting_not_found", N_("This congress has no sitting yet."))
    for sitting in sittings:
        if sitting["id"] == wanted:
            return sitting
    congress = await get_congress(congress_id)
    return today_sitting(sittings, ZoneInfo(congress["timezone"])) or sittings[0]


async def _sitting(congress_id: int, sitting_id: int) -> dict[str, Any]:
    row = await (
        Sitting.select()
        .where((Sitting.id == sitting_id) & (Sitting.congress == congress_id))
        .first()
    )
    if row is None:
        raise NotFound("sitting_not_found", N_("This sitting does not exist."))
    return row


async def _agenda_item(congress_id: int, item_id: int) -> dict[str, Any]:
    row = await (
        AgendaItem.select()
        .where((AgendaItem.id == item_id) & (AgendaItem.congress == congress_id))
        .first()
    )
    if row is None:
        raise NotFound("agenda_item_not_found", N_("This agenda item does not exist."))
    return row


async def _next_ordinal(table: type[Sitting] | type[AgendaItem], *where: Any) -> int:
    query = table.select(table.ordinal).order_by(table.ordinal, ascending=False).limit(1)
    for condition in where:
        query = query.where(condition)
    rows = await query
    return int(rows[0]["ordinal"]) + 1 if rows else 1


def _localized(values: dict[str, Any], congress: dict[str, Any]) -> dict[str, Any]:
    """A time typed without a zone is the congress's local time."""
    starts_at = values.get("starts_at")
    if starts_at is not None and starts_at.tzinfo is None:
        values["starts_at"] = starts_at.replace(tzinfo=ZoneInfo(congress["timezone"]))
    return values


async def add_sitting(congress_id: int, data: SittingIn, actor: Actor) -> int:
    async with Change(congress_id, actor) as change:
        values = _localized(_cleaned(data), await get_congress(congress_id))
        ordinal = await _next_ordinal(Sitting, Sitting.congress == congress_id)
        rows = await Sitting.insert(
            Sitting(congress=congress_id, ordinal=ordinal, **values)
        ).returning(Sitting.id)
        sitting_id = int(rows[0]["id"])
        await change.record(events.SittingAdded(sitting_id=sitting_id))
    return sitting_id


async def update_sitting(
    congress_id: int, sitting_id: int, data: SittingIn, actor: Actor
) -> list[str]:
    async with Change(congress_id, actor) as change:
        values = _localized(_cleaned(data), await get_congress(congress_id))
        row = await _sitting(congress_id, sitting_id)
        fields = _changed(row, values)
        if fields:
            await Sitting.update({getattr(Sitting, k): values[k] for k in fields}).where(
                Sitting.id == sitting_id
            )
            await change.record(events.SittingUpdated(sitting_id=sitting_id, fields=fields))
    return fields


async def remove_sitting(congress_id: int, sitting_id: int, actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        await _sitting(congress_id, sitting_id)
        await Sitting.delete().where(Sitting.id == sitting_id)
        await change.record(events.SittingRemoved(sitting_id=sitting_id))


def _check_permutation(given: list[int], existing: list[int]) -> None:
    if sorted(given) != sorted(existing):
        raise InvalidInput(
            "order_mismatch",
            N_("The new order must list every item exactly once."),
            field="ids",
        )


async def reorder_sittings(congress_id: int, ids: list[int], actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        await get_congress(congress_id)
        existing = await Sitting.select(Sitting.id).where(Sitting.congress == congress_id)
        _check_permutation(ids, [r["id"] for r in existing])
        for ordinal, sitting_id in enumerate(ids, start=1):
            await Sitting.update({Sitting.ordinal: ordinal}).where(Sitting.id == sitting_id)
        await change.record(events.SittingsReordered(sitting_ids=ids))


async def add_agenda_item(
    congress_id: int, sitting_id: int, data: AgendaItemIn, actor: Actor
) -> int:
    values = _cleaned(data)
    async with Change(congress_id, actor) as change:
        await _sitting(congress_id, sitting_id)
        ordinal = await _next_ordinal(AgendaItem, AgendaItem.sitting == sitting_id)
        rows = await AgendaItem.insert(
            AgendaItem(congress=congress_id, sitting=sitting_id, ordinal=ordinal, **values)
        ).returning(AgendaItem.id)
        item_id = int(rows[0]["id"])
        await change.record(events.AgendaItemAdded(agenda_item_id=item_id, sitting_id=sitting_id))
    return item_id


async def update_agenda_item(
    congress_id: int, item_id: int, data: AgendaItemIn, actor: Actor
) -> list[str]:
    values = _cleaned(data)
    async with Change(congress_id, actor) as change:
        row = await _agenda_item(congress_id, item_id)
        fields = _changed(row, values)
        if fields:
            await AgendaItem.update({getattr(AgendaItem, k): values[k] for k in fields}).where(
                AgendaItem.id == item_id
            )
            await change.record(
                events.AgendaItemUpdated(
                    agenda_item_id=item_id, sitting_id=row["sitting"], fields=fields
                )
            )
    return fields


async def remove_agenda_item(congress_id: int, item_id: int, actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        row = await _agenda_item(congress_id, item_id)
        await AgendaItem.delete().where(AgendaItem.id == item_id)
        await change.record(
            events.AgendaItemRemoved(agenda_item_id=item_id, sitting_id=row["sitting"])
        )


async def reorder_agenda(congress_id: int, sitting_id: int, ids: list[int], actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        await _sitting(congress_id, sitting_id)
        existing = await AgendaItem.select(AgendaItem.id).where(AgendaItem.sitting == sitting_id)
        _check_permutation(ids, [r["id"] for r in existing])
        for ordinal, item_id in enumerate(ids, start=1):
            await AgendaItem.update({AgendaItem.ordinal: ordinal}).where(AgendaItem.id == item_id)
        await change.record(events.AgendaReordered(sitting_id=sitting_id, agenda_item_ids=ids))


def moved(ids: list[int], item_id: int, step: int) -> list[int]:
    """The order after moving one item up (-1) or down (+1); the console's arrows use it."""
    if item_id not in ids:
        raise NotFound("item_not_found", N_("This item does not exist."))
    index = ids.index(item_id)
    target = min(max(index + step, 0), len(ids) - 1)
    reordered = [i for i in ids if i != item_id]
    reordered.insert(target, item_id)
    return reordered
