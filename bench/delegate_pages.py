"""Benchmark: the opening of the congress, when every delegate's phone opens its card.

    .venv/bin/python bench/delegate_pages.py [--delegates 1100] [--seconds 120]
    .venv/bin/python bench/delegate_pages.py --delegates 300 --seconds 20    # quick
    .venv/bin/python bench/delegate_pages.py --py-spy server.txt    # and profile the server
    CONGRESS_BENCH_POSTGRES=postgresql://postgres@127.0.0.1:54330/postgres \
        .venv/bin/python bench/delegate_pages.py

A fresh database (a SQLite file under a temporary var dir, or a fresh PostgreSQL database
dropped at the end): one congress with 3 sittings and their agendas, 20 delegations, the
delegates (imported from a spreadsheet, as organizers do), 10 PDFs released to delegates
and a card for every delegate. The real app then runs under uvicorn in a process of its own,
one worker, and every delegate's phone, each with its own HTTP client and connection,
opens its card address (``GET /D/<token>``, a 303 with a cookie) and the page it is sent to
(``GET /delegate``). Phones arrive at random over ``--seconds``, a third of them in the
first sixth (the hall fills up as the doors open); every 10th phone reloads the page once
a little later. The server's own time comes from ``Server-Timing`` on each response.

Baseline, in the same run: ``GET /static/delegate.css``, a static file through the same
app and middleware, fetched a few times a second for the whole run.
Goal (issue "delegate portal"): p99 server time <= 50 ms for both requests, no errors.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime
import io
import os
import platform
import random
import re
import ssl
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import harness  # noqa: E402
from harness import POSITIONS, machine_busy_seconds, percentile  # noqa: E402

SERVER = harness.POSTGRES
PORT = harness.free_port()
BASE_URL = f"http://127.0.0.1:{PORT}"
APP_ENV = harness.app_environment(BASE_URL)


GOAL_P99_MS = 50.0
SET_UP_TIMEOUT_S = 300
STATIC_PATH = "/static/delegate.css"
STATIC_PER_SECOND = 5.0
_DURATION = re.compile(r"\bapp;dur=([0-9.]+)")

DELEGATIONS = [
    "Liên đoàn Lao động thành phố Hà Tĩnh",
    "Liên đoàn Lao động thị xã Hồng Lĩnh",
    "Liên đoàn Lao động thị xã Kỳ Anh",
    "Liên đoàn Lao động huyện Cẩm Xuyên",
    "Liên đoàn Lao động huyện Hương Khê",
    "Liên đoàn Lao động huyện Hương Sơn",
    "Liên đoàn Lao động huyện Đức Thọ",
    "Liên đoàn Lao động huyện Nghi Xuân",
    "Liên đoàn Lao động huyện Can Lộc",
    "Liên đoàn Lao động huyện Thạch Hà",
    "Liên đoàn Lao động huyện Kỳ Anh",
    "Liên đoàn Lao động huyện Vũ Quang",
    "Liên đoàn Lao động huyện Lộc Hà",
    "Công đoàn ngành Giáo dục",
    "Công đoàn ngành Y tế",
    "Công đoàn ngành Công Thương",
    "Công đoàn ngành Giao thông vận tải",
    "Công đoàn Viên chức tỉnh",
    "Công đoàn các Khu kinh tế tỉnh",
    "Công đoàn Nông nghiệp và Phát triển nông thôn",
]
SITTINGS = [
    ("Phiên trù bị", "preparatory", 0, datetime.time(7, 30), 5),
    ("Phiên chính thức thứ nhất", "plenary", 0, datetime.time(13, 30), 7),
    ("Phiên bế mạc", "closing", 1, datetime.time(8, 0), 6),
]
AGENDA = [
    ("Chào cờ, tuyên bố lý do, giới thiệu đại biểu", "Ban Tổ chức"),
    ("Bầu Đoàn Chủ tịch, Đoàn Thư ký, Ban Thẩm tra tư cách đại biểu", "Đoàn Chủ tịch"),
    ("Thông qua Chương trình và Quy chế làm việc của Đại hội", "Đoàn Thư ký"),
    ("Trình bày Báo cáo chính trị", "Chủ tịch Liên đoàn Lao động tỉnh"),
    ("Báo cáo thẩm tra tư cách đại biểu", "Trưởng Ban Thẩm tra"),
    ("Thảo luận tại hội trường", "Các đoàn đại biểu"),
    ("Phát biểu chỉ đạo của lãnh đạo Tổng Liên đoàn", ""),
    ("Bầu Ban Chấp hành khóa mới", "Ban Kiểm phiếu"),
    ("Thông qua Nghị quyết Đại hội", "Đoàn Chủ tịch"),
]
DOCUMENTS = [
    ("Dự thảo Báo cáo chính trị", "political_report", "delegates"),
    ("Báo cáo kiểm điểm của Ban Chấp hành", "executive_report", "delegates"),
    ("Báo cáo của Ủy ban Kiểm tra", "inspection_report", "delegates"),
    ("Dự thảo Nghị quyết Đại hội", "draft_resolution", "delegates"),
    ("Chương trình Đại hội", "other", "public"),
    ("Quy chế làm việc của Đại hội", "other", "delegates"),
    ("Quy chế bầu cử", "other", "delegates"),
    ("Danh sách đoàn đại biểu", "other", "public"),
    ("Tham luận của Công đoàn ngành Giáo dục", "speech", "delegates"),
    ("Tham luận của Liên đoàn Lao động huyện Cẩm Xuyên", "speech", "public"),
]
# --- the congress ------------------------------------------------------------------------


def paper_pdf(title: str) -> bytes:
    """A two-page paper in Vietnamese, printed by WeasyPrint as the archive's PDFs are."""
    from weasyprint import HTML

    paragraph = (
        "<p>Chăm lo, đại diện, bảo vệ quyền và lợi ích hợp pháp, chính đáng của người lao "
        "động; đổi mới nội dung, phương thức hoạt động công đoàn.</p>"
    )
    html = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><style>
      @page {{ size: A4; margin: 2cm }} body {{ font-family: "DejaVu Sans", sans-serif }}
    </style></head><body><h1>{title}</h1>{paragraph * 8}
    <h2 style="break-before: page">Phần thứ hai</h2>{paragraph * 6}</body></html>"""
    return HTML(string=html).write_pdf()


async def make_agenda(congress_id: int, today: datetime.date) -> list[int]:
    from congress.eventlog import SYSTEM
    from congress.schemas import AgendaItemIn, SittingIn
    from congress.services import add_agenda_item, add_sitting

    sitting_ids = []
    items = iter(AGENDA * 3)
    for title, kind, day, at, agenda_length in SITTINGS:
        starts_at = datetime.datetime.combine(today + datetime.timedelta(days=day), at)
        sitting_id = await add_sitting(
            congress_id,
            SittingIn(title=title, kind=kind, starts_at=starts_at, location="Hội trường A"),  # type: ignore[arg-type]
            SYSTEM,
        )
        sitting_ids.append(sitting_id)
        for _ in range(agenda_length):
            item, presenter = next(items)
            await add_agenda_item(
                congress_id,
                sitting_id,
                AgendaItemIn(title=item, presenter=presenter, duration_minutes=30),
                SYSTEM,
            )
    return sitting_ids


async def make_delegates(congress_id: int, count: int, rng: random.Random) -> None:
    from congress.delegates import services
    from congress.delegates.schemas import DelegationIn
    from congress.eventlog import SYSTEM

    for n, name in enumerate(DELEGATIONS, start=1):
        await services.add_delegation(
            congress_id, DelegationIn(code=f"D{n:02d}", name=name), SYSTEM
        )
    token = await services.stage_import(
        congress_id,
        "dai_bieu.csv",
        harness.delegate_sheet(count, rng, DELEGATIONS, POSITIONS),
        SYSTEM,
    )
    imported = await services.apply_import(congress_id, token, False, SYSTEM)
    assert imported.created == count, imported


async def release_papers(congress_id: int, sitting_ids: list[int]) -> None:
    from congress.eventlog import SYSTEM
    from documents import services
    from documents.schemas import DocumentIn

    organizer = services.Viewer("organizer", can_see_confidential=True)
    for n, (title, category, access) in enumerate(DOCUMENTS):
        prepared = await services.prepare_upload(io.BytesIO(paper_pdf(title)), f"{title}.pdf")
        data = DocumentIn(
            title=title,
            category=category,  # type: ignore[arg-type]
            access=access,  # type: ignore[arg-type]
            sitting_id=sitting_ids[n % len(sitting_ids)],
        )
        document_id = await services.upload_document(congress_id, data, prepared, SYSTEM, organizer)
        await services.release_document(congress_id, document_id, SYSTEM, organizer)


@dataclass
class Phone:
    address: str  # what the card's QR code holds
    full_name: str


async def set_up(count: int, rng: random.Random) -> list[Phone]:
    """The congress on the morning it opens; returns each delegate's card, shuffled."""
    from checkin.credentials import card_address, issue_cards
    from congress import database
    from congress.eventlog import SYSTEM
    from congress.tables import Delegate

    async with database.database_pool(4):
        await database.migrate()
        today = datetime.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
        congress_id = await harness.provincial_congress(ends_after_days=1)
        sitting_ids = await make_agenda(congress_id, today)
        await make_delegates(congress_id, count, rng)
        await release_papers(congress_id, sitting_ids)
        delegates = await Delegate.select(Delegate.id, Delegate.full_name).where(
            Delegate.congress == congress_id
        )
        tokens = await issue_cards(congress_id, [d["id"] for d in delegates], SYSTEM, replace=False)
    phones = [Phone(card_address(tokens[d["id"]]), d["full_name"]) for d in delegates]
    rng.shuffle(phones)
    return phones


