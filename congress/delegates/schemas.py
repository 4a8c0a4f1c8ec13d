"""What goes in and out of the delegates API."""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import msgspec

from congress.schemas import Input, Name, RowId, ShortText

DelegateKind = Literal["official", "invited", "guest"]
Gender = Literal["male", "female", ""]
Code = Annotated[str, msgspec.Meta(min_length=1, max_length=16, pattern=r"^[\w.\-]+$")]
BirthYear = Annotated[int, msgspec.Meta(ge=1900, le=2100)]
CardNumber = Annotated[str, msgspec.Meta(max_length=32)]
PhotoName = Annotated[str, msgspec.Meta(max_length=200, pattern=r"^[^/\\]*$")]


class DelegationIn(Input):
    code: Code
    name: Name


class DelegationOut(msgspec.Struct):
    id: int
    code: str
    name: str
    ordinal: int
    delegates: int
    official: int
    invited: int
    guest: int


class DelegateIn(Input):
    full_name: Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
    kind: DelegateKind
    delegation_id: RowId | None = None
    unit: ShortText = ""
    position: ShortText = ""
    gender: Gender = ""
    birth_year: BirthYear | None = None
    card_number: CardNumber | None = None
    photo: PhotoName = ""


class DelegateOut(msgspec.Struct):
    id: int
    full_name: str
    kind: str
    delegation_id: int | None
    delegation: str
    unit: str
    position: str
    gender: str
    birth_year: int | None
    card_number: str | None
    photo: str
    updated_at: datetime.datetime


class DelegatePage(msgspec.Struct):
    total: int
    delegates: list[DelegateOut]


class ProblemOut(msgspec.Struct):
    code: str
    field: str | None
    value: str
    message: str


class PreviewRowOut(msgspec.Struct):
    line: int
    action: str  # create | update | unchanged | error
    full_name: str
    delegation: str
    kind: str | None
    card_number: str | None
    problems: list[ProblemOut]


class ImportPreviewOut(msgspec.Struct):
    token: str
    filename: str
    file_type: str
    encoding: str | None
    columns: dict[str, str]
    ignored_columns: list[str]
    file_problems: list[ProblemOut]
    rows: list[PreviewRowOut]
    counts: dict[str, int]
    unknown_delegations: list[str]
    can_apply: bool
    applied: bool


class ApplyImportIn(Input):
    create_delegations: bool = False


class ImportResultOut(msgspec.Struct):
    created: int
    updated: int
    unchanged: int
    delegations_created: int
