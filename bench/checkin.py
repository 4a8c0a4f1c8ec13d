"""Benchmark: the doors open, every tablet scans delegate cards as fast as it can.

    .venv/bin/python bench/checkin.py [--delegates 1100] [--clients 50] [--seconds 20]
    .venv/bin/python bench/checkin.py --py-spy server.txt    # and profile the server
    CONGRESS_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:54330/postgres \
        .venv/bin/python bench/checkin.py

A fresh database (a SQLite file under a temporary var dir, or a fresh PostgreSQL database
dropped at the end), migrated: one congress with one sitting, the delegates (imported from a
spreadsheet, as organizers do) each with a card (the tokens are kept in memory only), and
one registered tablet per client. The real app then runs under uvicorn in a process of its
own, one worker; each tablet pairs through it (``GET /P/<code>``, a 303 with the
``congress_device`` cookie) and keeps its cookie.

Then ``--clients`` tablets, each on its own keep-alive connection, scan for ``--seconds``
without pause: ``POST /api/checkin/device/scans`` with ``X-Congress-Device: 1``, a fresh
nonce per scan and the card's QR content. The cards are taken in turn from one shuffled
list shared by all tablets, so a card's first scan must be answered green and every later
one orange (the list is cycled: the point is sustained load, not 1,100 scans). An answer
of the wrong colour, a red, an HTTP error or a failed request is an error of the run.

Baseline, in the same run and before the scans: the same tablets, same connections and
same device authentication, hammering ``GET /api/checkin/device/state`` (a read) for the
same time.

The server's own time is its ``Server-Timing: app;dur`` header; the client's is until the
body is read. The tablets speak HTTP/1.1 on bare asyncio streams rather than through httpx:
on a 2-CPU machine the load generator shares the CPUs with the server, and a lighter client
leaves more of them to the server (its CPU time is printed). With a closed loop of N
tablets, Little's law ties the two goals together: mean time in the server is at most
N / throughput, e.g. 50 ms for 50 tablets at 1,000/s.

Goals, stated for SQLite and recorded for PostgreSQL: >= 1,000 check-ins/s sustained and
p99 server time <= 20 ms; no errors, no red.
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
import sys
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
from harness import (  # noqa: E402
    admin,
    database_cpu_seconds,
    machine_busy_seconds,
    median,
    percentile,
)

SERVER = harness.POSTGRES
PORT = harness.free_port()
HOST = harness.HOST
BASE_URL = f"http://{HOST}:{PORT}"
APP_ENV = harness.app_environment(BASE_URL)


GOAL_RATE = 1000.0
GOAL_P99_MS = 20.0
SCAN_PATH = "/api/checkin/device/scans"
STATE_PATH = "/api/checkin/device/state"
DEVICE_COOKIE = "congress_device"
_DURATION = re.compile(rb"\bapp;dur=([0-9.]+)")

POSITIONS = [
    "Chủ tịch Công đoàn cơ sở",
    "Phó Chủ tịch Công đoàn cơ sở",
    "Ủy viên Ban Chấp hành Liên đoàn Lao động tỉnh",
    "Công nhân, Công ty TNHH Giày Đông Hải",
    "Giáo viên, Trường THPT Phan Đình Phùng",
]
DOORS = ["Cửa chính", "Cửa phụ", "Cửa hông", "Sảnh A", "Sảnh B"]
# --- the congress ------------------------------------------------------------------------


@dataclass
class Congress:
    sitting_id: int
    cards: list[str]  # what each card's QR code holds, shuffled
    pairing_codes: list[str]  # one per tablet


async def set_up(delegates: int, tablets: int, rng: random.Random) -> Congress:
    """The congress on the morning it opens: delegates with cards, tablets registered."""
    from checkin.credentials import card_address, issue_cards
    from checkin.devices import register_device
    from congress import database
    from congress.delegates import services as delegate_services
    from congress.eventlog import SYSTEM
    from congress.tables import Delegate

    async with database.database_pool(4):
        await database.migrate()
        congress_id = await harness.provincial_congress()
        sitting_id = await harness.first_sitting(congress_id)
        token = await delegate_services.stage_import(
            congress_id,
            "dai_bieu.csv",
            harness.delegate_sheet(delegates, rng, harness.DELEGATIONS, POSITIONS),
            SYSTEM,
        )
        imported = await delegate_services.apply_import(congress_id, token, True, SYSTEM)
        assert imported.created == delegates, imported
        ids = [
            r["id"]
            for r in await Delegate.select(Delegate.id).where(Delegate.congress == congress_id)
        ]
        tokens = await issue_cards(congress_id, ids, SYSTEM, replace=False)
        codes = []
        for n in range(tablets):
            name = f"{DOORS[n % len(DOORS)]} {n // len(DOORS) + 1}"
            _, code = await register_device(congress_id, name, SYSTEM)
            codes.append(code)
    cards = [card_address(t) for t in tokens.values()]
    rng.shuffle(cards)
    return Congress(sitting_id, cards, codes)


# --- the tablets --------------------------------------------------------------------------


class HttpError(Exception):
    pass


class Tablet:
    """One paired tablet: its cookie and one keep-alive HTTP/1.1 connection."""

    def __init__(self, cookie: str) -> None:
        self.head = (
            f"Host: {HOST}:{PORT}\r\nCookie: {DEVICE_COOKIE}={cookie}\r\n"
            "X-Congress-Device: 1\r\nAccept: application/json\r\n"
        ).encode()
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def connect(self) -> None:
        self.close()
        self.reader, self.writer = await asyncio.open_connection(HOST, PORT)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
        self.reader = self.writer = None

    async def request(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes, bytes]:
        """(status, raw headers, body) of one request on this tablet's connection."""
        if self.writer is None:
            await self.connect()
        assert self.reader is not None
        assert self.writer is not None
        head = f"{method} {path} HTTP/1.1\r\n".encode() + self.head
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


