"""Events of the speakers' list. They carry ids; what a screen or a page shows is read again
from the speaker rows (the time left from `allotted_seconds`, `elapsed_ms` and
`timer_started_at`)."""

from __future__ import annotations

from congress.eventlog import Event


class SpeakerRequested(Event, frozen=True):
    """A delegate asked to speak from their phone. Sent by
    livestream.speakers.services.request_to_speak."""

    speaker_id: int
    sitting_id: int
    delegate_id: int


class SpeakerAdded(Event, frozen=True):
    """The secretariat put a speaker on the list, at the end of the queue. Sent by
    livestream.speakers.services.add_speaker."""

    speaker_id: int
    sitting_id: int
    delegate_id: int | None
    document_id: int | None


class SpeakerQueued(Event, frozen=True):
    """The presidium accepted a request into the queue, at `position`. Sent by
    livestream.speakers.services.queue_speaker."""

    speaker_id: int
    sitting_id: int
    position: int


class SpeakersReordered(Event, frozen=True):
    """The presidium changed the order of the queue; `speaker_ids` in the new order. Sent by
    livestream.speakers.services.reorder_speakers."""

    sitting_id: int
    speaker_ids: list[int]


class SpeakerCalled(Event, frozen=True):
    """The presidium called a speaker to the rostrum; the one speaking before
    (`previous_id`), if any, is done. Sent by livestream.speakers.services.call_speaker."""

    speaker_id: int
    sitting_id: int
    previous_id: int | None = None


class SpeakerTimerStarted(Event, frozen=True):
    """The speaker's time runs, from `elapsed_ms` already used (more than 0 on a resume).
    Sent by livestream.speakers.services.start_timer."""

    speaker_id: int
    elapsed_ms: int
    allotted_seconds: int


class SpeakerTimerPaused(Event, frozen=True):
    """The speaker's time stands still at `elapsed_ms`. Sent by
    livestream.speakers.services.pause_timer."""

    speaker_id: int
    elapsed_ms: int


class SpeakerTimerStopped(Event, frozen=True):
    """The speaker finished: the turn is over (done) after `elapsed_ms`. Sent by
    livestream.speakers.services.stop_speaker."""

    speaker_id: int
    elapsed_ms: int


class SpeakerTimeExtended(Event, frozen=True):
    """The presidium gave the speaker more time. Sent by
    livestream.speakers.services.extend_time."""

    speaker_id: int
    added_seconds: int
    allotted_seconds: int


class SpeakerWithdrawn(Event, frozen=True):
    """A request or a queued speaker was taken off the list, by the delegate from the phone
    (`by_delegate`) or by the presidium. Sent by livestream.speakers.services.withdraw_speaker."""

    speaker_id: int
    sitting_id: int
    by_delegate: bool = False
