"""What the benchmarks share: their database, the app server they start, and their data.

A benchmark runs on a fresh database: a SQLite file under a temporary var dir, or, when
``CONGRESS_BENCH_POSTGRES`` names a PostgreSQL server, a fresh database on it, dropped at
the end. The app runs under uvicorn in a process of its own, measured from /proc.
The benches run as scripts; each puts the project root and this directory on sys.path
before it imports this module.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import functools
import io
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
POSTGRES = os.environ.get("CONGRESS_BENCH_POSTGRES", "")
"""The PostgreSQL server to benchmark on (a URL of its maintenance database), or ''."""
DB_NAME = f"congress_bench_{secrets.token_hex(3)}"
"""The database created on that server for this run."""
HOST = "127.0.0.1"


@functools.cache
def var_dir() -> Path:
    """The run's temporary var dir, made on first use."""
    return Path(tempfile.mkdtemp(prefix="congress-bench-"))


def database_url() -> str:
    """The run's database: the fresh PostgreSQL one, or a SQLite file in the var dir."""
    if POSTGRES:
        return POSTGRES.rsplit("/", 1)[0] + "/" + DB_NAME
    return f"sqlite:///{var_dir() / 'bench.sqlite3'}"


def use_database() -> None:
    """Point the app, in this process, at the run's var dir and database."""
    os.environ["CONGRESS_VAR_DIR"] = str(var_dir())
    os.environ["CONGRESS_DATABASE_URL"] = database_url()


def app_environment(base_url: str) -> dict[str, str]:
    """The settings this process and the app server share, set in os.environ (without
    Redis) and returned. The server must hash tokens with the key the set-up used."""
    env = {
        "CONGRESS_VAR_DIR": str(var_dir()),
        "CONGRESS_SECRET_KEY": secrets.token_urlsafe(48),
        "CONGRESS_PUBLIC_URL": base_url,
        "CONGRESS_DATABASE_URL": database_url(),
    }
    os.environ.update(env)
    os.environ.pop("CONGRESS_REDIS_URL", None)
    return env


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


async def admin(statement: str) -> str:
    """One statement on the PostgreSQL server's maintenance database; its value or ''."""
    import asyncpg

    connection = await asyncpg.connect(POSTGRES)
    try:
        return str(await connection.fetchval(statement) or "")
    finally:
        await connection.close()


@contextlib.asynccontextmanager
async def fresh_database() -> AsyncIterator[None]:
    """The run's database created (PostgreSQL), and dropped afterwards with the var dir."""
    if POSTGRES:
        await admin(f'CREATE DATABASE "{DB_NAME}"')
    try:
        yield
    finally:
        if POSTGRES:
            with contextlib.suppress(Exception):
                await admin(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')
        shutil.rmtree(var_dir(), ignore_errors=True)


# --- processes and CPU time ------------------------------------------------------------------


def _cpu_ticks(stat: str) -> int:
    """User and system ticks from a /proc/<pid>/stat line, all the process's threads."""
    fields = stat.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


def machine_busy_seconds() -> float:
    """CPU time every process of the machine used so far: others share it with the run."""
    # user nice system idle iowait irq softirq steal: all but idle and iowait are busy
    ticks = [int(n) for n in Path("/proc/stat").read_text().split()[1:9]]
    return (sum(ticks) - ticks[3] - ticks[4]) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float:
    """CPU time of the PostgreSQL backends serving the bench database, when the server
    runs on this machine (its process titles name the database); 0 for SQLite, whose work
    is done in the app's own threads."""
    if not POSTGRES:
        return 0.0
    ticks = 0
    for process in Path("/proc").iterdir():
        if not process.name.isdigit():
            continue
        try:
            if DB_NAME.encode() not in (process / "cmdline").read_bytes():
                continue
            ticks += _cpu_ticks((process / "stat").read_text())
        except OSError:
            continue
    return ticks / os.sysconf("SC_CLK_TCK")


class ServerProcess:
    """A server in a process of its own, its output in ``<var dir>/<name>.log``; its
    memory and CPU time from /proc."""

    def __init__(self, name: str = "server") -> None:
        self.log = var_dir() / f"{name}.log"
        self.process: subprocess.Popen[bytes] | None = None

    def spawn(self, command: list[str], env: dict[str, str]) -> None:
        """Start ``command`` in the project root."""
        with self.log.open("ab") as output:
            self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and modules
                command, cwd=ROOT, env=env, stdout=output, stderr=output
            )

    async def wait_ready(
        self,
        url: str,
        expect: Callable[[Any], bool] = lambda response: response.status_code == 200,
        tries: int = 400,
    ) -> None:
        """Poll ``url`` every 50 ms until the answer is as expected; raise with the log's
        tail if the process ends or the tries run out."""
        import httpx

        async with httpx.AsyncClient(trust_env=False) as http:
            for _ in range(tries):
                if not self.alive():
                    break
                with contextlib.suppress(httpx.TransportError):
                    if expect(await http.get(url)):
                        return
                await asyncio.sleep(0.05)
        raise RuntimeError(f"the server did not start:\n{self.log_tail()}")

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def status_kb(self, key: str) -> int:
        """A kB figure of /proc/<pid>/status (``VmRSS``, ``VmHWM``), 0 if absent."""
        for line in Path(f"/proc/{self.pid}/status").read_text().splitlines():
            if line.startswith(key + ":"):
                return int(line.split()[1])
        return 0

    def peak_rss_mb(self) -> float:
        """Peak resident memory (VmHWM) in MB."""
        kb = self.status_kb("VmHWM")
        return kb / 1024 if kb else math.nan

    def cpu_seconds(self) -> float:
        """User and system time of the process, all its threads."""
        stat = Path(f"/proc/{self.pid}/stat").read_text()
        return _cpu_ticks(stat) / os.sysconf("SC_CLK_TCK")

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or the kernel's OOM killer would: no clean-up at all."""
        if self.alive():
            assert self.process is not None
            self.process.kill()
            self.process.wait(timeout=10)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])

    def stop(self) -> None:
        """Terminate, and kill if it does not end within 20 s."""
        if self.alive():
            assert self.process is not None
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)


