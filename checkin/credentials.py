"""Delegate cards: random tokens shown only in the QR code, stored only as a keyed hash.

A token is 128 random bits written in base32 (26 letters and digits, upper case), so the
whole address can be upper case and the QR code uses its alphanumeric mode: fewer modules,
a lower version, a code that scans from a printed card at arm's length in a dim hall.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import re
import secrets
from typing import Any
from urllib.parse import urlsplit

import msgspec

from checkin import events
from checkin.tables import DelegateCard, DelegateSession
from congress import database
from congress.errors import NotFound
from congress.eventlog import Actor, Change
from congress.i18n import N_
from congress.settings import get_settings
from congress.tables import Delegate

TOKEN_BYTES = 16
_TOKEN = re.compile(r"^[A-Z2-7]{26}$")
DELEGATE_SESSION_LIFETIME = datetime.timedelta(days=14)
_QR_ALPHANUMERIC = re.compile(r"^[0-9A-Z $%*+\-./:]*$")


def new_token() -> str:
    return base64.b32encode(secrets.token_bytes(TOKEN_BYTES)).decode().rstrip("=")


def parse_token(raw: str) -> str | None:
    """The token in canonical form, or None when it cannot be one of ours."""
    token = raw.strip().upper()
    return token if _TOKEN.match(token) else None


def keyed_hash(purpose: str, token: str) -> str:
    key = get_settings().secret_key.encode()
    return hmac.new(key, f"{purpose}:{token}".encode(), hashlib.sha256).hexdigest()


def card_address(token: str) -> str:
    """The short address the QR code holds: upper case when the base allows it."""
    base = get_settings().public_url.rstrip("/")
    address = f"{base}/D/{token}"
    parts = urlsplit(base)
    # Scheme and host are case-insensitive; a path under the base is not.
    if not parts.path and _QR_ALPHANUMERIC.match(address.upper()):
        return address.upper()
    return address


class CardLookup(msgspec.Struct, frozen=True):
    status: str  # active | replaced | revoked | unknown | malformed
    card_id: int | None = None
    congress_id: int | None = None
    delegate_id: int | None = None


def card_hash(token: str) -> str:
    """What the card table keeps of a card's token (in canonical form)."""
    return keyed_hash("card", token)


async def look_up(raw_token: str) -> CardLookup:
    token = parse_token(raw_token)
    if token is None:
        return CardLookup("malformed")
    row = (
        await DelegateCard.select(
            DelegateCard.id, DelegateCard.congress, DelegateCard.delegate, DelegateCard.status
        )
        .where(DelegateCard.token_hash == card_hash(token))
        .first()
    )
    if row is None:
        return CardLookup("unknown")
    return CardLookup(row["status"], row["id"], row["congress"], row["delegate"])


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def issue_cards(
    congress_id: int, delegate_ids: list[int], actor: Actor, *, replace: bool
) -> dict[int, str]:
    """New cards for these delegates; returns their tokens, which exist nowhere else.

    Without ``replace``, delegates who already hold an active card are left as they are.
    """
    issued: dict[int, str] = {}
    async with Change(congress_id, actor) as change:
        known = {
            r["id"]
            for r in await Delegate.select(Delegate.id).where(
                (Delegate.congress == congress_id) & Delegate.id.is_in(delegate_ids or [0])
            )
        }
        if len(known) != len(set(delegate_ids)):
            raise NotFound("delegate_not_found", N_("This delegate does not exist."))
        current = {
            r["delegate"]: r
            for r in await DelegateCard.select()
            .where(
                (DelegateCard.congress == congress_id)
                & DelegateCard.delegate.is_in(delegate_ids or [0])
            )
            .order_by(DelegateCard.version)
        }
        active = {
            r["delegate"]
            for r in await DelegateCard.select(DelegateCard.delegate).where(
                (DelegateCard.congress == congress_id)
                & DelegateCard.delegate.is_in(delegate_ids or [0])
                & (DelegateCard.status == "active")
            )
        }
        from checkin import roster  # it hashes with keyed_hash, from here

        shown = await _shown(delegate_ids)
        now = _now()
        for delegate_id in delegate_ids:
            had_active = delegate_id in active
            if had_active and not replace:
                continue
            if had_active:
                await DelegateCard.update(
                    {DelegateCard.status: "replaced", DelegateCard.ended_at: now}
                ).where((DelegateCard.delegate == delegate_id) & (DelegateCard.status == "active"))
            version = current[delegate_id]["version"] + 1 if delegate_id in current else 1
            token = new_token()
            lookup, iv, box = roster.entry(congress_id, token, shown[delegate_id])
            await DelegateCard.insert(
                DelegateCard(
                    congress=congress_id,
                    delegate=delegate_id,
                    token_hash=keyed_hash("card", token),
                    version=version,
                    status="active",
                    issued_at=now,
                    roster_hash=lookup,
                    roster_iv=iv,
                    roster_box=box,
                )
            )
            issued[delegate_id] = token
            await change.record(
                events.CardIssued(
                    delegate_id=delegate_id, version=version, replaced=delegate_id in current
                )
            )
    return issued


