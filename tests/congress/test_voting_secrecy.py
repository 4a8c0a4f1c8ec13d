"""What the database and the server's log keep of a secret poll, read the way someone with a
copy of the database would: raw SQL, no ORDER BY, the physical row order.

The ballot table names no delegate and holds no time; its ids are random; after the close
its rows lie in receipt order, not in voting order; retry keys are gone; no event is written
per ballot; the chain seals counts and digests only; the log has no receipt and no choice.
"""

from __future__ import annotations

import hashlib
import itertools
import random
import re
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from congress import database
from congress.auth import SESSION_COOKIE
from congress.eventlog import SYSTEM
from congress.voting import chain, services
from congress.voting.schemas import BallotIn
from tests.conftest import CSRF_COOKIE, ENGINE, LiveServer
from tests.congress.test_voting_concurrency import open_motion
from tests.congress.voting_fixtures import make_assembly

VOTERS = 30
CHOICES = ("agree", "disagree", "abstain")
TIME_TYPES = re.compile(r"time|date|interval", re.IGNORECASE)
HEX_DIGEST = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
async def hall(make_congress: Any) -> dict[str, Any]:
    assembly = await make_assembly(await make_congress(), officials=VOTERS, invited=0)
    return {**assembly, "poll": await open_motion(assembly)}


async def events_of_congress(congress_id: int) -> int:
    rows = await database.query("SELECT COUNT(*) AS n FROM event WHERE congress = {}", congress_id)
    return int(rows[0]["n"])


async def ballot_columns() -> dict[str, str]:
    """Column name -> declared type of poll_ballot, from the database's own catalogue."""
    if ENGINE == "sqlite":
        rows = await database.query("PRAGMA table_info(poll_ballot)")
        return {r["name"]: r["type"] for r in rows}
    rows = await database.query(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_name = 'poll_ballot'"
    )
    return {r["column_name"]: r["data_type"] for r in rows}


async def rows_as_stored(poll_id: int) -> list[dict[str, Any]]:
    """The poll's ballot rows without ORDER BY, as a plain read of the table gives them."""
    return await database.query(
        "SELECT id, receipt, retry_key, delegate FROM poll_ballot WHERE poll = {}", poll_id
    )


async def physical_order(poll_id: int) -> list[str]:
    """Receipts in the order the rows lie in the file: by rowid (SQLite) or ctid."""
    position = "rowid" if ENGINE == "sqlite" else "ctid"
    rows = await database.query(
        f"SELECT receipt FROM poll_ballot WHERE poll = {{}} ORDER BY {position}",  # noqa: S608
        poll_id,
    )
    return [r["receipt"] for r in rows]


async def vote_in_turn(hall: dict[str, Any]) -> list[str]:
    """Every delegate votes, one after the other in a shuffled order; the receipts in
    voting order. No event is written by any ballot."""
    congress, poll = hall["congress"], hall["poll"]
    voters = list(hall["officials"])
    rng = random.Random(VOTERS)
    rng.shuffle(voters)
    events_before = await events_of_congress(congress)
    receipts = []
    for n, delegate in enumerate(voters):
        ballot = BallotIn(choices=[rng.choice(CHOICES)], retry_key=f"phone-key-{n}")
        receipts.append(await services.cast_ballot(congress, delegate, poll, ballot))
        if n in (0, VOTERS - 1):
            assert await events_of_congress(congress) == events_before, "an event per ballot"
    return receipts


async def test_the_ballot_table_keeps_no_voter_no_time_and_no_voting_order(
    hall: dict[str, Any],
) -> None:
    congress, poll = hall["congress"], hall["poll"]
    voting_order = await vote_in_turn(hall)
    assert sorted(voting_order) != voting_order, "the voting order must differ from receipts'"
    if ENGINE == "sqlite":  # what the rewrite at close undoes
        assert await physical_order(poll) == voting_order
    assert all(r["retry_key"] for r in await rows_as_stored(poll))

    await services.close_poll(congress, poll, SYSTEM)

    columns = await ballot_columns()
    assert not [name for name, kind in columns.items() if TIME_TYPES.search(kind)], columns
    assert not [name for name in columns if re.search(r"_at$|time|date", name)], columns
    assert [name for name in columns if "delegate" in name or "voter" in name] == ["delegate"]

    stored = await rows_as_stored(poll)
    assert len(stored) == VOTERS
    assert [r["delegate"] for r in stored] == [None] * VOTERS
    assert [r["retry_key"] for r in stored] == [""] * VOTERS, "retry keys outlive the close"
    ids = [uuid.UUID(str(r["id"])) for r in stored]
    assert {i.version for i in ids} == {4}, "ids must be random (version 4), not time-based"
    assert {i.variant for i in ids} == {uuid.RFC_4122}
    by_id = [r["receipt"] for r in sorted(stored, key=lambda r: str(r["id"]))]
    assert by_id not in (sorted(voting_order), voting_order), "ids follow an order"

    assert [r["receipt"] for r in stored] == sorted(voting_order), "rows not in receipt order"
    assert await physical_order(poll) == sorted(voting_order)


