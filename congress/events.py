"""Events of the congress core. Each is sent by one service function, named in its docstring."""

from __future__ import annotations

from congress.eventlog import Event


class CongressCreated(Event, frozen=True):
    """An organizer created a congress or a meeting. Sent by services.create_congress."""

    congress_id: int


class CongressUpdated(Event, frozen=True):
    """An organizer changed the congress's name, number, venue or dates.

    Sent by services.update_congress; ``fields`` names what changed.
    """

    congress_id: int
    fields: list[str]


class SittingAdded(Event, frozen=True):
    """A sitting was added to the congress. Sent by services.add_sitting."""

    sitting_id: int


class SittingUpdated(Event, frozen=True):
    """A sitting's title, kind, time or place changed. Sent by services.update_sitting."""

    sitting_id: int
    fields: list[str]


class SittingRemoved(Event, frozen=True):
    """A sitting and its agenda were removed. Sent by services.remove_sitting."""

    sitting_id: int


class SittingsReordered(Event, frozen=True):
    """The sittings were put in a new order. Sent by services.reorder_sittings."""

    sitting_ids: list[int]


class AgendaItemAdded(Event, frozen=True):
    """An item was added to a sitting's agenda. Sent by services.add_agenda_item."""

    agenda_item_id: int
    sitting_id: int


class AgendaItemUpdated(Event, frozen=True):
    """An agenda item's title, presenter or duration changed.

    Sent by services.update_agenda_item.
    """

    agenda_item_id: int
    sitting_id: int
    fields: list[str]


class AgendaItemRemoved(Event, frozen=True):
    """An agenda item was removed. Sent by services.remove_agenda_item."""

    agenda_item_id: int
    sitting_id: int


class AgendaReordered(Event, frozen=True):
    """A sitting's agenda was put in a new order. Sent by services.reorder_agenda."""

    sitting_id: int
    agenda_item_ids: list[int]


class DelegationAdded(Event, frozen=True):
    """A delegation was added, by hand or by an import.

    Sent by delegates.services.add_delegation.
    """

    delegation_id: int


class DelegationUpdated(Event, frozen=True):
    """A delegation's code or name changed. Sent by delegates.services.update_delegation."""

    delegation_id: int
    fields: list[str]


class DelegateAdded(Event, frozen=True):
    """An organizer added one delegate by hand. Sent by delegates.services.add_delegate."""

    delegate_id: int


class DelegateUpdated(Event, frozen=True):
    """An organizer edited a delegate. Sent by delegates.services.update_delegate."""

    delegate_id: int
    fields: list[str]


class DelegatesImported(Event, frozen=True):
    """A delegate spreadsheet was imported, all rows at once.

    Sent by delegates.services.apply_import with the counts; one event for the whole file,
    never one per row.
    """

    import_id: int
    created: int
    updated: int
    unchanged: int
    delegations_created: int


class AccountCreated(Event, frozen=True):
    """An organizer account was created (outside any congress).

    Sent by accounts.create_account, from the console, the CLI or the demo.
    """

    account_id: int
    roles: list[str]


class AccountUpdated(Event, frozen=True):
    """An account's name, roles, password or active flag changed.

    Sent by accounts.update_account and accounts.set_password; ``fields`` names what
    changed, never the password itself.
    """

    account_id: int
    fields: list[str]