class AppServer(ServerProcess):
    """The real app under uvicorn, one worker, on ``port`` of 127.0.0.1."""

    def __init__(
        self,
        port: int,
        env: dict[str, str],
        *,
        pool_size: int | None = None,
        backlog: int | None = None,
        name: str = "server",
    ) -> None:
        super().__init__(name)
        self.port = port
        self.env = {**os.environ, **env}
        if pool_size is not None:
            self.env["CONGRESS_DB_POOL_SIZE"] = str(pool_size)
        self.backlog = backlog

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "uvicorn",
            "congress.app:create_app",
            "--factory",
            "--host",
            HOST,
            "--port",
            str(self.port),
            "--log-level",
            "warning",
        ]
        if self.backlog is not None:
            command += ["--backlog", str(self.backlog)]
        self.spawn(command, self.env)

    async def wait_until_up(self) -> None:
        """Until ``GET /login`` answers 200."""
        await self.wait_ready(f"http://{HOST}:{self.port}/login")


class RedisServer(ServerProcess):
    """A redis-server of the run's own on loopback, no persistence; it can be restarted on
    the same port (the app's clients then reconnect to it)."""

    BINARY = shutil.which("redis-server") or "/usr/bin/redis-server"

    def __init__(self, port: int) -> None:
        super().__init__("redis")
        self.port = port
        self.url = f"redis://{HOST}:{port}/0"

    def start(self) -> None:
        workdir = var_dir() / "redis"
        workdir.mkdir(exist_ok=True)
        command = [self.BINARY, "--bind", HOST, "--port", str(self.port), "--save", ""]
        self.spawn([*command, "--appendonly", "no", "--dir", str(workdir)], dict(os.environ))

    async def wait_until_up(self) -> None:
        """Until it answers PING."""
        for _ in range(200):
            with contextlib.suppress(OSError):
                reader, writer = await asyncio.open_connection(HOST, self.port)
                writer.write(b"PING\r\n")
                answer = await reader.readline()
                writer.close()
                if answer.startswith(b"+PONG"):
                    return
            await asyncio.sleep(0.05)
        raise RuntimeError(f"redis-server did not start:\n{self.log_tail()}")


@contextlib.contextmanager
def profiled(pid: int, path: str | None) -> Iterator[None]:
    """py-spy sampling the server without pausing it, so the latencies stay its own
    (collapsed stacks per thread into ``path``); nothing without a path."""
    if not path:
        yield
        return
    Path(path).resolve().parent.mkdir(parents=True, exist_ok=True)
    profiler = subprocess.Popen(  # noqa: S603 - py-spy from this venv, on our own server
        [
            str(Path(sys.executable).with_name("py-spy")),
            "record",
            "--pid",
            str(pid),
            "--rate",
            "250",
            "--threads",
            "--nonblocking",
            "--format",
            "raw",
            "--output",
            str(Path(path).resolve()),
        ],
        stdout=subprocess.DEVNULL,
    )
    try:
        yield
    finally:
        profiler.send_signal(signal.SIGINT)
        profiler.wait(timeout=60)


# --- figures -------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest rank: the smallest value with at least this fraction of values at or below."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)] if ordered else math.nan


