"""The event log and the bus: every state change appends an event in its own transaction.

A service does its work inside ``async with Change(congress_id, actor) as change:`` and
calls ``await change.record(SomethingHappened(...))``. The event row is written in the
same transaction as the change, with the next sequence number of the congress; only after
the commit are the recorded events published to live subscribers, carrying ids, not rows.
A change that fails leaves neither its rows nor its events.
"""

from __future__ import annotations

import contextvars
import datetime
import logging
from collections.abc import Sequence
from types import TracebackType
from typing import Any, ClassVar, Protocol

import msgspec

from congress.database import query, write_transaction
from congress.tables import Event as EventRow

log = logging.getLogger(__name__)


class Event(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every domain event; the type name is the class name."""

    registry: ClassVar[dict[str, type[Event]]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if cls.__name__ in Event.registry:
            raise TypeError(f"two events are called {cls.__name__}")
        Event.registry[cls.__name__] = cls

    @classmethod
    def type_name(cls) -> str:
        return cls.__name__


class Actor(msgspec.Struct, frozen=True):
    """Who made a change: an organizer account, a device, a delegate, or the system."""

    kind: str  # account | device | delegate | system
    id: int | None = None
    name: str = ""

    @property
    def label(self) -> str:
        return self.kind if self.id is None else f"{self.kind}:{self.id}"


SYSTEM = Actor(kind="system", name="system")


class RecordedEvent(msgspec.Struct, frozen=True):
    """An event as stored and as published: the envelope around the payload."""

    congress: int | None
    seq: int
    type: str
    payload: dict[str, Any]
    actor: str
    actor_name: str
    at: datetime.datetime


class EventBus(Protocol):
    """Where committed events go: Litestar Channels in the app, a list in tests."""

    def publish(self, events: Sequence[RecordedEvent]) -> None: ...


class NullEventBus:
    """Used outside the web app (CLI commands): nobody is listening in this process."""

    def publish(self, events: Sequence[RecordedEvent]) -> None:
        return None


class RecordingEventBus:
    """The test double: keeps what was published."""

    def __init__(self) -> None:
        self.published: list[RecordedEvent] = []

    def publish(self, events: Sequence[RecordedEvent]) -> None:
        self.published.extend(events)


_bus: EventBus = NullEventBus()


def use_event_bus(bus: EventBus) -> EventBus:
    """Install the bus that committed events go to; returns the previous one."""
    global _bus
    previous, _bus = _bus, bus
    return previous


def congress_channel(congress_id: int) -> str:
    return f"congress:{congress_id}"


_current: contextvars.ContextVar[Change | None] = contextvars.ContextVar(
    "current_change", default=None
)


class Change:
    """One state change: a write transaction plus the events it records.

    A Change opened inside another one (a service calling another service) joins it: one
    transaction, and the events are published once, when the outermost one commits.
    """

    def __init__(self, congress_id: int | None, actor: Actor) -> None:
        self.congress_id = congress_id
        self.actor = actor
        self.events: list[RecordedEvent] = []
        self._transaction: Any = None
        self._outer: Change | None = None
        self._token: contextvars.Token[Change | None] | None = None

    async def __aenter__(self) -> Change:
        self._outer = _current.get()
        if self._outer is not None:
            self.events = self._outer.events
            return self
        self._transaction = write_transaction()
        await self._transaction.__aenter__()
        self._token = _current.set(self)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._outer is not None:
            return
        assert self._token is not None
        _current.reset(self._token)
        await self._transaction.__aexit__(exc_type, exc, traceback)
        if exc_type is None and self.events:
            try:
                _bus.publish(self.events)
            except Exception:
                # The change is committed and logged; a live feed that missed it catches
                # up from the log by sequence number.
                log.exception("publishing events failed")

    async def record(self, event: Event) -> RecordedEvent:
        now = datetime.datetime.now(datetime.UTC)
        seq = await self._next_seq()
        payload = msgspec.to_builtins(event)
        type_name = event.type_name()
        # Plain SQL: a door's scan records an event each time, and building the statement
        # with Piccolo cost more than running it.
        await query(
            "INSERT INTO event (congress, seq, type, payload, actor, actor_name, created_at)"
            " VALUES ({}, {}, {}, {}, {}, {}, {})",
            self.congress_id,
            seq,
            type_name,
            msgspec.json.encode(payload).decode(),
            self.actor.label,
            self.actor.name,
            now,
        )
        recorded = RecordedEvent(
            congress=self.congress_id,
            seq=seq,
            type=type_name,
            payload=payload,
            actor=self.actor.label,
            actor_name=self.actor.name,
            at=now,
        )
        self.events.append(recorded)
        return recorded

    async def _next_seq(self) -> int:
        if self.congress_id is None:
            return 0
        # The row lock on the congress (PostgreSQL) or the write lock (SQLite) makes the
        # sequence gapless: a second writer waits here until the first one commits.
        rows = await query(
            "UPDATE congress SET last_event_seq = last_event_seq + 1 WHERE id = {}"
            " RETURNING last_event_seq",
            self.congress_id,
        )
        if not rows:
            raise LookupError(f"congress {self.congress_id} does not exist")
        return int(rows[0]["last_event_seq"])


def row_to_recorded(row: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        congress=row["congress"],
        seq=row["seq"],
        type=row["type"],
        payload=msgspec.json.decode(row["payload"]),
        actor=row["actor"],
        actor_name=row["actor_name"],
        at=row["created_at"],
    )


async def events_of(
    congress_id: int,
    *,
    after_seq: int = 0,
    types: Sequence[str] = (),
    limit: int = 200,
    newest_first: bool = False,
) -> list[RecordedEvent]:
    query = EventRow.select().where((EventRow.congress == congress_id) & (EventRow.seq > after_seq))
    if types:
        query = query.where(EventRow.type.is_in(list(types)))
    order = EventRow.seq
    query = query.order_by(order, ascending=not newest_first).limit(limit)
    return [row_to_recorded(row) for row in await query]
