"""Events of the hall's screens and of what the congress is doing now. Each names its sender."""

from __future__ import annotations

from congress.eventlog import Event


class ScreenRegistered(Event, frozen=True):
    """An administrator registered a screen and was shown its address once.

    Sent by livestream.screens.services.register_screen.
    """

    screen_id: int
    name: str


class ScreenKeyRenewed(Event, frozen=True):
    """A screen got a new address; the old one stops at once.

    Sent by livestream.screens.services.renew_screen_key.
    """

    screen_id: int


class ScreenRevoked(Event, frozen=True):
    """A screen's address was withdrawn: its page goes blank and its feed closes.

    Sent by livestream.screens.services.revoke_screen.
    """

    screen_id: int


class ScreenContentSet(Event, frozen=True):
    """The presidium chose what a screen shows (``kind`` is the content kind).

    Sent by livestream.screens.services.set_screen_content.
    """

    screen_id: int
    kind: str


class CurrentItemSet(Event, frozen=True):
    """The presidium set the sitting and the agenda item under way.

    Sent by livestream.screens.services.set_current_item.
    """

    sitting_id: int | None
    agenda_item_id: int | None


class AnnouncementSet(Event, frozen=True):
    """The presidium put up an announcement, or took it down (``cleared``).

    Sent by livestream.screens.services.set_announcement.
    """

    cleared: bool
