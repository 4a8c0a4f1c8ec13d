"""Delegations and delegates: search, editing, and the all-or-nothing spreadsheet import."""

from __future__ import annotations

import datetime
import hashlib
import re
import secrets
from collections import Counter
from typing import Any

import msgspec
from piccolo.query.functions.aggregate import Count

from congress import events
from congress.delegate_sheet import DelegateSheet, Problem, SheetRow, read_delegate_sheet
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.errors import Conflict, InvalidInput, NotFound
from congress.eventlog import Actor, Change
from congress.i18n import N_
from congress.services import get_congress
from congress.tables import Delegate, DelegateImport, Delegation
from congress.text import clean, fold, name_sort_key, search_form

MAX_IMPORT_BYTES = 10 * 1024 * 1024
INSERT_CHUNK = 400  # rows a statement; stays under SQLite's bound-parameter limit
DELEGATE_FIELDS = (
    "full_name",
    "unit",
    "position",
    "kind",
    "gender",
    "birth_year",
    "card_number",
    "photo",
    "delegation",
)
_WORD = re.compile(r"[\w]+")


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


# --- delegations -------------------------------------------------------------------------


async def delegations_with_counts(congress_id: int) -> list[dict[str, Any]]:
    delegations = await (
        Delegation.select()
        .where(Delegation.congress == congress_id)
        .order_by(Delegation.ordinal)
        .order_by(Delegation.name)
    )
    counts = await (
        Delegate.select(Delegate.delegation, Delegate.kind, Count(alias="n"))
        .where(Delegate.congress == congress_id)
        .group_by(Delegate.delegation, Delegate.kind)
    )
    per: dict[int | None, Counter[str]] = {}
    for row in counts:
        per.setdefault(row["delegation"], Counter())[row["kind"]] += row["n"]
    for delegation in delegations:
        kinds = per.get(delegation["id"], Counter())
        delegation.update(
            delegates=sum(kinds.values()),
            official=kinds["official"],
            invited=kinds["invited"],
            guest=kinds["guest"],
        )
    return delegations


async def _delegation(congress_id: int, delegation_id: int) -> dict[str, Any]:
    row = await (
        Delegation.select()
        .where((Delegation.id == delegation_id) & (Delegation.congress == congress_id))
        .first()
    )
    if row is None:
        raise NotFound("delegation_not_found", N_("This delegation does not exist."))
    return row


async def _check_code_free(congress_id: int, code: str, except_id: int | None = None) -> None:
    query = Delegation.select(Delegation.id).where(
        (Delegation.congress == congress_id) & (Delegation.code == code)
    )
    clash = [r for r in await query if r["id"] != except_id]
    if clash:
        raise Conflict(
            "delegation_code_taken",
            N_("Another delegation already has the code {delegation_code}."),
            delegation_code=code,
        )


async def _insert_delegation(congress_id: int, code: str, name: str, change: Change) -> int:
    ordinal = await Delegation.count().where(Delegation.congress == congress_id) + 1
    rows = await Delegation.insert(
        Delegation(
            congress=congress_id,
            code=code,
            name=name,
            search_name=fold(name),
            ordinal=ordinal,
        )
    ).returning(Delegation.id)
    delegation_id = int(rows[0]["id"])
    await change.record(events.DelegationAdded(delegation_id=delegation_id))
    return delegation_id


async def add_delegation(congress_id: int, data: DelegationIn, actor: Actor) -> int:
    code, name = clean(data.code).upper(), clean(data.name)
    async with Change(congress_id, actor) as change:
        await get_congress(congress_id)
        await _check_code_free(congress_id, code)
        return await _insert_delegation(congress_id, code, name, change)


async def update_delegation(
    congress_id: int, delegation_id: int, data: DelegationIn, actor: Actor
) -> list[str]:
    values = {"code": clean(data.code).upper(), "name": clean(data.name)}
    async with Change(congress_id, actor) as change:
        row = await _delegation(congress_id, delegation_id)
        await _check_code_free(congress_id, values["code"], except_id=delegation_id)
        fields = [k for k, v in values.items() if row[k] != v]
        if fields:
            await Delegation.update(
                {
                    Delegation.code: values["code"],
                    Delegation.name: values["name"],
                    Delegation.search_name: fold(values["name"]),
                }
            ).where(Delegation.id == delegation_id)
            await change.record(
                events.DelegationUpdated(delegation_id=delegation_id, fields=fields)
            )
    return fields


