"""The embedded engine keeps its SQLite connections: what it must still get right."""

from __future__ import annotations

import asyncio
import sqlite3
from typing import Any

import pytest

from congress import database
from congress.tables import Congress
from tests.conftest import ENGINE

pytestmark = pytest.mark.skipif(ENGINE != "sqlite", reason="the SQLite engine's own pool")


def _kept() -> list[Any]:
    db = database.engine()
    assert isinstance(db, database.PooledSQLiteEngine)
    pool = db._loop_pool()
    assert pool is not None
    return list(pool.idle)


async def test_kept_connections_are_reused_and_closed_with_the_pool() -> None:
    async with database.database_pool(3):
        for _ in range(20):
            await Congress.count()
        first = _kept()
        assert len(first) == 1, "twenty queries, one after the other, reuse one connection"
        await asyncio.gather(*(Congress.count() for _ in range(30)))
        kept = _kept()
        assert 1 <= len(kept) <= 3, "never more connections than the pool size"
    for connection in kept:
        with pytest.raises(sqlite3.ProgrammingError):  # closed with the pool
            connection.sqlite.execute("SELECT 1")


async def _write_then_refuse() -> None:
    async with database.write_transaction():
        await Congress.insert(Congress(name="Rolled back x"))
        raise RuntimeError("the service refused")


async def test_a_failed_transaction_rolls_back_and_the_connection_serves_again() -> None:
    async with database.database_pool(1):
        count = await Congress.count()
        with pytest.raises(RuntimeError):
            await _write_then_refuse()
        assert await Congress.count() == count
        assert not await Congress.exists().where(Congress.name == "Rolled back x")


async def test_a_cancelled_write_releases_its_connection() -> None:
    async with database.database_pool(1):
        entered = asyncio.Event()

        async def slow_write() -> None:
            async with database.write_transaction():
                await Congress.count()
                entered.set()
                await asyncio.sleep(10)

        task = asyncio.create_task(slow_write())
        await entered.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # With a pool of one, this would wait forever if the cancelled writer kept it.
        assert await asyncio.wait_for(Congress.count(), timeout=5) >= 0
