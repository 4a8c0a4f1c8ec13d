"""Events of the polls. None of them is sent per ballot: a ballot is never an event."""

from __future__ import annotations

from congress.eventlog import Event


class PollCreated(Event, frozen=True):
    """The presidium drafted a poll (or a runoff). Sent by voting.services.create_poll and
    voting.services.create_runoff."""

    poll_id: int
    runoff_of: int | None = None


class PollRemoved(Event, frozen=True):
    """A draft poll was removed. Sent by voting.services.remove_poll."""

    poll_id: int


class PollOpened(Event, frozen=True):
    """Voting began. Sent by voting.services.open_poll."""

    poll_id: int
    eligible: int


class PollTurnout(Event, frozen=True):
    """How many have voted so far, at a fixed interval while the poll is open, and only when
    it changed. Sent by voting.services.checkpoint_poll."""

    poll_id: int
    voted: int
    eligible: int


class PaperCountsEntered(Event, frozen=True):
    """A tally committee member entered the paper counts; ``agreed`` says whether both
    entries now match (None while the other is missing). Sent by
    voting.services.enter_paper_counts."""

    poll_id: int
    entry: int
    agreed: bool | None


class ShowOfCardsCounted(Event, frozen=True):
    """The presidium entered the counts of a show of cards. Sent by
    voting.services.count_show_of_cards."""

    poll_id: int
    unanimous: bool


class PollClosed(Event, frozen=True):
    """Voting ended; ``has_result`` is false while paper counts are still awaited. Sent by
    voting.services.close_poll."""

    poll_id: int
    has_result: bool


class PollResultReady(Event, frozen=True):
    """The result of a closed poll was computed. Sent by voting.services.close_poll, or by
    voting.services.enter_paper_counts and count_show_of_cards when the counts came last."""

    poll_id: int
    fingerprint: str


class PollPublished(Event, frozen=True):
    """The presidium announced the result: it and the receipt list become public. Sent by
    voting.services.publish_poll."""

    poll_id: int