async def test_the_chain_and_the_log_hold_counts_and_digests_only(
    hall: dict[str, Any],
) -> None:
    congress, poll = hall["congress"], hall["poll"]
    events_before = await events_of_congress(congress)
    receipts = await vote_in_turn(hall)
    assert await services.checkpoint_poll(congress, poll)
    assert await events_of_congress(congress) == events_before + 1  # one PollTurnout
    await services.close_poll(congress, poll, SYSTEM)

    links = await services.chain_of(poll)
    sealing = [link for link in links if link.kind in (chain.CHECKPOINT, chain.CLOSED)]
    assert [link.kind for link in sealing] == [chain.CHECKPOINT, chain.CLOSED]
    for link in sealing:
        for key, value in chain_payload(link).items():
            assert isinstance(value, int) or HEX_DIGEST.match(value), (link.kind, key, value)
    everything = " ".join(link.payload for link in links)
    logged = await database.query("SELECT payload FROM event WHERE congress = {}", congress)
    everything += " ".join(str(r["payload"]) for r in logged)
    assert not [r for r in receipts if r in everything], "a receipt in the chain or the log"


def chain_payload(link: chain.Link) -> dict[str, Any]:
    import msgspec

    payload = msgspec.json.decode(link.payload)
    assert isinstance(payload, dict)
    return payload


async def test_the_server_log_names_no_receipt_and_no_choice(
    tmp_path: Path, hall: dict[str, Any], role_tokens: dict[str, str]
) -> None:
    congress, poll = hall["congress"], hall["poll"]
    log = tmp_path / "server.log"
    server = LiveServer(log=log)
    await server.start()
    receipts: list[str] = []
    keys: list[str] = []
    try:
        for n, delegate in enumerate(hall["officials"][:10]):
            async with httpx.AsyncClient(base_url=server.url) as phone:
                assert (await phone.get(f"/D/{hall['tokens'][delegate]}")).status_code == 303
                if CSRF_COOKIE not in phone.cookies:
                    await phone.get("/delegate/polls/")
                keys.append(f"secret-retry-{n}-{uuid.uuid4().hex}")
                voted = await phone.post(
                    f"/delegate/polls/{poll}/ballot",
                    json={"choices": [CHOICES[n % 3]], "retry_key": keys[-1]},
                    headers={"x-csrf-token": phone.cookies[CSRF_COOKIE]},
                )
                assert voted.status_code == 200, voted.text
                receipts.append(voted.json()["receipt"])
        async with httpx.AsyncClient(base_url=server.url) as presidium:
            presidium.cookies.set(SESSION_COOKIE, role_tokens["admin"])
            await presidium.get("/login")
            closed = await presidium.post(
                f"/api/congresses/{congress}/polls/{poll}/close",
                headers={"x-csrf-token": presidium.cookies[CSRF_COOKIE]},
            )
            assert closed.status_code == 200, closed.text
    finally:
        server.stop()
    written = log.read_text()
    assert f"POST /delegate/polls/{poll}/ballot" in written, "the access log was not captured"
    for secret in (*receipts, *keys, *CHOICES):
        assert secret not in written, secret


async def test_the_checkpoints_do_not_tell_whose_receipt_came_in(hall: dict[str, Any]) -> None:
    """Delegates who vote one at a time between two turnout checkpoints (the stragglers of
    any poll): someone with the exported poll and the participation table must not be able
    to tell which sealed ballot is whose."""
    congress, poll = hall["congress"], hall["poll"]
    voters = list(reversed(hall["officials"][:3]))  # voting order is not delegate order
    for delegate, choice in zip(voters, ("agree", "disagree", "abstain"), strict=True):
        await services.cast_ballot(congress, delegate, poll, BallotIn(choices=[choice]))
        assert await services.checkpoint_poll(congress, poll)
    await services.close_poll(congress, poll, SYSTEM)

    exported = await services.export_poll(congress, poll)
    receipts = [b["receipt"] for b in exported["ballots"]]
    checkpoints = [
        chain_payload(link) for link in await services.chain_of(poll) if link.kind == "checkpoint"
    ]
    assert [c["e_ballots"] for c in checkpoints] == [1, 2, 3]
    # No checkpoint digest can be rebuilt from any set of published receipts.
    digests = {value for c in checkpoints for value in c.values() if isinstance(value, str)}
    for size in (1, 2, 3):
        for chosen in itertools.combinations(receipts, size):
            assert chain.id_set_digest(chosen) not in digests
            assert hashlib.sha256("\n".join(sorted(chosen)).encode()).hexdigest() not in digests
    # The participations, as stored, are in delegate order, not in voting order, and their
    # ids are random.
    stored = await database.query(
        "SELECT id, delegate FROM poll_participation WHERE poll = {}", poll
    )
    assert [r["delegate"] for r in stored] == sorted(voters)
    assert all(uuid.UUID(str(r["id"])).version == 4 for r in stored)
