"""Tables of delegate credentials: card tokens (hashed), delegate sessions, card assets."""

from __future__ import annotations

from piccolo.columns import ForeignKey, Integer, OnDelete, Serial, SmallInt, Timestamptz, Varchar
from piccolo.table import Table

from congress.tables import Account, Congress, Delegate


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
