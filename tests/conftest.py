"""Shared fixtures: a fresh database per run (SQLite by default, PostgreSQL when
CONGRESS_TEST_POSTGRES names a server), the app, clients signed in as each role, factories."""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import pytest

# --- the database, chosen before anything imports the app ----------------------------------

VAR_DIR = Path(tempfile.mkdtemp(prefix="congress-test-"))
POSTGRES_SERVER = os.environ.get("CONGRESS_TEST_POSTGRES", "").strip()
TEST_DATABASE_NAME = f"congress_test_{os.getpid()}_{secrets.token_hex(3)}"


def database_url_on(server: str, name: str) -> str:
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/{name}"))


async def _admin(server: str, statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(server)
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


os.environ["CONGRESS_VAR_DIR"] = str(VAR_DIR)
os.environ["CONGRESS_SECRET_KEY"] = "test-secret-" + secrets.token_hex(16)
os.environ.pop("CONGRESS_REDIS_URL", None)
# Litestar's test client runs the app's lifespan in a thread of its own: a PostgreSQL pool
# opened there would be used from the tests' event loop. No PostgreSQL pool in-process
# (LiveServer has one); SQLite keeps connections per event loop, so its pool is tested here.
os.environ["CONGRESS_DB_POOL_SIZE"] = "0" if POSTGRES_SERVER else "4"
os.environ["CONGRESS_TURNOUT_INTERVAL"] = "0"  # tests checkpoint polls themselves
if POSTGRES_SERVER:
    asyncio.run(_admin(POSTGRES_SERVER, f'CREATE DATABASE "{TEST_DATABASE_NAME}"'))
    os.environ["CONGRESS_DATABASE_URL"] = database_url_on(POSTGRES_SERVER, TEST_DATABASE_NAME)
else:
    os.environ["CONGRESS_DATABASE_URL"] = f"sqlite:///{VAR_DIR / 'test.sqlite3'}"

from litestar import Litestar  # noqa: E402
from litestar.testing import AsyncTestClient  # noqa: E402

from congress import accounts, database  # noqa: E402
from congress.accounts import Role  # noqa: E402
from congress.app import create_app  # noqa: E402
from congress.auth import SESSION_COOKIE  # noqa: E402
from congress.eventlog import RecordingEventBus, use_event_bus  # noqa: E402
from congress.schemas import CongressIn  # noqa: E402
from congress.services import create_congress  # noqa: E402

ENGINE = "postgresql" if POSTGRES_SERVER else "sqlite"
CSRF_COOKIE = "congress_csrf"


def pytest_report_header() -> str:
    return f"database engine: {ENGINE} ({os.environ['CONGRESS_DATABASE_URL'].split('@')[-1]})"


@pytest.fixture(scope="session", autouse=True)
async def migrated() -> AsyncIterator[None]:
    """The test database, migrated from empty once per run, dropped at the end."""
    # On PostgreSQL a pool in the tests' loop: connecting per query made the run slower by
    # a third. The apps' own loops (lifespan, websockets) connect per query.
    async with database.database_pool(8 if POSTGRES_SERVER else 0):
        await database.migrate()
        yield
    if POSTGRES_SERVER:
        await _admin(
            POSTGRES_SERVER, f'DROP DATABASE IF EXISTS "{TEST_DATABASE_NAME}" WITH (FORCE)'
        )


@pytest.fixture(scope="session", autouse=True)
def remove_var_dir() -> Iterator[None]:
    yield
    shutil.rmtree(VAR_DIR, ignore_errors=True)


@pytest.fixture
def bus() -> Iterator[RecordingEventBus]:
    recording = RecordingEventBus()
    previous = use_event_bus(recording)
    yield recording
    use_event_bus(previous)


class AppPool:
    """Apps made once and lent out: a test's first client gets the first app, its second
    client the second app, and so on. Two test clients on one app at the same time would
    start its plugins twice; one at a time, an app can serve every test."""

    def __init__(self) -> None:
        self.apps: list[Litestar] = []

    def get(self, index: int) -> Litestar:
        while len(self.apps) <= index:
            self.apps.append(create_app())
        return self.apps[index]


@pytest.fixture(scope="session")
def app_pool() -> AppPool:
    return AppPool()


class Lender:
    """Hands this test's clients one pooled app each."""

    def __init__(self, pool: AppPool) -> None:
        self.pool = pool
        self.lent = 0

    def next_app(self) -> Litestar:
        self.lent += 1
        return self.pool.get(self.lent - 1)


@pytest.fixture(autouse=True)
def fresh_rate_limits(app_pool: AppPool) -> None:
    """Every test starts with nothing counted against its rate limits: all the suite's
    clients come from one address, and the pooled apps serve test after test."""
    for pooled in app_pool.apps:
        limits = pooled.state.get("rate_limits")
        if limits is not None:
            limits.forget()


@pytest.fixture
def lender(app_pool: AppPool) -> Lender:
    return Lender(app_pool)


@pytest.fixture
def app(app_pool: AppPool) -> Litestar:
    """An app to inspect (routes, schema); clients get theirs from the lender."""
    return app_pool.get(0)


Client = AsyncTestClient[Litestar]


async def with_csrf(client: Client) -> str:
    """The CSRF token a browser would have: fetched once from the sign-in page."""
    if CSRF_COOKIE not in client.cookies:
        await client.get("/login")
    return str(client.cookies[CSRF_COOKIE])


class Session:
    """A client signed in as one account, with helpers that send the CSRF token."""

    def __init__(self, client: Client) -> None:
        self.client = client

    async def csrf(self) -> str:
        return await with_csrf(self.client)

    async def get(self, url: str, **kwargs: Any) -> Any:
        return await self.client.get(url, **kwargs)

    async def send(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"x-csrf-token": await self.csrf(), **kwargs.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kwargs)

    async def post(self, url: str, **kwargs: Any) -> Any:
        return await self.send("POST", url, **kwargs)

    async def put(self, url: str, **kwargs: Any) -> Any:
        return await self.send("PUT", url, **kwargs)

    async def delete(self, url: str, **kwargs: Any) -> Any:
        return await self.send("DELETE", url, **kwargs)

    async def submit(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        """A form post, as the browser sends it: the token is a form field."""
        form = {"_csrf_token": await self.csrf(), **(data or {})}
        return await self.client.post(url, data=form, **kwargs)


@pytest.fixture(scope="session")
async def role_tokens() -> dict[str, str]:
    """A session token per role, made once: argon2 is slow on purpose."""
    tokens = {}
    for role in Role:
        username = f"test.{role.value}.{secrets.token_hex(3)}"
        account_id = await accounts.create_account(
            username, f"Test {role.value}", "x" * 12, [role.value]
        )
        tokens[role.value] = await accounts.open_session(account_id)
    return tokens


@pytest.fixture
async def client(lender: Lender) -> AsyncIterator[Client]:
    async with AsyncTestClient(app=lender.next_app()) as test_client:
        yield test_client


@pytest.fixture
async def anonymous(client: Client) -> Session:
    return Session(client)


@pytest.fixture
async def as_role(
    lender: Lender, role_tokens: dict[str, str]
) -> AsyncIterator[Callable[[str | None], Awaitable[Session]]]:
    """``await as_role("admin")``: a new client signed in with that role (None: anonymous)."""
    opened: list[Client] = []

    async def open_as(role: str | None) -> Session:
        test_client = AsyncTestClient(app=lender.next_app())
        await test_client.__aenter__()
        opened.append(test_client)
        if role is not None:
            test_client.cookies.set(SESSION_COOKIE, role_tokens[role])
        return Session(test_client)

    yield open_as
    for test_client in opened:
        await test_client.__aexit__(None, None, None)


@pytest.fixture
async def admin(lender: Lender, role_tokens: dict[str, str]) -> AsyncIterator[Session]:
    async with AsyncTestClient(app=lender.next_app()) as test_client:
        test_client.cookies.set(SESSION_COOKIE, role_tokens["admin"])
        yield Session(test_client)


@pytest.fixture
def make_congress() -> Callable[..., Awaitable[int]]:
    async def make(**fields: Any) -> int:
        values = {
            "name": f"Đại hội Công đoàn thử {secrets.token_hex(3)}",
            "number": "XIX",
            **fields,
        }
        return await create_congress(CongressIn(**values))

    return make


def vi(msgid: str) -> str:
    """The message as a user in Vietnamese (the default language) reads it."""
    from congress import i18n

    token = i18n.current_language.set("vi")
    try:
        return i18n.translate(msgid)
    finally:
        i18n.current_language.reset(token)


def free_port() -> int:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class RedisServer:
    """A redis-server of the tests' own (Debian's, on loopback), that a test may restart."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: Any = None

    def start(self) -> None:
        import subprocess

        self.process = subprocess.Popen(  # noqa: S603 - Debian's redis-server, loopback only
            [
                shutil.which("redis-server") or "/usr/bin/redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is not None:
            self.process.kill()  # as when it crashes: no goodbye to its clients
            self.process.wait(timeout=10)
            self.process = None


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Until something accepts connections on the port (a server just started)."""
    import socket
    import time

    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The CI's Redis (CONGRESS_TEST_REDIS_URL), or a redis-server of the tests' own."""
    given = os.environ.get("CONGRESS_TEST_REDIS_URL")
    if given:
        yield given
        return
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server.url
    finally:
        server.stop()


class LiveServer:
    """The real app under uvicorn in its own process, on the test database."""

    def __init__(self, env: dict[str, str] | None = None, log: Path | None = None) -> None:
        self.log = log
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {
            **os.environ,
            "CONGRESS_PUBLIC_URL": self.url,
            "CONGRESS_DB_POOL_SIZE": "4",
            **(env or {}),
        }
        self.process: Any = None

    def spawn(self) -> None:
        import subprocess
        import sys

        output = self.log.open("ab") if self.log else None
        self.process = subprocess.Popen(  # noqa: S603 - our own interpreter and module
            [
                sys.executable,
                "-m",
                "uvicorn",
                "congress.app:create_app",
                "--factory",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "info" if self.log else "warning",
            ],
            env=self.env,
            stdout=output,
            stderr=output,
        )
        if output:
            output.close()

    async def start(self) -> None:
        import httpx

        self.spawn()
        async with httpx.AsyncClient() as http:
            for _ in range(200):
                try:
                    if (await http.get(self.url + "/login")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.05)
        raise RuntimeError("the server did not start")

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
async def live_server() -> AsyncIterator[LiveServer]:
    server = LiveServer()
    await server.start()
    yield server
    server.stop()
