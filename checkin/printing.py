"""Printing delegate cards: issue the tokens, render the PDF, hand it over once.

Printing is issuing: the QR codes carry tokens that exist nowhere but in the PDF, so a
printed batch can be downloaded once and is then deleted. A batch of many cards renders in
the background (other processes do the work) and reports its progress; one card — a lost
card reissued at the desk — renders at once.
"""

from __future__ import annotations

import asyncio
import datetime
import logging
import os
import secrets
import tempfile
import threading
from pathlib import Path
from typing import Any

from checkin import credentials
from checkin.cards import Card, CardCongress, render_cards
from checkin.tables import CardAsset, CardPrintJob
from congress import services as congress_services
from congress.errors import InvalidInput, NotFound
from congress.eventlog import Actor
from congress.i18n import N_
from congress.settings import get_settings
from congress.tables import Delegate
from documents.storage import file_store

log = logging.getLogger(__name__)
BACKGROUND_FROM = 40  # cards; fewer render while the organizer waits
_tasks: set[asyncio.Task[None]] = set()


def _dates(congress: dict[str, Any]) -> str:
    start, end = congress["starts_on"], congress["ends_on"]
    if not start:
        return ""
    if not end or end == start:
        return start.strftime("%d/%m/%Y")
    if (start.year, start.month) == (end.year, end.month):
        return f"{start.day:02d}–{end.strftime('%d/%m/%Y')}"
    return f"{start.strftime('%d/%m/%Y')}–{end.strftime('%d/%m/%Y')}"


def _read(sha256: str) -> bytes:
    with file_store().open(sha256) as stream:
        return stream.read()


async def card_congress(congress_id: int) -> CardCongress:
    congress = await congress_services.get_congress(congress_id)
    logo = (
        await CardAsset.select(CardAsset.sha256)
        .where((CardAsset.congress == congress_id) & (CardAsset.kind == "logo"))
        .first()
    )
    return CardCongress(
        title=congress["name"],
        number=congress["number"],
        term=congress["term"],
        organizing_union=congress["organizing_union"],
        dates=_dates(congress),
        logo=await asyncio.to_thread(_read, logo["sha256"]) if logo else None,
    )


async def _cards(congress_id: int, tokens: dict[int, str]) -> list[Card]:
    rows = (
        await Delegate.select(
            Delegate.id,
            Delegate.full_name,
            Delegate.position,
            Delegate.kind,
            Delegate.card_number,
            Delegate.photo,
            Delegate.delegation.name.as_alias("delegation_name"),
        )
        .where(Delegate.id.is_in(list(tokens) or [0]))
        .order_by(Delegate.card_number)
        .order_by(Delegate.sort_key)
    )
    photos = {
        r["name"]: r["sha256"]
        for r in await CardAsset.select(CardAsset.name, CardAsset.sha256).where(
            (CardAsset.congress == congress_id) & (CardAsset.kind == "photo")
        )
    }

    def build() -> list[Card]:
        return [
            Card(
                full_name=row["full_name"],
                delegation=row["delegation_name"] or "",
                position=row["position"],
                kind=row["kind"],
                card_number=row["card_number"] or "",
                photo=_read(photos[row["photo"]]) if row["photo"] in photos else None,
                url=credentials.card_address(tokens[row["id"]]),
            )
            for row in rows
        ]

    return await asyncio.to_thread(build)


async def delegates_in_scope(
    congress_id: int, scope: str, delegation_id: int | None = None
) -> list[int]:
    """Who a batch is for: everyone, one delegation, or those who have no card yet."""
    condition: Any = Delegate.congress == congress_id
    if scope == "delegation":
        if delegation_id is None:
            raise InvalidInput("no_delegation", N_("Choose a delegation."), field="delegation")
        condition &= Delegate.delegation == delegation_id
    ids = [r["id"] for r in await Delegate.select(Delegate.id).where(condition)]
    if scope == "without_card":
        holding = {
            d
            for d, card in (await credentials.card_states(congress_id)).items()
            if card["status"] == "active"
        }
        ids = [i for i in ids if i not in holding]
    return ids


