"""What goes in and out of the archive's HTTP API."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import msgspec

from congress.schemas import Input, RowId

Category = Literal[
    "political_report",
    "executive_report",
    "inspection_report",
    "draft_resolution",
    "speech",
    "minutes",
    "tally_protocol",
    "attendance_report",
    "other",
]
Access = Literal["public", "delegates", "organizers", "confidential"]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]


class DocumentIn(Input):
    title: Title
    category: Category = "other"
    access: Access = "organizers"
    sitting_id: RowId | None = None
    agenda_item_id: RowId | None = None


class VersionOut(msgspec.Struct):
    number: int
    sha256: str
    size: int
    media_type: str
    filename: str
    page_count: int | None
    uploaded_by: str
    uploaded_at: datetime.datetime
    released_at: datetime.datetime | None


class DocumentOut(msgspec.Struct):
    id: int
    title: str
    category: str
    access: str
    sitting_id: int | None
    agenda_item_id: int | None
    latest_version: int
    released_version: int | None
    updated_at: datetime.datetime
    versions: list[VersionOut]


class UploadedOut(msgspec.Struct):
    document_id: int
    version: int


class SearchHitOut(msgspec.Struct):
    document_id: int
    version: int
    title: str
    category: str
    access: str
    snippet: str  # plain text; matches are the parts between « and »


class SearchOut(msgspec.Struct):
    total: int
    hits: list[SearchHitOut]