async def pair_tablets(codes: list[str]) -> list[Tablet]:
    """Each tablet opens its pairing address, as the QR code on the organizer's screen
    sends it, and keeps the cookie the server sets."""
    import httpx

    tablets = []
    for code in codes:
        async with httpx.AsyncClient(base_url=BASE_URL, trust_env=False) as http:
            response = await http.get(f"/P/{code}")
            if response.status_code != 303 or DEVICE_COOKIE not in http.cookies:
                raise RuntimeError(f"pairing failed: HTTP {response.status_code}")
            tablets.append(Tablet(http.cookies[DEVICE_COOKIE]))
    return tablets


@dataclass
class Phase:
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)
    results: Counter[str] = field(default_factory=Counter)
    server_ms_by_result: dict[str, list[float]] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    wall: float = 0.0
    started: float = 0.0
    server_cpu: float = 0.0
    client_cpu: float = 0.0
    database_cpu: float = 0.0
    machine_cpu: float = 0.0

    @property
    def done(self) -> int:
        return len(self.server_ms)

    @property
    def rate(self) -> float:
        return self.done / self.wall if self.wall else math.nan


class Scans:
    """The cards in turn: a card's first scan must be green, every later one orange.

    A card whose scan is still unanswered is skipped for now (a slow answer could
    otherwise be overtaken by the same card's next scan, and the colours swap).
    """

    def __init__(self, cards: list[str], sitting_id: int) -> None:
        self.cards = cards
        self.sitting_id = sitting_id
        self.cursor = 0
        self.scanned: set[int] = set()
        self.in_flight: set[int] = set()

    def take(self) -> tuple[int, bytes, str]:
        while self.cursor % len(self.cards) in self.in_flight:
            self.cursor += 1
        card = self.cursor % len(self.cards)
        self.cursor += 1
        self.in_flight.add(card)
        body = msgspec.json.encode(
            {
                "nonce": str(uuid.uuid4()),
                "sitting_id": self.sitting_id,
                "code": self.cards[card],
                "scanned_at": datetime.datetime.now(datetime.UTC),
            }
        )
        return card, body, "orange" if card in self.scanned else "green"

    def answered(self, card: int) -> None:
        self.in_flight.discard(card)
        self.scanned.add(card)


async def one_request(
    tablet: Tablet, phase: Phase, method: str, path: str, body: bytes = b""
) -> tuple[Any, float] | None:
    """One timed request: its decoded JSON answer and server time, or None after counting
    an error."""
    started = time.perf_counter()
    try:
        status, head, content = await tablet.request(method, path, body)
    except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, HttpError) as exc:
        phase.errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
        tablet.close()
        return None
    client_ms = (time.perf_counter() - started) * 1000
    if status != 200:
        phase.errors[f"HTTP {status}: {content[:100].decode(errors='replace')}"] += 1
        return None
    found = _DURATION.search(head)
    if found is None:
        phase.errors["no Server-Timing"] += 1
        return None
    server_ms = float(found.group(1))
    phase.server_ms.append(server_ms)
    phase.client_ms.append(client_ms)
    return msgspec.json.decode(content), server_ms


