"""Events of the stream links. Each names the service that sends it."""

from __future__ import annotations

from congress.eventlog import Event


class StreamLinkSet(Event, frozen=True):
    """A sitting's stream link was set or changed (its address, kind or visibility).

    Sent by livestream.public.services.set_stream_link; the public live page shows the new
    player when the sitting is the current one and the link is public.
    """

    sitting_id: int
    kind: str
    public: bool


class StreamLinkRemoved(Event, frozen=True):
    """A sitting's stream link was removed.

    Sent by livestream.public.services.remove_stream_link.
    """

    sitting_id: int
