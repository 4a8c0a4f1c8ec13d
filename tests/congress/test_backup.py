"""`congress backup` while the server writes, `congress restore` into an empty instance:
the congress, its delegates, papers, polls and printed cards all come back."""

from __future__ import annotations

import asyncio
import io
import json
import os
import secrets
import sqlite3
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Any

import httpx
import pytest

from congress.auth import SESSION_COOKIE
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn
from congress.eventlog import SYSTEM
from congress.voting import services as voting
from congress.voting.schemas import BallotIn, PollIn
from congress.voting.verify import verify_export
from documents.archive import verify_store
from documents.tables import DocumentVersion
from tests.conftest import POSTGRES_SERVER, LiveServer, _admin, database_url_on
from tests.congress.voting_fixtures import make_assembly
from tests.documents.conftest import pdf_bytes
from tests.documents.test_documents import upload


def congress_command(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(  # noqa: S603 - our own interpreter and module
        [sys.executable, "-m", "congress", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


class Instance:
    """An empty instance on the engine under test: a database and a var dir."""

    def __init__(self, url: str, var_dir: Path) -> None:
        self.url, self.var_dir = url, var_dir
        self.env = {**os.environ, "CONGRESS_DATABASE_URL": url, "CONGRESS_VAR_DIR": str(var_dir)}
        self.env.pop("CONGRESS_SECRET_KEY")  # the key comes from the backup

    def restore(self, backup: Path) -> subprocess.CompletedProcess[str]:
        return congress_command(self.env, "restore", str(backup))

    async def tables(self) -> set[str]:
        if self.url.startswith("sqlite"):
            if not await asyncio.to_thread(Path(self.url.removeprefix("sqlite:///")).exists):
                return set()
            rows = await self.rows("SELECT name FROM sqlite_master WHERE type = 'table'")
        else:
            rows = await self.rows("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        return {r[0] for r in rows}

    async def rows(self, sql: str) -> list[tuple[Any, ...]]:
        if self.url.startswith("sqlite"):
            with sqlite3.connect(self.url.removeprefix("sqlite:///")) as connection:
                return connection.execute(sql).fetchall()
        import asyncpg

        connection = await asyncpg.connect(self.url)
        try:
            return [tuple(r) for r in await connection.fetch(sql)]
        finally:
            await connection.close()


@pytest.fixture
async def empty_instance(tmp_path: Path):
    async def make() -> Instance:
        var_dir = tmp_path / f"restored-{secrets.token_hex(3)}"
        if not POSTGRES_SERVER:
            return Instance(f"sqlite:///{var_dir / 'congress.sqlite3'}", var_dir)
        name = f"congress_restore_{secrets.token_hex(4)}"
        await _admin(POSTGRES_SERVER, f'CREATE DATABASE "{name}"')
        made.append(name)
        return Instance(database_url_on(POSTGRES_SERVER, name), var_dir)

    made: list[str] = []
    yield make
    for name in made:
        await _admin(POSTGRES_SERVER, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
async def recorded(admin, make_congress) -> dict[str, Any]:
    """A congress with delegates and their cards, a released paper and a closed poll."""
    assembly = await make_assembly(await make_congress(), officials=3, invited=0)
    congress_id = assembly["congress"]
    paper = pdf_bytes("Nghị quyết Đại hội Công đoàn tỉnh")
    response = await upload(admin, congress_id, paper, "nghi-quyet.pdf", access="delegates")
    assert response.status_code == 201, response.text
    poll_id = await voting.create_poll(
        congress_id,
        PollIn(kind="motion", title="Thông qua Nghị quyết", sitting_id=assembly["sitting"]),
        SYSTEM,
    )
    await voting.open_poll(congress_id, poll_id, SYSTEM)
    for delegate in assembly["officials"]:
        ballot = BallotIn(choices=["agree"], retry_key=secrets.token_hex(8))
        await voting.cast_ballot(congress_id, delegate, poll_id, ballot)
    await voting.close_poll(congress_id, poll_id, SYSTEM)
    version = await DocumentVersion.select(DocumentVersion.sha256).where(
        DocumentVersion.document == response.json()["document_id"]
    )
    return {**assembly, "poll": poll_id, "paper": paper, "sha256": version[0]["sha256"]}


async def backup_while_writing(congress_id: int, target: Path) -> tuple[int, str]:
    """`congress backup` in its own process while this one keeps adding delegates."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "congress",
        "backup",
        str(target),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    written = 0
    while process.returncode is None:
        await delegate_services.add_delegate(
            congress_id, DelegateIn(full_name=f"Người đến muộn {written}", kind="guest"), SYSTEM
        )
        written += 1
        await asyncio.sleep(0)
    output, _ = await process.communicate()
    assert written > 0
    return process.returncode, output.decode()


async def test_a_backup_taken_while_writing_restores_into_an_empty_instance(
    recorded, empty_instance, role_tokens, tmp_path: Path
):
    congress_id = recorded["congress"]
    source_ok = (await verify_store()).ok  # other tests may leave rows without files
    backup = tmp_path / "congress.backup"
    code, output = await backup_while_writing(congress_id, backup)
    assert code == (0 if source_ok else 1), output
    assert "keep it as safe as the server" in output
    assert backup.stat().st_mode & 0o777 == 0o600

    target = await empty_instance()
    result = await asyncio.to_thread(target.restore, backup)
    assert result.returncode == (0 if source_ok else 1), result.stdout + result.stderr
    if source_ok:
        assert "0 missing, 0 changed" in result.stdout

    # The snapshot is consistent: every delegate it holds has its event, and nothing more.
    names = dict(await target.rows("SELECT id, name FROM congress"))
    assert names[congress_id].startswith("Đại hội Công đoàn thử")
    delegates = dict(await target.rows("SELECT congress, count(*) FROM delegate GROUP BY congress"))
    added = dict(
        await target.rows(
            "SELECT congress, count(*) FROM event WHERE type = 'DelegateAdded' GROUP BY congress"
        )
    )
    assert delegates[congress_id] == added[congress_id] >= 3
    sha = recorded["sha256"]
    stored = target.var_dir / "files" / sha[:2] / sha[2:4] / sha
    assert stored.read_bytes() == recorded["paper"]

    server = LiveServer(
        env={
            "CONGRESS_DATABASE_URL": target.url,
            "CONGRESS_VAR_DIR": str(target.var_dir),
            "CONGRESS_SECRET_KEY": "",  # the restored var/secret_key
        }
    )
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as phone:
            opened = await phone.get(f"/D/{recorded['tokens'][recorded['officials'][0]]}")
            assert opened.status_code == 303
            page = await phone.get("/delegate")
            assert page.status_code == 200
            assert "Nguyễn Thị Hạnh" in page.text
        async with httpx.AsyncClient(
            base_url=server.url, cookies={SESSION_COOKIE: role_tokens["admin"]}
        ) as console:
            export = await console.get(
                f"/api/congresses/{congress_id}/polls/{recorded['poll']}/export"
            )
            assert export.status_code == 200, export.text
    finally:
        server.stop()
    assert verify_export(export.json()).ok

    again = await asyncio.to_thread(target.restore, backup)
    assert again.returncode == 1
    assert "restored only into an empty instance" in again.stderr


def rewritten(backup: Path, target: Path, change: Any) -> Path:
    """A copy of the backup with `change(name, bytes) -> bytes` applied to every entry."""
    with tarfile.open(backup) as source, tarfile.open(target, "w") as copy:
        for member in source:
            stream = source.extractfile(member)
            assert stream is not None
            content = change(member.name, stream.read())
            member.size = len(content)
            copy.addfile(member, io.BytesIO(content))
    return target


async def test_damaged_backups_other_engines_and_full_targets_are_refused(
    recorded, empty_instance, tmp_path: Path
):
    backup = tmp_path / "congress.backup"
    result = await asyncio.to_thread(congress_command, dict(os.environ), "backup", str(backup))
    assert "Fingerprint" in result.stdout, result.stderr

    def flip_database_byte(name: str, content: bytes) -> bytes:
        if not name.startswith("database."):
            return content
        middle = len(content) // 2
        return content[:middle] + bytes([content[middle] ^ 1]) + content[middle + 1 :]

    def other_engine(name: str, content: bytes) -> bytes:
        if name != "manifest.json":
            return content
        manifest = json.loads(content)
        manifest["engine"] = "sqlite" if POSTGRES_SERVER else "postgresql"
        return json.dumps(manifest).encode()

    damaged = rewritten(backup, tmp_path / "damaged.backup", flip_database_byte)
    target = await empty_instance()
    refused = await asyncio.to_thread(target.restore, damaged)
    assert refused.returncode == 1
    assert "The backup is damaged; nothing was restored." in refused.stderr
    assert "changed: database." in refused.stderr
    assert not (target.var_dir / "files").exists()
    assert await target.tables() == set()

    foreign = rewritten(backup, tmp_path / "foreign.backup", other_engine)
    refused = await asyncio.to_thread(target.restore, foreign)
    assert refused.returncode == 1
    assert "restores only into the same kind of database" in refused.stderr

    paper = target.var_dir / "files" / "ab" / "cd" / ("abcd" + "0" * 60)
    paper.parent.mkdir(parents=True)
    paper.write_bytes(b"a paper already here")
    refused = await asyncio.to_thread(target.restore, backup)
    assert refused.returncode == 1
    assert "already holds stored files" in refused.stderr
    assert await target.tables() == set()
