"""The database engine: SQLite (embedded default) or PostgreSQL, chosen by the URL alone."""

from __future__ import annotations

import asyncio
import contextlib
import errno
import io
import logging
import sqlite3
import sys
import weakref
from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, NoReturn
from urllib.parse import urlsplit

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine, PostgresTransaction
from piccolo.engine.sqlite import (
    SQLiteEngine,
    SQLiteTransaction,
    TransactionType,
    dict_factory,
)
from piccolo.querystring import QueryString

from congress.errors import CongressError
from congress.i18n import N_
from congress.settings import Settings

log = logging.getLogger(__name__)

# SQLite: writers wait for each other this long before "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30
# PostgreSQL: a server that does not answer is given up after this long (asyncpg waits a
# minute by default), and a statement after this long: a request fails, it does not hang.
POSTGRES_CONNECT_TIMEOUT_S = 5
POSTGRES_STATEMENT_TIMEOUT_S = 60
# The health check's own bound, below a load balancer's usual check timeout.
HEALTH_TIMEOUT_S = 3


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(str(path))
        return PooledSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    parts = urlsplit(settings.database_url)
    if parts.scheme not in {"postgresql", "postgres"}:
        raise ValueError(f"unsupported database URL scheme: {parts.scheme!r}")
    return ReconnectingPostgresEngine(
        config={
            "dsn": settings.database_url,
            "timeout": POSTGRES_CONNECT_TIMEOUT_S,
            "command_timeout": POSTGRES_STATEMENT_TIMEOUT_S,
        },
        extensions=(),
        log_queries=False,
    )


def _enable_wal(path: str) -> None:
    """WAL lets readers go on while one writer writes; the mode is kept in the file."""
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


# --- when the database or the disk fails ------------------------------------------------------


class Outage(CongressError):
    """The database or the disk failed, not the request: 503, try again later. The server
    keeps serving what does not need the failed part."""

    status_code = 503


class StorageFull(Outage):
    """The disk under the database or the stored files is full; the change that needed the
    room was rolled back."""

    def __init__(self) -> None:
        super().__init__(
            "storage_full",
            N_(
                "The server's storage is full: nothing was saved. Tell the organizers, then "
                "try again once space has been freed."
            ),
        )


class DatabaseUnavailable(Outage):
    """The database does not answer: PostgreSQL stopped or cut off, a lock held too long."""

    def __init__(self) -> None:
        super().__init__(
            "database_unavailable",
            N_("The database cannot be reached at the moment. Try again in a moment."),
        )


# SQLite's primary result codes that mean "not now" rather than "wrong": a lock held past
# the busy timeout, an I/O error, a file that cannot be opened or was made read-only.
_SQLITE_UNAVAILABLE = {
    sqlite3.SQLITE_BUSY,
    sqlite3.SQLITE_LOCKED,
    sqlite3.SQLITE_IOERR,
    sqlite3.SQLITE_CANTOPEN,
    sqlite3.SQLITE_READONLY,
    sqlite3.SQLITE_PROTOCOL,
}
# PostgreSQL's SQLSTATE classes of the same kind: connection exceptions, operator
# intervention (shutdown, "starting up", a cancelled statement), insufficient resources,
# system errors; disk_full on its own.
_POSTGRES_DISK_FULL = "53100"
_POSTGRES_UNAVAILABLE = ("08", "53", "57", "58")


# What asyncpg says of a connection it found dropped: closed, or (a pooled one) already
# given back to its pool, as it does itself when the socket goes.
_DROPPED_CONNECTION = ("connection is closed", "released back to the pool")


