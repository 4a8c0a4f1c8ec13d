"""Organizer accounts, their roles and what each role may do; passwords and sessions."""

from __future__ import annotations

import datetime
import enum
import hashlib
import secrets
from typing import Any

import msgspec
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from congress import events
from congress.errors import Conflict, InvalidInput, NotFound
from congress.eventlog import SYSTEM, Actor, Change
from congress.i18n import N_
from congress.tables import Account, AccountSession
from congress.text import clean

SESSION_LIFETIME = datetime.timedelta(days=7)
MIN_PASSWORD_LENGTH = 10

# argon2id with its library defaults (64 MiB, 3 passes): memory-hard, ~50 ms a sign-in.
_hasher = PasswordHasher()
# Verifying against this when the account does not exist keeps both answers equally slow.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


class Role(enum.StrEnum):
    ADMIN = "admin"
    SECRETARIAT = "secretariat"
    PRESIDIUM = "presidium"
    TALLY = "tally"
    CHECKIN = "checkin"


ROLE_LABELS = {
    Role.ADMIN: N_("Administrator"),
    Role.SECRETARIAT: N_("Secretariat"),
    Role.PRESIDIUM: N_("Presidium"),
    Role.TALLY: N_("Tally committee"),
    Role.CHECKIN: N_("Check-in staff"),
}


class Permission(enum.StrEnum):
    VIEW_CONGRESS = "view_congress"
    MANAGE_CONGRESS = "manage_congress"
    VIEW_DELEGATES = "view_delegates"
    MANAGE_DELEGATES = "manage_delegates"
    READ_EVENT_LOG = "read_event_log"
    MANAGE_ACCOUNTS = "manage_accounts"
    VIEW_DOCUMENTS = "view_documents"
    MANAGE_DOCUMENTS = "manage_documents"
    VIEW_CONFIDENTIAL = "view_confidential"
    EXPORT_ARCHIVE = "export_archive"
    MANAGE_CARDS = "manage_cards"
    MANAGE_DEVICES = "manage_devices"
    VIEW_ATTENDANCE = "view_attendance"
    UNDO_CHECKIN = "undo_checkin"
    VIEW_POLLS = "view_polls"
    MANAGE_POLLS = "manage_polls"
    COUNT_PAPER = "count_paper"
    DRIVE_SCREENS = "drive_screens"
    MANAGE_SCREENS = "manage_screens"
    ADD_SPEAKERS = "add_speakers"
    RUN_SPEAKERS = "run_speakers"
    MANAGE_STREAMS = "manage_streams"


ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    # The secretariat keeps the papers and the minutes, confidential ones included.
    Role.SECRETARIAT: frozenset(
        {
            Permission.VIEW_CONGRESS,
            Permission.VIEW_DELEGATES,
            Permission.READ_EVENT_LOG,
            Permission.VIEW_DOCUMENTS,
            Permission.MANAGE_DOCUMENTS,
            Permission.VIEW_CONFIDENTIAL,
            Permission.VIEW_ATTENDANCE,
            Permission.VIEW_POLLS,
            Permission.ADD_SPEAKERS,
            Permission.MANAGE_STREAMS,
        }
    ),
    # The presidium drafts, opens, closes and announces the polls, drives the screens and
    # runs the speakers' list.
    Role.PRESIDIUM: frozenset(
        {
            Permission.VIEW_CONGRESS,
            Permission.VIEW_DELEGATES,
            Permission.READ_EVENT_LOG,
            Permission.VIEW_DOCUMENTS,
            Permission.VIEW_ATTENDANCE,
            Permission.VIEW_POLLS,
            Permission.MANAGE_POLLS,
            Permission.DRIVE_SCREENS,
            Permission.ADD_SPEAKERS,
            Permission.RUN_SPEAKERS,
        }
    ),
    # The tally committee hands out and counts paper ballots; it needs no one's personal data.
    Role.TALLY: frozenset(
        {
            Permission.VIEW_CONGRESS,
            Permission.VIEW_DOCUMENTS,
            Permission.VIEW_POLLS,
            Permission.COUNT_PAPER,
        }
    ),
    # Check-in staff see who is present and may take back a wrong check-in, with a reason.
    Role.CHECKIN: frozenset(
        {
            Permission.VIEW_CONGRESS,
            Permission.VIEW_DELEGATES,
            Permission.VIEW_ATTENDANCE,
            Permission.UNDO_CHECKIN,
        }
    ),
}


class SignedInAccount(msgspec.Struct, frozen=True):
    """The account behind a request, as the guards and templates see it."""

    id: int
    username: str
    full_name: str
    roles: frozenset[Role]
    language: str

    @property
    def permissions(self) -> frozenset[Permission]:
        granted: set[Permission] = set()
        for role in self.roles:
            granted |= ROLE_PERMISSIONS[role]
        return frozenset(granted)

    def can(self, permission: Permission) -> bool:
        return permission in self.permissions

    @property
    def actor(self) -> Actor:
        return Actor(kind="account", id=self.id, name=self.full_name)


def parse_roles(text: str) -> frozenset[Role]:
    return frozenset(Role(r) for r in text.split() if r in Role.__members__.values())