async def run_phase(
    tablets: list[Tablet], seconds: float, server: harness.AppServer, work: Any
) -> Phase:
    """Every tablet runs ``work(tablet, phase)`` back to back until the time is up."""
    phase = Phase()
    for tablet in tablets:
        await tablet.connect()
    deadline = time.perf_counter() + seconds

    async def loop(tablet: Tablet) -> None:
        while time.perf_counter() < deadline:
            await work(tablet, phase)

    cpu = (
        server.cpu_seconds(),
        time.process_time(),
        machine_busy_seconds(),
        database_cpu_seconds(),
    )
    phase.started = time.perf_counter()
    await asyncio.gather(*map(loop, tablets))
    phase.wall = time.perf_counter() - phase.started
    phase.server_cpu = server.cpu_seconds() - cpu[0]
    phase.client_cpu = time.process_time() - cpu[1]
    phase.machine_cpu = machine_busy_seconds() - cpu[2]
    phase.database_cpu = database_cpu_seconds() - cpu[3]
    for tablet in tablets:
        tablet.close()
    return phase


def state_reader(sitting_id: int) -> Any:
    path = f"{STATE_PATH}?sitting={sitting_id}"

    async def read_state(tablet: Tablet, phase: Phase) -> None:
        answered = await one_request(tablet, phase, "GET", path)
        if answered is not None:
            if answered[0].get("sitting", {}).get("id") != sitting_id:
                phase.errors["state: another sitting"] += 1
            else:
                phase.results["ok"] += 1

    return read_state


def scanner(scans: Scans) -> Any:
    async def scan(tablet: Tablet, phase: Phase) -> None:
        card, body, expected = scans.take()
        try:
            answered = await one_request(tablet, phase, "POST", SCAN_PATH, body)
        finally:
            scans.answered(card)
        if answered is None:
            return
        answer, server_ms = answered
        result = answer.get("result", "?")
        phase.results[result] += 1
        phase.server_ms_by_result.setdefault(result, []).append(server_ms)
        if result != expected:
            phase.errors[f"expected {expected}, got {result} ({answer.get('code')})"] += 1

    return scan


# --- the report ---------------------------------------------------------------------------


def row(label: str, phase: Phase, colours: bool) -> str:
    s, c, r = phase.server_ms, phase.client_ms, phase.results
    counts = f"{r['green']} | {r['orange']} | {r['red']}" if colours else "– | – | –"
    return (
        f"| {label} | {phase.done} | **{phase.rate:,.0f}** | {median(s):.1f}"
        f" | **{percentile(s, 0.99):.1f}** | {median(c):.1f} | {percentile(c, 0.99):.1f}"
        f" | {counts} | {sum(phase.errors.values())} |"
    )


