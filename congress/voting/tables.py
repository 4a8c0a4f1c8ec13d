"""Tables of the congress's polls.

Who voted (PollParticipation) and what was voted (PollBallot) are kept apart: no shared key,
no time, no sequential id, and the ballots are rewritten in receipt order when the poll
closes, so that not even the row order links one to the other.
"""

from __future__ import annotations

from piccolo.columns import (
    UUID,
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
from piccolo.columns.defaults.uuid import UUID4
from piccolo.table import Table

from congress.tables import Account, Congress, Delegate, Sitting


class Poll(Table, tablename="poll"):
    """A motion or an election put to the vote, with its rules and its life."""

    id = Serial(primary_key=True)
    congress = ForeignKey(Congress, on_delete=OnDelete.cascade, index=True)
    sitting = ForeignKey(Sitting, on_delete=OnDelete.set_null, null=True, default=None)
    kind = Varchar(length=16)  # motion | election
    method = Varchar(length=16)  # phone | paper | phone_and_paper | show_of_cards
    title = Varchar(length=300)
    question = Text(default="")
    seats = SmallInt(default=1)
    majority_base = Varchar(length=16, default="collected")  # collected|valid|present|convened
    voters = Varchar(length=24, default="official_present")  # see voting.services.VOTERS
    named = Boolean(default=False)
    require_quorum = Boolean(default=True)
    status = Varchar(length=16, default="draft")  # draft | open | closed | published
    runoff_of = Integer(null=True, default=None)
    created_at = Timestamptz()
    opened_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    published_at = Timestamptz(null=True, default=None)
    # Counted at close (present, convened, eligible) and at each checkpoint (voted).
    eligible = Integer(default=0)
    present = Integer(default=0)
    convened = Integer(default=0)
    voted = Integer(default=0)
    # Paper counts (or a show of cards) once they stand, as JSON (voting.rules.PaperCounts).
    paper_counts = Text(default="")
    result = Text(default="")  # voting.rules.Result as JSON, at close
    chain_head = Varchar(length=64, default="")
    protocol_document = Integer(null=True, default=None)


class PollOption(Table, tablename="poll_option"):
    """A choice on the ballot: agree / disagree / no opinion, or a candidate."""

    id = Serial(primary_key=True)
    poll = ForeignKey(Poll, on_delete=OnDelete.cascade, index=True)
    position = SmallInt()
    key = Varchar(length=16)  # agree | disagree | abstain | c1, c2, ...
    label = Varchar(length=300)
    note = Varchar(length=300, default="")  # a candidate's position and union
    delegate = ForeignKey(Delegate, on_delete=OnDelete.set_null, null=True, default=None)


class PollParticipation(Table, tablename="poll_participation"):
    """That a delegate voted in a poll (by phone, or was handed a paper ballot); not how.

    A random id, like the ballots': a sequential one would tell the order of voting. The rows
    are rewritten in delegate order when the poll closes."""

    id = UUID(primary_key=True, default=UUID4())
    poll = ForeignKey(Poll, on_delete=OnDelete.cascade)
    delegate = ForeignKey(Delegate, on_delete=OnDelete.cascade, index=True)
    method = Varchar(length=8)  # phone | paper


class PollBallot(Table, tablename="poll_ballot"):
    """An e-ballot: what was chosen and its receipt. A random id, no time, no voter
    (except in a named poll, where the poll says who voted what)."""

    id = UUID(primary_key=True, default=UUID4())  # random (version 4), never sequential
    poll = ForeignKey(Poll, on_delete=OnDelete.cascade, index=True)
    choices = Text()  # JSON list of option keys
    receipt = Varchar(length=16)
    # A hash of the phone's own key for this ballot: a retry gets the same receipt.
    # Emptied when the poll closes.
    retry_key = Varchar(length=64, default="")
    delegate = ForeignKey(Delegate, on_delete=OnDelete.set_null, null=True, default=None)


class PollPaperEntry(Table, tablename="poll_paper_entry"):
    """One tally committee member's entry of the paper counts; two must agree."""

    id = Serial(primary_key=True)
    poll = ForeignKey(Poll, on_delete=OnDelete.cascade, index=True)
    entry = SmallInt()  # 1 | 2
    account = ForeignKey(Account, on_delete=OnDelete.set_null, null=True, default=None)
    counts = Text()  # voting.rules.PaperCounts as JSON
    entered_at = Timestamptz()


class PollChainLink(Table, tablename="poll_chain"):
    """One link of a poll's hash chain (see voting.chain)."""

    id = Serial(primary_key=True)
    poll = ForeignKey(Poll, on_delete=OnDelete.cascade, index=True)
    position = Integer()
    kind = Varchar(length=16)
    payload = Text()  # canonical JSON
    digest = Varchar(length=64)
