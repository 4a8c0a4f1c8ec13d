"""The database engine: SQLite (embedded default) or PostgreSQL, chosen by the URL alone."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import weakref
from collections.abc import AsyncIterator, Sequence
from typing import Any
from urllib.parse import urlsplit

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import (
    SQLiteEngine,
    SQLiteTransaction,
    TransactionType,
    dict_factory,
)
from piccolo.querystring import QueryString

from congress.settings import Settings

# SQLite: writers wait for each other this long before "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(str(path))
        return PooledSQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
    parts = urlsplit(settings.database_url)
    if parts.scheme not in {"postgresql", "postgres"}:
        raise ValueError(f"unsupported database URL scheme: {parts.scheme!r}")
    return PostgresEngine(
        config={"dsn": settings.database_url},
        extensions=(),
        log_queries=False,
    )


def _enable_wal(path: str) -> None:
    """WAL lets readers go on while one writer writes; the mode is kept in the file."""
    with contextlib.closing(sqlite3.connect(path, timeout=SQLITE_BUSY_TIMEOUT_S)) as conn:
        conn.execute("PRAGMA journal_mode=WAL")


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
                raise
        # The statement had no effect; wait for the lock in the connection's own thread.
        return await self.run_in_thread(query, args)

    async def run_in_thread(self, query: str, args: Sequence[Any] = ()) -> list[dict[str, Any]]:
        """The statement in the connection's thread, which may wait for locks and disks
        while the loop serves other requests."""
        await self.execute_fetchall(f"PRAGMA busy_timeout = {self.busy_timeout_ms}")
        try:
            return list(await self.execute_fetchall(query, args))  # type: ignore[arg-type]
        finally:
            await self.execute_fetchall("PRAGMA busy_timeout = 0")


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
        except sqlite3.Error:
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
            # get_connection() switched foreign keys on when it opened the connection.
            return await connection.run(query, args or ())
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()


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
    await db.start_connection_pool(min_size=1, max_size=pool_size)
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