@dataclass
class CpuUse:
    """CPU seconds during the opening: the server, the phones (this process), the rest."""

    server: float
    phones: float
    machine: float

    @classmethod
    def now(cls, server: harness.AppServer) -> CpuUse:
        return cls(server.cpu_seconds(), time.process_time(), machine_busy_seconds())

    def __sub__(self, other: CpuUse) -> CpuUse:
        return CpuUse(
            self.server - other.server, self.phones - other.phones, self.machine - other.machine
        )


# --- the phones ---------------------------------------------------------------------------


@dataclass
class Timing:
    server_ms: list[float] = field(default_factory=list)
    client_ms: list[float] = field(default_factory=list)


@dataclass
class Run:
    timings: dict[str, Timing] = field(default_factory=dict)
    errors: Counter[str] = field(default_factory=Counter)
    in_flight: int = 0
    peak_in_flight: int = 0

    async def get(self, client: Any, url: str, label: str) -> Any:
        """One request, timed by the server (Server-Timing) and by the client."""
        self.in_flight += 1
        self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        started = time.perf_counter()
        try:
            response = await client.get(url)
        except Exception as exc:  # a refused or timed-out request is an error of the run
            self.errors[f"{label}: {type(exc).__name__}"] += 1
            return None
        finally:
            self.in_flight -= 1
        client_ms = (time.perf_counter() - started) * 1000
        if response.status_code >= 400:
            self.errors[f"{label}: HTTP {response.status_code}"] += 1
            return None
        found = _DURATION.search(response.headers.get("server-timing", ""))
        if found is None:
            self.errors[f"{label}: no Server-Timing"] += 1
            return None
        timing = self.timings.setdefault(label, Timing())
        timing.server_ms.append(float(found.group(1)))
        timing.client_ms.append(client_ms)
        return response


