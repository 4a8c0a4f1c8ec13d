"""Tables of delegate credentials: card tokens (hashed), delegate sessions, card assets."""

from __future__ import annotations

from piccolo.columns import (
    Boolean,
    ForeignKey,
    Integer,
    OnDelete,
    Serial,
    SmallInt,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.table import Table

from congress.tables import Account, Congress, Delegate, Sitting


class DelegateCard(Table, tablename="delegate_card"):
    """One issued card. The token is in the QR code only; here is its keyed hash.

    A reissued card leaves its old row as "replaced", so the old QR can say so.
    """

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    delegate = ForeignKey(Delegate, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True)
    version = SmallInt(default=1)
    status = Varchar(length=16, default="active")  # active | replaced | revoked
    issued_at = Timestamptz()
    ended_at = Timestamptz(null=True, default=None)
    # The offline roster entry (see checkin.roster), made while the token was at hand.
    roster_hash = Varchar(length=32, default="")
    roster_iv = Varchar(length=24, default="")
    roster_box = Text(default="")


class DelegateSession(Table, tablename="delegate_session"):
    """A phone that opened a card's address: its cookie holds a token, this its hash."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    delegate = ForeignKey(Delegate, on_delete=OnDelete.cascade, index=True)
    card = ForeignKey(DelegateCard, on_delete=OnDelete.cascade)
    token_hash = Varchar(length=64, unique=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()


class CardAsset(Table, tablename="card_asset"):
    """An image the cards use: the union's logo, or a delegate's photo by its file name."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    kind = Varchar(length=8)  # logo | photo
    name = Varchar(length=200)
    sha256 = Varchar(length=64)
    media_type = Varchar(length=32)


class CardPrintJob(Table, tablename="card_print_job"):
    """A batch of cards being printed in the background, with its progress."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    token = Varchar(length=32, unique=True)
    layout = Varchar(length=8)
    scope = Varchar(length=120)
    status = Varchar(length=16, default="running")  # running | done | failed | collected
    done = Integer(default=0)
    total = Integer(default=0)
    requested_by = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    created_at = Timestamptz()
    finished_at = Timestamptz(null=True, default=None)


class CheckinDevice(Table, tablename="checkin_device"):
    """A tablet at a door. It pairs once with a one-time code and then holds a token."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=100)
    pairing_code_hash = Varchar(length=64, null=True, default=None, unique=True)
    pairing_expires_at = Timestamptz(null=True, default=None)
    token_hash = Varchar(length=64, null=True, default=None, unique=True)
    roster_salt = Varchar(length=32, default="")
    paired_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz()


class Attendance(Table, tablename="attendance"):
    """A delegate present at a sitting. Set, never toggled; an undo keeps the row."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    sitting = ForeignKey(Sitting, on_delete=OnDelete.cascade, index=True)
    delegate = ForeignKey(Delegate, on_delete=OnDelete.cascade, index=True)
    device = ForeignKey(CheckinDevice, null=True, on_delete=OnDelete.set_null)
    device_name = Varchar(length=100, default="")
    method = Varchar(length=8, default="card")  # card | name | console
    checked_in_at = Timestamptz()
    scanned_at = Timestamptz(null=True, default=None)
    undone_at = Timestamptz(null=True, default=None)
    undone_by_name = Varchar(length=200, default="")
    undo_reason = Varchar(length=300, default="")


class CheckinScan(Table, tablename="checkin_scan"):
    """Every scan a tablet sent, with the answer it got: a retried nonce gets it again."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    device = ForeignKey(CheckinDevice, on_delete=OnDelete.cascade, index=True)
    nonce = Varchar(length=64)
    sitting = ForeignKey(Sitting, null=True, on_delete=OnDelete.set_null)
    delegate = ForeignKey(Delegate, null=True, on_delete=OnDelete.set_null)
    result = Varchar(length=8)
    code = Varchar(length=32)
    duplicate = Boolean(default=False)
    scanned_at = Timestamptz(null=True, default=None)
    received_at = Timestamptz()
    answer = Text(default="{}")


class QuorumRule(Table, tablename="quorum_rule"):
    """The congress is valid when at least numerator/denominator of those convened are
    present. Convened: the official delegates (the charter's default), or all delegates."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, unique=True)
    numerator = SmallInt(default=2)
    denominator = SmallInt(default=3)
    base = Varchar(length=16, default="official")  # official | all