def outage(error: BaseException) -> Outage | None:
    """What a failure is to the user when the database or the disk caused it, else None.

    Looks through what caused it as well: a rollback that failed on a connection the server
    had closed, or a file that could not be closed, carries the first failure with it."""
    pending: list[BaseException] = [error]
    seen: set[int] = set()
    while pending and len(seen) < 32:
        current = pending.pop(0)
        if id(current) in seen:
            continue
        seen.add(id(current))
        found = _outage_of(current)
        if found is not None:
            return found
        if isinstance(current, BaseExceptionGroup):
            pending.extend(current.exceptions)
        pending.extend(e for e in (current.__cause__, current.__context__) if e is not None)
    return None


def _outage_of(error: BaseException) -> Outage | None:
    if isinstance(error, Outage):
        return error
    if isinstance(error, TransactionLost):
        return DatabaseUnavailable()
    if isinstance(error, sqlite3.Error):
        code = (getattr(error, "sqlite_errorcode", None) or 0) & 0xFF
        if code == sqlite3.SQLITE_FULL:
            return StorageFull()
        return DatabaseUnavailable() if code in _SQLITE_UNAVAILABLE else None
    if isinstance(error, OSError) and error.errno in {errno.ENOSPC, errno.EDQUOT}:
        return StorageFull()
    asyncpg = sys.modules.get("asyncpg")  # not imported: the error cannot be one of its own
    if asyncpg is None:
        return None
    if isinstance(error, asyncpg.PostgresError):
        state = str(getattr(error, "sqlstate", "") or "")
        if state == _POSTGRES_DISK_FULL:
            return StorageFull()
        return DatabaseUnavailable() if state.startswith(_POSTGRES_UNAVAILABLE) else None
    if isinstance(error, asyncpg.InterfaceError) and any(
        words in str(error) for words in _DROPPED_CONNECTION
    ):
        return DatabaseUnavailable()  # a statement on a connection the server dropped
    if isinstance(error, TimeoutError | ConnectionError) and _raised_in(error, "asyncpg"):
        return DatabaseUnavailable()  # a statement past its timeout, a socket reset
    return None


def _raised_in(error: BaseException, package: str) -> bool:
    traceback: TracebackType | None = error.__traceback__
    while traceback is not None:
        module = str(traceback.tb_frame.f_globals.get("__name__", ""))
        if module == package or module.startswith(package + "."):
            return True
        traceback = traceback.tb_next
    return False


async def answers() -> bool:
    """Whether the database answers, within HEALTH_TIMEOUT_S, a query that reads its file
    or reaches its server."""
    try:
        async with asyncio.timeout(HEALTH_TIMEOUT_S):
            await query("SELECT 1 AS ok FROM congress LIMIT 1")
    except Exception as error:  # anything: a load balancer only needs to know "not now"
        cause = error.__cause__ if isinstance(error, Outage) else None
        log.warning("health check: the database does not answer: %r", cause or error)
        return False
    return True


