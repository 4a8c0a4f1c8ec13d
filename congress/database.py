"""The database engine: SQLite (embedded default) or PostgreSQL, chosen by the URL alone."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import weakref
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

from piccolo.engine.base import Engine
from piccolo.engine.finder import engine_finder
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType

from congress.settings import Settings

# SQLite: writers wait for each other this long before "database is locked".
SQLITE_BUSY_TIMEOUT_S = 30


def make_engine(settings: Settings) -> Engine:
    if settings.is_sqlite:
        path = settings.sqlite_path
        path.parent.mkdir(parents=True, exist_ok=True)
        _enable_wal(str(path))
        return SQLiteEngine(path=str(path), timeout=SQLITE_BUSY_TIMEOUT_S)
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
    """Opens the PostgreSQL pool unless one is open already or the size is 0 (a connection
    per query: the tests run the app's lifespan in another event loop than their own, and a
    pool belongs to one loop). True when this call opened it."""
    db = engine()
    if pool_size <= 0 or not isinstance(db, PostgresEngine) or db.pool is not None:
        return False
    await db.start_connection_pool(min_size=1, max_size=pool_size)
    return True


async def close_pool() -> None:
    db = engine()
    if isinstance(db, PostgresEngine) and db.pool is not None:
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
