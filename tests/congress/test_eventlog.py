"""The event log: written with its change, numbered without gaps, published after commit."""

from __future__ import annotations

import ast
import functools
import importlib
from pathlib import Path

import pytest

from congress import services
from congress.errors import InvalidInput
from congress.eventlog import SYSTEM, Change, Event, RecordingEventBus, events_of
from congress.events import SittingAdded
from congress.schemas import SittingIn
from congress.tables import Sitting

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("congress", "checkin", "documents", "livestream")

# Every module that declares events, imported here so that the registry is complete however
# this file is run (alone, or after the modules the other tests import).
for _module in sorted(ROOT.glob("*/**/events.py")):
    if _module.relative_to(ROOT).parts[0] in PACKAGES:
        importlib.import_module(".".join(_module.relative_to(ROOT).with_suffix("").parts))


async def test_a_change_writes_its_event_in_order(make_congress, bus: RecordingEventBus) -> None:
    congress_id = await make_congress()
    first = await services.add_sitting(congress_id, SittingIn(title="Phiên trù bị"), SYSTEM)
    second = await services.add_sitting(congress_id, SittingIn(title="Phiên chính thức"), SYSTEM)

    logged = await events_of(congress_id)
    assert [e.type for e in logged] == ["CongressCreated", "SittingAdded", "SittingAdded"]
    assert [e.seq for e in logged] == [1, 2, 3]
    assert [e.payload for e in logged[1:]] == [{"sitting_id": first}, {"sitting_id": second}]
    assert [e.seq for e in bus.published] == [1, 2, 3]


async def test_a_failed_change_leaves_no_row_and_no_event(
    make_congress, bus: RecordingEventBus
) -> None:
    congress_id = await make_congress()
    bus.published.clear()

    async def fail_midway() -> None:
        async with Change(congress_id, SYSTEM) as change:
            await Sitting.insert(Sitting(congress=congress_id, title="Phiên sẽ mất"))
            await change.record(SittingAdded(sitting_id=0))
            raise RuntimeError("the disk is full")

    with pytest.raises(RuntimeError):
        await fail_midway()

    assert await Sitting.count().where(Sitting.congress == congress_id) == 0
    assert [e.type for e in await events_of(congress_id)] == ["CongressCreated"]
    assert bus.published == []
    # The sequence number was not used up: the next event follows without a gap.
    await services.add_sitting(congress_id, SittingIn(title="Phiên trù bị"), SYSTEM)
    assert [e.seq for e in await events_of(congress_id)] == [1, 2]


async def test_a_refused_change_publishes_nothing(make_congress, bus: RecordingEventBus) -> None:
    congress_id = await make_congress()
    bus.published.clear()
    with pytest.raises(InvalidInput):
        await services.reorder_sittings(congress_id, [12345], SYSTEM)
    assert bus.published == []
    assert len(await events_of(congress_id)) == 1


async def test_events_are_published_only_after_commit(make_congress) -> None:
    congress_id = await make_congress()
    seen_inside: list[int] = []

    class WatchingBus(RecordingEventBus):
        def publish(self, events):  # type: ignore[no-untyped-def]
            seen_inside.append(len(events))
            super().publish(events)

    from congress.eventlog import use_event_bus

    watching = WatchingBus()
    previous = use_event_bus(watching)
    try:
        async with Change(congress_id, SYSTEM) as change:
            await change.record(SittingAdded(sitting_id=1))
            await change.record(SittingAdded(sitting_id=2))
            assert seen_inside == []
    finally:
        use_event_bus(previous)
    assert seen_inside == [2]


async def test_sequences_are_per_congress(make_congress) -> None:
    a = await make_congress()
    b = await make_congress()
    await services.add_sitting(a, SittingIn(title="A"), SYSTEM)
    await services.add_sitting(b, SittingIn(title="B"), SYSTEM)
    assert [e.seq for e in await events_of(a)] == [1, 2]
    assert [e.seq for e in await events_of(b)] == [1, 2]


async def test_the_log_filters_by_type_through_the_api(admin, make_congress) -> None:
    congress_id = await make_congress()
    await admin.post(f"/api/congresses/{congress_id}/sittings", json={"title": "Phiên bế mạc"})
    response = await admin.get(f"/api/congresses/{congress_id}/events?type=SittingAdded")
    assert response.status_code == 200
    body = response.json()
    assert [e["type"] for e in body] == ["SittingAdded"]
    assert body[0]["actor_name"].startswith("Test admin")


@functools.cache
def _constructed_names() -> frozenset[str]:
    """Names called anywhere in the packages' code, outside events.py (read once per run)."""
    called: set[str] = set()
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if path.name == "events.py" or "piccolo_migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text())):
                if isinstance(node, ast.Call):
                    func = node.func
                    name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                    called.add(name)
    return frozenset(called)


@pytest.mark.parametrize("name", sorted(Event.registry))
def test_every_event_is_documented_and_has_a_sender(name: str) -> None:
    event = Event.registry[name]
    assert event.__doc__, f"{name} needs a docstring"
    assert "Sent by" in event.__doc__, f"{name}'s docstring must name its sender"
    assert name in _constructed_names(), f"no code sends {name}"


async def test_reordering_the_sittings_of_no_congress_is_not_found(admin) -> None:
    # Found by tests/congress/test_api_fuzz.py: an empty order of a missing congress was a
    # permutation of its no sittings, and the event it recorded had no congress (a 500).
    response = await admin.put(f"/api/congresses/{2**31 - 2}/sittings/order", json={"ids": []})
    assert response.status_code == 404
    assert response.json()["code"] == "congress_not_found"