class _KeptConnection(aiosqlite.Connection):
    """A kept connection whose statements run right here, on the event loop's thread.

    A statement on the embedded database takes microseconds. Handing each one to the
    connection's thread and back costs two thread switches, and while the loop is busy the
    thread waits for the GIL, up to the interpreter's 5 ms switch interval: inside the
    write lock, those waits are what held a door's scans to a few hundred a second. The
    thread stays for what it is good at, waiting: SQLite is told not to wait here (busy
    timeout 0), and a statement that finds the database locked by another connection or
    process runs again in the thread, with the usual busy timeout.
    """

    def __init__(self, connection_kwargs: dict[str, Any], busy_timeout_s: float) -> None:
        kwargs = {**connection_kwargs, "timeout": 0, "check_same_thread": False}
        self.sqlite = sqlite3.connect(**kwargs)
        self.sqlite.row_factory = dict_factory  # for what runs in the thread
        self.busy_timeout_ms = int(busy_timeout_s * 1000)
        super().__init__(lambda: self.sqlite, iter_chunk_size=64)

    def execute_here(self, query: str, args: Sequence[Any]) -> list[dict[str, Any]]:
        cursor = self.sqlite.cursor()
        cursor.row_factory = None  # the column names once, not once per row
        try:
            rows = cursor.execute(query, args).fetchall()
            if not rows:
                return []
            names = [column[0] for column in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in rows]
        finally:
            cursor.close()

    async def run(self, query: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        try:
            return self.execute_here(query, args)
        except sqlite3.OperationalError as error:
            # Plain SQLITE_BUSY only: a stale snapshot (SQLITE_BUSY_SNAPSHOT) never clears.
            if error.sqlite_errorcode != sqlite3.SQLITE_BUSY:
                _raise_plainly(error)
        # The statement had no effect; wait for the lock in the connection's own thread.
        try:
            return await self.run_in_thread(query, args)
        except sqlite3.OperationalError as error:
            _raise_plainly(error)

    async def run_in_thread(self, query: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The statement in the connection's thread, which may wait for locks and disks
        while the loop serves other requests."""
        await self.execute_fetchall(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        try:
            return list(await self.execute_fetchall(query, args))  # type: ignore[arg-type]
        finally:
            await self.execute_fetchall("PRAGMA busy_timeout = 0")


def _raise_plainly(error: sqlite3.OperationalError) -> NoReturn:
    """A full disk or a lock held past the busy timeout as what users are told (503)."""
    said = _outage_of(error)
    if said is None:
        raise error
    raise said from error


class TransactionLost(sqlite3.OperationalError):
    """A statement of a transaction that SQLite has rolled back already."""

    def __init__(self) -> None:
        super().__init__("the transaction was rolled back after an earlier error")
        self.sqlite_errorcode = sqlite3.SQLITE_ABORT
        self.sqlite_errorname = "SQLITE_ABORT"


class _SQLiteConnections:
    """Connections kept open for one event loop: opening one costs a thread, the file and
    the schema (about 1 ms each time), and a door tablet's scan needs several queries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.idle: list[_KeptConnection] = []
        self.slots = asyncio.Semaphore(size)
        self.closed = False

    async def close(self) -> None:
        self.closed = True
        idle, self.idle = self.idle, []
        for connection in idle:
            await connection.close()


class _PooledSQLiteTransaction(SQLiteTransaction):
    """Piccolo's transaction, on a kept connection that goes back to its pool at the end."""

    __slots__ = ("_pool",)

    async def __aenter__(self) -> SQLiteTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            await self.begin()
        except BaseException:
            await self._release(broken=True)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def _release(self, broken: bool = False) -> None:
        engine = self.engine
        assert isinstance(engine, PooledSQLiteEngine)
        if self._pool is None:
            await self.connection.close()
        else:
            await engine._give_back(self._pool, self.connection, broken=broken)

    async def get_connection(self) -> aiosqlite.Connection:
        engine = self.engine
        assert isinstance(engine, PooledSQLiteEngine)
        self._pool = engine._loop_pool()
        if self._pool is None:
            return await engine.get_connection()
        return await engine._borrow(self._pool)

    async def _run(self, statement: str) -> None:
        if isinstance(self.connection, _KeptConnection):
            await self.connection.run(statement)
        else:
            await self.connection.execute(statement)

    async def begin(self) -> None:
        await self._run(f"BEGIN {self.transaction_type.value}")

    async def commit(self) -> None:
        # Here too, though a writer's COMMIT waits for the disk (synchronous=FULL): handing
        # it to the thread let the loop read meanwhile, but the write lock then waited for
        # the thread to get the GIL back, and the bench lost a quarter of its scans.
        await self._run("COMMIT")
        self._committed = True

    async def rollback(self) -> None:
        # SQLite ends the transaction itself on some errors (a full disk: SQLITE_FULL), and
        # a ROLLBACK then fails with "no transaction is active", hiding the first error.
        if self.connection.in_transaction:
            await self._run("ROLLBACK")
        self._rolled_back = True

    async def __aexit__(self, exception_type: Any, exception: Any, traceback: Any) -> bool:
        if self._parent is not None or self._pool is None:
            return await super().__aexit__(exception_type, exception, traceback)
        try:
            if exception is not None:
                if not self._rolled_back:
                    await self.rollback()
            elif not self._committed and not self._rolled_back:
                await self.commit()
        except BaseException:
            await self._release(broken=True)
            raise
        finally:
            self.engine.current_transaction.reset(self.context)
        await self._release()
        return exception is None


class PooledSQLiteEngine(SQLiteEngine):
    """SQLiteEngine that keeps connections per event loop once `open_pool` ran in that loop.

    Piccolo's engine connects anew for every query outside a transaction and for every
    transaction, and repeats `PRAGMA foreign_keys` before each statement. Loops without a
    pool (a command, a test's own loop) keep that behaviour. Kept connections run their
    statements on the loop's thread (see `_KeptConnection`): a long query holds up the
    loop for its duration, which on this application's tables is well under a millisecond.
    """

    __slots__ = ("_busy_timeout_s", "_pools")

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
        self._busy_timeout_s = float(connection_kwargs.get("timeout", 5.0))
        self._pools: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _SQLiteConnections] = (
            weakref.WeakKeyDictionary()
        )

    def open_connections(self, size: int) -> bool:
        loop = asyncio.get_running_loop()
        if size <= 0 or loop in self._pools:
            return False
        self._pools[loop] = _SQLiteConnections(size)
        return True

    async def close_connections(self) -> None:
        pool = self._pools.pop(asyncio.get_running_loop(), None)
        if pool is not None:
            await pool.close()

    def _loop_pool(self) -> _SQLiteConnections | None:
        return self._pools.get(asyncio.get_running_loop())

    async def _connect_kept(self) -> _KeptConnection:
        connection = _KeptConnection(self.connection_kwargs, self._busy_timeout_s)
        try:
            await connection  # starts its thread
            await connection.run("PRAGMA foreign_keys = 1")
        except BaseException:
            await connection.close()
            raise
        return connection

    async def _borrow(self, pool: _SQLiteConnections) -> _KeptConnection:
        await pool.slots.acquire()
        try:
            if pool.idle:
                return pool.idle.pop()
            return await self._connect_kept()
        except BaseException:
            pool.slots.release()
            raise

    async def _give_back(
        self, pool: _SQLiteConnections, connection: aiosqlite.Connection, broken: bool = False
    ) -> None:
        try:
            if broken or pool.closed or connection.in_transaction:
                await connection.close()
            else:
                assert isinstance(connection, _KeptConnection)
                pool.idle.append(connection)
        finally:
            pool.slots.release()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return _PooledSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        pool = self._loop_pool()
        if pool is None or _NO_RETURNING:
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self._borrow(pool)
        broken = True
        try:
            rows = await connection.run(query, args or ())
            broken = False
            return rows
        except (sqlite3.Error, Outage):
            broken = False  # the statement failed, the connection is fine
            raise
        finally:
            await self._give_back(pool, connection, broken=broken)

    async def _run_in_existing_connection(
        self,
        connection: Any,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: Any = None,
    ) -> Any:
        if isinstance(connection, _KeptConnection) and not _NO_RETURNING:
            if not connection.sqlite.in_transaction:
                # SQLite rolled the transaction back (a full disk) and the caller went on:
                # this statement would be committed on its own, half a change.
                raise TransactionLost
            # get_connection() switched foreign keys on when it opened the connection.
            return await connection.run(query, args or ())
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()


async def _connect_postgres(*args: Any, **kwargs: Any) -> Any:
    """asyncpg's connect, with "the server does not answer" said as such: refused, no such
    host, no route, or no answer within the connect timeout."""
    import asyncpg

    try:
        return await asyncpg.connect(*args, **kwargs)
    except (OSError, TimeoutError) as error:
        raise DatabaseUnavailable from error


class _PostgresTransaction(PostgresTransaction):
    """Piccolo's transaction, giving its connection back whatever happens.

    Piccolo's own keeps a pooled connection for good when BEGIN or ROLLBACK fails, as they
    do on a connection the server dropped: after as many failures as the pool is large,
    every request would wait for a connection forever."""

    __slots__ = ()

    async def __aenter__(self) -> PostgresTransaction:
        if self._parent is not None:
            return self._parent
        self.connection = await self.get_connection()
        try:
            self.transaction = self.connection.transaction()
            await self.begin()
        except BaseException:
            await self._give_back(broken=True)
            raise
        self.context = self.engine.current_transaction.set(self)
        return self

    async def __aexit__(
        self,
        exception_type: type[BaseException] | None,
        exception: BaseException | None,
        traceback: TracebackType | None,
    ) -> bool:
        if self._parent is not None:
            return exception is None
        broken = False
        try:
            if exception is not None:
                if not self._rolled_back:
                    try:
                        await self.rollback()
                    except Exception:
                        # The connection is gone, and the server rolled back with it: the
                        # first failure is the one to report.
                        broken = True
            elif not self._committed and not self._rolled_back:
                try:
                    await self.commit()
                except BaseException as error:
                    # A COMMIT the server refused ends the transaction; one that got no
                    # answer leaves the connection in no known state.
                    broken = not isinstance(error, Exception) or outage(error) is not None
                    raise
        finally:
            self.engine.current_transaction.reset(self.context)
            await self._give_back(broken)
        return exception is None

    async def _give_back(self, broken: bool) -> None:
        connection = self.connection
        try:
            if broken:
                connection.terminate()
            if self.engine.pool:
                await self.engine.pool.release(connection)
            elif not broken:
                await connection.close()
        except Exception:
            # A connection the server dropped was closed, and given back to its pool, by
            # asyncpg itself when it noticed.
            log.debug("giving back a database connection failed", exc_info=True)


_POOL_SLOT = PostgresEngine.__dict__["pool"]


async def _keep_session(connection: Any) -> None:
    """What asyncpg does to a connection given back to the pool, besides rolling back an
    open transaction: nothing. Its default (RESET ALL, UNLISTEN, advisory locks released)
    is a second round trip per query, and the app sets no session state."""


class ReconnectingPostgresEngine(PostgresEngine):
    """Piccolo's PostgresEngine for a server that may stop and come back while we serve.

    Connecting fails within POSTGRES_CONNECT_TIMEOUT_S as `DatabaseUnavailable`, a
    transaction always gives its connection back, and the pool drops connections the server
    closed and opens new ones when asked: once PostgreSQL is back, so is the app."""

    __slots__ = ("_pool_loop",)

    @property
    def pool(self) -> Any:
        """The pool, to the event loop that opened it; to any other loop none, so that it
        connects per query (asyncpg's connections belong to one loop; Litestar's test
        client runs an app's lifespan and websockets in loops of their own)."""
        pool = _POOL_SLOT.__get__(self, type(self))
        if pool is None:
            return None
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return pool
        return pool if loop is self._pool_loop else None

    @pool.setter
    def pool(self, value: Any) -> None:
        _POOL_SLOT.__set__(self, value)
        try:
            self._pool_loop = asyncio.get_running_loop() if value is not None else None
        except RuntimeError:
            self._pool_loop = None

    async def start_connection_pool(self, **kwargs: Any) -> None:
        await super().start_connection_pool(
            connect=_connect_postgres, reset=_keep_session, **kwargs
        )

    async def get_new_connection(self) -> Any:
        return await _connect_postgres(**self.config)

    async def _run_in_new_connection(self, query: str, args: Sequence[Any] | None = None) -> Any:
        connection = await self.get_new_connection()
        try:
            rows = await connection.fetch(query, *(args or ()))
        except BaseException as error:
            if isinstance(error, Exception) and outage(error) is None:
                await connection.close()  # the server answered: it refused the statement
            else:
                connection.terminate()  # closing politely would wait for a server that is gone
            raise
        await connection.close()
        return rows

    def transaction(self, allow_nested: bool = True) -> PostgresTransaction:
        return _PostgresTransaction(engine=self, allow_nested=allow_nested)


# Piccolo reads an inserted row's key by ROWID before SQLite 3.35 (no RETURNING): leave
# that to Piccolo's own code.
_NO_RETURNING = sqlite3.sqlite_version_info < (3, 35)


def engine() -> Engine:
    found = engine_finder()
    if found is None:
        raise RuntimeError("no database engine: piccolo_conf.DB is missing")
    return found


async def query(sql: str, *args: Any) -> list[dict[str, Any]]:
    """The rows of one statement, ``{}`` standing for each argument, on either engine and
    in the current transaction if there is one.

    For the few hot paths (a door's scan) where building the statement with Piccolo costs
    more than running it; the SQL must be what SQLite and PostgreSQL both accept.
    """
    db = engine()
    rows = await db.run_querystring(QueryString(sql, *args))
    return db.transform_response_to_dicts(rows) if rows else []


# One writer at a time per event loop, served in arrival order. SQLite's own busy handler
# lets waiters sleep and retry, so under load newcomers overtake those who waited: a scan
# at the door could wait seconds. The queue in front of BEGIN makes waiting fair.
_sqlite_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
    weakref.WeakKeyDictionary()
)


