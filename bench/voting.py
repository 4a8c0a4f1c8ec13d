"""Benchmark: 1,100 delegates voting in the same second, then voting without pause.

    .venv/bin/python bench/voting.py [--delegates 1100] [--clients 50] [--seconds 10]
    .venv/bin/python bench/voting.py --py-spy server.txt    # and profile the server
    CONGRESS_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:54332/postgres \
        .venv/bin/python bench/voting.py

A fresh database (a SQLite file under a temporary var dir, or a fresh PostgreSQL database
dropped at the end), migrated: one congress with one sitting, the delegates (imported from a
spreadsheet, all official) each with a card and all checked in, one motion open for voting
by phone and, as drafts, the motions of the sustained phase. The real app then runs under
uvicorn in a process of its own, one worker, with its turnout ticker on (every 2 s, as in
production). Every delegate's phone opens its card address (``GET /D/<token>``, a 303 with
the cookie) before anything is measured, and keeps its own keep-alive connection.

Phases, in this order, each timed by the client (request written until the body is read)
and by the server (``Server-Timing: app;dur``):

1. baseline burst: every phone loads ``GET /delegate/polls/`` once, the phones released
   together and spread uniformly over one second;
2. the vote: every phone sends ``POST /delegate/polls/<id>/ballot`` once, released the same
   way. Every ballot must be acknowledged (200 with a receipt) within 2 s;
3. baseline sustained: ``--clients`` connections load ``GET /delegate/polls/`` back to back
   for ``--seconds``, each request with another phone's cookie;
4. sustained voting: the drafts are opened through the presidium's API, and ``--clients``
   connections send ballots back to back for ``--seconds``, each for another (poll,
   delegate) pair, poll after poll.

Afterwards the presidium closes every poll through the API, and the bench checks that the
sealed receipts are exactly the acknowledged ones and that participations equal ballots.

Goals (issue "voting by phone"), stated for SQLite on a 2-core machine and recorded for
PostgreSQL: every ballot of the burst acknowledged within 2 s; >= 1,000 ballots/s sustained.
The phones speak HTTP/1.1 on bare asyncio streams, as in bench/checkin.py: the load
generator shares the CPUs with the server, and a light client leaves more to the server.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import math
import os
import platform
import random
import re
import secrets
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
from harness import admin, machine_busy_seconds, median, percentile  # noqa: E402

SERVER = harness.POSTGRES
PORT = harness.free_port()
HOST = harness.HOST
BASE_URL = f"http://{HOST}:{PORT}"
APP_ENV = harness.app_environment(BASE_URL)

os.environ.pop("CONGRESS_TURNOUT_INTERVAL", None)  # the server's default: every 2 s

GOAL_ACK_MS = 2000.0
GOAL_RATE = 1000.0
LIST_PATH = "/delegate/polls/"
DELEGATE_COOKIE = "congress_delegate"
CSRF_COOKIE = "congress_csrf"
SESSION_COOKIE = "congress_session"
CHOICES = ("agree", "agree", "agree", "disagree", "abstain")
_DURATION = re.compile(rb"\bapp;dur=([0-9.]+)")

MOTIONS = [
    "Thông qua Báo cáo chính trị của Ban Chấp hành",
    "Thông qua Báo cáo kiểm điểm của Ban Chấp hành",
    "Thông qua số lượng Ủy viên Ban Chấp hành khóa mới",
    "Thông qua Nghị quyết Đại hội",
]


# --- the congress ------------------------------------------------------------------------


@dataclass
class Congress:
    congress_id: int
    burst_poll: int
    sustained_polls: list[int]
    cards: list[str]  # each delegate's card address, shuffled
    admin_session: str


async def set_up(delegates: int, sustained_polls: int, rng: random.Random) -> Congress:
    """The congress in session: every delegate checked in, the first motion open."""
    from checkin.credentials import card_address, issue_cards
    from checkin.tables import Attendance
    from congress import accounts, database
    from congress.delegates import services as delegate_services
    from congress.eventlog import SYSTEM
    from congress.tables import Delegate
    from congress.voting import services as voting
    from congress.voting.schemas import PollIn

    async with database.database_pool(4):
        await database.migrate()
        congress_id = await harness.provincial_congress()
        sitting_id = await harness.first_sitting(congress_id)
        token = await delegate_services.stage_import(
            congress_id,
            "dai_bieu.csv",
            harness.delegate_sheet(delegates, rng, harness.DELEGATIONS, "Chủ tịch Công đoàn cơ sở"),
            SYSTEM,
        )
        imported = await delegate_services.apply_import(congress_id, token, True, SYSTEM)
        assert imported.created == delegates, imported
        ids = [
            r["id"]
            for r in await Delegate.select(Delegate.id).where(Delegate.congress == congress_id)
        ]
        tokens = await issue_cards(congress_id, ids, SYSTEM, replace=False)
        now = datetime.datetime.now(datetime.UTC)
        await Attendance.insert(
            *(
                Attendance(congress=congress_id, sitting=sitting_id, delegate=d, checked_in_at=now)
                for d in ids
            )
        )
        polls = []
        for n in range(1 + sustained_polls):
            title = f"{MOTIONS[n % len(MOTIONS)]} ({n + 1})"
            data = PollIn(kind="motion", title=title, sitting_id=sitting_id)
            polls.append(await voting.create_poll(congress_id, data, SYSTEM))
        await voting.open_poll(congress_id, polls[0], SYSTEM)
        account = await accounts.create_account(
            f"presidium.{secrets.token_hex(3)}",
            "Đoàn Chủ tịch",
            secrets.token_urlsafe(16),
            ["admin"],
        )
        session = await accounts.open_session(account)
    cards = [card_address(t) for t in tokens.values()]
    rng.shuffle(cards)
    return Congress(congress_id, polls[0], polls[1:], cards, session)


async def counts_in_database(poll_ids: list[int]) -> tuple[int, int]:
    """(participations, ballots) of these polls, read by the bench itself."""
    from congress import database
    from congress.voting.tables import PollBallot, PollParticipation

    async with database.database_pool(1):
        participations = await PollParticipation.count().where(
            PollParticipation.poll.is_in(poll_ids)
        )
        ballots = await PollBallot.count().where(PollBallot.poll.is_in(poll_ids))
    return participations, ballots


# --- the phones ---------------------------------------------------------------------------


class HttpError(Exception):
    pass


@dataclass
class Phone:
    """A signed-in phone: what its cookies say, so that any connection can speak for it."""

    head: bytes
    choice: str


class Connection:
    """One keep-alive HTTP/1.1 connection."""

    def __init__(self) -> None:
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(HOST, PORT)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(
        self, phone: Phone, method: str, path: str, body: bytes = b""
    ) -> tuple[int, bytes, bytes]:
        if self.writer is None:
            await self.connect()
        assert self.reader is not None
        assert self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{PORT}\r\n".encode() + phone.head
        if method == "POST":
            head += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n".encode()
        self.writer.write(head + b"\r\n" + body)
        raw = await self.reader.readuntil(b"\r\n\r\n")
        status = int(raw[9:12])
        length = re.search(rb"(?im)^content-length:\s*(\d+)", raw)
        if length is None:
            raise HttpError("response without Content-Length")
        content = await self.reader.readexactly(int(length.group(1)))
        if re.search(rb"(?im)^connection:\s*close", raw):
            self.close()
        return status, raw, content


async def sign_in(cards: list[str], rng: random.Random) -> list[Phone]:
    """Each phone opens its card address and keeps the cookies it gets, 20 at a time."""
    import httpx

    slots = asyncio.Semaphore(20)

    async def one(card: str) -> Phone:
        async with slots, httpx.AsyncClient(trust_env=False, timeout=60) as http:
            opened = await http.get(card)
            if opened.status_code != 303 or DELEGATE_COOKIE not in http.cookies:
                raise RuntimeError(f"sign-in failed: HTTP {opened.status_code}")
            if CSRF_COOKIE not in http.cookies:
                await http.get(BASE_URL + LIST_PATH)
            csrf = http.cookies[CSRF_COOKIE]
            head = (
                f"Cookie: {DELEGATE_COOKIE}={http.cookies[DELEGATE_COOKIE]};"
                f" {CSRF_COOKIE}={csrf}\r\nX-CSRF-Token: {csrf}\r\nAccept: application/json\r\n"
            ).encode()
            return Phone(head, rng.choice(CHOICES))

    return list(await asyncio.gather(*map(one, cards)))


def ballot_body(phone: Phone) -> bytes:
    return msgspec.json.encode({"choices": [phone.choice], "retry_key": secrets.token_hex(16)})


@dataclass
class Phase:
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)
    receipts: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    machine_cpu: float = 0.0
    exhausted: bool = False

    @property
    def done(self) -> int:
        return len(self.server_ms)

    @property
    def rate(self) -> float:
        return self.done / self.wall if self.wall else math.nan


async def timed(
    connection: Connection, phone: Phone, phase: Phase, method: str, path: str, body: bytes = b""
) -> Any:
    """One timed request: its decoded JSON answer, or None after counting an error."""
    started = time.perf_counter()
    try:
        status, head, content = await connection.request(phone, method, path, body)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as exc:
        phase.errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
        connection.close()
        return None
    client_ms = (time.perf_counter() - started) * 1000
    if status != 200:
        phase.errors[f"HTTP {status}: {content[:100].decode(errors='replace')}"] += 1
        return None
    found = _DURATION.search(head)
    if found is None:
        phase.errors["no Server-Timing"] += 1
        return None
    phase.server_ms.append(float(found.group(1)))
    phase.client_ms.append(client_ms)
    return msgspec.json.decode(content)


class CpuWatch:
    def __init__(self, server: harness.AppServer) -> None:
        self.server = server
        self.at = (server.cpu_seconds(), time.process_time(), machine_busy_seconds())

    def into(self, phase: Phase) -> None:
        phase.server_cpu = self.server.cpu_seconds() - self.at[0]
        phase.client_cpu = time.process_time() - self.at[1]
        phase.machine_cpu = machine_busy_seconds() - self.at[2]


async def burst(
    phones: list[Phone], server: harness.AppServer, send: Any, rng: random.Random
) -> Phase:
    """Every phone on its own open connection, released together and spread uniformly
    over one second: ``send(connection, phone, phase)`` once each."""
    phase = Phase()
    connections = [Connection() for _ in phones]
    for connection in connections:
        await connection.connect()
    offsets = sorted(rng.uniform(0, 1.0) for _ in phones)
    watch = CpuWatch(server)
    released = time.perf_counter() + 0.2

    async def at(connection: Connection, phone: Phone, offset: float) -> None:
        await asyncio.sleep(max(0.0, released + offset - time.perf_counter()))
        await send(connection, phone, phase)

    await asyncio.gather(*map(at, connections, phones, offsets))
    phase.wall = time.perf_counter() - released
    watch.into(phase)
    for connection in connections:
        connection.close()
    return phase


async def sustained(clients: int, seconds: float, server: harness.AppServer, work: Any) -> Phase:
    """``clients`` connections running ``work(connection, phase)`` back to back."""
    phase = Phase()
    connections = [Connection() for _ in range(clients)]
    for connection in connections:
        await connection.connect()
    watch = CpuWatch(server)
    started = time.perf_counter()
    deadline = started + seconds

    async def loop(connection: Connection) -> None:
        while time.perf_counter() < deadline:
            if not await work(connection, phase):
                return

    await asyncio.gather(*map(loop, connections))
    phase.wall = time.perf_counter() - started
    watch.into(phase)
    for connection in connections:
        connection.close()
    return phase


def voter(poll_id: int) -> Any:
    path = f"/delegate/polls/{poll_id}/ballot"

    async def vote(connection: Connection, phone: Phone, phase: Phase) -> None:
        answer = await timed(connection, phone, phase, "POST", path, ballot_body(phone))
        if answer is not None:
            phase.receipts.append(answer["receipt"])

    return vote


async def read_list(connection: Connection, phone: Phone, phase: Phase) -> None:
    answer = await timed(connection, phone, phase, "GET", LIST_PATH)
    if answer is not None and not isinstance(answer, list):
        phase.errors["list: not a list"] += 1


def rotating_reader(phones: list[Phone]) -> Any:
    turn = iter(range(10**9))

    async def work(connection: Connection, phase: Phase) -> bool:
        await read_list(connection, phones[next(turn) % len(phones)], phase)
        return True

    return work


def rotating_voter(phones: list[Phone], polls: list[int]) -> Any:
    """Poll after poll, each phone once per poll: every ballot is a first ballot."""
    pairs = ((poll, phone) for poll in polls for phone in phones)

    async def work(connection: Connection, phase: Phase) -> bool:
        pair = next(pairs, None)
        if pair is None:
            phase.exhausted = True  # every phone voted in every poll: the phase ends early
            return False
        await voter(pair[0])(connection, pair[1], phase)
        return True

    return work


# --- the presidium ------------------------------------------------------------------------


class Presidium:
    def __init__(self, congress: Congress) -> None:
        import httpx

        self.base = f"{BASE_URL}/api/congresses/{congress.congress_id}/polls"
        self.http = httpx.AsyncClient(trust_env=False, timeout=120)
        self.http.cookies.set(SESSION_COOKIE, congress.admin_session)

    async def post(self, path: str) -> Any:
        if CSRF_COOKIE not in self.http.cookies:
            await self.http.get(BASE_URL + "/login")
        response = await self.http.post(
            self.base + path, headers={"x-csrf-token": self.http.cookies[CSRF_COOKIE]}
        )
        if response.status_code != 200:
            raise RuntimeError(f"POST {path}: HTTP {response.status_code} {response.text[:200]}")
        return response.json()

    async def receipts(self, poll_id: int) -> list[str]:
        response = await self.http.get(f"{self.base}/{poll_id}/receipts")
        return list(response.json()["receipts"])

    async def close(self) -> None:
        await self.http.aclose()


# --- the report ---------------------------------------------------------------------------


def row(label: str, phase: Phase) -> str:
    s, c = phase.server_ms, phase.client_ms
    return (
        f"| {label} | {phase.done} | {phase.rate:,.0f} | {median(s):.1f}"
        f" | {percentile(s, 0.99):.1f}"
        f" | {median(c):.1f} | {percentile(c, 0.99):.1f} | {max(c, default=math.nan):.0f}"
        f" | {sum(phase.errors.values())} |"
    )


def cpu_line(name: str, phase: Phase) -> str:
    rest = max(0.0, phase.machine_cpu - phase.server_cpu - phase.client_cpu)
    postgres = " (PostgreSQL among them)" if SERVER else ""
    return (
        f"{name}: wall {phase.wall:.1f} s; CPU s: server {phase.server_cpu:.1f}"
        f" ({phase.server_cpu / phase.wall:.2f} cores), phones {phase.client_cpu:.1f},"
        f" anything else on the machine {rest:.1f}{postgres}"
    )


@dataclass
class Results:
    list_burst: Phase
    vote_burst: Phase
    list_steady: Phase
    vote_steady: Phase
    sealed_ok: bool
    sealed_note: str


def report(args: argparse.Namespace, results: Results, rss_mb: float, set_up_s: float) -> bool:
    if SERVER:
        version = f"PostgreSQL {args.server_version}"
    else:
        import sqlite3

        version = f"SQLite {sqlite3.sqlite_version}"
    print(
        f"\nVoting by phone: {args.delegates} delegates checked in, each phone signed in;"
        f" {version}, uvicorn 1 worker, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()} (set up in {set_up_s:.1f} s)\n\nTimes in ms;"
        " server = Server-Timing app;dur, client = request written until the body is read."
        " Bursts: every phone once, released together, spread uniformly over 1 s."
        f" Sustained: {args.clients} connections back to back for {args.seconds:g} s.\n"
    )
    print(
        "| load | requests | per s | server median | server p99 | client median"
        " | client p99 | client max | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(row(f"**burst: `POST …/ballot`** ({args.delegates} phones in 1 s)", results.vote_burst))
    print(row(f"baseline burst: `GET {LIST_PATH}`", results.list_burst))
    print(row(f"**sustained: `POST …/ballot`** ({args.clients} clients)", results.vote_steady))
    print(row(f"baseline sustained: `GET {LIST_PATH}`", results.list_steady))

    vote, steady = results.vote_burst, results.vote_steady
    slowest = max(vote.client_ms, default=math.inf)
    all_in = vote.done == args.delegates and not vote.errors
    ack_met = all_in and slowest <= GOAL_ACK_MS
    rate_met = steady.rate >= GOAL_RATE and not steady.errors
    stated = " (stated for SQLite on 2 cores; recorded here)" if SERVER else ""
    print(f"\ngoals{stated}:")
    print(
        f"- every ballot of the burst acknowledged within {GOAL_ACK_MS / 1000:g} s:"
        f" {vote.done} of {args.delegates} acknowledged, slowest {slowest:.0f} ms,"
        f" last answer {vote.wall:.2f} s after the release -> " + ("met" if ack_met else "NOT met")
    )
    print(
        f"- >= {GOAL_RATE:,.0f} ballots/s sustained: {steady.rate:,.0f}/s -> "
        + ("met" if rate_met else f"NOT met ({steady.rate / GOAL_RATE:.0%} of the goal)")
    )
    print(
        "- sealed receipts = acknowledged receipts, participations = ballots: "
        + ("met" if results.sealed_ok else "NOT met")
        + f" ({results.sealed_note})"
    )
    phases = (
        ("vote burst", vote),
        ("list burst", results.list_burst),
        ("vote sustained", steady),
        ("list sustained", results.list_steady),
    )
    for name, phase in phases:
        for what, count in phase.errors.most_common(10):
            print(f"  {name}: {count} x {what}")
        print(cpu_line(name, phase))
    if steady.exhausted:
        print("sustained voting ran out of fresh (poll, delegate) pairs: raise --polls")
    print(f"server peak RSS (VmHWM): {rss_mb:.0f} MB")
    return ack_met and rate_met and results.sealed_ok


# --- the run ------------------------------------------------------------------------------


def profile_path(path: str | None, suffix: str) -> str | None:
    if path is None:
        return None
    given = Path(path)
    return str(given.with_name(f"{given.stem}-{suffix}{given.suffix}"))


async def seal_and_check(
    presidium: Presidium, congress: Congress, acknowledged: list[str], polls: list[int]
) -> tuple[bool, str]:
    """Closes the polls through the API: the sealed receipts must be the acknowledged."""
    sealed: list[str] = []
    for poll_id in polls:
        await presidium.post(f"/{poll_id}/close")
        sealed += await presidium.receipts(poll_id)
    participations, ballots = await counts_in_database(polls)
    ok = (
        sorted(sealed) == sorted(acknowledged)
        and len(set(sealed)) == len(sealed)
        and participations == ballots == len(sealed)
    )
    return ok, (
        f"{len(polls)} poll(s): {len(acknowledged)} acknowledged, {len(sealed)} sealed"
        f" ({len(set(sealed))} distinct), {participations} participations, {ballots} ballots"
    )


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--delegates", type=int, default=1100)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument(
        "--polls", type=int, default=20, help="polls for the sustained phase (each phone once)"
    )
    parser.add_argument("--seed", type=int, default=1100)
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record the server with py-spy (collapsed stacks, per thread): FILE-burst for"
        " the vote burst, FILE-sustained for sustained voting",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    if SERVER:
        args.server_version = await admin("SHOW server_version")
    server = harness.AppServer(PORT, APP_ENV, pool_size=20 if SERVER else None, backlog=4096)
    ok = False
    async with harness.fresh_database():
        try:
            started = time.perf_counter()
            congress = await set_up(args.delegates, args.polls, rng)
            set_up_s = time.perf_counter() - started
            print(f"set up: {args.delegates} delegates, {1 + args.polls} polls in {set_up_s:.1f} s")
            server.start()
            await server.wait_until_up()
            phones = await sign_in(congress.cards, rng)
            print(f"{len(phones)} phones signed in")
            warm = Phase()
            connection = Connection()
            for phone in phones[:20]:
                await read_list(connection, phone, warm)
            connection.close()
            if warm.errors:
                raise RuntimeError(f"warm-up failed: {dict(warm.errors)}\n{server.log_tail()}")

            list_burst = await burst(phones, server, read_list, rng)
            with harness.profiled(server.pid, profile_path(args.py_spy, "burst")):
                vote_burst = await burst(phones, server, voter(congress.burst_poll), rng)
            list_steady = await sustained(
                args.clients, args.seconds, server, rotating_reader(phones)
            )

            presidium = Presidium(congress)
            try:
                burst_ok, burst_note = await seal_and_check(
                    presidium, congress, vote_burst.receipts, [congress.burst_poll]
                )
                for poll_id in congress.sustained_polls:
                    await presidium.post(f"/{poll_id}/open")
                with harness.profiled(server.pid, profile_path(args.py_spy, "sustained")):
                    vote_steady = await sustained(
                        args.clients,
                        args.seconds,
                        server,
                        rotating_voter(phones, congress.sustained_polls),
                    )
                steady_ok, steady_note = await seal_and_check(
                    presidium, congress, vote_steady.receipts, congress.sustained_polls
                )
            finally:
                await presidium.close()
            results = Results(
                list_burst,
                vote_burst,
                list_steady,
                vote_steady,
                burst_ok and steady_ok,
                f"burst: {burst_note}; sustained: {steady_note}",
            )
            ok = report(args, results, server.peak_rss_mb(), set_up_s)
            if not ok and (vote_burst.errors or vote_steady.errors):
                print(f"\nserver log (tail):\n{server.log_tail()}")
        finally:
            server.stop()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
