"""What a screen is told to show (stored as JSON on the screen row) and what it is sent.

The state carries only what may be on a wall in a public hall: titles, the speaker's name
and time, counts, a poll's question, turnout and result, released papers. Never a ballot,
never who voted, never a delegate's personal data beyond the speaker's name and delegation.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

ContentKind = Literal[
    "title", "speaker", "attendance", "poll", "document", "announcement", "playlist"
]
CONTENT_KINDS: tuple[str, ...] = (
    "title",
    "speaker",
    "attendance",
    "poll",
    "document",
    "announcement",
    "playlist",
)
PageNumber = Annotated[int, msgspec.Meta(ge=1, le=10_000)]
ItemId = Annotated[int, msgspec.Meta(ge=1, le=2**31 - 1)]


class PlaylistItem(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """A picture of the rotating show: a released image, or one page of a released PDF."""

    document_id: ItemId
    page: PageNumber = 1


class ScreenContent(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """What one screen shows; the fields a kind does not use are ignored."""

    kind: ContentKind = "title"
    poll_id: ItemId | None = None  # poll: None means the latest opened
    document_id: ItemId | None = None  # document
    page: PageNumber = 1  # document
    announcement_mode: Literal["ticker", "full"] = "full"  # announcement
    playlist: Annotated[list[PlaylistItem], msgspec.Meta(max_length=200)] = []
    interval_seconds: Annotated[int, msgspec.Meta(ge=3, le=600)] = 10  # playlist
    # Under every other kind, the announcement (when there is one) runs along the bottom.
    ticker: bool = True


# --- what the screen is sent --------------------------------------------------------------


class TitleView(msgspec.Struct, tag_field="kind", tag="title"):
    congress: str
    organizing_union: str
    venue: str
    term: str
    sitting: str | None
    agenda_item: str | None
    presenter: str | None


class SpeakerView(msgspec.Struct, tag_field="kind", tag="speaker"):
    speaking: bool
    name: str = ""
    delegation: str = ""
    topic: str = ""
    allotted_ms: int = 0
    remaining_ms: int = 0  # at the state's ``now``; negative once over time
    running: bool = False
    next_name: str = ""
    next_delegation: str = ""


class AttendanceView(msgspec.Struct, tag_field="kind", tag="attendance"):
    sitting: str | None
    present: int = 0
    expected: int = 0
    required: int = 0
    reached: bool = False
    numerator: int = 2
    denominator: int = 3


class ResultLine(msgspec.Struct):
    label: str
    note: str
    votes: int
    elected: bool
    tied: bool


class PollResultView(msgspec.Struct):
    base: int
    base_label: str
    collected: int
    valid: int
    invalid: int
    seats: int
    passed: bool | None
    lines: list[ResultLine]
    tied: bool


class PollView(msgspec.Struct, tag_field="kind", tag="poll"):
    found: bool
    poll_id: int | None = None
    poll_kind: str = ""  # motion | election
    title: str = ""
    question: str = ""
    status: str = ""  # draft | open | closed | published
    voted: int | None = None  # only while open: how many of the eligible voted, no breakdown
    eligible: int | None = None
    counting: bool = False  # closed, the paper counts still awaited
    result: PollResultView | None = None


class Picture(msgspec.Struct):
    url: str
    title: str


class DocumentView(msgspec.Struct, tag_field="kind", tag="document"):
    found: bool
    title: str = ""
    page: int = 1
    page_count: int | None = None
    url: str = ""


class AnnouncementView(msgspec.Struct, tag_field="kind", tag="announcement"):
    text: str
    mode: str


class PlaylistView(msgspec.Struct, tag_field="kind", tag="playlist"):
    pictures: list[Picture]
    interval_ms: int


View = (
    TitleView
    | SpeakerView
    | AttendanceView
    | PollView
    | DocumentView
    | AnnouncementView
    | PlaylistView
)


class ScreenState(msgspec.Struct):
    """Everything a screen needs to draw itself, as of event ``seq`` of its congress."""

    seq: int
    now: int  # the server's clock, ms since the epoch: the page's clock and count-down
    timezone: str
    congress: str
    sitting: str | None
    agenda_item: str | None
    announcement: str
    ticker: bool
    view: View


class ScreenIn(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(max_length=200)]
