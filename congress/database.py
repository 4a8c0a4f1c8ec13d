"""The database engine: SQLite (embedded default) or PostgreSQL, chosen by the URL alone."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import weakref
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import urlsplit

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType

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


class _SQLiteConnections:
    """Connections kept open for one event loop: opening one costs a thread, the file and
    the schema (about 1 ms each time), and a door tablet's scan needs several queries."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.idle: list[aiosqlite.Connection] = []
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
    pool (a command, a test's own loop) keep that behaviour.
    """

    __slots__ = ("_pools",)

    def __init__(self, path: str, **connection_kwargs: Any) -> None:
        super().__init__(path=path, **connection_kwargs)
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

    async def _borrow(self, pool: _SQLiteConnections) -> aiosqlite.Connection:
        await pool.slots.acquire()
        try:
            if pool.idle:
                return pool.idle.pop()
            return await self.get_connection()
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
        if pool is None:
            return await super()._run_in_new_connection(query, args, query_type, table)
        connection = await self._borrow(pool)
        broken = True
        try:
            async with connection.execute(query, args or []) as cursor:
                rows = await cursor.fetchall()
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
        # get_connection() switched foreign keys on when it opened the connection.
        async with connection.execute(query, args or []) as cursor:
            return await cursor.fetchall()


def engine() -> Engine:
    found = engine_finder()
    if found is None:
        raise RuntimeError("no database engine: piccolo_conf.DB is missing")
    return found


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