def report(
    args: argparse.Namespace, scans: Phase, state: Phase, rss_mb: float, set_up_s: float
) -> bool:
    if SERVER:
        version = f"PostgreSQL {args.server_version}"
    else:
        import sqlite3

        version = f"SQLite {sqlite3.sqlite_version}"
    print(
        f"\nCheck-in at the doors: {args.delegates} delegates with cards, {args.clients} paired"
        f" tablets scanning back to back for {args.seconds:g} s; {version}, uvicorn 1 worker,"
        f" {os.cpu_count()} CPUs, Python {platform.python_version()}"
        f" (set up in {set_up_s:.1f} s)\n\nTimes in ms; server = Server-Timing app;dur,"
        " client = request sent until the body is read.\n"
    )
    print(
        "| load | requests | per s (total / wall) | server median | server p99"
        " | client median | client p99 | green | orange | red | errors |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(row(f"`POST {SCAN_PATH}`", scans, colours=True))
    for colour in ("green", "orange"):
        s = scans.server_ms_by_result.get(colour, [])
        if s:
            print(
                f"| … of which {colour} answers | {len(s)} | | {median(s):.1f}"
                f" | {percentile(s, 0.99):.1f} | | | | | | |"
            )
    print(row(f"baseline: `GET {STATE_PATH}`", state, colours=False))

    clean = not scans.errors and not state.errors and scans.results["red"] == 0
    rate_met = scans.rate >= GOAL_RATE
    p99 = percentile(scans.server_ms, 0.99)
    p99_met = p99 <= GOAL_P99_MS
    stated = "" if not SERVER else " (stated for SQLite; recorded here)"
    print(f"\ngoals{stated}:")
    print(
        f"- >= {GOAL_RATE:,.0f} check-ins/s sustained: {scans.rate:,.0f}/s -> "
        + ("met" if rate_met else f"NOT met ({scans.rate / GOAL_RATE:.0%} of the goal)")
    )
    print(
        f"- p99 server time <= {GOAL_P99_MS:g} ms: {p99:.1f} ms -> "
        + ("met" if p99_met else f"NOT met ({p99 / GOAL_P99_MS:.1f}x the goal)")
    )
    print(
        f"- no errors, no red: {'met' if clean else 'NOT met'}"
        f" (errors {sum(scans.errors.values()) + sum(state.errors.values())},"
        f" red {scans.results['red']})"
    )
    for name, phase in (("scans", scans), ("state", state)):
        for what, count in phase.errors.most_common(10):
            print(f"  {name}: {count} x {what}")
        in_server = sum(phase.server_ms) / 1000 / phase.wall if phase.wall else math.nan
        database = f", PostgreSQL backends {phase.database_cpu:.1f}" if SERVER else ""
        rest = max(
            0.0, phase.machine_cpu - phase.server_cpu - phase.client_cpu - phase.database_cpu
        )
        print(
            f"{name}: wall {phase.wall:.1f} s; CPU s: server {phase.server_cpu:.1f}"
            f" ({phase.server_cpu / phase.wall:.2f} cores){database},"
            f" tablets {phase.client_cpu:.1f}, anything else on the machine {rest:.1f}"
            f" (of {os.cpu_count()} CPUs x {phase.wall:.0f} s);"
            f" requests inside the app on average {in_server:.1f}"
        )
    print(f"server peak RSS (VmHWM): {rss_mb:.0f} MB")
    return clean


# --- the run ------------------------------------------------------------------------------


def state_profile(path: str) -> str:
    """Where the baseline's profile goes: next to the scans' one."""
    given = Path(path)
    return str(given.with_name(f"{given.stem}-state{given.suffix}"))


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--delegates", type=int, default=1100)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--seed", type=int, default=1100)
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record the server with py-spy during the scans (collapsed stacks, per thread);"
        " the baseline goes to FILE-state",
    )
    args = parser.parse_args()
    if args.delegates < 2 * args.clients:
        parser.error(
            "--delegates must be at least twice --clients: a card's first scan must"
            " be answered before its second is sent"
        )
    rng = random.Random(args.seed)

    if SERVER:
        args.server_version = await admin("SHOW server_version")
    # 50 tablets, each scanning as fast as it is answered: far above a door's pace, so the
    # per-tablet limit on scans (300 a minute) is lifted for the benchmark.
    env = {**APP_ENV, "CONGRESS_RATE_LIMITS": "checkin_scans=1000000/60"}
    server = harness.AppServer(PORT, env, pool_size=20 if SERVER else None)
    clean = False
    async with harness.fresh_database():
        try:
            started = time.perf_counter()
            congress = await set_up(args.delegates, args.clients, rng)
            set_up_s = time.perf_counter() - started
            print(
                f"set up: {args.delegates} delegates with cards, {args.clients} tablets"
                f" in {set_up_s:.1f} s"
            )
            server.start()
            await server.wait_until_up()
            tablets = await pair_tablets(congress.pairing_codes)
            # Warm-up: each tablet once, so first-request costs are not in the figures.
            warm = Phase()
            for tablet in tablets:
                await one_request(
                    tablet, warm, "GET", f"{STATE_PATH}?sitting={congress.sitting_id}"
                )
                tablet.close()
            if warm.errors:
                raise RuntimeError(f"warm-up failed: {dict(warm.errors)}\n{server.log_tail()}")

            state_path = state_profile(args.py_spy) if args.py_spy else None
            with harness.profiled(server.pid, state_path):
                state = await run_phase(
                    tablets, args.seconds, server, state_reader(congress.sitting_id)
                )
            with harness.profiled(server.pid, args.py_spy):
                scans = await run_phase(
                    tablets,
                    args.seconds,
                    server,
                    scanner(Scans(congress.cards, congress.sitting_id)),
                )
            clean = report(args, scans, state, server.peak_rss_mb(), set_up_s)
            if not clean:
                print(f"\nserver log (tail):\n{server.log_tail()}")
        finally:
            server.stop()
    return 0 if clean else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