# --- delegates ---------------------------------------------------------------------------


def _search_words(query: str) -> list[str]:
    return _WORD.findall(fold(query))


async def search_delegates(
    congress_id: int,
    query: str = "",
    *,
    delegation_id: int | None = None,
    kind: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[dict[str, Any]]]:
    """Delegates whose name has words starting with every word of the query, diacritics
    or not ("nguyen thi hanh", "Đức"), or whose card number is the query."""
    condition: Any = Delegate.congress == congress_id
    words = _search_words(query)
    if words:
        by_name: Any = Delegate.search_name.like(f"% {words[0]}%")
        for word in words[1:]:
            by_name &= Delegate.search_name.like(f"% {word}%")
        condition &= by_name | (Delegate.card_number == query.strip())
    if delegation_id is not None:
        condition &= Delegate.delegation == delegation_id
    if kind:
        condition &= Delegate.kind == kind
    total = await Delegate.count().where(condition)
    rows = await (
        Delegate.select(
            *Delegate.all_columns(), Delegate.delegation.name.as_alias("delegation_name")
        )
        .where(condition)
        .order_by(Delegate.sort_key)
        .limit(limit)
        .offset(offset)
    )
    return total, rows


async def get_delegate(congress_id: int, delegate_id: int) -> dict[str, Any]:
    row = await (
        Delegate.select(
            *Delegate.all_columns(), Delegate.delegation.name.as_alias("delegation_name")
        )
        .where((Delegate.id == delegate_id) & (Delegate.congress == congress_id))
        .first()
    )
    if row is None:
        raise NotFound("delegate_not_found", N_("This delegate does not exist."))
    return row


async def _delegate_values(congress_id: int, data: DelegateIn) -> dict[str, Any]:
    if data.delegation_id is not None:
        await _delegation(congress_id, data.delegation_id)
    full_name = clean(data.full_name)
    return {
        "full_name": full_name,
        "unit": clean(data.unit),
        "position": clean(data.position),
        "kind": data.kind,
        "gender": data.gender,
        "birth_year": data.birth_year,
        "card_number": clean(data.card_number) if data.card_number else None,
        "photo": clean(data.photo),
        "delegation": data.delegation_id,
    }


async def _check_card_free(
    congress_id: int, card_number: str | None, except_id: int | None = None
) -> None:
    if not card_number:
        return
    rows = await Delegate.select(Delegate.id).where(
        (Delegate.congress == congress_id) & (Delegate.card_number == card_number)
    )
    if any(r["id"] != except_id for r in rows):
        raise Conflict(
            "card_number_taken",
            N_("Another delegate already has card number {card_number}."),
            card_number=card_number,
        )


async def add_delegate(congress_id: int, data: DelegateIn, actor: Actor) -> int:
    async with Change(congress_id, actor) as change:
        await get_congress(congress_id)
        values = await _delegate_values(congress_id, data)
        await _check_card_free(congress_id, values["card_number"])
        now = _now()
        rows = await Delegate.insert(
            Delegate(
                congress=congress_id,
                search_name=search_form(values["full_name"]),
                sort_key=name_sort_key(values["full_name"]),
                created_at=now,
                updated_at=now,
                **values,
            )
        ).returning(Delegate.id)
        delegate_id = int(rows[0]["id"])
        await change.record(events.DelegateAdded(delegate_id=delegate_id))
    return delegate_id


async def update_delegate(
    congress_id: int, delegate_id: int, data: DelegateIn, actor: Actor
) -> list[str]:
    async with Change(congress_id, actor) as change:
        row = await get_delegate(congress_id, delegate_id)
        values = await _delegate_values(congress_id, data)
        await _check_card_free(congress_id, values["card_number"], except_id=delegate_id)
        fields = [k for k, v in values.items() if row[k] != v]
        if fields:
            await Delegate.update(
                {
                    **{getattr(Delegate, k): values[k] for k in fields},
                    Delegate.search_name: search_form(values["full_name"]),
                    Delegate.sort_key: name_sort_key(values["full_name"]),
                    Delegate.updated_at: _now(),
                }
            ).where(Delegate.id == delegate_id)
            await change.record(events.DelegateUpdated(delegate_id=delegate_id, fields=fields))
    return fields