def median(values: list[float]) -> float:
    """The median, NaN of nothing."""
    return statistics.median(values) if values else math.nan


_SERVER_TIMING = re.compile(r"\bapp;dur=([0-9.]+)")


def server_ms(server_timing: str | None) -> float | None:
    """The app's own time from its ``Server-Timing: app;dur=<ms>`` header, if it sent one."""
    found = _SERVER_TIMING.search(server_timing or "")
    return float(found.group(1)) if found else None


# --- the congress ---------------------------------------------------------------------------


async def provincial_congress(ends_after_days: int = 0) -> int:
    """The benches' congress: the 19th of the Hà Tĩnh provincial union, opening today (in
    the database the caller has opened)."""
    import datetime
    from zoneinfo import ZoneInfo

    from congress.schemas import CongressIn
    from congress.services import create_congress

    today = datetime.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    return await create_congress(
        CongressIn(
            name="Đại hội Công đoàn tỉnh Hà Tĩnh",
            number="XIX",
            term="2028–2033",
            organizing_union="Liên đoàn Lao động tỉnh Hà Tĩnh",
            venue="Trung tâm Hội nghị tỉnh",
            starts_on=today,
            ends_on=today + datetime.timedelta(days=ends_after_days),
        )
    )


async def first_sitting(congress_id: int) -> int:
    """Its first plenary sitting, this morning at 7:30."""
    import datetime
    from zoneinfo import ZoneInfo

    from congress.eventlog import SYSTEM
    from congress.schemas import SittingIn
    from congress.services import add_sitting

    today = datetime.datetime.now(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    return await add_sitting(
        congress_id,
        SittingIn(
            title="Phiên chính thức thứ nhất",
            kind="plenary",
            starts_at=datetime.datetime.combine(today, datetime.time(7, 30)),
            location="Hội trường A",
        ),
        SYSTEM,
    )


# --- the delegates -------------------------------------------------------------------------

FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Phan", "Võ", "Đặng", "Bùi", "Đỗ", "Hồ", "Ngô"]
MIDDLE = ["Văn", "Thị", "Đức", "Hữu", "Thu", "Ngọc", "Minh", "Thanh", "Quang", "Xuân", "Thị Thu"]
GIVEN = ["Hạnh", "Đức", "Hằng", "Dũng", "Lan", "Hùng", "Phương", "Tuấn", "Nga", "Sơn", "Thủy"]
# The delegations of a provincial congress, for the benches' delegate sheets.
DELEGATIONS = [
    "Liên đoàn Lao động thành phố Hà Tĩnh",
    "Liên đoàn Lao động thị xã Hồng Lĩnh",
    "Liên đoàn Lao động huyện Cẩm Xuyên",
    "Liên đoàn Lao động huyện Hương Khê",
    "Liên đoàn Lao động huyện Đức Thọ",
    "Công đoàn ngành Giáo dục",
    "Công đoàn ngành Y tế",
    "Công đoàn Viên chức tỉnh",
    "Công đoàn các Khu kinh tế tỉnh",
]
POSITIONS = [
    "Chủ tịch Công đoàn cơ sở",
    "Phó Chủ tịch Công đoàn cơ sở",
    "Ủy viên Ban Chấp hành Liên đoàn Lao động tỉnh",
    "Chủ tịch Liên đoàn Lao động huyện",
    "Công nhân, Công ty TNHH Giày Đông Hải",
    "Giáo viên, Trường THPT Phan Đình Phùng",
]
SHEET_HEADER = [
    "STT",
    "Họ và tên",
    "Giới tính",
    "Năm sinh",
    "Đoàn đại biểu",
    "Đơn vị",
    "Chức vụ",
    "Loại đại biểu",
    "Số thẻ",
]
"""The columns of the delegate list organizers import."""


def full_name(rng: random.Random) -> str:
    return f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}"


def delegate_sheet(
    count: int,
    rng: random.Random,
    delegations: Sequence[str],
    positions: Sequence[str] | str,
    invited: int = 0,
) -> bytes:
    """A CSV delegate list of ``count`` official delegates and then ``invited`` invited ones,
    the delegations in turn, card numbers 00001 on; a position drawn from ``positions``, or
    the one position given as a string."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(SHEET_HEADER)
    for n in range(1, count + invited + 1):
        writer.writerow(
            [
                n,
                full_name(rng),
                rng.choice(["Nam", "Nữ"]),
                rng.randint(1965, 1998),
                delegations[n % len(delegations)],
                f"Công đoàn cơ sở số {n % 300 + 1}",
                positions if isinstance(positions, str) else rng.choice(positions),
                "Chính thức" if n <= count else "Khách mời",
                f"{n:05d}",
            ]
        )
    return buffer.getvalue().encode("utf-8-sig")