def _check_roles(roles: list[str]) -> list[str]:
    unknown = [r for r in roles if r not in {role.value for role in Role}]
    if unknown:
        raise InvalidInput(
            "unknown_role", N_("Unknown role: {role}."), field="roles", role=unknown[0]
        )
    return sorted(set(roles))


def _check_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidInput(
            "password_too_short",
            N_("The password must have at least {n} characters."),
            field="password",
            n=MIN_PASSWORD_LENGTH,
        )


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


async def create_account(
    username: str,
    full_name: str,
    password: str,
    roles: list[str],
    actor: Actor = SYSTEM,
    language: str = "vi",
) -> int:
    username = username.strip().lower()
    if not username or len(username) > 64 or not username.replace(".", "").isalnum():
        raise InvalidInput(
            "bad_username",
            N_("A user name uses only letters, digits and dots."),
            field="username",
        )
    roles = _check_roles(roles)
    _check_password(password)
    password_hash = hash_password(password)
    async with Change(None, actor) as change:
        if await Account.exists().where(Account.username == username):
            raise Conflict(
                "username_taken",
                N_("The user name {username} is taken."),
                username=username,
            )
        rows = await Account.insert(
            Account(
                username=username,
                full_name=clean(full_name) or username,
                password_hash=password_hash,
                roles=" ".join(roles),
                language=language,
                created_at=datetime.datetime.now(datetime.UTC),
            )
        ).returning(Account.id)
        account_id = int(rows[0]["id"])
        await change.record(events.AccountCreated(account_id=account_id, roles=roles))
    return account_id


async def update_account(
    account_id: int,
    *,
    full_name: str,
    roles: list[str],
    active: bool,
    actor: Actor,
) -> list[str]:
    values: dict[str, Any] = {
        "full_name": clean(full_name),
        "roles": " ".join(_check_roles(roles)),
        "active": active,
    }
    async with Change(None, actor) as change:
        row = await Account.select().where(Account.id == account_id).first()
        if row is None:
            raise NotFound("account_not_found", N_("This account does not exist."))
        if actor.id == account_id and (not active or Role.ADMIN not in values["roles"].split()):
            raise InvalidInput(
                "cannot_demote_self",
                N_("You cannot take the administrator role from your own account."),
                field="roles",
            )
        fields = [k for k, v in values.items() if row[k] != v]
        if fields:
            await Account.update({getattr(Account, k): values[k] for k in fields}).where(
                Account.id == account_id
            )
            if "active" in fields and not active:
                await AccountSession.delete().where(AccountSession.account == account_id)
            await change.record(events.AccountUpdated(account_id=account_id, fields=fields))
    return fields


async def set_password(account_id: int, password: str, actor: Actor) -> None:
    _check_password(password)
    password_hash = hash_password(password)
    async with Change(None, actor) as change:
        updated = (
            await Account.update({Account.password_hash: password_hash})
            .where(Account.id == account_id)
            .returning(Account.id)
        )
        if not updated:
            raise NotFound("account_not_found", N_("This account does not exist."))
        # A new password signs out every browser that used the old one.
        await AccountSession.delete().where(AccountSession.account == account_id)
        await change.record(events.AccountUpdated(account_id=account_id, fields=["password"]))


async def list_accounts() -> list[dict[str, Any]]:
    return await Account.select(
        Account.id,
        Account.username,
        Account.full_name,
        Account.roles,
        Account.active,
        Account.last_sign_in_at,
    ).order_by(Account.username)


async def authenticate(username: str, password: str) -> int | None:
    """The account id when the password is right and the account active, else None."""
    row = await (
        Account.select(Account.id, Account.password_hash, Account.active)
        .where(Account.username == username.strip().lower())
        .first()
    )
    try:
        _hasher.verify(row["password_hash"] if row else _DUMMY_HASH, password)
    except (VerificationError, InvalidHashError):
        return None
    if row is None or not row["active"]:
        return None
    return int(row["id"])


async def open_session(account_id: int) -> str:
    """A new session; returns the token for the cookie (only its hash is stored)."""
    token = secrets.token_urlsafe(32)
    now = datetime.datetime.now(datetime.UTC)
    await AccountSession.insert(
        AccountSession(
            token_hash=token_hash(token),
            account=account_id,
            created_at=now,
            expires_at=now + SESSION_LIFETIME,
        )
    )
    await Account.update({Account.last_sign_in_at: now}).where(Account.id == account_id)
    await AccountSession.delete().where(AccountSession.expires_at < now)
    return token


async def close_session(token: str) -> None:
    await AccountSession.delete().where(AccountSession.token_hash == token_hash(token))


async def account_for_session(token: str) -> SignedInAccount | None:
    now = datetime.datetime.now(datetime.UTC)
    row = await (
        AccountSession.select(
            AccountSession.account.id,
            AccountSession.account.username,
            AccountSession.account.full_name,
            AccountSession.account.roles,
            AccountSession.account.language,
            AccountSession.account.active,
            AccountSession.expires_at,
        )
        .where(AccountSession.token_hash == token_hash(token))
        .first()
    )
    if row is None or row["expires_at"] < now or not row["account.active"]:
        return None
    return SignedInAccount(
        id=row["account.id"],
        username=row["account.username"],
        full_name=row["account.full_name"],
        roles=parse_roles(row["account.roles"]),
        language=row["account.language"],
    )
