"""What goes in and out of the congress core's HTTP API."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import msgspec

CongressKind = Literal["congress", "meeting"]
SittingKind = Literal["preparatory", "plenary", "closing"]

Name = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
ShortText = Annotated[str, msgspec.Meta(max_length=300)]
LongName = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
RomanNumber = Annotated[str, msgspec.Meta(max_length=16, pattern=r"^[IVXLCDMivxlcdm]*$")]
Term = Annotated[str, msgspec.Meta(max_length=32)]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=24 * 60)]
# A row's id: the columns are 32-bit integers; a larger number would reach the database as
# an overflow (a 500), not as "not found".
RowId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]
Ids = Annotated[list[RowId], msgspec.Meta(max_length=1000)]


class Input(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Base of request bodies: unknown fields are refused, not ignored; so is a NUL
    character in any text, which PostgreSQL cannot store."""

    def __post_init__(self) -> None:
        for name in self.__struct_fields__:
            value = getattr(self, name)
            texts = value if isinstance(value, list) else [value]
            if any(isinstance(text, str) and "\x00" in text for text in texts):
                raise ValueError(f"`{name}` may not contain a NUL character")


# A query parameter's text, without the NUL character PostgreSQL cannot compare with.
NO_NUL = r"^[^\x00]*$"


class CongressIn(Input):
    name: Name
    kind: CongressKind = "congress"
    number: RomanNumber = ""
    term: Term = ""
    organizing_union: ShortText = ""
    venue: ShortText = ""
    starts_on: datetime.date | None = None
    ends_on: datetime.date | None = None


class CongressOut(msgspec.Struct):
    id: int
    kind: str
    name: str
    number: str
    term: str
    organizing_union: str
    venue: str
    starts_on: datetime.date | None
    ends_on: datetime.date | None
    title: str
    last_event_seq: int


class SittingIn(Input):
    title: Name
    kind: SittingKind = "plenary"
    starts_at: datetime.datetime | None = None
    location: ShortText = ""


class AgendaItemIn(Input):
    title: LongName
    presenter: ShortText = ""
    duration_minutes: Minutes | None = None


class AgendaItemOut(msgspec.Struct):
    id: int
    sitting_id: int
    title: str
    presenter: str
    duration_minutes: int | None
    ordinal: int


class SittingOut(msgspec.Struct):
    id: int
    title: str
    kind: str
    starts_at: datetime.datetime | None
    location: str
    ordinal: int
    agenda: list[AgendaItemOut]


class OrderIn(Input):
    ids: Ids


class EventOut(msgspec.Struct):
    seq: int
    type: str
    payload: dict[str, object]
    actor: str
    actor_name: str
    at: datetime.datetime
