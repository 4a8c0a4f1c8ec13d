"""What goes in and out of the speakers' list over HTTP."""

from __future__ import annotations

import datetime
from typing import Annotated

import msgspec

from congress.schemas import Ids, Input, ShortText

Topic = Annotated[str, msgspec.Meta(max_length=500)]
# From half a minute to an hour; the column is a SmallInt.
AllottedSeconds = Annotated[int, msgspec.Meta(ge=30, le=3600)]
AddedSeconds = Annotated[int, msgspec.Meta(ge=1, le=1800)]
RowId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class SpeakerIn(Input):
    """A speaker added by the secretariat: a delegate (by id or card number), or a free name
    and delegation for someone who is not a delegate (a guest, a minister)."""

    delegate_id: RowId | None = None
    card_number: Annotated[str, msgspec.Meta(max_length=32)] = ""
    name: ShortText = ""
    delegation: ShortText = ""
    topic: Topic = ""
    document_id: RowId | None = None  # the written speech in the archive
    allotted_seconds: AllottedSeconds = 300
    sitting_id: RowId | None = None  # None: the sitting under way


class RequestIn(Input):
    """A delegate's request to speak, from the phone."""

    topic: Topic = ""


class OrderIn(Input):
    """The queued speakers of one sitting, in their new order: every one exactly once."""

    ids: Ids


class CallIn(Input):
    """Call the first in the queue of this sitting (None: the sitting under way)."""

    sitting_id: RowId | None = None


class ExtendIn(Input):
    seconds: AddedSeconds = 60


class SpeakerOut(msgspec.Struct):
    id: int
    sitting_id: int
    delegate_id: int | None
    name: str
    delegation: str
    topic: str
    document_id: int | None
    source: str  # phone | secretariat
    status: str  # requested | queued | speaking | done | withdrawn
    position: int
    allotted_seconds: int
    elapsed_ms: int  # used so far, the running stretch included
    running: bool
    time_left_ms: int  # at the moment of the answer; below 0 when over time
    requested_at: datetime.datetime


class MyRequest(msgspec.Struct):
    """The delegate's own place on the list, as the phone shows it."""

    id: int
    status: str
    topic: str
    place: int | None  # 1 = next; None while the presidium has not queued the request


class PhoneSpeakers(msgspec.Struct):
    """The phone's part: the sitting, the delegate's open request, who speaks now."""

    sitting_id: int | None
    sitting_title: str
    mine: MyRequest | None
    speaking_now: str  # the name of the speaker at the rostrum, or ""
    queued: int  # how many wait in the queue
