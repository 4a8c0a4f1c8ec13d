"""Events of delegate credentials. Each names the service that sends it."""

from __future__ import annotations

from congress.eventlog import Event


class CardIssued(Event, frozen=True):
    """A delegate was given a card: a new token; ``replaced`` when an earlier card exists.

    Sent by checkin.credentials.issue_cards (printing cards, or reissuing a lost one). The
    earlier card then answers "this card was replaced".
    """

    delegate_id: int
    version: int
    replaced: bool


class CardRevoked(Event, frozen=True):
    """A delegate's card was withdrawn without a new one.

    Sent by checkin.credentials.revoke_card.
    """

    delegate_id: int


class CardImageSaved(Event, frozen=True):
    """The union's logo or a delegate's photo for the cards was uploaded.

    Sent by checkin.assets.save_asset; ``name`` is the photo's file name ("logo" for the logo).
    """

    kind: str
    name: str


class DeviceRegistered(Event, frozen=True):
    """An organizer registered a check-in tablet and got its one-time pairing code.

    Sent by checkin.devices.register_device (also when a new code is made for it).
    """

    device_id: int
    name: str


class DevicePaired(Event, frozen=True):
    """A tablet opened its pairing code and became that device.

    Sent by checkin.devices.pair.
    """

    device_id: int


class DeviceRevoked(Event, frozen=True):
    """A tablet was revoked and stops at once. Sent by checkin.devices.revoke_device."""

    device_id: int


class DelegateCheckedIn(Event, frozen=True):
    """A delegate was marked present for a sitting (a card scan, a name, or the console).

    Sent by checkin.attendance.check_in; ``present`` is the sitting's count of official
    delegates present after this check-in, so live counters need no query.
    """

    delegate_id: int
    sitting_id: int
    device_id: int | None
    method: str
    present: int


class CheckInUndone(Event, frozen=True):
    """An organizer took a check-in back, saying why.

    Sent by checkin.attendance.undo_check_in.
    """

    delegate_id: int
    sitting_id: int
    reason: str
    present: int