async def _shown(delegate_ids: list[int]) -> dict[int, dict[str, str]]:
    """What a tablet may show offline for each delegate."""
    from congress.i18n import translate
    from congress.templating import DELEGATE_KIND_LABELS as kind_labels

    rows = await Delegate.select(
        Delegate.id,
        Delegate.full_name,
        Delegate.kind,
        Delegate.delegation.name.as_alias("delegation_name"),
    ).where(Delegate.id.is_in(delegate_ids or [0]))
    shown = {}
    for row in rows:
        label = kind_labels[row["kind"]]
        shown[row["id"]] = {
            "name": row["full_name"],
            "delegation": row["delegation_name"] or "",
            "kind_label": translate(label),
        }
    return shown


async def revoke_card(congress_id: int, delegate_id: int, actor: Actor) -> bool:
    async with Change(congress_id, actor) as change:
        if not await Delegate.exists().where(
            (Delegate.id == delegate_id) & (Delegate.congress == congress_id)
        ):
            raise NotFound("delegate_not_found", N_("This delegate does not exist."))
        revoked = (
            await DelegateCard.update(
                {DelegateCard.status: "revoked", DelegateCard.ended_at: _now()}
            )
            .where(
                (DelegateCard.congress == congress_id)
                & (DelegateCard.delegate == delegate_id)
                & (DelegateCard.status == "active")
            )
            .returning(DelegateCard.id)
        )
        if revoked:
            await DelegateSession.delete().where(DelegateSession.delegate == delegate_id)
            await change.record(events.CardRevoked(delegate_id=delegate_id))
    return bool(revoked)


async def card_states(congress_id: int) -> dict[int, dict[str, Any]]:
    """Each delegate's newest card: version and status."""
    rows = (
        await DelegateCard.select(
            DelegateCard.delegate, DelegateCard.version, DelegateCard.status, DelegateCard.issued_at
        )
        .where(DelegateCard.congress == congress_id)
        .order_by(DelegateCard.version)
    )
    return {r["delegate"]: r for r in rows}


async def card_of(congress_id: int, delegate_id: int) -> dict[str, Any] | None:
    """A delegate's newest card, if any."""
    return (
        await DelegateCard.select(DelegateCard.version, DelegateCard.status, DelegateCard.issued_at)
        .where((DelegateCard.congress == congress_id) & (DelegateCard.delegate == delegate_id))
        .order_by(DelegateCard.version, ascending=False)
        .first()
    )


async def open_delegate_session(card: CardLookup) -> str:
    """A phone session for an active card; the cookie gets the token, the table its hash."""
    if card.status != "active" or card.card_id is None:
        raise ValueError("a session is only for an active card")
    token = secrets.token_urlsafe(32)
    now = _now()
    await DelegateSession.insert(
        DelegateSession(
            congress=card.congress_id,
            delegate=card.delegate_id,
            card=card.card_id,
            token_hash=keyed_hash("delegate-session", token),
            created_at=now,
            expires_at=now + DELEGATE_SESSION_LIFETIME,
        )
    )
    return token


class SignedInDelegate(msgspec.Struct, frozen=True):
    congress_id: int
    delegate_id: int


async def delegate_for_session(token: str) -> SignedInDelegate | None:
    """The delegate behind a phone's cookie, while its card is still the active one."""
    if not token or len(token) > 100:
        return None
    # Every request of every phone passes here: one plain statement (database.query).
    rows = await database.query(
        "SELECT s.congress, s.delegate, s.expires_at, c.status FROM delegate_session s"
        " JOIN delegate_card c ON c.id = s.card WHERE s.token_hash = {}",
        keyed_hash("delegate-session", token),
    )
    row = rows[0] if rows else None
    if row is None or row["expires_at"] < _now() or row["status"] != "active":
        return None
    return SignedInDelegate(congress_id=row["congress"], delegate_id=row["delegate"])
