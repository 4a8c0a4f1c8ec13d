"""Rehearsal: a whole congress day played against the real system, with faults; nothing lost.

    .venv/bin/python bench/rehearsal.py                  # the full day, on both setups
    .venv/bin/python bench/rehearsal.py --small          # the CI day (about 120 delegates)
    .venv/bin/python bench/rehearsal.py --only sqlite    # one setup: sqlite | postgres
    .venv/bin/python bench/rehearsal.py --postgres postgresql://postgres@127.0.0.1:54330/postgres

Two setups, each on a fresh database, as the system runs for real:

- **postgres**: two app instances (uvicorn, one worker each) sharing PostgreSQL (a fresh
  database on ``--postgres`` or ``CONGRESS_BENCH_POSTGRES``, dropped at the end) and a
  redis-server of the rehearsal's own (``CONGRESS_REDIS_URL``), behind a round-robin TCP
  balancer;
- **sqlite**: the embedded default, one instance on a SQLite file, behind the same balancer.

Each setup runs in a process of its own (this script with ``--only``), so that the
benchmarks' harness gets its own var dir and database. The balancer is a small asyncio TCP
proxy in a third process (this script with ``--balance``): each new connection goes to the
next instance in turn, skipping one that refuses connections, as a balancer with health
checks does; HTTP and websockets pass through untouched. Everything below goes through it,
over the real HTTP and websocket interfaces only.

**The set-up**, as organizers do it: the first administrator by ``congress create-admin``,
then through the API and the console: the accounts of the presidium, the secretariat, two
tally committee members; the congress, three sittings and their agendas; the delegates
imported from a spreadsheet (official and invited); every card printed as one background
print job (CR80 layout, one card a page), the PDF downloaded once and each card's QR code
read back with zxing-cpp (the tokens exist nowhere else); the tablets registered and paired
through their pairing addresses; three screens registered (their addresses read from the
console page that shows them once) and set to the poll, attendance and speaker views; the
documents uploaded.

**The day**: per sitting, the doors open: tablets scan the delegates as they arrive (a few
cards twice, at another door), each delegate's phone opens its card address and page; the
presidium sets the current item, the secretariat releases papers and new versions, speakers
are added (by the secretariat) or ask from their phones, and are called, timed and stopped.
Then the sitting's polls: each opened, the phones of the voters list the polls and vote
(choice, confirm, retry key), the tally committee hands out paper ballots by card number
and enters the paper counts twice (the second member's first entry differs, and is
corrected), the poll is closed and published; the executive committee election has a tie
for the last seat, whose runoff is held at once. Three screens follow the whole day on
``/S/<key>/live``, as screen.js does (state first, then events from ``after=<seq>``,
reconnecting with back-off).

**Faults**, during the day: one tablet offline while scanning (its scans wait with their
own nonce and scan time and go up through ``/scans/batch`` when it is back); an app instance
killed with SIGKILL while phones vote (a quarter of them sending their ballot in the half
second around it), restarted after a few seconds; Redis restarted (the
PostgreSQL setup); a screen's connection cut; 5% of ballots sent with a client-side timeout
too short for the answer and sent again with the same retry key. Durations scale with
``--small`` (the output says which).

**The checks**, against what the simulation intended, read back through the API and
exports: every delegate present in each sitting they scanned into and no one else (the
console's attendance page); every check-in event once; every acknowledged ballot sealed
exactly once and nothing else; each tally equal to the intentions; each poll's export
verified by ``congress verify-poll``; every screen's last state equal to ``/S/<key>/state``
and every event number received, without a gap; the archive export verified by ``congress
archive verify-export`` and holding every document and version; the speakers' list; the
papers on a delegate's page. A table of the checks, then the figures, and exit 1 on any
loss.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime
import json
import math
import os
import platform
import random
import re
import resource
import secrets
import subprocess
import sys
import time
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
from harness import HOST, percentile, server_ms  # noqa: E402

SESSION_COOKIE = "congress_session"
CSRF_COOKIE = "congress_csrf"
DELEGATE_COOKIE = "congress_delegate"
DEVICE_COOKIE = "congress_device"
PASSWORD = secrets.token_urlsafe(18)
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


# --- the day's size ------------------------------------------------------------------------


@dataclass(frozen=True)
class PollPlan:
    """One poll of the day, as the presidium drafted it."""

    sitting: int  # 0, 1, 2
    kind: str  # motion | election
    title: str
    candidates: int = 0
    seats: int = 1
    paper: int = 0  # paper ballots handed out (method phone_and_paper when > 0)
    tie: bool = False  # an election designed with a tie for the last seat: a runoff follows
    kill: bool = False  # an app instance is killed with SIGKILL while the phones vote


@dataclass(frozen=True)
class Scale:
    name: str
    officials: int
    invited: int
    tablets: int
    checkin_s: tuple[float, float, float]  # how long each sitting's doors are open
    offline_s: float  # the tablet without network, in the first sitting
    vote_s: float  # the phones' votes spread over this long once a poll opens
    restart_s: float  # the killed instance is started again after this long
    polls: tuple[PollPlan, ...]
    documents: int
    new_versions: int
    speakers: int
    phone_speakers: int  # of them asked from the phones
    agenda_items: int = 4  # per sitting
    retry_fraction: float = 0.05


FULL = Scale(
    name="full",
    officials=1100,
    invited=150,
    tablets=6,
    checkin_s=(330.0, 75.0, 75.0),
    offline_s=300.0,
    vote_s=30.0,
    restart_s=5.0,
    polls=(
        PollPlan(0, "motion", "Thông qua Chương trình Đại hội"),
        PollPlan(0, "motion", "Thông qua Quy chế làm việc của Đại hội"),
        PollPlan(
            1,
            "election",
            "Bầu Ban Chấp hành Liên đoàn Lao động tỉnh khóa XX",
            candidates=45,
            seats=35,
            paper=30,
            tie=True,
        ),
        PollPlan(1, "election", "Bầu Ủy ban Kiểm tra khóa XX", candidates=9, seats=7),
        PollPlan(1, "motion", "Thông qua số lượng đại biểu đi dự Đại hội cấp trên", kill=True),
        PollPlan(2, "motion", "Thông qua Báo cáo chính trị"),
        PollPlan(2, "motion", "Thông qua Nghị quyết Đại hội"),
    ),
    documents=20,
    new_versions=3,
    speakers=30,
    phone_speakers=9,
)
SMALL = Scale(
    name="small",
    officials=100,
    invited=20,
    tablets=6,
    checkin_s=(12.0, 4.0, 4.0),
    offline_s=10.0,
    vote_s=3.0,
    restart_s=2.0,
    polls=(
        PollPlan(0, "motion", "Thông qua Chương trình Đại hội", kill=True),
        PollPlan(
            1,
            "election",
            "Bầu Ban Chấp hành Liên đoàn Lao động tỉnh khóa XX",
            candidates=12,
            seats=9,
            paper=5,
            tie=True,
        ),
    ),
    documents=4,
    new_versions=1,
    speakers=4,
    phone_speakers=1,
    agenda_items=2,
)

SITTINGS = (
    ("Phiên trù bị", "preparatory", datetime.time(7, 30)),
    ("Phiên chính thức thứ nhất", "plenary", datetime.time(13, 30)),
    ("Phiên bế mạc", "closing", datetime.time(16, 30)),
)
AGENDA = [
    "Chào cờ, tuyên bố lý do, giới thiệu đại biểu",
    "Báo cáo kiểm điểm của Ban Chấp hành",
    "Thảo luận tại hội trường",
    "Bầu cử",
    "Thông qua Nghị quyết",
    "Bế mạc",
]
DOORS = ["Cửa chính 1", "Cửa chính 2", "Cửa phụ", "Cửa hông", "Sảnh A", "Sảnh B", "Sảnh C"]
PAPERS = [
    ("Dự thảo Báo cáo chính trị", "political_report"),
    ("Báo cáo kiểm điểm của Ban Chấp hành", "executive_report"),
    ("Báo cáo của Ủy ban Kiểm tra", "inspection_report"),
    ("Dự thảo Nghị quyết Đại hội", "draft_resolution"),
]
# Attendance: the chance that a delegate of this kind comes to this sitting.
COMES = {"official": (0.97, 0.98, 0.96), "invited": (0.9, 0.3, 0.8)}
SCANNED_TWICE = 0.02  # a card scanned again at another door: orange
MOTION_OPTIONS = ["agree", "disagree", "abstain"]
MOTION_WEIGHTS = [0.85, 0.1, 0.05]
DOES_NOT_VOTE = 0.01  # a voter who could vote and does not


STARTED = time.perf_counter()


def say(what: str) -> None:
    """A line of progress, with the time since the start."""
    print(f"[{time.perf_counter() - STARTED:6.1f} s] {what}", flush=True)


# --- a tiny HTTP toolkit -----------------------------------------------------------------------


def cookies_of(response: Any) -> dict[str, str]:
    """The cookies a response sets, by name (the clients keep them themselves)."""
    found = {}
    for header in response.headers.get_list("set-cookie"):
        name, _, rest = header.partition("=")
        found[name.strip()] = rest.split(";", 1)[0]
    return found


def cookie_header(cookies: dict[str, str]) -> str:
    return "; ".join(f"{k}={v}" for k, v in cookies.items())


class Refused(Exception):
    """An answer the simulation did not expect."""


def transport_errors() -> tuple[type[BaseException], ...]:
    import httpx

    return (httpx.TransportError, OSError)


# --- the balancer (its own process) ------------------------------------------------------------


async def balance(listen: int, backends: list[int]) -> None:
    """Round robin over ``backends`` per connection, skipping one that refuses; bytes are
    copied both ways until either side closes."""
    turn = 0

    async def pipe(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                sink.write(data)
                await sink.drain()
        except (OSError, asyncio.IncompleteReadError):
            pass
        finally:
            sink.close()

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal turn
        for _ in range(len(backends)):
            port = backends[turn % len(backends)]
            turn += 1
            try:
                up_reader, up_writer = await asyncio.open_connection(HOST, port)
            except OSError:
                continue
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
            return
        writer.close()  # every instance refuses: the client retries

    server = await asyncio.start_server(handle, HOST, listen, backlog=4096)
    async with server:
        await server.serve_forever()


# --- the system: instances, Redis, the balancer ----------------------------------------------


class System:
    """The app instances, their database and Redis, and the balancer in front."""

    def __init__(self, engine: str, instances: int) -> None:
        self.engine = engine
        self.balancer_port = harness.free_port()
        self.url = f"http://{HOST}:{self.balancer_port}"
        self.env = harness.app_environment(self.url)
        self.env["CONGRESS_DB_POOL_SIZE"] = "10"
        self.redis: harness.RedisServer | None = None
        if engine == "postgres":
            self.redis = harness.RedisServer(harness.free_port())
            self.env["CONGRESS_REDIS_URL"] = self.redis.url
        self.instances = [
            harness.AppServer(harness.free_port(), self.env, name=f"instance-{n + 1}")
            for n in range(instances)
        ]
        self.balancer = harness.ServerProcess("balancer")
        self.peak_kb = [0] * instances  # VmHWM, over every incarnation of each instance
        self.kills: list[str] = []
        self.redis_restarts = 0

    def cli(self, *args: str, stdin: str = "") -> str:
        """``congress <args>`` on this setup's settings; its output, raising on failure."""
        done = subprocess.run(  # noqa: S603 - our own interpreter and module
            [sys.executable, "-m", "congress", *args],
            cwd=ROOT,
            env={**os.environ, **self.env},
            input=stdin,
            capture_output=True,
            text=True,
            check=False,
        )
        if done.returncode not in (0, 1):
            raise RuntimeError(f"congress {' '.join(args)}: {done.stdout}{done.stderr}")
        return done.stdout + (f"\n[exit {done.returncode}]" if done.returncode else "")

    async def start(self) -> None:
        if self.redis is not None:
            self.redis.start()
            await self.redis.wait_until_up()
        await asyncio.to_thread(self.cli, "migrate")
        for instance in self.instances:
            instance.start()
        await asyncio.gather(*(i.wait_until_up() for i in self.instances))
        self.balancer.spawn(
            [
                sys.executable,
                str(SCRIPT),
                "--balance",
                str(self.balancer_port),
                *(str(i.port) for i in self.instances),
            ],
            dict(os.environ),
        )
        await self.balancer.wait_ready(self.url + "/login")

    def _remember_peak(self, n: int) -> None:
        if self.instances[n].alive():
            self.peak_kb[n] = max(self.peak_kb[n], self.instances[n].status_kb("VmHWM"))

    async def kill_and_restart(self, n: int, after_s: float) -> None:
        """SIGKILL instance n, then start it again on the same port after ``after_s``."""
        self._remember_peak(n)
        self.instances[n].kill()
        self.kills.append(f"instance {n + 1} SIGKILL")
        await asyncio.sleep(after_s)
        self.instances[n].start()
        await self.instances[n].wait_until_up()

    async def restart_redis(self, down_s: float) -> None:
        assert self.redis is not None
        self.redis.stop()
        await asyncio.sleep(down_s)
        self.redis.start()
        await self.redis.wait_until_up()
        self.redis_restarts += 1

    def peak_mb(self) -> list[float]:
        for n in range(len(self.instances)):
            self._remember_peak(n)
        return [kb / 1024 for kb in self.peak_kb]

    def log_tails(self) -> str:
        return "\n".join(
            f"--- {i.log.name}\n{i.log_tail(15)}" for i in self.instances if i.log.exists()
        )

    def stop(self) -> None:
        for process in [self.balancer, *self.instances]:
            process.stop()
        if self.redis is not None:
            self.redis.stop()


