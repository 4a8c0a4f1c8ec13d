"""Phones voting at the same instant: one participation and one ballot per delegate, a retry
gets its own receipt back, a second ballot is refused, and a ballot racing the close is
either sealed (and acknowledged) or refused with poll_closed, never acknowledged and lost.

On SQLite the requests go through two or three pooled apps, each on an event loop of its
own: their writes meet in the database file, not in one loop's queue of writers.
"""

from __future__ import annotations

import asyncio
import random
from collections import Counter
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from congress import database
from congress.errors import Conflict
from congress.eventlog import SYSTEM
from congress.voting import services
from congress.voting.schemas import BallotIn, PollIn
from congress.voting.tables import PollBallot, PollParticipation
from documents.portal import DELEGATE_COOKIE
from tests.conftest import CSRF_COOKIE, Lender
from tests.congress.voting_fixtures import make_assembly

DELEGATES = 100


async def open_motion(assembly: dict[str, Any], title: str = "Thông qua Nghị quyết") -> int:
    congress = assembly["congress"]
    poll_id = await services.create_poll(
        congress, PollIn(kind="motion", title=title, sitting_id=assembly["sitting"]), SYSTEM
    )
    await services.open_poll(congress, poll_id, SYSTEM)
    return poll_id


@pytest.fixture
async def hall(make_congress: Any) -> dict[str, Any]:
    """A congress in session: 100 official delegates with cards, all checked in, and one
    motion open for voting by phone."""
    assembly = await make_assembly(await make_congress(), officials=DELEGATES, invited=0)
    return {**assembly, "poll": await open_motion(assembly)}


async def counted(poll_id: int) -> tuple[int, int]:
    """(participations, ballots) of a poll, as the database holds them."""
    participations = await PollParticipation.count().where(PollParticipation.poll == poll_id)
    ballots = await PollBallot.count().where(PollBallot.poll == poll_id)
    return participations, ballots


class Phones:
    """Signed-in phones that share pooled apps: each request carries its phone's cookie."""

    def __init__(self, clients: list[AsyncTestClient[Litestar]]) -> None:
        self.clients = clients
        self.cookies: dict[int, str] = {}
        self.csrf = ""

    async def sign_in(self, tokens: dict[int, str]) -> None:
        first = self.clients[0]
        await first.get("/login")
        self.csrf = str(first.cookies[CSRF_COOKIE])
        for delegate, token in tokens.items():
            opened = await first.get(f"/D/{token}", follow_redirects=False)
            assert opened.status_code == 303, opened.text
            self.cookies[delegate] = opened.cookies[DELEGATE_COOKIE]
        for client in self.clients:
            client.cookies.clear()  # every request names its own phone

    async def vote(
        self, delegate: int, poll_id: int, choice: str, retry_key: str, via: int = 0
    ) -> httpx.Response:
        headers = {
            "Cookie": f"{DELEGATE_COOKIE}={self.cookies[delegate]}; {CSRF_COOKIE}={self.csrf}",
            "x-csrf-token": self.csrf,
            "Accept": "application/json",
        }
        client = self.clients[via % len(self.clients)]
        return await client.post(
            f"/delegate/polls/{poll_id}/ballot",
            json={"choices": [choice], "retry_key": retry_key},
            headers=headers,
        )


@pytest.fixture
async def phones(lender: Lender, hall: dict[str, Any]) -> AsyncIterator[Phones]:
    async with (
        AsyncTestClient(app=lender.next_app()) as a,
        AsyncTestClient(app=lender.next_app()) as b,
    ):
        signed_in = Phones([a, b])
        await signed_in.sign_in(hall["tokens"])
        yield signed_in


def code_of(response: httpx.Response) -> str:
    if response.status_code == 200:
        return "receipt"
    return str(response.json().get("code"))


