"""Benchmark: one update fanned out to 10,000 websocket subscribers on one instance.

    .venv/bin/python bench/live_fanout.py [--subscribers 10000] [--rate 500] [--updates 5]
    .venv/bin/python bench/live_fanout.py --endpoint events    # the organizers' event log
    .venv/bin/python bench/live_fanout.py --poll     # 1,000 subscribers, polls closed
    .venv/bin/python bench/live_fanout.py --py-spy server.txt    # and profile the fan-out
    .venv/bin/python bench/live_fanout.py --deflate    # clients offer compression, as browsers
    CONGRESS_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:54333/postgres \
        .venv/bin/python bench/live_fanout.py

A fresh database (a SQLite file under a temporary var dir, or a fresh PostgreSQL database
dropped at the end), migrated: one congress with one sitting and an admin account with an
open session (its cookie is the organizers'). The real app then runs under uvicorn in a
process of its own, one worker, with the open-file limit raised to the hard limit before
it is spawned, so that it inherits it.

``--subscribers`` clients, made with the ``websockets`` library (compression off, no
client pings, as a browser), connect at ``--rate`` per second to one websocket endpoint
(``--endpoint``) and read and discard every frame, so that the server never blocks on a
full buffer:

- ``public`` (the default): the public live page's socket, ``/live/<id>/feed?after=<seq>``,
  no cookie, ``Origin`` = the public URL, as live.js opens it. An update makes the next
  agenda item current (the screens' control page, ``POST
  /console/congresses/<id>/screens/current``); its frame is the feed's message for that
  ``CurrentItemSet`` event (a timeline entry and what is on now, the item's title in both).
- ``screen``: hall screens, ``/S/<key>/live?after=<seq>``, spread over ``--screens``
  screens registered through livestream.screens.services, showing the congress title and
  the current item. The same update; its frame is the screen's new state, which names the
  item.
- ``events``: the organizers' event log, ``/api/congresses/<id>/events/live?after=<seq>``
  with the session cookie and ``Origin`` = the public URL, as the console's page opens it.
  An update is a sitting added through ``POST /api/congresses/<id>/sittings``; its frame
  is the ``SittingAdded`` event.

The server's memory (``VmRSS`` from ``/proc/<pid>/status``) is read before the first
subscriber connects and after all of them are connected and idle for a few seconds; the
difference over N is the memory per connection. Then ``--updates`` updates, ``--gap``
seconds apart: ``t0`` is taken just before the request is sent, and each subscriber's
arrival time is ``time.perf_counter()`` in this same process when its frame is read.

Baseline, in the same run: a bare ``websockets`` server (``websockets.asyncio.server.serve``
and ``broadcast``, the same event loop as uvicorn's) in a process of its own with the same
limit; the same N clients connect the same way, and a frame of the same size as ours is
broadcast when a separate control connection asks for it, timed the same way. The clients
are the same code in both runs, so their own cost is in both figures: what the ratio
shows is the server's.

``--poll``: 1,000 subscribers to the event log; delegates checked in, a motion per update
opened and a few ballots cast (through congress.voting.services, before the server starts);
an update closes one poll through ``POST /api/congresses/<id>/polls/<poll>/close`` and its
frame is the ``PollResultReady`` event (sent after ``PollClosed``, in the same change).

Goals (issue "live fan-out"): 10,000 subscribers, p99 delivery <= 500 ms, server memory
<= 30 KB per connection, p99 <= 2x the bare server's; a poll's result to 1,000
subscribers with p99 <= 200 ms. The clients share the machine with the server (their CPU
time, and everybody else's, is printed per phase).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import csv
import datetime
import gc
import io
import math
import os
import platform
import resource
import secrets
import shutil
import sys
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
from harness import ServerProcess as Process  # noqa: E402
from harness import (  # noqa: E402
    admin,
    database_cpu_seconds,
    free_port,
    machine_busy_seconds,
    median,
    percentile,
)

SERVER = harness.POSTGRES
PORT = free_port()
HOST = harness.HOST
BASE_URL = f"http://{HOST}:{PORT}"
APP_ENV = harness.app_environment(BASE_URL)


GOAL_P99_MS = 500.0
GOAL_KB_PER_CONNECTION = 30.0
GOAL_RATIO = 2.0
GOAL_POLL_P99_MS = 200.0
SESSION_COOKIE = "congress_session"
CSRF_COOKIE = "congress_csrf"
IDLE_PAUSE_S = 5.0  # after the last connect, before memory is read: let the dust settle
DELEGATES = 40
BALLOTS_PER_POLL = 25

Marker = tuple[bytes, ...]  # every one of these is in the update's frame


# --- the congress ------------------------------------------------------------------------


def delegate_sheet(count: int) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(["STT", "Họ và tên", "Đoàn đại biểu", "Loại đại biểu", "Số thẻ"])
    for n in range(1, count + 1):
        writer.writerow([n, f"Nguyễn Văn Đại biểu {n}", "Công đoàn ngành Y tế", "Chính thức", n])
    return buffer.getvalue().encode("utf-8-sig")


@dataclass
class Congress:
    congress_id: int
    sitting_id: int
    session: str  # the admin's session cookie
    polls: list[int]  # open, with ballots (--poll); the first one is for the warm-up
    agenda: list[int]  # the sitting's items, made current one after the other
    screens: list[str]  # screen keys


def item_marker(n: int) -> bytes:
    """In the title of agenda item n, and so in every frame that shows it."""
    return b"(#%d)" % n


async def set_up(items: int, polls: int, screens: int) -> Congress:
    """The congress, a sitting with ``items`` agenda items, ``screens`` screens registered,
    an admin signed in; with ``polls``, delegates checked in and that many motions open,
    each with a few ballots."""
    from checkin.tables import Attendance
    from congress import accounts, database
    from congress.delegates import services as delegate_services
    from congress.eventlog import SYSTEM
    from congress.schemas import AgendaItemIn
    from congress.services import add_agenda_item
    from congress.tables import Delegate
    from congress.voting import services as voting
    from congress.voting.schemas import BallotIn, PollIn
    from livestream.screens.services import register_screen

    async with database.database_pool(4):
        await database.migrate()
        congress_id = await harness.provincial_congress()
        sitting_id = await harness.first_sitting(congress_id)
        account = await accounts.create_account(
            f"bench.{secrets.token_hex(3)}", "Ban Tổ chức", secrets.token_urlsafe(16), ["admin"]
        )
        session = await accounts.open_session(account)
        agenda = [
            await add_agenda_item(
                congress_id,
                sitting_id,
                AgendaItemIn(title=f"Thảo luận tại hội trường {item_marker(n).decode()}"),
                SYSTEM,
            )
            for n in range(items)
        ]
        keys = [
            (await register_screen(congress_id, f"Màn hình LED {n + 1}", SYSTEM))[1]
            for n in range(screens)
        ]
        poll_ids: list[int] = []
        if polls:
            token = await delegate_services.stage_import(
                congress_id, "dai_bieu.csv", delegate_sheet(DELEGATES), SYSTEM
            )
            await delegate_services.apply_import(congress_id, token, True, SYSTEM)
            ids = [
                r["id"]
                for r in await Delegate.select(Delegate.id).where(Delegate.congress == congress_id)
            ]
            now = datetime.datetime.now(datetime.UTC)
            await Attendance.insert(
                *(
                    Attendance(
                        congress=congress_id, sitting=sitting_id, delegate=d, checked_in_at=now
                    )
                    for d in ids
                )
            )
            for n in range(polls):
                data = PollIn(kind="motion", title=f"Biểu quyết số {n + 1}", sitting_id=sitting_id)
                poll_id = await voting.create_poll(congress_id, data, SYSTEM)
                await voting.open_poll(congress_id, poll_id, SYSTEM)
                for delegate_id in ids[:BALLOTS_PER_POLL]:
                    choice = ["agree", "agree", "disagree", "abstain"][delegate_id % 4]
                    await voting.cast_ballot(
                        congress_id, delegate_id, poll_id, BallotIn(choices=[choice])
                    )
                poll_ids.append(poll_id)
    return Congress(congress_id, sitting_id, session, poll_ids, agenda, keys)


# --- the servers --------------------------------------------------------------------------


def raise_open_files_limit() -> int:
    """Soft limit up to the hard one; the servers spawned afterwards inherit it."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    return hard