async def print_now(
    congress_id: int, delegate_ids: list[int], layout: str, actor: Actor, *, replace: bool
) -> bytes:
    """Issue and render a few cards while the organizer waits."""
    tokens = await credentials.issue_cards(congress_id, delegate_ids, actor, replace=replace)
    if not tokens:
        raise InvalidInput(
            "nothing_to_print", N_("Every delegate chosen already has a card."), field="scope"
        )
    congress = await card_congress(congress_id)
    cards = await _cards(congress_id, tokens)
    return await asyncio.to_thread(render_cards, congress, cards, layout, workers=1)


def _job_path(token: str) -> Path:
    return get_settings().var_dir / "cards" / f"{token}.pdf"


def _write_whole(path: Path, content: bytes) -> None:
    """The PDF whole under its name, or nothing: a full disk leaves no half file behind."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".print-", delete=False) as out:
        try:
            os.chmod(out.name, 0o600)  # cards carry the delegates' tokens
            out.write(content)
            out.flush()
        except BaseException:
            out.close()
            os.unlink(out.name)
            raise
    try:
        os.replace(out.name, path)
    except BaseException:
        os.unlink(out.name)
        raise


async def start_print_job(
    congress_id: int,
    delegate_ids: list[int],
    layout: str,
    actor: Actor,
    *,
    replace: bool,
    scope_label: str,
) -> str:
    """Issue the cards now and render them in the background; returns the job's token."""
    tokens = await credentials.issue_cards(congress_id, delegate_ids, actor, replace=replace)
    if not tokens:
        raise InvalidInput(
            "nothing_to_print", N_("Every delegate chosen already has a card."), field="scope"
        )
    congress = await card_congress(congress_id)
    cards = await _cards(congress_id, tokens)
    job = secrets.token_urlsafe(12)
    await CardPrintJob.insert(
        CardPrintJob(
            congress=congress_id,
            token=job,
            layout=layout,
            scope=scope_label[:120],
            status="running",
            total=len(cards),
            requested_by=actor.id if actor.kind == "account" else None,
            created_at=datetime.datetime.now(datetime.UTC),
        )
    )
    task = asyncio.create_task(_render_job(job, congress, cards, layout))
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)
    return job


async def _render_job(job: str, congress: CardCongress, cards: list[Card], layout: str) -> None:
    progress = {"done": 0}
    lock = threading.Lock()

    def on_progress(done: int, total: int) -> None:
        with lock:
            progress["done"] = done

    async def report() -> None:
        while True:
            await asyncio.sleep(0.5)
            with lock:
                done = progress["done"]
            await CardPrintJob.update({CardPrintJob.done: done}).where(CardPrintJob.token == job)

    reporter = asyncio.create_task(report())
    try:
        pdf = await asyncio.to_thread(
            render_cards, congress, cards, layout, workers=2, on_progress=on_progress
        )
        await asyncio.to_thread(_write_whole, _job_path(job), pdf)
        status = "done"
    except Exception:
        log.exception("printing cards failed")
        status = "failed"
    finally:
        reporter.cancel()
    await CardPrintJob.update(
        {
            CardPrintJob.status: status,
            CardPrintJob.done: len(cards) if status == "done" else progress["done"],
            CardPrintJob.finished_at: datetime.datetime.now(datetime.UTC),
        }
    ).where(CardPrintJob.token == job)


async def job_state(congress_id: int, job: str) -> dict[str, Any]:
    row = (
        await CardPrintJob.select()
        .where((CardPrintJob.congress == congress_id) & (CardPrintJob.token == job))
        .first()
    )
    if row is None:
        raise NotFound("print_job_not_found", N_("This print job does not exist."))
    return row


async def collect(congress_id: int, job: str) -> bytes:
    """The finished PDF, once: its tokens must not lie around on the server."""
    state = await job_state(congress_id, job)
    path = _job_path(job)
    if state["status"] != "done" or not path.exists():
        raise NotFound(
            "print_job_not_ready", N_("These cards are not ready, or were already downloaded.")
        )
    pdf = await asyncio.to_thread(path.read_bytes)
    path.unlink()
    await CardPrintJob.update({CardPrintJob.status: "collected"}).where(CardPrintJob.token == job)
    return pdf