# --- the organizers -------------------------------------------------------------------------


class Organizer:
    """A member of the organizers signed in through ``/login``: the API with JSON and the
    CSRF header, the console's forms. A new connection per request: a request is never
    sent on a connection to an instance that died meanwhile."""

    def __init__(self, base_url: str, username: str) -> None:
        import httpx

        self.username = username
        self.http = httpx.AsyncClient(
            base_url=base_url,
            trust_env=False,
            timeout=120,
            limits=httpx.Limits(max_keepalive_connections=0),
        )

    async def sign_in(self, password: str) -> None:
        await self.http.get("/login")
        response = await self.http.post(
            "/login",
            data={"username": self.username, "password": password},
            headers={"x-csrf-token": self.http.cookies[CSRF_COOKIE]},
        )
        if response.status_code not in (302, 303) or SESSION_COOKIE not in self.http.cookies:
            raise Refused(f"{self.username} cannot sign in: HTTP {response.status_code}")

    async def request(
        self, method: str, path: str, *, expect: Iterable[int] = (200, 201, 204), **kwargs: Any
    ) -> Any:
        """One request, sent again after a connection failure (the balancer then picks a
        live instance); raises on an unexpected status."""
        headers = {
            "x-csrf-token": self.http.cookies.get(CSRF_COOKIE) or "",
            "accept": "application/json",
        }
        for attempt in range(40):
            try:
                response = await self.http.request(method, path, headers=headers, **kwargs)
            except transport_errors():
                if attempt == 39:
                    raise
                await asyncio.sleep(0.25)
                continue
            if response.status_code in (502, 503) and attempt < 39:
                await asyncio.sleep(0.25)
                continue
            if response.status_code not in tuple(expect):
                raise Refused(
                    f"{self.username}: {method} {path}: HTTP {response.status_code}"
                    f" {response.text[:300]}"
                )
            return response
        raise AssertionError("unreachable")

    async def api(self, method: str, path: str, body: Any = None, **kwargs: Any) -> Any:
        response = await self.request(method, path, json=body, **kwargs)
        return response.json() if response.content else None

    async def form(self, path: str, data: dict[str, str]) -> Any:
        """A console form, as the browser posts it (the token a form field)."""
        form = {"_csrf_token": self.http.cookies.get(CSRF_COOKIE, ""), **data}
        return await self.request("POST", path, data=form, expect=(200, 302, 303))

    async def close(self) -> None:
        await self.http.aclose()


# --- what the simulation intends ---------------------------------------------------------------


@dataclass
class Delegate:
    id: int
    card_number: str
    kind: str  # official | invited
    card: str = ""  # what the QR code holds
    attends: tuple[bool, ...] = ()  # per sitting
    phone: Phone | None = None


@dataclass
class Figures:
    checkin_client_ms: list[float] = field(default_factory=list)
    checkin_server_ms: list[float] = field(default_factory=list)
    ballot_client_ms: list[float] = field(default_factory=list)
    ballot_server_ms: list[float] = field(default_factory=list)
    # the same, in the poll during which an instance is killed
    fault_ballot_client_ms: list[float] = field(default_factory=list)
    fault_ballot_server_ms: list[float] = field(default_factory=list)
    page_client_ms: list[float] = field(default_factory=list)
    close_to_screen_ms: list[float] = field(default_factory=list)
    ballots_retried: int = 0  # sent again after the client's own timeout
    ballots_resent: int = 0  # sent again after a failed connection or a 5xx
    requests_resent: int = 0  # the phones' other requests, the same
    scans_queued: int = 0  # waited in a tablet's queue (offline, or a failed request)
    notes: list[str] = field(default_factory=list)


@dataclass
class Check:
    name: str
    expected: str
    found: str
    ok: bool


def pdf_document(title: str, version: int) -> bytes:
    """A paper of the congress: a real PDF with Vietnamese text, made by WeasyPrint."""
    from weasyprint import HTML

    body = "".join(
        f"<h1>{title}</h1><p>Phiên bản {version}. Đoạn {n}: Đại hội Công đoàn tỉnh Hà Tĩnh"
        " lần thứ XIX, nhiệm kỳ 2028–2033, đổi mới tổ chức và hoạt động công đoàn.</p>"
        for n in range(1, 4)
    )
    return bytes(HTML(string=f"<html><body>{body}</body></html>").write_pdf())


def read_cards(pdf: bytes) -> dict[str, str]:
    """card number -> the address its QR code holds, read from the printed PDF (one card a
    page) by zxing-cpp, as a phone's camera reads it."""
    import pypdfium2
    import pypdfium2.raw as pdfium_c
    import zxingcpp
    from PIL import Image

    found: dict[str, str] = {}
    document = pypdfium2.PdfDocument(pdf)
    try:
        for page in document:
            text = page.get_textpage().get_text_range()
            number = re.search(r"Số thẻ:\s*(\S+)", text)
            codes = []
            for image in page.get_objects(filter=(pdfium_c.FPDF_PAGEOBJ_IMAGE,)):
                picture = image.get_bitmap(render=False).to_pil().convert("L")
                bigger = picture.resize(
                    (picture.width * 4, picture.height * 4), Image.Resampling.NEAREST
                )
                codes += [code.text for code in zxingcpp.read_barcodes(bigger)]
            if number is None or len(codes) != 1:
                raise Refused(f"a card page without one QR code and a card number: {text!r}")
            found[number.group(1)] = codes[0]
    finally:
        document.close()
    return found


# --- the delegates' phones ---------------------------------------------------------------------


def no_cookie_jar() -> Any:
    """A jar that keeps nothing: many phones share one HTTP client, each with its own
    cookies, sent by hand."""
    import http.cookiejar

    return http.cookiejar.CookieJar(http.cookiejar.DefaultCookiePolicy(allowed_domains=[]))