def start_bare_server(port: int) -> Process:
    server = Process("bare")
    server.spawn(
        [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(port)],
        dict(os.environ),
    )
    return server


async def bare_server(port: int) -> None:
    """The baseline: a bare websockets server. Every connection but ``/control`` is a
    subscriber; what the control connection sends is broadcast to all of them."""
    from websockets.asyncio.server import ServerConnection, broadcast, serve

    subscribers: set[ServerConnection] = set()

    async def handler(connection: ServerConnection) -> None:
        assert connection.request is not None
        if connection.request.path == "/control":
            async for message in connection:
                broadcast(subscribers, message)
                await connection.send("sent")
            return
        subscribers.add(connection)
        try:
            await connection.wait_closed()
        finally:
            subscribers.discard(connection)

    async with serve(handler, HOST, port, compression=None, backlog=4096):
        await asyncio.Future()


@dataclass
class Cpu:
    """CPU seconds of one phase: the server, the clients (this process), the PostgreSQL
    backends, and everything else on the machine."""

    wall: float = 0.0
    server: float = 0.0
    clients: float = 0.0
    database: float = 0.0
    machine: float = 0.0

    @property
    def elsewhere(self) -> float:
        return max(0.0, self.machine - self.server - self.clients - self.database)


@contextlib.contextmanager
def cpu_of(server: Process, into: Cpu) -> Any:
    before = (
        time.perf_counter(),
        server.cpu_seconds(),
        time.process_time(),
        database_cpu_seconds(),
        machine_busy_seconds(),
    )
    try:
        yield into
    finally:
        into.wall += time.perf_counter() - before[0]
        into.server += server.cpu_seconds() - before[1]
        into.clients += time.process_time() - before[2]
        into.database += database_cpu_seconds() - before[3]
        into.machine += machine_busy_seconds() - before[4]