# --- import ------------------------------------------------------------------------------


class PreviewRow(msgspec.Struct):
    row: SheetRow
    action: str  # create | update | unchanged | error
    problems: list[Problem]
    delegate_id: int | None = None
    values: dict[str, Any] = {}


class ImportPreview(msgspec.Struct):
    import_id: int
    token: str
    filename: str
    sheet: DelegateSheet
    rows: list[PreviewRow]
    unknown_delegations: list[str]
    applied: bool

    @property
    def counts(self) -> dict[str, int]:
        counted = Counter(r.action for r in self.rows)
        return {a: counted[a] for a in ("create", "update", "unchanged", "error")}

    @property
    def can_apply(self) -> bool:
        return not self.sheet.problems and self.counts["error"] == 0 and bool(self.rows)


async def stage_import(congress_id: int, filename: str, content: bytes, actor: Actor) -> str:
    """Keep the uploaded file until it is previewed and applied; returns its token."""
    await get_congress(congress_id)
    if len(content) > MAX_IMPORT_BYTES:
        raise InvalidInput(
            "file_too_large",
            N_("The file is larger than {mb} MB."),
            field="file",
            mb=MAX_IMPORT_BYTES // 1024 // 1024,
        )
    if not content:
        raise InvalidInput("empty_file", N_("The file is empty."), field="file")
    token = secrets.token_urlsafe(16)
    await DelegateImport.insert(
        DelegateImport(
            congress=congress_id,
            token=token,
            filename=clean(filename)[:255],
            content=content,
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=actor.id if actor.kind == "account" else None,
            uploaded_at=_now(),
        )
    )
    return token


async def _staged(congress_id: int, token: str) -> dict[str, Any]:
    row = await (
        DelegateImport.select()
        .where((DelegateImport.congress == congress_id) & (DelegateImport.token == token))
        .first()
    )
    if row is None:
        raise NotFound("import_not_found", N_("This import does not exist or has expired."))
    return row


def _identity(name: str, delegation: int | str | None, birth_year: int | None) -> tuple[Any, ...]:
    return (fold(name), delegation, birth_year)


def _delegation_lookup(delegations: list[dict[str, Any]]) -> dict[str, int]:
    lookup: dict[str, int] = {}
    for d in delegations:
        lookup[fold(d["code"])] = d["id"]
        lookup[fold(d["name"])] = d["id"]
    return lookup


def _row_values(row: SheetRow, delegation_id: int | None) -> dict[str, Any]:
    return {
        "full_name": row.full_name,
        "unit": row.unit,
        "position": row.position,
        "kind": row.kind,
        "gender": row.gender or "",
        "birth_year": row.birth_year,
        "card_number": row.card_number,
        "photo": row.photo or "",
        "delegation": delegation_id,
    }


async def _plan(
    congress_id: int, sheet: DelegateSheet, create_delegations: bool
) -> tuple[list[PreviewRow], list[str]]:
    lookup = _delegation_lookup(await Delegation.select().where(Delegation.congress == congress_id))
    existing = await Delegate.select(
        Delegate.id, *(getattr(Delegate, f) for f in DELEGATE_FIELDS)
    ).where(Delegate.congress == congress_id)
    by_card = {fold(d["card_number"]): d for d in existing if d["card_number"]}
    by_identity = {_identity(d["full_name"], d["delegation"], d["birth_year"]): d for d in existing}
    unknown = sorted(
        {r.delegation for r in sheet.rows if r.delegation and fold(r.delegation) not in lookup}
    )
    seen_identities: Counter[tuple[Any, ...]] = Counter()
    planned = []
    for row in sheet.rows:
        problems = list(row.problems)
        delegation_id = lookup.get(fold(row.delegation)) if row.delegation else None
        if row.delegation and delegation_id is None and not create_delegations:
            problems.append(Problem("unknown_delegation", "delegation", row.delegation))
        values = _row_values(row, delegation_id)
        identity = _identity(row.full_name, delegation_id or row.delegation, row.birth_year)
        if not row.card_number:
            seen_identities[identity] += 1
            if seen_identities[identity] == 2:
                problems.append(Problem("duplicate_row", None, row.full_name))
        match = by_card.get(fold(row.card_number)) if row.card_number else None
        if match is None and (delegation_id is not None or not row.delegation):
            match = by_identity.get(identity)
            if match and match["card_number"] and not row.card_number:
                values["card_number"] = match["card_number"]
        if problems:
            action = "error"
        elif match is None:
            action = "create"
        elif any(match[k] != v for k, v in values.items()):
            action = "update"
        else:
            action = "unchanged"
        planned.append(
            PreviewRow(
                row=row,
                action=action,
                problems=problems,
                delegate_id=match["id"] if match else None,
                values=values,
            )
        )
    return planned, unknown


