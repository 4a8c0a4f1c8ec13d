"""What goes in and out of the stream links' API and the public live page's feeds.

The public structs carry only what is public: titles of sittings and agenda items, papers
released to the public, and the results the presidium announced. No turnout, no ballot, no
delegate beyond the names a published election result holds.
"""

from __future__ import annotations

import datetime
from typing import Annotated, Literal

import msgspec

from congress.schemas import Input

StreamKind = Literal["facebook", "youtube", "hls"]
StreamUrl = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
EntryKind = Literal["sitting", "agenda_item", "document", "result"]


class StreamLinkIn(Input):
    url: StreamUrl
    public: bool = True


class StreamLinkOut(msgspec.Struct):
    sitting_id: int
    url: str
    kind: str
    embed_url: str
    public: bool


class Stream(msgspec.Struct, frozen=True):
    """A stream address checked and understood: what kind it is and how to embed it."""

    kind: StreamKind
    url: str
    embed_url: str  # the iframe's src; for HLS the playlist itself


class PublicOutcome(msgspec.Struct):
    label: str
    votes: int
    elected: bool  # a motion: the agree line of a motion that passed


class PublicResult(msgspec.Struct):
    poll_id: int
    kind: str  # motion | election
    title: str
    passed: bool | None  # a motion
    elected: list[str]  # an election, in order of votes
    tied: list[str]  # an election: tied for the seats left
    seats: int
    ballots_collected: int
    ballots_valid: int
    ballots_invalid: int
    outcomes: list[PublicOutcome]
    published_at: datetime.datetime | None


class TimelineEntry(msgspec.Struct):
    seq: int
    at: datetime.datetime
    kind: EntryKind
    label: str  # what happened, in the reader's language
    title: str  # of the sitting, agenda item, paper or poll
    summary: str = ""  # a result in words
    url: str | None = None  # a public paper
    result: PublicResult | None = None


class Timeline(msgspec.Struct):
    congress_id: int
    title: str
    entries: list[TimelineEntry]


class PublicNow(msgspec.Struct):
    """What is on now: the sitting, the agenda item, and the sitting's public stream."""

    sitting: str | None
    agenda_item: str | None
    stream: Stream | None


class PublicDocument(msgspec.Struct):
    id: int
    title: str
    category: str  # its label, in the reader's language
    url: str


class FeedMessage(msgspec.Struct, omit_defaults=True):
    """What the public socket sends for one event: the parts of the page it changes."""

    seq: int
    entry: TimelineEntry | None = None
    now: PublicNow | None = None
    documents: list[PublicDocument] | None = None