async def test_two_ballots_from_every_phone_at_the_same_instant_count_once(
    hall: dict[str, Any], phones: Phones
) -> None:
    """Half the phones send two different ballots at once (a double tap on two answers),
    the other half the same ballot twice with the same retry key (a retry that overtook
    the first try): 200 requests in flight together, each pair split over two apps."""
    poll = hall["poll"]
    delegates = hall["officials"]
    changers, retriers = delegates[: DELEGATES // 2], delegates[DELEGATES // 2 :]
    attempts: list[tuple[int, str, str, int]] = []
    for d in changers:
        attempts += [(d, "agree", f"a-{d}", 0), (d, "disagree", f"b-{d}", 1)]
    for d in retriers:
        attempts += [(d, "abstain", f"r-{d}", 0), (d, "abstain", f"r-{d}", 1)]
    random.Random(DELEGATES).shuffle(attempts)
    answers = await asyncio.gather(
        *(phones.vote(d, poll, choice, key, via) for d, choice, key, via in attempts)
    )

    by_delegate: dict[int, list[httpx.Response]] = {}
    for (d, *_), answer in zip(attempts, answers, strict=True):
        by_delegate.setdefault(d, []).append(answer)
    for d in changers:
        assert sorted(code_of(a) for a in by_delegate[d]) == ["already_voted", "receipt"]
    for d in retriers:
        first, second = by_delegate[d]
        assert (first.status_code, second.status_code) == (200, 200), (first.text, second.text)
        assert first.json()["receipt"] == second.json()["receipt"]
    receipts = {a.json()["receipt"] for a in answers if a.status_code == 200}
    assert len(receipts) == DELEGATES
    assert await counted(poll) == (DELEGATES, DELEGATES)
    assert set(await services.receipts_of(poll)) == receipts


async def test_the_services_hold_against_a_gathered_double_vote(hall: dict[str, Any]) -> None:
    """The same through the service alone, every call gathered in one loop."""
    congress, poll = hall["congress"], hall["poll"]

    async def cast(delegate: int, choice: str, key: str) -> str:
        try:
            return await services.cast_ballot(
                congress, delegate, poll, BallotIn(choices=[choice], retry_key=key)
            )
        except Conflict as refused:
            return refused.code

    calls = [
        call
        for d in hall["officials"]
        for call in (
            (d, "agree", f"x-{d}"),
            (d, "disagree", f"y-{d}"),
            (d, "agree", f"x-{d}"),
        )
    ]
    async with database.database_pool(8):
        answers = await asyncio.gather(*(cast(*call) for call in calls))
    outcomes: dict[int, list[str]] = {}
    for (d, *_), answer in zip(calls, answers, strict=True):
        outcomes.setdefault(d, []).append(answer)
    for d, (x, y, x_again) in outcomes.items():
        if y == "already_voted":  # the "x" ballot won: both of its tries got its receipt
            assert x == x_again, (d, outcomes[d])
            assert x != "already_voted", (d, outcomes[d])
        else:  # "y" won: both "x" tries were refused
            assert (x, x_again) == ("already_voted", "already_voted"), (d, outcomes[d])
    assert await counted(poll) == (DELEGATES, DELEGATES)


async def test_a_ballot_racing_the_close_is_sealed_or_refused(
    hall: dict[str, Any], phones: Phones, admin: Any
) -> None:
    """Ballots arrive before, during and after the presidium closes the poll: every
    acknowledged receipt is in the sealed list, every other ballot was told poll_closed."""
    congress, poll = hall["congress"], hall["poll"]
    delegates = hall["officials"]
    early, racing, late = delegates[:20], delegates[20:90], delegates[90:]
    rng = random.Random(7)

    for n, d in enumerate(early):
        assert (await phones.vote(d, poll, "agree", f"e-{d}", via=n)).status_code == 200

    async def later(delay: float, d: int, n: int) -> httpx.Response:
        await asyncio.sleep(delay)
        return await phones.vote(d, poll, rng.choice(["agree", "disagree"]), f"k-{d}", via=n)

    async def close_later() -> Any:
        await asyncio.sleep(0.15)
        return await admin.post(f"/api/congresses/{congress}/polls/{poll}/close")

    *answers, closed = await asyncio.gather(
        *(later(rng.uniform(0, 0.3), d, n) for n, d in enumerate(racing)), close_later()
    )
    assert closed.status_code == 200, closed.text
    for n, d in enumerate(late):
        refused = await phones.vote(d, poll, "agree", f"l-{d}", via=n)
        assert code_of(refused) == "poll_closed"

    outcomes = Counter(code_of(a) for a in answers)
    assert set(outcomes) <= {"receipt", "poll_closed"}, outcomes
    acknowledged = [a.json()["receipt"] for a in answers if a.status_code == 200]
    sealed = (await admin.get(f"/api/congresses/{congress}/polls/{poll}/receipts")).json()
    assert len(early) + len(acknowledged) == len(sealed["receipts"])
    assert set(acknowledged) <= set(sealed["receipts"])
    participations, ballots = await counted(poll)
    assert participations == ballots == len(sealed["receipts"])
    closed_poll = await services.get_poll(congress, poll)
    assert closed_poll["voted"] == participations