# --- the subscribers -----------------------------------------------------------------------


class Subscriber:
    """One websocket client: it reads every frame and keeps (arrival, frame)."""

    def __init__(self, connection: Any) -> None:
        self.connection = connection
        self.frames: list[tuple[float, bytes]] = []
        self.closed = ""
        self.task = asyncio.create_task(self.read())

    async def read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        clock = time.perf_counter
        frames = self.frames
        try:
            while True:
                raw = await self.connection.recv(decode=False)
                frames.append((clock(), raw))
        except ConnectionClosed as closed:
            self.closed = f"closed: {closed.rcvd.code if closed.rcvd else 'no close frame'}"

    def abort(self) -> None:
        self.task.cancel()
        transport = getattr(self.connection, "transport", None)
        if transport is not None:
            transport.abort()


@dataclass
class Feed:
    """Where the subscribers connect, and how one update is made: ``trigger(n)`` sends
    update n and returns what its frame contains."""

    name: str
    url: str
    headers: dict[str, str]
    origin: str | None
    trigger: Callable[[int], Awaitable[Marker]]
    urls: list[str] = field(default_factory=list)  # to spread over instead of ``url``


async def connect_all(
    feed: Feed, count: int, rate: float, errors: Counter[str], compression: str | None = None
) -> list[Subscriber]:
    """``count`` subscribers, a new connection every 1/rate seconds."""
    from websockets.asyncio.client import connect

    subscribers: list[Subscriber] = []

    async def one(n: int) -> None:
        try:
            connection = await connect(
                feed.urls[n % len(feed.urls)] if feed.urls else feed.url,
                origin=feed.origin,  # type: ignore[arg-type]
                compression=compression,
                additional_headers=feed.headers,
                proxy=None,
                ping_interval=None,
                open_timeout=60,
                user_agent_header=None,
            )
        except Exception as exc:
            errors[f"{type(exc).__name__}: {exc}"[:120]] += 1
            return
        subscribers.append(Subscriber(connection))

    started = time.perf_counter()
    pending = []
    for n in range(count):
        delay = started + n / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        pending.append(asyncio.create_task(one(n)))
    await asyncio.gather(*pending)
    return subscribers


async def close_all(subscribers: list[Subscriber]) -> None:
    for subscriber in subscribers:
        subscriber.abort()
    await asyncio.gather(*(s.task for s in subscribers), return_exceptions=True)


@dataclass
class Delivery:
    """One update: when it was sent, how long its request took, when each frame came."""

    request_ms: float
    delivery_ms: list[float]
    missing: int
    frame_bytes: int