async def preview_import(
    congress_id: int, token: str, create_delegations: bool = False
) -> ImportPreview:
    staged = await _staged(congress_id, token)
    sheet = read_delegate_sheet(bytes(staged["content"]))
    rows, unknown = await _plan(congress_id, sheet, create_delegations)
    return ImportPreview(
        import_id=staged["id"],
        token=token,
        filename=staged["filename"],
        sheet=sheet,
        rows=rows,
        unknown_delegations=unknown,
        applied=staged["applied_at"] is not None,
    )


def _new_code(name: str, taken: set[str]) -> str:
    initials = "".join(word[0] for word in fold(name).split() if word[0].isalnum()).upper()
    base = (initials or "D")[:12]
    code, n = base, 1
    while code in taken:
        n += 1
        code = f"{base}{n}"
    taken.add(code)
    return code


async def _create_delegations(congress_id: int, names: list[str], change: Change) -> dict[str, int]:
    taken = {
        r["code"]
        for r in await Delegation.select(Delegation.code).where(Delegation.congress == congress_id)
    }
    created = {}
    for name in names:
        code = _new_code(name, taken)
        created[fold(name)] = await _insert_delegation(congress_id, code, name, change)
    return created


async def apply_import(
    congress_id: int, token: str, create_delegations: bool, actor: Actor
) -> events.DelegatesImported:
    """Write every row of the file, or none: a file with any problem is refused whole."""
    async with Change(congress_id, actor) as change:
        preview = await preview_import(congress_id, token, create_delegations)
        if not preview.can_apply:
            raise InvalidInput(
                "import_has_errors",
                N_("The file has problems; fix them and upload it again. Nothing was imported."),
                field="file",
            )
        created_delegations = await _create_delegations(
            congress_id, preview.unknown_delegations, change
        )
        now = _now()
        new_rows = []
        updated = 0
        for planned in preview.rows:
            values = dict(planned.values)
            if values["delegation"] is None and planned.row.delegation:
                values["delegation"] = created_delegations[fold(planned.row.delegation)]
            derived: dict[str, Any] = {
                "search_name": search_form(values["full_name"]),
                "sort_key": name_sort_key(values["full_name"]),
            }
            if planned.action == "create":
                new_rows.append(
                    Delegate(
                        congress=congress_id, created_at=now, updated_at=now, **values, **derived
                    )
                )
            elif planned.action == "update":
                updated += 1
                await Delegate.update(
                    {
                        **{getattr(Delegate, k): v for k, v in values.items()},
                        **{getattr(Delegate, k): v for k, v in derived.items()},
                        Delegate.updated_at: now,
                    }
                ).where(Delegate.id == planned.delegate_id)
        for start in range(0, len(new_rows), INSERT_CHUNK):
            await Delegate.insert(*new_rows[start : start + INSERT_CHUNK])
        await DelegateImport.update(
            {DelegateImport.applied_at: now, DelegateImport.summary: preview.counts}
        ).where(DelegateImport.id == preview.import_id)
        event = events.DelegatesImported(
            import_id=preview.import_id,
            created=len(new_rows),
            updated=updated,
            unchanged=preview.counts["unchanged"],
            delegations_created=len(created_delegations),
        )
        await change.record(event)
    return event