@contextlib.asynccontextmanager
async def _sqlite_write(db: SQLiteEngine) -> AsyncIterator[object]:
    if db.current_transaction.get() is not None:
        # Inside a transaction already: join it (Piccolo nests); this task holds the turn.
        async with db.transaction(transaction_type=TransactionType.immediate) as joined:
            yield joined
        return
    loop = asyncio.get_running_loop()
    queue = _sqlite_writers.setdefault(loop, asyncio.Lock())
    async with queue, db.transaction(transaction_type=TransactionType.immediate) as transaction:
        yield transaction


def write_transaction() -> contextlib.AbstractAsyncContextManager[object]:
    """A transaction for a state change.

    On SQLite it starts IMMEDIATE, taking the write lock at BEGIN: a deferred transaction
    that reads first and writes later fails with "database is locked" when another writer
    got there in between, instead of waiting its turn.
    """
    db = engine()
    if isinstance(db, SQLiteEngine):
        return _sqlite_write(db)
    return db.transaction()


async def open_pool(pool_size: int) -> bool:
    """Keeps up to `pool_size` connections open unless a pool is open already or the size
    is 0 (a connection per query). A PostgreSQL pool belongs to the loop that opened it and
    serves every loop: the tests, whose app lifespan runs in a loop of its own, use 0 there.
    SQLite keeps its connections per loop. True when this call opened the pool."""
    db = engine()
    if isinstance(db, PooledSQLiteEngine):
        return db.open_connections(pool_size)
    if pool_size <= 0 or not isinstance(db, PostgresEngine) or db.pool is not None:
        return False
    # No floor of open connections: asyncpg would reconnect it in the background all the
    # time the server is away, a warning with a traceback each time; the next request
    # connects anyway, and the app starts while the server is down.
    await db.start_connection_pool(min_size=0, max_size=pool_size)
    return True


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PooledSQLiteEngine):
        await db.close_connections()
    elif isinstance(db, PostgresEngine) and db.pool is not None:
        await db.close_connection_pool()


async def migrate() -> str:
    """Apply every app's migrations; returns what Piccolo printed."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        response = await run_forwards(app_name="all", migration_id="all", fake=False)
    if not response.success:
        raise RuntimeError(f"migrations failed: {response.message}\n{out.getvalue()}")
    return out.getvalue()


@contextlib.asynccontextmanager
async def database_pool(pool_size: int) -> AsyncIterator[None]:
    opened = await open_pool(pool_size)
    try:
        yield
    finally:
        if opened:
            await close_pool()
