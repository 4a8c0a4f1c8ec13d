"""From an empty database: migrations on both engines, and the demo command."""

from __future__ import annotations

import asyncio
import os
import re
import secrets
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import POSTGRES_SERVER, _admin, database_url_on

TABLES = {"account", "congress", "event", "sitting", "agenda_item", "delegation", "delegate"}


@pytest.fixture
async def empty_database(tmp_path: Path):
    """A URL to a database with nothing in it, on the engine under test."""
    if not POSTGRES_SERVER:
        yield f"sqlite:///{tmp_path / 'empty.sqlite3'}"
        return
    name = f"congress_empty_{secrets.token_hex(4)}"
    await _admin(POSTGRES_SERVER, f'CREATE DATABASE "{name}"')
    yield database_url_on(POSTGRES_SERVER, name)
    await _admin(POSTGRES_SERVER, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def congress_command(url: str, var_dir: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONGRESS_DATABASE_URL": url, "CONGRESS_VAR_DIR": str(var_dir)}
    env.pop("CONGRESS_SECRET_KEY", None)
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "congress", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def query(url: str, sql: str) -> list[tuple]:
    if url.startswith("sqlite"):
        with sqlite3.connect(url.removeprefix("sqlite:///")) as connection:
            return connection.execute(sql).fetchall()
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        return [tuple(r) for r in await connection.fetch(sql)]
    finally:
        await connection.close()


async def table_names(url: str) -> set[str]:
    if url.startswith("sqlite"):
        rows = await query(url, "SELECT name FROM sqlite_master WHERE type = 'table'")
    else:
        rows = await query(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    return {r[0] for r in rows}


async def test_migrations_run_from_empty(empty_database: str, tmp_path: Path) -> None:
    result = await asyncio.to_thread(congress_command, empty_database, tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert await table_names(empty_database) >= TABLES
    # Applying them again changes nothing and does not fail.
    again = await asyncio.to_thread(congress_command, empty_database, tmp_path, "migrate")
    assert again.returncode == 0, again.stderr


async def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    """The embedded database, whichever engine the rest of this run uses."""
    url = f"sqlite:///{tmp_path / 'wal.sqlite3'}"
    result = await asyncio.to_thread(congress_command, url, tmp_path, "migrate")
    assert result.returncode == 0, result.stderr
    assert await query(url, "PRAGMA journal_mode") == [("wal",)]


async def test_the_demo_congress(empty_database: str, tmp_path: Path) -> None:
    result = await asyncio.to_thread(congress_command, empty_database, tmp_path, "demo")
    assert result.returncode == 0, result.stderr
    assert "Đại hội Công đoàn tỉnh Hà Tĩnh lần thứ XIX" in result.stdout
    logins = dict(re.findall(r"^\s+\w+\s+(demo\.\w+)\s+(\S+)$", result.stdout, re.MULTILINE))
    assert set(logins) == {
        "demo.admin",
        "demo.secretariat",
        "demo.presidium",
        "demo.tally",
        "demo.checkin",
    }
    assert (await query(empty_database, "SELECT count(*) FROM delegate"))[0][0] >= 280
    assert (await query(empty_database, "SELECT count(*) FROM delegation"))[0][0] >= 18
    assert (await query(empty_database, "SELECT count(*) FROM sitting"))[0][0] == 3
    # The secret key was made on first start and only its owner may read it.
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0

    again = await asyncio.to_thread(congress_command, empty_database, tmp_path, "demo")
    assert again.returncode == 0, again.stderr
    assert (await query(empty_database, "SELECT count(*) FROM congress"))[0][0] == 1
    new_logins = dict(re.findall(r"^\s+\w+\s+(demo\.\w+)\s+(\S+)$", again.stdout, re.MULTILINE))
    assert new_logins["demo.admin"] != logins["demo.admin"]

    from argon2 import PasswordHasher

    stored = await query(
        empty_database, "SELECT password_hash FROM account WHERE username = 'demo.admin'"
    )
    assert PasswordHasher().verify(stored[0][0], new_logins["demo.admin"])