async def deliver(subscribers: list[Subscriber], feed: Feed, n: int, wait_s: float) -> Delivery:
    """Sends update n and waits until every live subscriber has its frame (or wait_s)."""
    for subscriber in subscribers:
        subscriber.frames.clear()
    t0 = time.perf_counter()
    marker = await feed.trigger(n)
    request_ms = (time.perf_counter() - t0) * 1000
    arrivals: list[float | None] = [None] * len(subscribers)
    sizes: list[int] = []
    cursors = [0] * len(subscribers)
    while True:
        missing = 0
        for i, subscriber in enumerate(subscribers):
            if arrivals[i] is not None:
                continue
            frames = subscriber.frames
            for at, raw in frames[cursors[i] :]:
                if all(m in raw for m in marker):
                    arrivals[i] = at
                    sizes.append(len(raw))
                    break
            else:
                cursors[i] = len(frames)
                missing += not subscriber.closed
        if not missing or time.perf_counter() > t0 + wait_s:
            break
        await asyncio.sleep(0.2)
    found = [(at - t0) * 1000 for at in arrivals if at is not None]
    return Delivery(
        request_ms, found, len(subscribers) - len(found), int(median([float(s) for s in sizes]))
    )


# --- the feeds ------------------------------------------------------------------------------


class Organizer:
    """The organizers' HTTP client: the admin's session and the CSRF token."""

    def __init__(self, congress: Congress) -> None:
        import httpx

        self.http = httpx.AsyncClient(base_url=BASE_URL, trust_env=False, timeout=60)
        self.http.cookies.set(SESSION_COOKIE, congress.session)

    async def send(
        self, method: str, path: str, body: Any = None, form: dict[str, str] | None = None
    ) -> Any:
        """JSON in and out; a form (the console's pages) may be answered by a redirect."""
        if CSRF_COOKIE not in self.http.cookies:
            await self.http.get("/login")
        response = await self.http.request(
            method,
            path,
            json=body,
            data=form,
            headers={"x-csrf-token": self.http.cookies[CSRF_COOKIE]},
        )
        if response.status_code >= (400 if form else 300):
            raise RuntimeError(f"{method} {path}: HTTP {response.status_code} {response.text}")
        return None if form or not response.content else response.json()

    async def close(self) -> None:
        await self.http.aclose()


async def event_log_feed(organizer: Organizer, congress: Congress, poll: bool) -> Feed:
    """The console's event log; an update adds a sitting, or closes the next poll."""
    base = f"/api/congresses/{congress.congress_id}"
    after = (await organizer.send("GET", base))["last_event_seq"]

    async def add_sitting(n: int) -> Marker:
        title = f"Phiên họp bổ sung số {n}"
        created = await organizer.send("POST", base + "/sittings", {"title": title})
        return (b'"type":"SittingAdded"', b'"sitting_id":%d}' % created["id"])

    async def close_poll(n: int) -> Marker:
        poll_id = congress.polls[n]
        await organizer.send("POST", f"{base}/polls/{poll_id}/close")
        return (b'"type":"PollResultReady"', b'"poll_id":%d,' % poll_id)

    return Feed(
        "events",
        f"ws://{HOST}:{PORT}{base}/events/live?after={after}",
        {"Cookie": f"{SESSION_COOKIE}={congress.session}"},
        BASE_URL,
        close_poll if poll else add_sitting,
    )


def current_item_setter(organizer: Organizer, congress: Congress) -> Any:
    """The presidium's secretary moves to the next agenda item on the screens' control
    page: a ``CurrentItemSet`` event, on the public timeline and on every screen."""
    path = f"/console/congresses/{congress.congress_id}/screens/current"

    async def set_current(n: int) -> Marker:
        await organizer.send("POST", path, form={"current": f"item:{congress.agenda[n]}"})
        return (item_marker(n),)

    return set_current


async def public_feed(organizer: Organizer, congress: Congress) -> Feed:
    """The public live page's socket, opened as live.js opens it (no cookie)."""
    base = f"/api/congresses/{congress.congress_id}"
    after = (await organizer.send("GET", base))["last_event_seq"]
    return Feed(
        "public",
        f"ws://{HOST}:{PORT}/live/{congress.congress_id}/feed?after={after}&lang=vi",
        {},
        BASE_URL,
        current_item_setter(organizer, congress),
    )


async def screen_feed(organizer: Organizer, congress: Congress) -> Feed:
    """Hall screens showing the title and the current item, as screen.js opens them; the
    subscribers are spread over the registered screens."""
    base = f"/api/congresses/{congress.congress_id}"
    after = (await organizer.send("GET", base))["last_event_seq"]
    urls = [f"ws://{HOST}:{PORT}/S/{key}/live?after={after}" for key in congress.screens]
    return Feed("screen", urls[0], {}, BASE_URL, current_item_setter(organizer, congress), urls)