def arrivals(count: int, seconds: float, rng: random.Random) -> list[float]:
    """Arrival times: a Poisson process given its count is uniform within each stretch;
    a third of the phones in the first sixth of the time, the rest after."""
    burst_until = seconds / 6
    burst = count // 3
    times = [rng.uniform(0, burst_until) for _ in range(burst)]
    times += [rng.uniform(burst_until, seconds) for _ in range(count - burst)]
    return sorted(times)


async def open_card(
    phone: Phone, reload_after: float | None, run: Run, tls: ssl.SSLContext
) -> None:
    """A phone scans its card: the address, then the page it is sent to, maybe a reload."""
    import httpx

    # A client per phone: its own cookies and its own connection, as a phone has.
    async with httpx.AsyncClient(verify=tls, trust_env=False, timeout=60) as client:
        opened = await run.get(client, phone.address, "/D/<token>")
        if opened is None:
            return
        if opened.status_code != 303 or opened.headers.get("location") != "/delegate":
            run.errors[f"/D/<token>: {opened.status_code} to {opened.headers.get('location')}"] += 1
            return
        page_url = str(opened.url.join("/delegate"))
        for wait in (0.0, reload_after):
            if wait is None:
                break
            await asyncio.sleep(wait)
            page = await run.get(client, page_url, "/delegate")
            if page is not None and (page.status_code != 200 or phone.full_name not in page.text):
                run.errors[f"/delegate: {page.status_code}, not this delegate's page"] += 1


async def fetch_static(run: Run, done: asyncio.Event, rng: random.Random) -> None:
    import httpx

    async with httpx.AsyncClient(base_url=BASE_URL, trust_env=False, timeout=60) as client:
        while not done.is_set():
            await run.get(client, STATIC_PATH, STATIC_PATH)
            await asyncio.sleep(rng.expovariate(STATIC_PER_SECOND))


async def play_opening(phones: list[Phone], seconds: float, rng: random.Random) -> Run:
    run = Run()
    tls = ssl.create_default_context()  # made once: loading CA files per client costs CPU
    started = time.perf_counter()

    async def phone_at(phone: Phone, at: float, reload_after: float | None) -> None:
        await asyncio.sleep(max(0.0, at - (time.perf_counter() - started)))
        await open_card(phone, reload_after, run, tls)

    times = arrivals(len(phones), seconds, rng)
    reloads = [
        rng.uniform(1, max(2.0, seconds / 8)) if n % 10 == 0 else None for n in range(len(phones))
    ]
    done = asyncio.Event()
    static = asyncio.create_task(fetch_static(run, done, random.Random(rng.random())))
    await asyncio.gather(*map(phone_at, phones, times, reloads))
    done.set()
    await static
    return run


