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