async def bare_feed(port: int, frame_bytes: int) -> tuple[Feed, Any]:
    """The baseline's control connection: it sends a frame of ``frame_bytes`` to be
    broadcast, and waits for the server's word that it went out."""
    from websockets.asyncio.client import connect

    control = await connect(
        f"ws://{HOST}:{port}/control", compression=None, proxy=None, ping_interval=None
    )

    async def broadcast(n: int) -> Marker:
        head = b'{"update":%d,"pad":"' % n
        frame = head + b"x" * max(0, frame_bytes - len(head) - 2) + b'"}'
        await control.send(frame.decode())
        await control.recv()
        return (head,)

    return Feed("bare", f"ws://{HOST}:{port}/", {}, None, broadcast), control


# --- one run against one server -----------------------------------------------------------


@dataclass
class Run:
    name: str
    subscribers: int = 0
    connect_errors: Counter[str] = field(default_factory=Counter)
    closed: Counter[str] = field(default_factory=Counter)
    rss_before_kb: int = 0
    rss_idle_kb: int = 0
    hwm_kb: int = 0
    connect: Cpu = field(default_factory=Cpu)
    fanout: Cpu = field(default_factory=Cpu)
    updates: list[Delivery] = field(default_factory=list)

    @property
    def kb_per_connection(self) -> float:
        return (
            (self.rss_idle_kb - self.rss_before_kb) / self.subscribers
            if self.subscribers
            else math.nan
        )

    @property
    def all_ms(self) -> list[float]:
        return [ms for u in self.updates for ms in u.delivery_ms]


async def measure(
    run: Run, server: Process, feed: Feed, args: argparse.Namespace, profile: str | None
) -> Run:
    """Connect, wait, read the memory, send the updates, disconnect."""
    run.rss_before_kb = server.status_kb("VmRSS")
    with cpu_of(server, run.connect):
        subscribers = await connect_all(
            feed, args.subscribers, args.rate, run.connect_errors, args.deflate
        )
    run.subscribers = len(subscribers)
    # The clients' own objects will not be collected: keep their GC out of the timings.
    gc.collect()
    gc.freeze()
    print(f"{run.name}: {len(subscribers)} subscribers connected in {run.connect.wall:.1f} s")
    await asyncio.sleep(IDLE_PAUSE_S)
    run.rss_idle_kb = server.status_kb("VmRSS")
    try:
        with harness.profiled(server.pid, profile):
            for n in range(1, args.updates + 1):
                with cpu_of(server, run.fanout):
                    delivery = await deliver(subscribers, feed, n, args.timeout)
                run.updates.append(delivery)
                print(
                    f"  update {n}: {len(delivery.delivery_ms)}/{len(subscribers)},"
                    f" p99 {percentile(delivery.delivery_ms, 0.99):.0f} ms"
                )
                await asyncio.sleep(args.gap)
    finally:
        run.hwm_kb = server.status_kb("VmHWM")
        run.closed.update(s.closed for s in subscribers if s.closed)
        await close_all(subscribers)
        gc.unfreeze()
    return run


# --- the report ---------------------------------------------------------------------------


def verdict(met: bool, text: str) -> str:
    return f"- {text} -> " + ("met" if met else "**NOT met**")


def cpu_line(name: str, cpu: Cpu, per: tuple[int, str] | None = None) -> str:
    """One phase's CPU; with ``per`` (a count and what it counts), also the server's CPU
    (with the database's) per one of them."""
    database = f", PostgreSQL backends {cpu.database:.1f}" if SERVER else ""
    busy = " — **the machine was busy**" if cpu.elsewhere > max(0.5, 0.25 * cpu.wall) else ""
    each = ""
    if per and per[0]:
        who = "server and PostgreSQL" if SERVER else "server"
        each = f"; {1000 * (cpu.server + cpu.database) / per[0]:.3g} ms {who} CPU per {per[1]}"
    return (
        f"- {name}: wall {cpu.wall:.1f} s; CPU s: server {cpu.server:.1f}{database},"
        f" clients {cpu.clients:.1f}, anything else {cpu.elsewhere:.1f}"
        f" (of {os.cpu_count()} CPUs x {cpu.wall:.0f} s){each}{busy}"
    )


