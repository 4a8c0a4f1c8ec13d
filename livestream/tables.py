"""Tables of what is live: the hall's screens, the speakers' list, the stream links and
what the congress is doing right now."""

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

from congress.tables import AgendaItem, Congress, Delegate, Sitting


class Screen(Table, tablename="screen"):
    """An LED wall or a lobby TV. Its address carries a key; here is the key's hash."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    name = Varchar(length=200)
    key_hash = Varchar(length=64, unique=True)
    # What it shows, as JSON (livestream.schemas.ScreenContent); set from the control page.
    content = Text(default="")
    created_at = Timestamptz()
    revoked_at = Timestamptz(null=True, default=None)


class LiveState(Table, tablename="live_state"):
    """What the congress is doing now: the sitting and agenda item under way, and the
    announcement of the moment. One row per congress."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, unique=True)
    sitting = ForeignKey(Sitting, on_delete=OnDelete.set_null, null=True, default=None)
    agenda_item = ForeignKey(AgendaItem, on_delete=OnDelete.set_null, null=True, default=None)
    announcement = Text(default="")
    updated_at = Timestamptz()


class Speaker(Table, tablename="speaker"):
    """A request to speak and its turn: asked from a phone or added by the secretariat,
    ordered by the presidium, called, timed."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    sitting = ForeignKey(Sitting, on_delete=OnDelete.cascade, index=True)
    delegate = ForeignKey(Delegate, on_delete=OnDelete.set_null, null=True, default=None)
    name = Varchar(length=300)  # as shown on the screen
    delegation = Varchar(length=300, default="")
    topic = Varchar(length=500, default="")
    document_id = Integer(null=True, default=None)  # the written speech in the archive
    source = Varchar(length=12, default="secretariat")  # phone | secretariat
    # requested -> queued -> speaking -> done; or withdrawn
    status = Varchar(length=12, default="requested")
    position = Integer(default=0)
    allotted_seconds = SmallInt(default=300)
    # The timer: running since `timer_started_at`, plus what ran before a pause.
    timer_started_at = Timestamptz(null=True, default=None)
    elapsed_ms = Integer(default=0)
    requested_at = Timestamptz()


class StreamLink(Table, tablename="stream_link"):
    """A sitting's livestream: a Facebook Live, YouTube or HLS address."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    sitting = ForeignKey(Sitting, on_delete=OnDelete.cascade, unique=True)
    url = Varchar(length=1000)
    kind = Varchar(length=12)  # facebook | youtube | hls
    public = Boolean(default=True)
