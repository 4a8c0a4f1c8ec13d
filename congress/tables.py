"""Tables of the congress core. Every table that belongs to a congress has its foreign key."""

from __future__ import annotations

from piccolo.columns import (
    JSON,
    Boolean,
    Bytea,
    Date,
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


class Account(Table, tablename="account"):
    """An organizer's sign-in: admin, secretariat, presidium, tally committee, check-in staff."""

    id = Serial(primary_key=True)

    username = Varchar(length=64, unique=True)
    full_name = Varchar(length=200)
    password_hash = Varchar(length=200)
    roles = Varchar(length=200, default="")  # space-separated Role values
    language = Varchar(length=8, default="vi")
    active = Boolean(default=True)
    created_at = Timestamptz()
    last_sign_in_at = Timestamptz(null=True, default=None)


class AccountSession(Table, tablename="account_session"):
    """A signed-in browser; the cookie holds the token, the table only its hash."""

    id = Serial(primary_key=True)

    token_hash = Varchar(length=64, unique=True)
    account = ForeignKey(Account, on_delete=OnDelete.cascade, index=True)
    created_at = Timestamptz()
    expires_at = Timestamptz()


class Congress(Table, tablename="congress"):
    """A congress (Đại hội) or a smaller meeting (hội nghị)."""

    id = Serial(primary_key=True)

    kind = Varchar(length=16, default="congress")  # congress | meeting
    name = Varchar(length=300)
    number = Varchar(length=16, default="")  # "XIX"
    term = Varchar(length=32, default="")  # "2023–2028"
    organizing_union = Varchar(length=300, default="")
    venue = Varchar(length=300, default="")
    starts_on = Date(null=True, default=None)
    ends_on = Date(null=True, default=None)
    timezone = Varchar(length=64, default="Asia/Ho_Chi_Minh")
    last_event_seq = Integer(default=0)
    created_at = Timestamptz()


class Event(Table, tablename="event"):
    """The event log: one row per state change, written in the change's transaction.

    (congress, seq) is unique and gapless per congress; events outside any congress
    (accounts) have no congress and seq 0.
    """

    id = Serial(primary_key=True)

    congress = ForeignKey(Congress, null=True, on_delete=OnDelete.restrict, index=True)
    seq = Integer()
    type = Varchar(length=64, index=True)
    payload = Text()
    actor = Varchar(length=64)
    actor_name = Varchar(length=200, default="")
    created_at = Timestamptz()


class Sitting(Table, tablename="sitting"):
    """A sitting (phiên họp): preparatory, plenary or closing."""

    id = Serial(primary_key=True)

    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=300)
    kind = Varchar(length=16, default="plenary")  # preparatory | plenary | closing
    starts_at = Timestamptz(null=True, default=None)
    location = Varchar(length=300, default="")
    ordinal = SmallInt(default=0)


class AgendaItem(Table, tablename="agenda_item"):
    """One item of a sitting's agenda (chương trình)."""

    id = Serial(primary_key=True)

    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    sitting = ForeignKey(Sitting, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=500)
    presenter = Varchar(length=300, default="")
    duration_minutes = SmallInt(null=True, default=None)
    ordinal = SmallInt(default=0)


class Delegation(Table, tablename="delegation"):
    """A delegation (đoàn đại biểu): a grassroots, district or sector union."""

    id = Serial(primary_key=True)

    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    code = Varchar(length=16)
    name = Varchar(length=300)
    search_name = Varchar(length=300, default="")
    ordinal = SmallInt(default=0)


class Delegate(Table, tablename="delegate"):
    """A delegate: official, invited, or a guest."""

    id = Serial(primary_key=True)

    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    delegation = ForeignKey(Delegation, null=True, on_delete=OnDelete.restrict, index=True)
    full_name = Varchar(length=200)
    search_name = Varchar(length=220, default="")  # " " + folded name + " ", for word search
    sort_key = Varchar(length=220, default="")  # given name first, as Vietnamese lists sort
    unit = Varchar(length=300, default="")
    position = Varchar(length=300, default="")
    kind = Varchar(length=16, default="official")  # official | invited | guest
    gender = Varchar(length=8, default="")  # male | female | ""
    birth_year = SmallInt(null=True, default=None)
    card_number = Varchar(length=32, null=True, default=None)
    photo = Varchar(length=200, default="")
    created_at = Timestamptz()
    updated_at = Timestamptz()


class DelegateImport(Table, tablename="delegate_import"):
    """An uploaded delegate spreadsheet, kept between its preview and its import."""

    id = Serial(primary_key=True)

    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    token = Varchar(length=64, unique=True)
    filename = Varchar(length=255, default="")  # shown only, never a path
    content = Bytea()
    sha256 = Varchar(length=64)
    uploaded_by = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    uploaded_at = Timestamptz()
    applied_at = Timestamptz(null=True, default=None)
    summary = JSON(default="{}")
