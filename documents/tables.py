"""Tables of the archive: documents, their versions, and the minutes of each sitting."""

from __future__ import annotations

from piccolo.columns import (
    BigInt,
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

from congress.tables import Account, AgendaItem, Congress, Sitting


class Document(Table, tablename="document"):
    """A congress paper: its title, category, access level, and where it belongs."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    title = Varchar(length=300)
    category = Varchar(length=32, default="other")
    access = Varchar(length=16, default="organizers")  # public|delegates|organizers|confidential
    sitting = ForeignKey(Sitting, null=True, on_delete=OnDelete.set_null)
    agenda_item = ForeignKey(AgendaItem, null=True, on_delete=OnDelete.set_null)
    latest_version = SmallInt(default=0)
    released_version = SmallInt(null=True, default=None)
    created_at = Timestamptz()
    updated_at = Timestamptz()


class DocumentVersion(Table, tablename="document_version"):
    """One uploaded file of a document; the file itself is stored once per sha256."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    document = ForeignKey(Document, on_delete=OnDelete.cascade, index=True)
    number = SmallInt()
    sha256 = Varchar(length=64, index=True)
    size = BigInt()
    media_type = Varchar(length=100)
    filename = Varchar(length=255, default="")  # the uploader's name for it, shown only
    page_count = Integer(null=True, default=None)
    text = Text(default="")  # extracted at upload, for search
    uploaded_by = ForeignKey(Account, null=True, on_delete=OnDelete.set_null)
    uploaded_by_name = Varchar(length=200, default="")
    uploaded_at = Timestamptz()
    released_at = Timestamptz(null=True, default=None)
    released_by_name = Varchar(length=200, default="")


class MinutesDraft(Table, tablename="minutes_draft"):
    """The secretariat's working draft of a sitting's minutes, until it is finalised."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    sitting = ForeignKey(Sitting, on_delete=OnDelete.cascade, unique=True)
    body = Text(default="")
    updated_by_name = Varchar(length=200, default="")
    updated_at = Timestamptz()
    document = ForeignKey(Document, null=True, on_delete=OnDelete.set_null)