# --- the report ---------------------------------------------------------------------------


def row(label: str, timing: Timing | None) -> str:
    if timing is None:
        return f"| {label} | 0 | | | | | |"
    s = timing.server_ms
    return (
        f"| {label} | {len(s)} | {statistics.median(s):.1f} | {percentile(s, 0.9):.1f}"
        f" | {percentile(s, 0.99):.1f} | {max(s):.1f} | {percentile(timing.client_ms, 0.99):.1f} |"
    )


def report(
    run: Run, args: argparse.Namespace, burst: int, rss_mb: float, wall: float, cpu: CpuUse
) -> None:
    engine = "postgresql" if SERVER else "sqlite"
    print(
        f"\nOpening of the congress: {args.delegates} phones over {args.seconds:g} s"
        f" ({burst} in the first {args.seconds / 6:.0f} s), every 10th reloads once;"
        f" {engine}, uvicorn 1 worker, {os.cpu_count()} CPUs, Python {platform.python_version()}"
        f"\n\nTimes in ms; server = Server-Timing app;dur, client = until the body is read.\n"
    )
    print("| request | count | server median | p90 | p99 | max | client p99 |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    card, page = run.timings.get("/D/<token>"), run.timings.get("/delegate")
    print(row("`GET /D/<token>` (303 + cookie)", card))
    print(row("`GET /delegate` (the page)", page))
    print(row(f"baseline: `GET {STATIC_PATH}`", run.timings.get(STATIC_PATH)))
    met = (
        card is not None
        and page is not None
        and len(card.server_ms) == args.delegates
        and max(percentile(t.server_ms, 0.99) for t in (card, page)) <= GOAL_P99_MS
        and not run.errors
    )
    print(
        f"\ngoal: p99 server time <= {GOAL_P99_MS:g} ms for both, no errors -> "
        f"{'met' if met else 'NOT met'}"
    )
    print(f"errors: {sum(run.errors.values())}")
    for what, count in run.errors.most_common():
        print(f"  {count} x {what}")
    print(f"peak requests in flight: {run.peak_in_flight}; whole run {wall:.1f} s")
    others = cpu.machine - cpu.server - cpu.phones
    postgres = " (PostgreSQL's processes among them)" if SERVER else ""
    print(
        f"CPU seconds in the run: server {cpu.server:.1f}, phones {cpu.phones:.1f},"
        f" anything else on the machine {others:.1f}{postgres}"
        f" (of {os.cpu_count()} CPUs x {wall:.0f} s); a busy machine makes the tail longer"
    )
    print(f"server peak RSS (VmHWM): {rss_mb:.0f} MB")


# --- the run ------------------------------------------------------------------------------


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--delegates", type=int, default=1100)
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--seed", type=int, default=1100)
    parser.add_argument(
        "--py-spy",
        metavar="FILE",
        help="record the server with py-spy (pip install py-spy) during the opening: "
        "collapsed stacks per thread, as flamegraph.pl and speedscope read them",
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)

    server = harness.AppServer(PORT, APP_ENV, pool_size=10)
    async with harness.fresh_database():
        try:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(SET_UP_TIMEOUT_S):
                    phones = await set_up(args.delegates, rng)
            except TimeoutError:
                raise SystemExit(f"the set-up hung for {SET_UP_TIMEOUT_S} s") from None
            set_up_s = time.perf_counter() - started
            print(f"set up: {args.delegates} delegates with cards in {set_up_s:.1f} s")
            server.start()
            import httpx

            await server.wait_until_up()
            async with httpx.AsyncClient(trust_env=False) as http:
                # The first request of each kind builds templates and caches: not the opening.
                for path in (STATIC_PATH, "/login", "/D/AAAAAAAAAAAAAAAAAAAAAAAAAA"):
                    await http.get(BASE_URL + path)
            with harness.profiled(server.pid, args.py_spy):
                started, cpu_before = time.perf_counter(), CpuUse.now(server)
                run = await play_opening(phones, args.seconds, rng)
                wall, cpu = time.perf_counter() - started, CpuUse.now(server) - cpu_before
                rss_mb = server.peak_rss_mb()
            burst = args.delegates // 3
            report(run, args, burst, rss_mb, wall, cpu)
            if run.errors:
                print(f"\nserver log (tail):\n{server.log_tail()}")
        finally:
            server.stop()
    return 1 if run.errors else 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
