"""Check-in tablets: registered by an organizer, paired once with a one-time code, revoked
at will. A paired tablet may check delegates in for its own congress and nothing else."""

from __future__ import annotations

import base64
import datetime
import secrets
from typing import Any

import msgspec

from checkin import events
from checkin.credentials import keyed_hash
from checkin.tables import CheckinDevice
from congress.database import query
from congress.errors import InvalidInput, NotFound
from congress.eventlog import Actor, Change
from congress.i18n import N_
from congress.settings import get_settings
from congress.text import clean

PAIRING_LIFETIME = datetime.timedelta(hours=24)


class PairedDevice(msgspec.Struct, frozen=True):
    id: int
    congress_id: int
    name: str
    roster_salt: str


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def _pairing_code() -> str:
    return base64.b32encode(secrets.token_bytes(10)).decode()  # 16 characters, 80 bits


def pairing_address(code: str) -> str:
    base = get_settings().public_url.rstrip("/")
    return f"{base}/P/{code}"


async def register_device(congress_id: int, name: str, actor: Actor) -> tuple[int, str]:
    """A new tablet and its one-time pairing code (valid for a day)."""
    name = clean(name)
    if not name or len(name) > 100:
        raise InvalidInput(
            "bad_device_name", N_("Give the tablet a name, e.g. “Cửa chính 1”."), field="name"
        )
    code = _pairing_code()
    async with Change(congress_id, actor) as change:
        rows = await CheckinDevice.insert(
            CheckinDevice(
                congress=congress_id,
                name=name,
                pairing_code_hash=keyed_hash("pairing", code),
                pairing_expires_at=_now() + PAIRING_LIFETIME,
                roster_salt=secrets.token_hex(16),
                created_at=_now(),
            )
        ).returning(CheckinDevice.id)
        device_id = int(rows[0]["id"])
        await change.record(events.DeviceRegistered(device_id=device_id, name=name))
    return device_id, code


async def new_pairing_code(congress_id: int, device_id: int, actor: Actor) -> str:
    """A fresh code for a tablet (its earlier pairing ends: the tablet must pair again)."""
    code = _pairing_code()
    async with Change(congress_id, actor) as change:
        updated = (
            await CheckinDevice.update(
                {
                    CheckinDevice.pairing_code_hash: keyed_hash("pairing", code),
                    CheckinDevice.pairing_expires_at: _now() + PAIRING_LIFETIME,
                    CheckinDevice.token_hash: None,
                    CheckinDevice.revoked_at: None,
                }
            )
            .where((CheckinDevice.id == device_id) & (CheckinDevice.congress == congress_id))
            .returning(CheckinDevice.name)
        )
        if not updated:
            raise NotFound("device_not_found", N_("This tablet does not exist."))
        await change.record(events.DeviceRegistered(device_id=device_id, name=updated[0]["name"]))
    return code


async def pair(raw_code: str) -> tuple[PairedDevice, str] | None:
    """Trade a pairing code for the tablet's token; the code works once."""
    code = raw_code.strip().upper()
    if len(code) != 16 or not code.isalnum():
        return None
    row = (
        await CheckinDevice.select()
        .where(CheckinDevice.pairing_code_hash == keyed_hash("pairing", code))
        .first()
    )
    if row is None or row["revoked_at"] or row["pairing_expires_at"] < _now():
        return None
    token = secrets.token_urlsafe(32)
    async with Change(
        row["congress"], Actor(kind="device", id=row["id"], name=row["name"])
    ) as change:
        claimed = (
            await CheckinDevice.update(
                {
                    CheckinDevice.pairing_code_hash: None,
                    CheckinDevice.token_hash: keyed_hash("device", token),
                    CheckinDevice.paired_at: _now(),
                }
            )
            .where(
                (CheckinDevice.id == row["id"])
                & (CheckinDevice.pairing_code_hash == keyed_hash("pairing", code))
            )
            .returning(CheckinDevice.id)
        )
        if not claimed:  # another tablet used the code a moment earlier
            return None
        await change.record(events.DevicePaired(device_id=row["id"]))
    return PairedDevice(row["id"], row["congress"], row["name"], row["roster_salt"]), token


async def device_for_token(token: str) -> PairedDevice | None:
    if not token or len(token) > 100:
        return None
    # Plain SQL: every request of a tablet asks this, a scan included.
    rows = await query(
        "SELECT id, congress, name, roster_salt FROM checkin_device"
        " WHERE token_hash = {} AND revoked_at IS NULL",
        keyed_hash("device", token),
    )
    if not rows:
        return None
    row = rows[0]
    return PairedDevice(row["id"], row["congress"], row["name"], row["roster_salt"])


async def revoke_device(congress_id: int, device_id: int, actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        updated = (
            await CheckinDevice.update(
                {
                    CheckinDevice.revoked_at: _now(),
                    CheckinDevice.token_hash: None,
                    CheckinDevice.pairing_code_hash: None,
                }
            )
            .where((CheckinDevice.id == device_id) & (CheckinDevice.congress == congress_id))
            .returning(CheckinDevice.id)
        )
        if not updated:
            raise NotFound("device_not_found", N_("This tablet does not exist."))
        await change.record(events.DeviceRevoked(device_id=device_id))


async def devices_of(congress_id: int) -> list[dict[str, Any]]:
    return (
        await CheckinDevice.select(
            CheckinDevice.id,
            CheckinDevice.name,
            CheckinDevice.paired_at,
            CheckinDevice.revoked_at,
            CheckinDevice.pairing_expires_at,
            CheckinDevice.created_at,
        )
        .where(CheckinDevice.congress == congress_id)
        .order_by(CheckinDevice.name)
    )