def report(args: argparse.Namespace, ours: Run, bare: Run | None, set_up_s: float) -> bool:
    if SERVER:
        version = f"PostgreSQL {args.server_version}"
    else:
        import sqlite3

        version = f"SQLite {sqlite3.sqlite_version}"
    import websockets

    what = (
        "a poll closed"
        if args.poll
        else "a sitting added"
        if args.endpoint == "events"
        else "the next agenda item made current"
    )
    print(
        f"\nLive fan-out: {args.subscribers:,} subscribers to `{args.endpoint}`, connected at"
        f" {args.rate:g}/s; {args.updates} updates ({what}) {args.gap:g} s apart; {version},"
        f" uvicorn 1 worker, websockets {websockets.__version__}, {os.cpu_count()} CPUs,"
        f" Python {platform.python_version()} (set up in {set_up_s:.1f} s)\n\n"
        "Delivery = request sent (t0) until the subscriber has read the frame, in ms;"
        " request = t0 until the HTTP answer (for the bare server: until it said it had"
        " broadcast).\n"
    )
    runs = [ours] + ([bare] if bare else [])
    print("| server | update | frame bytes | received | median | p90 | p99 | max | request |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        for n, u in enumerate(run.updates, 1):
            d = u.delivery_ms
            print(
                f"| {run.name} | {n} | {u.frame_bytes} | {len(d)}/{run.subscribers}"
                f" | {median(d):.0f} | {percentile(d, 0.9):.0f} | **{percentile(d, 0.99):.0f}**"
                f" | {max(d, default=math.nan):.0f} | {u.request_ms:.0f} |"
            )
        per_update = median([percentile(u.delivery_ms, 0.99) for u in run.updates])
        print(f"| {run.name} | median of the p99s | | | | | {per_update:.0f} | | |")
        d = run.all_ms
        print(
            f"| {run.name} | **all** | | {len(d)} | {median(d):.0f} | {percentile(d, 0.9):.0f}"
            f" | **{percentile(d, 0.99):.0f}** | {max(d, default=math.nan):.0f} | |"
        )
    print(
        "\n| server | connected | connect errors | VmRSS before MB | VmRSS idle MB"
        " | per connection KB | VmHWM MB |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(
            f"| {run.name} | {run.subscribers} | {sum(run.connect_errors.values())}"
            f" | {run.rss_before_kb / 1024:.0f} | {run.rss_idle_kb / 1024:.0f}"
            f" | **{run.kb_per_connection:.1f}** | {run.hwm_kb / 1024:.0f} |"
        )

    p99 = percentile(ours.all_ms, 0.99)
    complete = (
        ours.subscribers == args.subscribers
        and all(u.missing == 0 for u in ours.updates)
        and len(ours.updates) == args.updates
    )
    print("\ngoals:")
    goals = [complete]
    print(verdict(complete, "every subscriber connected and got every update"))
    if args.poll:
        goals.append(p99 <= GOAL_POLL_P99_MS)
        print(verdict(goals[-1], f"poll result p99 <= {GOAL_POLL_P99_MS:g} ms: {p99:.0f} ms"))
    else:
        full = args.subscribers >= 10_000
        scale = "" if full else f" (with {args.subscribers:,}, not 10,000)"
        goals.append(p99 <= GOAL_P99_MS)
        print(verdict(goals[-1], f"p99 delivery <= {GOAL_P99_MS:g} ms{scale}: {p99:.0f} ms"))
        kb = ours.kb_per_connection
        goals.append(kb <= GOAL_KB_PER_CONNECTION)
        print(verdict(goals[-1], f"memory <= {GOAL_KB_PER_CONNECTION:g} KB/connection: {kb:.1f}"))
    if bare:
        ratio = p99 / percentile(bare.all_ms, 0.99)
        if not args.poll:
            goals.append(ratio <= GOAL_RATIO)
        print(verdict(ratio <= GOAL_RATIO, f"p99 <= {GOAL_RATIO:g}x bare websockets: {ratio:.1f}x"))
    print("\nCPU per phase:")
    for run in runs:
        print(cpu_line(f"{run.name}, connecting", run.connect, (run.subscribers, "connection")))
        updates = len(run.updates)
        print(cpu_line(f"{run.name}, fan-out ({updates} updates)", run.fanout, (updates, "update")))
    for run in runs:
        for what, count in (run.connect_errors + run.closed).most_common(8):
            print(f"  {run.name}: {count} x {what}")
    return all(goals)


# --- the run ------------------------------------------------------------------------------


async def feed_for(endpoint: str, organizer: Organizer, congress: Congress, poll: bool) -> Feed:
    if endpoint == "events":
        return await event_log_feed(organizer, congress, poll)
    if poll:
        raise SystemExit("--poll measures the event log: use --endpoint events")
    if endpoint == "public":
        return await public_feed(organizer, congress)
    return await screen_feed(organizer, congress)


async def run_all(args: argparse.Namespace) -> bool:
    started = time.perf_counter()
    congress = await set_up(
        1 + args.updates,
        1 + args.updates if args.poll else 0,
        args.screens if args.endpoint == "screen" else 0,
    )
    set_up_s = time.perf_counter() - started
    server = harness.AppServer(PORT, APP_ENV, pool_size=20 if SERVER else None, backlog=4096)
    server.start()
    bare_process: Process | None = None
    organizer = Organizer(congress)
    try:
        await server.wait_ready(BASE_URL + "/login", tries=600)
        feed = await feed_for(args.endpoint, organizer, congress, args.poll)
        # Warm-up: one subscriber, one update (the first of everything is slow), and the
        # size of the frame the baseline will broadcast.
        warm = await connect_all(feed, 1, 1.0, Counter())
        if not warm:
            raise RuntimeError(f"no subscriber could connect:\n{server.log_tail()}")
        warm_up = await deliver(warm, feed, 0, 10.0)
        await close_all(warm)
        if warm_up.missing:
            raise RuntimeError(f"the warm-up update never arrived:\n{server.log_tail()}")
        await asyncio.sleep(1.0)

        ours = await measure(Run("ours"), server, feed, args, args.py_spy)
        server_log = server.log_tail(15)
        # The app has had its turn: it would otherwise take CPU from the baseline.
        await organizer.close()
        server.stop()
        bare = None
        if not args.no_bare:
            port = free_port()
            bare_process = start_bare_server(port)
            await bare_process.wait_ready(
                f"http://{HOST}:{port}/", lambda r: r.status_code == 426, tries=600
            )
            feed, control = await bare_feed(port, warm_up.frame_bytes)
            try:
                bare = await measure(Run("bare websockets"), bare_process, feed, args, None)
            finally:
                await control.close()
        ok = report(args, ours, bare, set_up_s)
        if ours.connect_errors or ours.closed or not ok:
            print(f"\nserver log (tail):\n{server_log}")
        return ok
    finally:
        await organizer.close()
        server.stop()
        if bare_process is not None:
            bare_process.stop()


async def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--subscribers", type=int, help="10,000; 1,000 with --poll")
    parser.add_argument("--rate", type=float, default=500.0, help="new connections per second")
    parser.add_argument("--endpoint", choices=["public", "events", "screen"])
    parser.add_argument("--updates", type=int, default=5)
    parser.add_argument("--gap", type=float, default=3.0, help="seconds between updates")
    parser.add_argument("--timeout", type=float, default=60.0, help="for one update's frames")
    parser.add_argument("--screens", type=int, default=10, help="for --endpoint screen")
    parser.add_argument("--poll", action="store_true", help="the poll scenario")
    parser.add_argument("--no-bare", action="store_true", help="skip the baseline")
    parser.add_argument(
        "--deflate",
        action="store_const",
        const="deflate",
        help="clients offer permessage-deflate, as browsers do (the issue says: off)",
    )
    parser.add_argument("--py-spy", metavar="FILE", help="profile the server during fan-out")
    parser.add_argument("--bare-server", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server:
        shutil.rmtree(harness.var_dir(), ignore_errors=True)
        await bare_server(args.bare_server)
        return 0
    if args.endpoint is None:
        args.endpoint = "events" if args.poll else "public"
    if args.subscribers is None:
        args.subscribers = 1000 if args.poll else 10_000
    limit = raise_open_files_limit()
    if args.subscribers + 200 > limit:
        parser.error(f"--subscribers {args.subscribers} needs more open files than {limit}")

    if SERVER:
        args.server_version = await admin("SHOW server_version")
    async with harness.fresh_database():
        ok = await run_all(args)
    return 0 if ok else 1


def run() -> int:
    """uvloop, as uvicorn uses: the clients and the bare server on the same loop as ours."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())


if __name__ == "__main__":
    sys.exit(run())
