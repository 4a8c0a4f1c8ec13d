"""The server dies in the middle of a burst of ballots and comes back: no acknowledged ballot
is lost, none is counted twice, and a ballot that got no answer is either counted with its
participation or absent with it; its retry after the restart gets its receipt back.

The real app runs under uvicorn (LiveServer) on the test database, whichever engine the run
uses, and is killed with SIGKILL: no shutdown, no last commit.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from congress.auth import SESSION_COOKIE
from congress.voting.tables import PollBallot, PollParticipation
from tests.conftest import CSRF_COOKIE, LiveServer
from tests.congress.test_voting_concurrency import counted, open_motion
from tests.congress.voting_fixtures import make_assembly

PHONES = 150
KILL_AFTER = PHONES // 3  # acknowledged ballots before the server is killed
# Every 5th phone gives up on its first answer after 1 ms (a phone on poor Wi-Fi): its
# ballot may well be counted without the phone knowing. Its retry must find it.
IMPATIENT = httpx.Timeout(30.0, read=0.001)


@dataclass
class Phone:
    delegate: int
    http: httpx.AsyncClient
    retry_key: str
    choice: str
    receipt: str | None = None  # once acknowledged

    async def vote(self, poll_id: int, impatient: bool = False) -> httpx.Response:
        return await self.http.post(
            f"/delegate/polls/{poll_id}/ballot",
            json={"choices": [self.choice], "retry_key": self.retry_key},
            headers={"x-csrf-token": self.http.cookies[CSRF_COOKIE]},
            timeout=IMPATIENT if impatient else self.http.timeout,
        )


async def phone_for(server: LiveServer, delegate: int, token: str, rng: random.Random) -> Phone:
    """A phone that opened its card address: the delegate's cookie and a CSRF cookie."""
    http = httpx.AsyncClient(
        base_url=server.url, timeout=30, headers={"Accept": "application/json"}
    )
    opened = await http.get(f"/D/{token}")
    assert opened.status_code == 303, opened.text
    if CSRF_COOKIE not in http.cookies:
        await http.get("/delegate/polls/")
    choice = rng.choice(["agree", "agree", "disagree", "abstain"])
    return Phone(delegate, http, f"phone-{delegate}-{rng.getrandbits(48):x}", choice)


@pytest.fixture
async def server() -> AsyncIterator[LiveServer]:
    # Turnout checkpoints every 0.2 s: they take the poll's lock between the ballots.
    live = LiveServer(env={"CONGRESS_TURNOUT_INTERVAL": "0.2"})
    await live.start()
    yield live
    if live.process is not None and live.process.poll() is None:
        live.stop()


async def presidium(server: LiveServer, role_tokens: dict[str, str]) -> httpx.AsyncClient:
    http = httpx.AsyncClient(base_url=server.url, timeout=30)
    http.cookies.set(SESSION_COOKIE, role_tokens["admin"])
    await http.get("/login")
    http.headers["x-csrf-token"] = http.cookies[CSRF_COOKIE]
    return http


async def took_part(poll_id: int, delegate: int) -> bool:
    return await PollParticipation.exists().where(
        (PollParticipation.poll == poll_id) & (PollParticipation.delegate == delegate)
    )


async def receipts_in(poll_id: int) -> set[str]:
    rows = await PollBallot.select(PollBallot.receipt).where(PollBallot.poll == poll_id)
    return {r["receipt"] for r in rows}


async def test_a_killed_server_loses_no_acknowledged_ballot(
    server: LiveServer, make_congress: Any, role_tokens: dict[str, str]
) -> None:
    assembly = await make_assembly(await make_congress(), officials=PHONES, invited=0)
    poll = await open_motion(assembly)
    rng = random.Random(PHONES)
    phones = list(
        await asyncio.gather(
            *(phone_for(server, d, assembly["tokens"][d], rng) for d in assembly["officials"])
        )
    )
    try:
        acknowledged = 0
        enough = asyncio.Event()

        async def send(phone: Phone, delay: float) -> None:
            nonlocal acknowledged
            await asyncio.sleep(delay)
            try:
                answer = await phone.vote(poll, impatient=phone.delegate % 5 == 0)
            except httpx.TransportError:
                return  # no answer: the server died with the ballot in flight (or before)
            assert answer.status_code == 200, answer.text
            phone.receipt = answer.json()["receipt"]
            acknowledged += 1
            if acknowledged >= KILL_AFTER:
                enough.set()

        async def kill() -> None:
            await enough.wait()
            assert server.process is not None
            server.process.kill()  # SIGKILL
            await asyncio.to_thread(server.process.wait)

        await asyncio.gather(kill(), *(send(p, rng.uniform(0, 1.0)) for p in phones))
        answered = [p for p in phones if p.receipt is not None]
        unanswered = [p for p in phones if p.receipt is None]
        assert answered, "the server must die in the middle of the burst"
        assert unanswered, "the server must die in the middle of the burst"

        # The database as the killed server left it. A ballot row cannot be linked to
        # its delegate (that is the point); but the ballots nobody was told about must be
        # exactly as many as the unanswered phones with a participation, and each such
        # phone's retry must get one of them back.
        participations, ballots = await counted(poll)
        assert participations == ballots
        stored = await receipts_in(poll)
        assert {p.receipt for p in answered} <= stored
        for phone in answered:
            assert await took_part(poll, phone.delegate)
        orphans = stored - {p.receipt for p in answered}
        in_doubt = [p for p in unanswered if await took_part(poll, p.delegate)]
        assert len(orphans) == len(in_doubt), "a participation without its ballot, or not"
        assert in_doubt, "no ballot was counted unanswered: the retries prove nothing"

        await server.start()
        for phone in unanswered:  # the phone tries again with the same key
            again = await phone.vote(poll)
            assert again.status_code == 200, again.text
            phone.receipt = again.json()["receipt"]
        assert {p.receipt for p in in_doubt} == orphans, "a counted ballot got a new receipt"
        fresh = [p.receipt for p in unanswered if p not in in_doubt]
        assert not set(fresh) & stored

        http = await presidium(server, role_tokens)
        try:
            closed = await http.post(f"/api/congresses/{assembly['congress']}/polls/{poll}/close")
            assert closed.status_code == 200, closed.text
            listed = await http.get(f"/api/congresses/{assembly['congress']}/polls/{poll}/receipts")
        finally:
            await http.aclose()
        sealed = listed.json()["receipts"]
        assert len(sealed) == len(set(sealed)) == PHONES
        assert sorted(str(p.receipt) for p in phones) == sealed
        assert await counted(poll) == (PHONES, PHONES)
    finally:
        for phone in phones:
            await phone.http.aclose()
