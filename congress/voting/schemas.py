"""What goes in and out of the polls' HTTP API."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from congress.schemas import Input, Name, RowId, ShortText

PollKindIn = Literal["motion", "election"]
Method = Literal["phone", "paper", "phone_and_paper", "show_of_cards"]
Voters = Literal["official_present", "present", "official", "all"]
Base = Literal["collected", "valid", "present", "convened"]
Count = Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
OptionKey = Annotated[str, msgspec.Meta(min_length=1, max_length=16)]


class CandidateIn(Input):
    name: Name
    note: ShortText = ""
    delegate_id: RowId | None = None


class PollIn(Input):
    kind: PollKindIn
    title: Name
    method: Method = "phone"
    question: Annotated[str, msgspec.Meta(max_length=4000)] = ""
    sitting_id: RowId | None = None
    seats: Annotated[int, msgspec.Meta(ge=1, le=500)] = 1
    candidates: Annotated[list[CandidateIn], msgspec.Meta(max_length=500)] = []
    majority_base: Base = "collected"
    voters: Voters = "official_present"
    named: bool = False
    require_quorum: bool = True


class BallotIn(Input):
    choices: Annotated[list[OptionKey], msgspec.Meta(max_length=500)]
    # The phone's own random key for this ballot: sent again on a retry, it gets the same
    # receipt back instead of "already voted".
    retry_key: Annotated[str, msgspec.Meta(max_length=64, pattern=r"^[A-Za-z0-9_-]*$")] = ""
    # Spaces the phone adds so that every ballot of a poll has the same size on the wire.
    padding: Annotated[str, msgspec.Meta(max_length=16_384, pattern=r"^ *$")] = ""


class PaperCountsIn(Input):
    issued: Count
    collected: Count
    valid: Count
    invalid: Count
    votes: Annotated[dict[OptionKey, Count], msgspec.Meta(max_length=500)]


class ShowOfCardsIn(Input):
    unanimous: bool = False
    agree: Count = 0
    disagree: Count = 0
    abstain: Count = 0


class HandOutIn(Input):
    """A paper ballot handed to a delegate: by the card number or the delegate's id."""

    delegate_id: RowId | None = None
    card_number: Annotated[str, msgspec.Meta(max_length=32)] = ""


class Receipt(msgspec.Struct):
    poll_id: int
    receipt: str


class OptionOut(msgspec.Struct):
    key: str
    label: str
    note: str


class PollOut(msgspec.Struct):
    id: int
    kind: str
    method: str
    title: str
    question: str
    status: str
    seats: int
    majority_base: str
    voters: str
    named: bool
    require_quorum: bool
    sitting_id: int | None
    runoff_of: int | None
    options: list[OptionOut]
    voted: int
    eligible: int
    fingerprint: str
    result: dict[str, object] | None
    protocol_document_id: int | None