class Phone:
    """A delegate's phone: signed in by opening its card's address, as the camera does."""

    def __init__(self, http: Any, card: str, rng: random.Random, figures: Figures) -> None:
        self.http = http
        self.figures = figures
        self.card_path = "/" + card.split("/", 3)[3]
        self.rng = rng
        self.cookies: dict[str, str] = {}

    def headers(self) -> dict[str, str]:
        return {
            "cookie": cookie_header(self.cookies),
            "x-csrf-token": self.cookies.get(CSRF_COOKIE, ""),
            "accept": "application/json",
        }

    async def send(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request, sent again after a failed connection or a 5xx, with back-off."""
        for attempt in range(200):
            try:
                response = await self.http.request(method, path, headers=self.headers(), **kwargs)
            except transport_errors():
                self.figures.requests_resent += 1
                await asyncio.sleep(min(2.0, 0.1 * 2 ** min(attempt, 5)) * self.rng.uniform(0.5, 1))
                continue
            if response.status_code >= 500:
                self.figures.requests_resent += 1
                await asyncio.sleep(0.3)
                continue
            self.cookies.update(cookies_of(response))
            return response
        raise Refused(f"{method} {path}: no answer after 200 tries")

    async def open_page(self, figures: Figures) -> None:
        """The card's address (303 and the cookie), then the delegate's page."""
        opened = await self.send("GET", self.card_path)
        if opened.status_code != 303 or DELEGATE_COOKIE not in self.cookies:
            raise Refused(f"card address: HTTP {opened.status_code}")
        started = time.perf_counter()
        page = await self.send("GET", "/delegate")
        figures.page_client_ms.append((time.perf_counter() - started) * 1000)
        if page.status_code != 200:
            raise Refused(f"the delegate's page: HTTP {page.status_code}")

    async def page_text(self) -> str:
        response = await self.send("GET", "/delegate")
        return str(response.text)

    async def polls(self) -> list[dict[str, Any]]:
        response = await self.send("GET", "/delegate/polls/")
        if response.status_code != 200:
            raise Refused(f"the polls: HTTP {response.status_code} {response.text[:200]}")
        return list(response.json())

    async def vote(
        self,
        poll_id: int,
        choices: list[str],
        times_out: bool,
        figures: Figures,
        during_fault: bool = False,
    ) -> tuple[bool, str]:
        """(True, receipt), or (False, the refusal's code). The ballot is sent again with the
        same retry key until it is answered; with ``times_out``, the first sending gives up
        before the answer can come, as a phone on a weak Wi-Fi does."""
        import httpx

        path = f"/delegate/polls/{poll_id}/ballot"
        body = {"choices": choices, "retry_key": secrets.token_hex(16)}
        if times_out:
            try:
                first = await self.http.post(
                    path,
                    json=body,
                    headers=self.headers(),
                    timeout=httpx.Timeout(30.0, read=0.0005),
                )
                if first.status_code == 200:
                    return True, str(first.json()["receipt"])
            except transport_errors():
                figures.ballots_retried += 1
            await asyncio.sleep(self.rng.uniform(0.05, 0.5))
        for attempt in range(400):
            started = time.perf_counter()
            try:
                response = await self.http.post(path, json=body, headers=self.headers())
            except transport_errors():
                figures.ballots_resent += 1
                await asyncio.sleep(min(2.0, 0.1 * 2 ** min(attempt, 5)) * self.rng.uniform(0.5, 1))
                continue
            if response.status_code >= 500:
                figures.ballots_resent += 1
                figures.notes.append(f"ballot HTTP {response.status_code}: {response.text[:120]}")
                await asyncio.sleep(0.3)
                continue
            if response.status_code != 200:
                return False, str(response.json().get("code", response.status_code))
            client = figures.fault_ballot_client_ms if during_fault else figures.ballot_client_ms
            client.append((time.perf_counter() - started) * 1000)
            spent = server_ms(response.headers.get("server-timing"))
            if spent is not None:
                server = (
                    figures.fault_ballot_server_ms if during_fault else figures.ballot_server_ms
                )
                server.append(spent)
            return True, str(response.json()["receipt"])
        raise Refused(f"ballot in poll {poll_id}: no answer after 400 tries")


# --- the tablets at the doors --------------------------------------------------------------------


class Tablet:
    """A paired tablet: scans go up one by one, or wait in its queue while it has no network
    and go up through ``/scans/batch`` when it has again."""

    def __init__(self, base_url: str, name: str, code: str) -> None:
        import httpx

        self.name = name
        self.code = code
        self.http = httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30)
        self.cookie = ""
        self.offline = False
        self.queue: list[dict[str, Any]] = []
        self.answers: list[tuple[str, int, dict[str, Any]]] = []  # (card, sitting, answer)

    async def pair(self) -> None:
        response = await self.http.get(f"/P/{self.code}")
        self.cookie = cookies_of(response).get(DEVICE_COOKIE, "")
        if response.status_code != 303 or not self.cookie:
            raise Refused(f"pairing {self.name}: HTTP {response.status_code}")

    def headers(self) -> dict[str, str]:
        return {
            "cookie": f"{DEVICE_COOKIE}={self.cookie}",
            "x-congress-device": "1",
            "accept": "application/json",
        }

    async def scan(self, card: str, sitting_id: int, figures: Figures) -> None:
        scan = {
            "nonce": secrets.token_hex(12),
            "sitting_id": sitting_id,
            "code": card,
            "scanned_at": datetime.datetime.now(datetime.UTC).isoformat(),
        }
        if self.offline:
            self.queue.append(scan)
            figures.scans_queued += 1
            return
        await self.flush(figures)
        started = time.perf_counter()
        try:
            response = await self.http.post(
                "/api/checkin/device/scans", json=scan, headers=self.headers()
            )
        except transport_errors():
            response = None
        if response is None or response.status_code >= 500:
            self.queue.append(scan)  # the scan page keeps it and sends it again later
            figures.scans_queued += 1
            return
        figures.checkin_client_ms.append((time.perf_counter() - started) * 1000)
        spent = server_ms(response.headers.get("server-timing"))
        if spent is not None:
            figures.checkin_server_ms.append(spent)
        if response.status_code != 200:
            raise Refused(f"scan at {self.name}: HTTP {response.status_code} {response.text}")
        self.answers.append((card, sitting_id, response.json()))

    async def flush(self, figures: Figures) -> None:
        """The waiting scans, oldest first, up to 200 a request."""
        while self.queue and not self.offline:
            batch = self.queue[:200]
            try:
                response = await self.http.post(
                    "/api/checkin/device/scans/batch",
                    json={"scans": batch},
                    headers=self.headers(),
                )
            except transport_errors():
                await asyncio.sleep(0.3)
                continue
            if response.status_code >= 500:
                await asyncio.sleep(0.3)
                continue
            if response.status_code != 200:
                raise Refused(f"batch at {self.name}: HTTP {response.status_code} {response.text}")
            for scan, answer in zip(batch, response.json()["results"], strict=True):
                self.answers.append((scan["code"], scan["sitting_id"], answer))
            del self.queue[: len(batch)]

    async def close(self) -> None:
        await self.http.aclose()


# --- the hall's screens --------------------------------------------------------------------------


class ScreenClient:
    """A screen as screen.js drives it: the state first, then ``/live?after=<last seq>``;
    every frame kept with its arrival time; reconnects with back-off (0.5 s doubling, at
    most 4 s here; 30 s in the browser)."""

    def __init__(self, name: str, key: str, base_url: str) -> None:
        import httpx

        self.name = name
        self.key = key
        self.origin = base_url
        self.ws_url = base_url.replace("http://", "ws://") + f"/S/{key}/live"
        self.http = httpx.AsyncClient(base_url=base_url, trust_env=False, timeout=30)
        self.first_seq: int | None = None
        self.last_seq: int | None = None
        self.seqs: set[int] = set()
        self.state: dict[str, Any] | None = None
        self.states: list[tuple[float, dict[str, Any]]] = []
        self.events: list[tuple[float, int, str | None]] = []
        self.connections = 0
        self.socket: Any = None
        self.stopping = False
        self.errors: Counter[str] = Counter()

    async def run(self) -> None:
        from websockets.asyncio.client import connect

        delay = 0.5
        while not self.stopping:
            try:
                response = await self.http.get(f"/S/{self.key}/state")
                if response.status_code != 200:
                    raise Refused(f"state: HTTP {response.status_code}")
                state = response.json()
                self.state = state
                if self.last_seq is None or state["seq"] < self.last_seq:
                    self.last_seq = state["seq"]
                if self.first_seq is None:
                    self.first_seq = state["seq"]
                async with connect(
                    f"{self.ws_url}?after={self.last_seq}",
                    origin=self.origin,  # type: ignore[arg-type]
                    proxy=None,
                    compression=None,
                    ping_interval=None,
                    open_timeout=30,
                ) as socket:
                    self.socket = socket
                    self.connections += 1
                    async for raw in socket:
                        delay = 0.5
                        self.take(json.loads(raw))
            except Exception as exc:  # every failure is a reason to reconnect, as screen.js does
                self.errors[type(exc).__name__] += 1
            finally:
                self.socket = None
            if not self.stopping:
                await asyncio.sleep(delay * random.uniform(0.75, 1.25))
                delay = min(delay * 2, 4.0)

    def take(self, message: dict[str, Any]) -> None:
        at = time.perf_counter()
        if "event" in message:
            seq = message["event"]["seq"]
            self.seqs.add(seq)
            self.last_seq = max(self.last_seq or 0, seq)
            self.events.append((at, seq, message["event"]["type"]))
        if "state" in message:
            self.state = message["state"]
            self.states.append((at, message["state"]))

    def cut(self) -> bool:
        """The screen's network cut: its connection dropped without a closing handshake."""
        transport = getattr(self.socket, "transport", None)
        if transport is None:
            return False
        transport.abort()
        return True

    async def stop(self, task: asyncio.Task[None]) -> None:
        self.stopping = True
        if self.socket is not None:
            await self.socket.close()
        with contextlib.suppress(asyncio.CancelledError, Exception):
            await asyncio.wait_for(task, 10)
        await self.http.aclose()


# --- the day -------------------------------------------------------------------------------------


@dataclass
class Poll:
    plan: PollPlan
    id: int
    sitting_id: int
    keys: list[str] = field(default_factory=list)  # options, in the poll's order
    e_voters: list[Delegate] = field(default_factory=list)
    paper_voters: list[Delegate] = field(default_factory=list)
    intended: dict[int, list[str]] = field(default_factory=dict)  # delegate id -> choices
    paper_invalid: int = 0
    receipts: list[str] = field(default_factory=list)  # acknowledged
    refused: Counter[str] = field(default_factory=Counter)
    closed_at: float = 0.0  # perf_counter when the request that gave the result was sent
    runoff_of: Poll | None = None


class Day:
    """The congress day, played through the balancer; what it intended, kept to check."""

    def __init__(self, system: System, scale: Scale, rng: random.Random) -> None:
        import httpx

        self.system = system
        self.scale = scale
        self.rng = rng
        self.base = system.url
        self.figures = Figures()
        self.checks: list[Check] = []
        self.phones_http = httpx.AsyncClient(
            base_url=self.base,
            trust_env=False,
            timeout=60,
            cookies=no_cookie_jar(),
            # A connection of its own for every phone that wants one, as in the hall.
            limits=httpx.Limits(max_connections=None, max_keepalive_connections=None),
        )
        self.organizers: dict[str, Organizer] = {}
        self.delegates: list[Delegate] = []
        self.by_number: dict[str, Delegate] = {}
        self.tablets: list[Tablet] = []
        self.screens: list[ScreenClient] = []
        self.screen_tasks: list[asyncio.Task[None]] = []
        self.screen_ids: list[int] = []
        self.polls: list[Poll] = []
        self.documents: dict[int, dict[str, Any]] = {}  # id -> title, versions, released
        self.speeches: list[int] = []
        self.speakers_done = 0
        self.congress_id = 0
        self.sittings: list[int] = []
        self.agenda: list[list[int]] = []
        self.faults: list[str] = []
        self.opening: dict[int, asyncio.Task[None]] = {}  # delegate id -> the page opened

    @property
    def admin(self) -> Organizer:
        return self.organizers["admin"]

    @property
    def presidium(self) -> Organizer:
        return self.organizers["presidium"]

    @property
    def secretariat(self) -> Organizer:
        return self.organizers["secretariat"]

    def c(self, path: str = "") -> str:
        return f"/api/congresses/{self.congress_id}{path}"

    def console(self, path: str = "") -> str:
        return f"/console/congresses/{self.congress_id}{path}"

    # --- the set-up, as organizers do it ----------------------------------------------------

    async def set_up(self) -> None:
        await asyncio.to_thread(
            self.system.cli,
            "create-admin",
            "btc.admin",
            "--full-name",
            "Ban Tổ chức",
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        admin = Organizer(self.base, "btc.admin")
        await admin.sign_in(PASSWORD)
        self.organizers["admin"] = admin
        members = {
            "presidium": ("dct.chutich", "Đoàn Chủ tịch", ["presidium"]),
            "secretariat": ("dtk.thuky", "Đoàn Thư ký", ["secretariat"]),
            "tally1": ("bkp.thanhvien1", "Ban Kiểm phiếu – thành viên 1", ["tally"]),
            "tally2": ("bkp.thanhvien2", "Ban Kiểm phiếu – thành viên 2", ["tally"]),
        }
        for role, (username, full_name, roles) in members.items():
            await admin.api(
                "POST",
                "/api/accounts",
                {
                    "username": username,
                    "full_name": full_name,
                    "password": PASSWORD,
                    "roles": roles,
                },
            )
            self.organizers[role] = Organizer(self.base, username)
        await asyncio.gather(
            *(o.sign_in(PASSWORD) for r, o in self.organizers.items() if r != "admin")
        )
        await self._congress()
        await self._delegates()
        await self._cards()
        await self._tablets()
        await self._screens()
        await self._documents()

    async def _congress(self) -> None:
        today = datetime.datetime.now(TZ).date()
        created = await self.admin.api(
            "POST",
            "/api/congresses",
            {
                "name": "Đại hội Công đoàn tỉnh Hà Tĩnh",
                "number": "XIX",
                "term": "2028–2033",
                "organizing_union": "Liên đoàn Lao động tỉnh Hà Tĩnh",
                "venue": "Trung tâm Hội nghị tỉnh",
                "starts_on": today.isoformat(),
                "ends_on": today.isoformat(),
            },
        )
        self.congress_id = created["id"]
        for n, (title, kind, at) in enumerate(SITTINGS):
            sitting = await self.admin.api(
                "POST",
                self.c("/sittings"),
                {
                    "title": title,
                    "kind": kind,
                    "starts_at": datetime.datetime.combine(today, at).isoformat(),
                    "location": "Hội trường A",
                },
            )
            self.sittings.append(sitting["id"])
            items = []
            for m in range(self.scale.agenda_items):
                item = await self.admin.api(
                    "POST",
                    self.c(f"/sittings/{sitting['id']}/agenda"),
                    {"title": f"{AGENDA[(n * 2 + m) % len(AGENDA)]} (phiên {n + 1}.{m + 1})"},
                )
                items.append(item["id"])
            self.agenda.append(items)

    async def _delegates(self) -> None:
        """The delegate list from a spreadsheet: upload, preview, apply."""
        scale = self.scale
        sheet = harness.delegate_sheet(
            scale.officials, self.rng, harness.DELEGATIONS, harness.POSITIONS, invited=scale.invited
        )
        preview = await self.admin.api(
            "POST",
            self.c("/delegate-imports"),
            files={"data": ("danh_sach_dai_bieu.csv", sheet, "text/csv")},
        )
        if preview["file_problems"] or not preview["counts"]:
            raise Refused(f"the import preview: {preview['file_problems']} {preview['counts']}")
        applied = await self.admin.api(
            "POST",
            self.c(f"/delegate-imports/{preview['token']}/apply"),
            {"create_delegations": True},
        )
        if applied["created"] != scale.officials + scale.invited:
            raise Refused(f"the import created {applied}")
        offset = 0
        while True:
            page = await self.admin.api("GET", self.c(f"/delegates?limit=500&offset={offset}"))
            for row in page["delegates"]:
                delegate = Delegate(row["id"], row["card_number"], row["kind"])
                self.delegates.append(delegate)
                self.by_number[delegate.card_number] = delegate
            offset += len(page["delegates"])
            if not page["delegates"] or offset >= page["total"]:
                break
        for delegate in self.delegates:
            chances = COMES[delegate.kind]
            delegate.attends = tuple(self.rng.random() < p for p in chances)
            if not any(delegate.attends):
                delegate.attends = (True, *delegate.attends[1:])

    async def _cards(self) -> None:
        """Every card printed as one background job; the PDF downloaded once and read."""
        response = await self.admin.form(
            self.console("/cards/print"), {"layout": "cr80", "scope": "all"}
        )
        job = re.search(r"/cards/jobs/([^/?#\s]+)", response.headers.get("location", ""))
        if response.status_code not in (302, 303) or job is None:
            raise Refused(f"printing the cards: HTTP {response.status_code}")
        path = self.console(f"/cards/jobs/{job.group(1)}")
        started = time.perf_counter()
        while True:
            state = await self.admin.api("GET", path + "/state")
            if state["status"] == "done":
                break
            if state["status"] != "running" or time.perf_counter() - started > 600:
                raise Refused(f"the print job: {state}")
            await asyncio.sleep(0.5)
        pdf = (await self.admin.request("GET", path + "/pdf")).content
        printed_s = time.perf_counter() - started
        started = time.perf_counter()
        cards = await asyncio.to_thread(read_cards, pdf)
        self.figures.notes.append(
            f"cards: {len(cards)} printed (CR80, one job) in {printed_s:.1f} s, their QR codes"
            f" read by zxing-cpp in {time.perf_counter() - started:.1f} s"
        )
        for number, card in cards.items():
            self.by_number[number].card = card
        missing = [d.card_number for d in self.delegates if not d.card]
        if missing:
            raise Refused(f"no card printed for {missing[:5]}")
        for delegate in self.delegates:
            delegate.phone = Phone(self.phones_http, delegate.card, self.rng, self.figures)

    async def _tablets(self) -> None:
        for n in range(self.scale.tablets):
            name = DOORS[n % len(DOORS)]
            page = await self.admin.form(self.console("/devices"), {"name": name})
            # The address as the page writes it out (its QR code is a data: URI, whose
            # base64 may hold "/P/" too).
            code = re.search(r'<code class="big">[^<]*/P/([A-Za-z0-9]+)</code>', page.text)
            if code is None:
                raise Refused(f"no pairing address for {name}")
            tablet = Tablet(self.base, name, code.group(1))
            await tablet.pair()
            self.tablets.append(tablet)

    async def _screens(self) -> None:
        """Three screens: the hall's LED wall (the latest poll), the lobby (attendance), the
        rostrum (the speaker)."""
        views = [("Màn hình LED hội trường", "poll"), ("Màn hình sảnh", "attendance")]
        views.append(("Màn hình bục phát biểu", "speaker"))
        known: set[int] = set()
        for name, kind in views:
            page = await self.admin.form(self.console("/screens/register"), {"name": name})
            key = re.search(r'<code class="big">[^<]*/S/([A-Za-z0-9_-]+)</code>', page.text)
            ids = {int(i) for i in re.findall(r"/screens/(\d+)/key", page.text)}
            new = ids - known
            if key is None or len(new) != 1:
                raise Refused(f"no address for the screen {name}")
            known |= new
            screen_id = new.pop()
            self.screen_ids.append(screen_id)
            await self.presidium.form(
                self.console(f"/screens/{screen_id}/content"), {"kind": kind, "ticker": "on"}
            )
            self.screens.append(ScreenClient(name, key.group(1), self.base))

    async def _documents(self) -> None:
        """The congress papers, uploaded by the secretariat (released during the day)."""
        scale = self.scale
        for n in range(scale.documents):
            if n < len(PAPERS):
                title, category = PAPERS[n]
            else:
                title, category = f"Tham luận số {n - len(PAPERS) + 1}", "speech"
            sitting = self.sittings[n % len(self.sittings)]
            pdf = await asyncio.to_thread(pdf_document, title, 1)
            uploaded = await self.secretariat.api(
                "POST",
                self.c("/documents"),
                files={"file": (f"tai-lieu-{n + 1}.pdf", pdf, "application/pdf")},
                data={
                    "title": title,
                    "category": category,
                    "access": "delegates",
                    "sitting_id": str(sitting),
                },
            )
            document_id = uploaded["document_id"]
            self.documents[document_id] = {
                "title": title,
                "versions": 1,
                "released": None,
                "sitting": n % len(self.sittings),
            }
            if category == "speech":
                self.speeches.append(document_id)

    # --- the day, sitting by sitting -----------------------------------------------------------

    async def play(self) -> None:
        self.screen_tasks = [asyncio.create_task(s.run()) for s in self.screens]
        for _ in range(200):
            if all(s.connections for s in self.screens):
                break
            await asyncio.sleep(0.05)
        for n in range(len(self.sittings)):
            await self._sitting(n)
        await asyncio.gather(*self.opening.values())

    async def _current(self, n: int, item: int) -> None:
        items = self.agenda[n]
        await self.presidium.form(
            self.console("/screens/current"),
            {"current": f"item:{items[min(item, len(items) - 1)]}"},
        )

    async def _sitting(self, n: int) -> None:
        say(f"sitting {n + 1}: the doors open for {self.scale.checkin_s[n]:g} s")
        await self._current(n, 0)
        await self._release(n)
        await asyncio.gather(self._doors(n), self._speakers(n), self._faults(n))
        await self._current(n, 1)
        for plan in self.scale.polls:
            if plan.sitting == n:
                await self._poll(plan)
        await self._current(n, len(self.agenda[n]) - 1)

    async def _faults(self, n: int) -> None:
        """Redis restarted in the second sitting, a screen's connection cut in the third."""
        window = self.scale.checkin_s[n]
        if n == 1 and self.system.redis is not None:
            await asyncio.sleep(window * 0.4)
            seq = await self.last_seq()
            await self.system.restart_redis(1.0)
            self.faults.append(
                f"Redis restarted (down 1 s), sitting 2 at {window * 0.4:.0f} s, after event {seq}"
            )
        if n == 2:
            await asyncio.sleep(window * 0.5)
            if self.screens[1].cut():
                self.faults.append(
                    f"the connection of '{self.screens[1].name}' cut, sitting 3, after event"
                    f" {await self.last_seq()}"
                )
            else:
                self.figures.notes.append("the screen was not connected when it was to be cut")

    async def _release(self, n: int) -> None:
        """The sitting's papers released; from the second sitting on, new versions of some
        earlier ones uploaded and released in their turn."""
        for document_id, paper in self.documents.items():
            if paper["sitting"] == n:
                await self.secretariat.api("POST", self.c(f"/documents/{document_id}/release"))
                paper["released"] = 1
        if n == 0:
            return
        earlier = [d for d, p in self.documents.items() if p["released"] and p["versions"] == 1]
        share = math.ceil(self.scale.new_versions / (len(self.sittings) - 1))
        for document_id in earlier[:share]:
            if sum(p["versions"] - 1 for p in self.documents.values()) >= self.scale.new_versions:
                break
            paper = self.documents[document_id]
            pdf = await asyncio.to_thread(pdf_document, paper["title"], 2)
            added = await self.secretariat.api(
                "POST",
                self.c(f"/documents/{document_id}/versions"),
                files={"file": ("ban-sua-doi.pdf", pdf, "application/pdf")},
            )
            paper["versions"] = added["version"]
            await self.secretariat.api("POST", self.c(f"/documents/{document_id}/release"))
            paper["released"] = added["version"]

    def _open_phone(self, delegate: Delegate, wait_s: float = 2.0) -> asyncio.Task[None]:
        """The delegate, in the hall, opens the card's address on the phone, once."""
        task = self.opening.get(delegate.id)
        if task is None:

            async def open_page() -> None:
                await asyncio.sleep(self.rng.uniform(0, wait_s))
                assert delegate.phone is not None
                await delegate.phone.open_page(self.figures)

            task = self.opening[delegate.id] = asyncio.create_task(open_page())
        return task

    async def _phone_of(self, delegate: Delegate) -> Phone:
        """The delegate's phone, its page opened (now, if it was not yet)."""
        await self._open_phone(delegate, wait_s=0.0)
        assert delegate.phone is not None
        return delegate.phone

    async def _doors(self, n: int) -> None:
        """The sitting's delegates arrive and are scanned at a door each (a few twice);
        in the first sitting one tablet loses its network for ``offline_s``."""
        window = self.scale.checkin_s[n]
        sitting_id = self.sittings[n]
        schedule: list[list[tuple[float, Delegate]]] = [[] for _ in self.tablets]
        for delegate in self.delegates:
            if not delegate.attends[n]:
                continue
            at = self.rng.uniform(0, window * 0.85)
            first = self.rng.randrange(len(self.tablets))
            schedule[first].append((at, delegate))
            if self.rng.random() < SCANNED_TWICE:
                again = (first + 1) % len(self.tablets)
                schedule[again].append((min(window, at + self.rng.uniform(1, 4)), delegate))
        started = time.perf_counter()

        async def door(tablet: Tablet, arrivals: list[tuple[float, Delegate]]) -> None:
            for at, delegate in sorted(arrivals, key=lambda a: a[0]):
                await asyncio.sleep(max(0.0, started + at - time.perf_counter()))
                await tablet.scan(delegate.card, sitting_id, self.figures)
                self._open_phone(delegate)

        async def network(tablet: Tablet) -> None:
            lost_at = window * 0.05
            await asyncio.sleep(lost_at)
            tablet.offline = True
            await asyncio.sleep(self.scale.offline_s)
            tablet.offline = False
            queued = len(tablet.queue)
            await tablet.flush(self.figures)
            self.faults.append(
                f"tablet '{tablet.name}' offline {self.scale.offline_s:g} s while scanning"
                f" (sitting 1, from {lost_at:.0f} s): {queued} scans uploaded in a batch"
            )

        work = [door(t, s) for t, s in zip(self.tablets, schedule, strict=True)]
        if n == 0:
            work.append(network(self.tablets[0]))
        await asyncio.gather(*work)
        for tablet in self.tablets:
            await tablet.flush(self.figures)

    async def _speakers(self, n: int) -> None:
        """The sitting's share of the speakers: some ask from their phones and are queued,
        the others are added by the secretariat with their written speech; each is called,
        timed (paused and extended now and then) and stopped."""
        scale = self.scale
        sittings = len(self.sittings)
        count = scale.speakers // sittings + (n < scale.speakers % sittings)
        from_phones = scale.phone_speakers // sittings + (n < scale.phone_speakers % sittings)
        await asyncio.sleep(scale.checkin_s[n] * 0.3)
        sitting_id = self.sittings[n]
        present = [d for d in self.delegates if d.attends[n] and d.kind == "official"]
        chosen = self.rng.sample(present, count)
        for k, delegate in enumerate(chosen):
            if k < from_phones:
                phone = await self._phone_of(delegate)
                asked = await phone.send(
                    "POST",
                    "/delegate/speakers",
                    json={"topic": f"Ý kiến về dự thảo, phiên {n + 1}"},
                )
                if asked.status_code != 200:
                    raise Refused(f"asking to speak: HTTP {asked.status_code} {asked.text[:200]}")
                speaker_id = asked.json()["mine"]["id"]
                await self.presidium.api("POST", self.c(f"/speakers/{speaker_id}/queue"))
            else:
                speech = self.speeches[k % len(self.speeches)] if self.speeches else None
                await self.secretariat.api(
                    "POST",
                    self.c("/speakers"),
                    {
                        "card_number": delegate.card_number,
                        "topic": f"Tham luận, phiên {n + 1}",
                        "document_id": speech,
                        "allotted_seconds": 300,
                        "sitting_id": sitting_id,
                    },
                )
        speaking_s = 2.0 if scale.name == "full" else 0.2
        for k in range(count):
            speaker = await self.presidium.api(
                "POST", self.c("/speakers/call-next"), {"sitting_id": sitting_id}
            )
            path = self.c(f"/speakers/{speaker['id']}")
            await self.presidium.api("POST", path + "/start")
            await asyncio.sleep(speaking_s)
            if k % 3 == 0:
                await self.presidium.api("POST", path + "/pause")
                await self.presidium.api("POST", path + "/extend", {"seconds": 60})
                await self.presidium.api("POST", path + "/start")
            await self.presidium.api("POST", path + "/stop")
            self.speakers_done += 1

    # --- the polls ------------------------------------------------------------------------------

    async def _poll(self, plan: PollPlan) -> None:
        sitting_id = self.sittings[plan.sitting]
        body: dict[str, Any] = {
            "kind": plan.kind,
            "title": plan.title,
            "method": "phone_and_paper" if plan.paper else "phone",
            "sitting_id": sitting_id,
            "seats": plan.seats,
        }
        if plan.kind == "election":
            names = [harness.full_name(self.rng) for _ in range(plan.candidates)]
            body["candidates"] = [
                {"name": name, "note": f"Ứng cử viên số {n + 1}"} for n, name in enumerate(names)
            ]
        created = await self.presidium.api("POST", self.c("/polls"), body)
        poll = Poll(plan, created["id"], sitting_id)
        say(f"poll {poll.id}: {plan.title}")
        await self._run_poll(poll)
        if plan.tie:
            made = await self.presidium.api("POST", self.c(f"/polls/{poll.id}/runoff"))
            runoff_plan = dataclasses.replace(plan, title=plan.title + " (bầu bổ sung)", tie=False)
            runoff = Poll(runoff_plan, made["id"], sitting_id, runoff_of=poll)
            say(f"poll {runoff.id}: the runoff of poll {poll.id}")
            await self._run_poll(runoff)

    def _intend(self, poll: Poll, voters: list[Delegate]) -> None:
        """What each voter will choose; for an election, ballots built to give the designed
        outcome: most candidates well above half, two tied for the last seat (``tie``), a
        few well below; a runoff's first candidate gets 60%."""
        keys = poll.keys
        if poll.plan.kind == "motion":
            for voter in voters:
                poll.intended[voter.id] = self.rng.choices(MOTION_OPTIONS, MOTION_WEIGHTS)
            return
        seats = poll.plan.seats if poll.runoff_of is None else 1
        count = len(voters)
        if poll.runoff_of is not None:
            winner = math.ceil(count * 0.6)
            for n, voter in enumerate(voters):
                poll.intended[voter.id] = [keys[0] if n < winner else keys[1]]
            return
        targets = []
        for n in range(len(keys)):
            if n < seats - (1 if poll.plan.tie else 0):
                targets.append(round(count * self.rng.uniform(0.70, 0.85)))
            elif poll.plan.tie and n <= seats:
                targets.append(round(count * 0.62))
            else:
                targets.append(round(count * self.rng.uniform(0.10, 0.35)))
        load = [(0, self.rng.random(), i) for i in range(count)]
        ballots: list[list[str]] = [[] for _ in range(count)]
        import heapq

        heapq.heapify(load)
        for key, target in sorted(zip(keys, targets, strict=True), key=lambda kt: -kt[1]):
            taken = [heapq.heappop(load) for _ in range(target)]
            for size, tiebreak, i in taken:
                assert size < seats
                ballots[i].append(key)
                heapq.heappush(load, (size + 1, tiebreak, i))
        for voter, ballot in zip(voters, ballots, strict=True):
            poll.intended[voter.id] = sorted(ballot, key=keys.index)

    async def _run_poll(self, poll: Poll) -> None:
        plan = poll.plan
        out = await self.presidium.api("GET", self.c(f"/polls/{poll.id}"))
        poll.keys = [o["key"] for o in out["options"]]
        sitting = self.sittings.index(poll.sitting_id)
        voters = [d for d in self.delegates if d.kind == "official" and d.attends[sitting]]
        self.rng.shuffle(voters)
        voters = voters[: len(voters) - round(len(voters) * DOES_NOT_VOTE)]
        if poll.runoff_of is not None:
            paper = [d for d in poll.runoff_of.paper_voters if d in voters]
        else:
            paper = voters[: plan.paper]
        poll.paper_voters = paper
        poll.e_voters = [d for d in voters if d not in paper]
        poll.paper_invalid = 1 if len(paper) >= 3 else 0
        valid_paper = paper[: len(paper) - poll.paper_invalid]
        self._intend(poll, valid_paper + poll.e_voters)

        await self.presidium.api("POST", self.c(f"/polls/{poll.id}/open"))
        tally1 = self.organizers["tally1"]
        for delegate in paper:
            await tally1.api(
                "POST",
                self.c(f"/polls/{poll.id}/paper-ballots"),
                {"card_number": delegate.card_number},
            )
        if paper:
            await self._vote_after_paper(poll, paper[0])
        # With the kill, a quarter of the phones vote in the half second around it (the hall
        # told "vote now"): ballots are in flight when the instance dies.
        kill_at = self.scale.vote_s * 0.4 if plan.kill else None
        work = [
            self._voter(poll, voter, kill_at if n % 4 == 0 else None)
            for n, voter in enumerate(poll.e_voters)
        ]
        if kill_at is not None:
            work.append(self._kill(poll, kill_at))
        await asyncio.gather(*work)
        if paper:
            await self._paper_counts(poll, valid_paper)
        poll.closed_at = time.perf_counter()
        await self.presidium.api("POST", self.c(f"/polls/{poll.id}/close"))
        await self.presidium.api("POST", self.c(f"/polls/{poll.id}/publish"))
        self.polls.append(poll)

    async def _kill(self, poll: Poll, at: float) -> None:
        await asyncio.sleep(at)
        n = len(self.system.instances) - 1
        seq = await self.last_seq()
        started = time.perf_counter()
        await self.system.kill_and_restart(n, self.scale.restart_s)
        self.faults.append(
            f"instance {n + 1} of {len(self.system.instances)} killed (SIGKILL) while phones"
            f" voted in poll {poll.id}, after event {seq}; back after"
            f" {time.perf_counter() - started:.1f} s, at event {await self.last_seq()}"
        )

    async def _voter(self, poll: Poll, voter: Delegate, around: float | None = None) -> None:
        """A phone: the poll appears (the list is fetched), the choice, confirm, send; at a
        moment in the voting time, or ``around`` that second."""
        if around is None:
            await asyncio.sleep(self.rng.uniform(0, self.scale.vote_s))
        else:
            await asyncio.sleep(max(0.0, around + self.rng.uniform(-0.3, 0.2)))
        phone = await self._phone_of(voter)
        shown = {p["id"]: p for p in await phone.polls()}
        if not shown.get(poll.id, {}).get("may_vote"):
            reason = shown.get(poll.id, {}).get("reason", "not listed")
            poll.refused[f"phone says it may not vote: {reason}"] += 1
        times_out = self.rng.random() < self.scale.retry_fraction
        ok, answer = await phone.vote(
            poll.id, poll.intended[voter.id], times_out, self.figures, poll.plan.kill
        )
        if ok:
            poll.receipts.append(answer)
        else:
            poll.refused[answer] += 1

    async def _vote_after_paper(self, poll: Poll, delegate: Delegate) -> None:
        """A delegate handed a paper ballot tries the phone as well: refused."""
        phone = await self._phone_of(delegate)
        ok, answer = await phone.vote(poll.id, [poll.keys[0]], False, self.figures)
        self.checks.append(
            Check(
                f"poll {poll.id}: a phone ballot after a paper one",
                "refused: voted_on_paper",
                "accepted!" if ok else f"refused: {answer}",
                not ok and answer == "voted_on_paper",
            )
        )

    async def _paper_counts(self, poll: Poll, valid: list[Delegate]) -> None:
        """The two members' entries: the second one first mistyped, then corrected."""
        votes = Counter(key for d in valid for key in poll.intended[d.id])
        issued = len(poll.paper_voters)
        counts = {
            "issued": issued,
            "collected": issued,
            "valid": len(valid),
            "invalid": poll.paper_invalid,
            "votes": {key: votes.get(key, 0) for key in poll.keys},
        }
        wrong = json.loads(json.dumps(counts))  # one vote read for the wrong name
        most = max(poll.keys, key=lambda k: wrong["votes"][k])
        other = min((k for k in poll.keys if k != most), key=lambda k: wrong["votes"][k])
        wrong["votes"][most] -= 1
        wrong["votes"][other] += 1
        path = self.c(f"/polls/{poll.id}/paper-counts")
        first = await self.organizers["tally1"].api("POST", path + "/1", counts)
        mistyped = await self.organizers["tally2"].api("POST", path + "/2", wrong)
        corrected = await self.organizers["tally2"].api("POST", path + "/2", counts)
        agreed = (first["agreed"], mistyped["agreed"], corrected["agreed"])
        self.checks.append(
            Check(
                f"poll {poll.id}: paper counts entered twice",
                "None, False (mistyped), True",
                ", ".join(map(str, agreed)),
                agreed == (None, False, True),
            )
        )

    # --- the checks -----------------------------------------------------------------------------

    def check_that(self, name: str, expected: Any, found: Any, ok: bool | None = None) -> None:
        self.checks.append(
            Check(name, str(expected), str(found), expected == found if ok is None else ok)
        )

    async def settle(self) -> None:
        """Until the screens have heard the last event (or 30 s)."""
        for _ in range(300):
            last = (await self.presidium.api("GET", self.c()))["last_event_seq"]
            if all((s.last_seq or 0) >= last for s in self.screens):
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.6)  # the state each screen is sent after the last event

    async def check(self) -> None:
        say("the day is over: checking")
        await self.settle()
        for name, step in (
            ("attendance", self._check_attendance),
            ("scans", self._check_scans),
            ("polls", self._check_polls),
            ("screens", self._check_screens),
            ("papers", self._check_papers),
            ("speakers", self._check_speakers),
            ("archive", self._check_archive),
        ):
            try:
                await step()
            except Exception as exc:
                self.checks.append(
                    Check(f"{name}: could be checked", "yes", repr(exc)[:300], False)
                )

    async def _check_attendance(self) -> None:
        """Who the console's attendance page lists as present, per sitting: exactly those
        the simulation sent through the doors."""
        for n, sitting_id in enumerate(self.sittings):
            page = await self.admin.request(
                "GET", self.console(f"/attendance/part?sitting={sitting_id}")
            )
            present = {int(i) for i in re.findall(r'name="delegate_id" value="(\d+)"', page.text)}
            intended = {d.id for d in self.delegates if d.attends[n]}
            officials = sum(1 for d in self.delegates if d.attends[n] and d.kind == "official")
            shown = re.search(r'<strong id="present">(\d+)</strong>', page.text)
            self.check_that(
                f"sitting {n + 1}: delegates present (console)",
                f"{len(intended)}, missing 0, extra 0",
                f"{len(present)}, missing {len(intended - present)},"
                f" extra {len(present - intended)}",
            )
            self.check_that(
                f"sitting {n + 1}: official delegates present (the count)",
                officials,
                int(shown.group(1)) if shown else None,
            )

    async def _check_scans(self) -> None:
        """Every scan answered; per card and sitting one green, the rest orange; no red."""
        colours: dict[tuple[str, int], list[str]] = {}
        for tablet in self.tablets:
            for card, sitting_id, answer in tablet.answers:
                colours.setdefault((card, sitting_id), []).append(answer["result"])
        scans = sum(len(t.answers) for t in self.tablets)
        waiting = sum(len(t.queue) for t in self.tablets)
        bad = [k for k, c in colours.items() if c.count("green") != 1 or "red" in c]
        self.check_that("scans: every scan answered (none left in a queue)", 0, waiting)
        pairs = sum(d.attends.count(True) for d in self.delegates)
        self.check_that(
            "scans: one green per card and sitting, the rest orange, no red",
            f"{pairs} cards x sittings, 0 wrong",
            f"{len(colours)} cards x sittings ({scans} scans), {len(bad)} wrong"
            + (f", e.g. {', '.join('/'.join(colours[k]) for k in bad[:3])}" if bad else ""),
            len(colours) == pairs and not bad,
        )

    async def _check_polls(self) -> None:
        for poll in self.polls:
            await self._check_poll(poll)

    async def _check_poll(self, poll: Poll) -> None:
        label = f"poll {poll.id} ({poll.plan.kind}{', runoff' if poll.runoff_of else ''})"
        path = self.c(f"/polls/{poll.id}")
        sealed = (await self.presidium.api("GET", path + "/receipts"))["receipts"]
        acknowledged = Counter(poll.receipts)
        self.check_that(
            f"{label}: every acknowledged ballot sealed once, nothing else",
            f"{len(poll.e_voters)} acknowledged = sealed, 0 refused",
            f"{len(poll.receipts)} acknowledged"
            + (
                " = sealed"
                if Counter(sealed) == acknowledged and max(acknowledged.values(), default=1) == 1
                else f", {len(sealed)} sealed (DIFFERENT)"
            )
            + f", {sum(poll.refused.values())} refused"
            + (f" {dict(poll.refused)}" if poll.refused else ""),
        )
        result = (await self.presidium.api("GET", path))["result"] or {}
        valid_paper = poll.paper_voters[: len(poll.paper_voters) - poll.paper_invalid]
        votes = Counter(k for d in poll.e_voters + valid_paper for k in poll.intended[d.id])
        expected_votes = {k: votes.get(k, 0) for k in poll.keys}
        found_votes = {o["option"]: o["votes"] for o in result.get("outcomes", [])}
        collected = len(poll.e_voters) + len(poll.paper_voters)
        self.check_that(
            f"{label}: the tally = the intentions",
            f"{collected} collected, {poll.paper_invalid} invalid, votes as intended",
            f"{result.get('ballots_collected')} collected, {result.get('ballots_invalid')} invalid,"
            + (
                " votes as intended"
                if found_votes == expected_votes
                else f" votes differ: {diff(expected_votes, found_votes)}"
            ),
        )
        if poll.plan.kind == "motion":
            passed = 2 * expected_votes["agree"] > collected
            self.check_that(f"{label}: passed", passed, result.get("passed"))
        else:
            elected, tied = election_outcome(
                expected_votes, poll.plan.seats if not poll.runoff_of else 1, collected
            )
            self.check_that(
                f"{label}: elected / tied",
                f"{len(elected)} elected, tied {len(tied)}",
                f"{len(result.get('elected', []))} elected, tied {len(result.get('tied', []))}",
                set(result.get("elected", [])) == elected and set(result.get("tied", [])) == tied,
            )
            if poll.plan.tie:
                self.check_that(f"{label}: a tie for the last seat, as designed", 2, len(tied))
        export = await self.presidium.api("GET", path + "/export")
        target = harness.var_dir() / f"poll-{poll.id}.json"
        target.write_text(json.dumps(export, ensure_ascii=False))
        verified = await asyncio.to_thread(self.system.cli, "verify-poll", str(target))
        self.check_that(
            f"{label}: `congress verify-poll` on its export",
            "the poll verifies",
            "the poll verifies"
            if verified.rstrip().endswith("the poll verifies")
            else verified.strip().splitlines()[-1],
        )

    async def _check_screens(self) -> None:
        last = (await self.presidium.api("GET", self.c()))["last_event_seq"]
        for screen in self.screens:
            first = screen.first_seq or 0
            missing = sorted(set(range(first + 1, last + 1)) - screen.seqs)
            self.check_that(
                f"screen '{screen.name}': every event {first + 1}–{last} received",
                "0 missing",
                f"{len(missing)} missing"
                + (f" ({compress(missing)}: {await self._event_types(missing)})" if missing else "")
                + f", {screen.connections} connection(s)",
                not missing,
            )
            now = (await self.admin.request("GET", f"/S/{screen.key}/state")).json()
            self.check_that(
                f"screen '{screen.name}': last picture = /S/<key>/state",
                "equal",
                "equal"
                if comparable(screen.state) == comparable(now)
                else f"differs: {diff(comparable(now), comparable(screen.state))}",
            )
        self._screen_intentions()
        self._close_to_screen()

    async def _event_types(self, seqs: list[int]) -> str:
        """The types of the first few of these events, from the event log."""
        types = []
        for seq in seqs[:4]:
            found = await self.presidium.api("GET", self.c(f"/events?after={seq - 1}&limit=1"))
            types.append(f"{seq} {found[0]['type'] if found else '?'}")
        return ", ".join(types) + (" …" if len(seqs) > 4 else "")

    async def last_seq(self) -> int:
        return int((await self.presidium.api("GET", self.c()))["last_event_seq"])

    def _screen_intentions(self) -> None:
        """What the three screens should show at the end of the day."""
        poll_view = (self.screens[0].state or {}).get("view", {})
        final = self.polls[-1] if self.polls else None
        self.check_that(
            "screen 'LED': the last poll with its result",
            f"poll {final.id if final else None}, result",
            f"poll {poll_view.get('poll_id')},"
            f" {'result' if poll_view.get('result') else 'no result'}",
        )
        attendance = (self.screens[1].state or {}).get("view", {})
        officials = sum(1 for d in self.delegates if d.attends[-1] and d.kind == "official")
        self.check_that(
            "screen 'lobby': present in the last sitting", officials, attendance.get("present")
        )
        speaker = (self.screens[2].state or {}).get("view", {})
        self.check_that(
            "screen 'rostrum': nobody speaking at the end", False, speaker.get("speaking")
        )

    def _close_to_screen(self) -> None:
        """From the request that gave a poll its result to the LED screen's picture of it,
        and to the other screens' PollResultReady event."""
        for poll in self.polls:
            for at, state in self.screens[0].states:
                view = state.get("view", {})
                if at >= poll.closed_at and view.get("poll_id") == poll.id and view.get("result"):
                    self.figures.close_to_screen_ms.append((at - poll.closed_at) * 1000)
                    self.figures.notes.append(
                        f"poll {poll.id}: result on the LED screen after"
                        f" {(at - poll.closed_at) * 1000:.0f} ms"
                    )
                    break
            for screen in self.screens[1:]:
                for at, _, kind in screen.events:
                    if at >= poll.closed_at and kind == "PollResultReady":
                        self.figures.close_to_screen_ms.append((at - poll.closed_at) * 1000)
                        break

    async def _check_papers(self) -> None:
        """The papers: every one there with its versions, the released version the newest;
        a delegate's page lists every title."""
        listed = await self.secretariat.api("GET", self.c("/documents"))
        ours = {d["id"]: d for d in listed if d["id"] in self.documents}
        wrong = [
            i
            for i, p in self.documents.items()
            if i not in ours
            or ours[i]["latest_version"] != p["versions"]
            or ours[i]["released_version"] != p["released"]
        ]
        versions = sum(p["versions"] for p in self.documents.values())
        self.check_that(
            "papers: every document, version and release (API)",
            f"{len(self.documents)} documents, {versions} versions, 0 wrong",
            f"{len(ours)} documents, {sum(d['latest_version'] for d in ours.values())} versions,"
            f" {len(wrong)} wrong",
        )
        phone = await self._phone_of(self.delegates[0])
        page = await phone.page_text()
        import html

        text = html.unescape(page)
        missing = [p["title"] for p in self.documents.values() if p["title"] not in text]
        self.check_that(
            "papers: on a delegate's page, every title",
            "0 missing",
            f"{len(missing)} missing" + (f" ({', '.join(missing)})" if missing else ""),
        )

    async def _check_speakers(self) -> None:
        done = 0
        for sitting_id in self.sittings:
            listed = await self.presidium.api("GET", self.c(f"/speakers?sitting={sitting_id}"))
            done += sum(1 for s in listed if s["status"] == "done")
        self.check_that("speakers: called, timed and done", self.scale.speakers, done)

    async def _check_archive(self) -> None:
        response = await self.admin.request("POST", self.c("/archive/export"))
        target = harness.var_dir() / "archive.zip"
        target.write_bytes(response.content)
        verified = await asyncio.to_thread(self.system.cli, "archive", "verify-export", str(target))
        self.check_that(
            "archive: `congress archive verify-export`",
            "intact",
            "intact"
            if "intact" in verified and "[exit" not in verified
            else verified.strip()[-200:],
        )
        with zipfile.ZipFile(target) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            events = [json.loads(line) for line in archive.read("events.jsonl").splitlines()]
        documents = {d["id"]: d for d in manifest["documents"]}
        wrong = [
            i
            for i, p in self.documents.items()
            if len(documents.get(i, {}).get("versions", [])) != p["versions"]
        ]
        protocols = sum(1 for d in manifest["documents"] if d["category"] == "tally_protocol")
        self.check_that(
            "archive: every paper and version; a tally protocol per poll",
            f"0 wrong, {len(self.polls)} protocols",
            f"{len(wrong)} wrong, {protocols} protocols",
        )
        seqs = [e["seq"] for e in events]
        self.check_that(
            "archive: the event log numbered without a gap",
            f"1–{len(seqs)}",
            f"1–{len(seqs)}"
            if seqs == list(range(1, len(seqs) + 1))
            else f"gaps: {compress(sorted(set(range(1, max(seqs) + 1)) - set(seqs)))}",
        )
        checked_in = Counter(
            (e["payload"]["delegate_id"], e["payload"]["sitting_id"])
            for e in events
            if e["type"] == "DelegateCheckedIn"
        )
        intended = {
            (d.id, s) for d in self.delegates for n, s in enumerate(self.sittings) if d.attends[n]
        }
        self.check_that(
            "archive: one DelegateCheckedIn per delegate and sitting attended",
            f"{len(intended)}, each once",
            f"{len(checked_in)}"
            + (
                ", each once"
                if set(checked_in) == intended and max(checked_in.values()) == 1
                else ", NOT as intended"
            ),
        )


def election_outcome(votes: dict[str, int], seats: int, base: int) -> tuple[set[str], set[str]]:
    """The charter's rule, written again here: from the top down, more than half of the base,
    a group tied at the last seat(s) goes to a runoff."""
    elected: set[str] = set()
    tied: set[str] = set()
    for count in sorted(set(votes.values()), reverse=True):
        group = {k for k, v in votes.items() if v == count}
        left = seats - len(elected)
        if left <= 0 or not 2 * count > base:
            break
        if len(group) <= left:
            elected |= group
        else:
            tied = group
            break
    return elected, tied


def comparable(state: dict[str, Any] | None) -> dict[str, Any]:
    """A screen's state without what changes by itself: the clock, the event number, a
    running count-down."""
    if not state:
        return {}
    kept = {k: v for k, v in state.items() if k not in {"now", "seq"}}
    view = dict(kept.get("view") or {})
    if view.get("running"):
        view.pop("remaining_ms", None)
    kept["view"] = view
    return kept


def diff(expected: dict[str, Any], found: dict[str, Any]) -> str:
    keys = sorted(set(expected) | set(found))
    return ", ".join(
        f"{k}: {expected.get(k)!r}→{found.get(k)!r}"
        for k in keys
        if expected.get(k) != found.get(k)
    )[:300]


def compress(numbers: list[int]) -> str:
    """[3, 4, 5, 9] -> '3–5, 9'."""
    runs: list[str] = []
    for n in numbers:
        if runs and int(runs[-1].split("–")[-1]) == n - 1:
            runs[-1] = f"{runs[-1].split('–')[0]}–{n}"
        else:
            runs.append(str(n))
    return ", ".join(runs[:12]) + (" …" if len(runs) > 12 else "")


# --- the report -----------------------------------------------------------------------------------


def ms(values: list[float], fraction: float) -> str:
    return f"{percentile(values, fraction):.1f}" if values else "–"


def report(day: Day, engine: str, set_up_s: float, day_s: float, load: tuple[float, float]) -> bool:
    scale, figures, system = day.scale, day.figures, day.system
    import sqlite3

    setup = (
        f"PostgreSQL ({harness.DB_NAME}) + Redis, {len(system.instances)} instances"
        if engine == "postgres"
        else f"SQLite {sqlite3.sqlite_version}, one instance"
    )
    print(
        f"\nRehearsal, the {scale.name} day — {setup}, behind the rehearsal's round-robin"
        f" balancer; uvicorn 1 worker per instance, {os.cpu_count()} CPUs, Python"
        f" {platform.python_version()}; load average {load[0]:.2f} before, {load[1]:.2f} after\n"
    )
    officials = scale.officials
    print(
        f"{officials} official and {scale.invited} invited delegates, {scale.tablets} tablets,"
        f" {len(day.sittings)} sittings; {len(day.polls)} polls; {len(day.screens)} screens;"
        f" {scale.documents} papers, {scale.new_versions} new versions; {scale.speakers}"
        f" speakers. Doors open {', '.join(f'{s:g}' for s in scale.checkin_s)} s; phones vote"
        f" within {scale.vote_s:g} s of a poll opening. Set up in {set_up_s:.1f} s, the day in"
        f" {day_s:.1f} s.\n"
    )
    print("Faults injected:")
    for fault in day.faults:
        print(f"- {fault}")
    print(
        f"- {figures.ballots_retried} ballots ({scale.retry_fraction:.0%} of the phones) given up"
        " by the phone before the answer and sent again with the same retry key;"
        f" {figures.ballots_resent} ballots and {figures.requests_resent} other requests of the"
        " phones sent again after a failed connection or a 5xx"
    )
    if scale.name == "small":
        print(f"- (small day: the tablet is offline {scale.offline_s:g} s, not 5 minutes)")
    print("\n| check | expected | found | |\n|---|---|---|---|")
    for check in day.checks:
        mark = "ok" if check.ok else "**LOSS**"
        print(f"| {check.name} | {check.expected} | {check.found} | {mark} |")
    peaks = system.peak_mb()
    print("\n| figure | count | median | p99 | max |\n|---|---:|---:|---:|---:|")
    rows = [
        ("check-in, tablet (ms)", figures.checkin_client_ms),
        ("check-in, server (Server-Timing, ms)", figures.checkin_server_ms),
        ("ballot acknowledged, phone (ms)", figures.ballot_client_ms),
        ("ballot, server (Server-Timing, ms)", figures.ballot_server_ms),
        ("… in the poll with the SIGKILL, phone (ms)", figures.fault_ballot_client_ms),
        ("… in the poll with the SIGKILL, server (ms)", figures.fault_ballot_server_ms),
        ("poll closed → screen frame (ms)", figures.close_to_screen_ms),
        ("the delegate's page, phone (ms)", figures.page_client_ms),
    ]
    for label, values in rows:
        print(
            f"| {label} | {len(values)} | {ms(values, 0.5)} | **{ms(values, 0.99)}** |"
            f" {ms(values, 1.0)} |"
        )
    for n, peak in enumerate(peaks):
        print(f"| peak memory (VmHWM) of instance {n + 1} (MB) | | | | {peak:.0f} |")
    print(f"| the day (s) | | | | {day_s:.0f} |")
    print(f"\nscans that waited in a tablet's queue: {figures.scans_queued}")
    for note in figures.notes[:20]:
        print(f"note: {note}")
    clean = all(c.ok for c in day.checks)
    lost = sum(not c.ok for c in day.checks)
    print(f"\n{'NOTHING LOST' if clean else f'{lost} CHECK(S) FAILED'} ({len(day.checks)} checks)")
    if not clean:
        print(f"\nthe instances' logs (tails):\n{system.log_tails()}")
    return clean


# --- the run --------------------------------------------------------------------------------------


async def rehearse(scale: Scale, engine: str, seed: int) -> int:
    rng = random.Random(seed)
    load_before = os.getloadavg()[0]
    clean = False
    async with harness.fresh_database():
        system = System(engine, 2 if engine == "postgres" else 1)
        day: Day | None = None
        try:
            started = time.perf_counter()
            say(f"{engine}: starting the system")
            await system.start()
            say("the set-up, through the API and the console")
            day = Day(system, scale, rng)
            await day.set_up()
            set_up_s = time.perf_counter() - started
            started = time.perf_counter()
            try:
                await day.play()
            except Exception as exc:
                import traceback

                traceback.print_exc()
                day.checks.append(Check("the day played to its end", "yes", repr(exc)[:300], False))
            day_s = time.perf_counter() - started
            await day.check()
            clean = report(day, engine, set_up_s, day_s, (load_before, os.getloadavg()[0]))
        finally:
            if day is not None:
                for screen, task in zip(day.screens, day.screen_tasks, strict=False):
                    await screen.stop(task)
                for tablet in day.tablets:
                    await tablet.close()
                for organizer in day.organizers.values():
                    await organizer.close()
                await day.phones_http.aclose()
            system.stop()
    return 0 if clean else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--small", action="store_true", help="the CI day: ~120 delegates")
    parser.add_argument("--only", choices=["sqlite", "postgres"], help="one setup only")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("CONGRESS_BENCH_POSTGRES", ""),
        help="the PostgreSQL server (maintenance database URL); CONGRESS_BENCH_POSTGRES",
    )
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--balance", nargs="+", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    # Every phone its own connection: the balancer holds two sockets for each.
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if args.balance:
        asyncio.run(balance(args.balance[0], args.balance[1:]))
        return 0
    scale = SMALL if args.small else FULL
    if args.only:
        if args.only == "postgres":
            if not args.postgres:
                parser.error("--only postgres needs --postgres URL or CONGRESS_BENCH_POSTGRES")
            harness.POSTGRES = args.postgres
        else:
            harness.POSTGRES = ""
        return asyncio.run(rehearse(scale, args.only, args.seed))
    setups = ["postgres", "sqlite"] if args.postgres else ["sqlite"]
    if not args.postgres:
        print("no PostgreSQL server given (--postgres or CONGRESS_BENCH_POSTGRES): SQLite only")
    failed = 0
    for setup in setups:
        command = [sys.executable, str(SCRIPT), "--only", setup]
        command += ["--seed", str(args.seed), "--postgres", args.postgres]
        if args.small:
            command.append("--small")
        failed += subprocess.run(command, check=False).returncode != 0  # noqa: S603
    return 1 if failed or not args.postgres else 0


if __name__ == "__main__":
    sys.exit(main())
