"""A whole instance in one file, taken while it serves, and restored into an empty one.

The backup is a tar: the database (a copy made with SQLite's online backup API, or
``pg_dump --format=custom`` on PostgreSQL), the secret key, every stored file the database
refers to (``files/<sha256>``) and, last, ``manifest.json`` with the sha256 and size of
every other entry. The database is copied first, in one snapshot, and then the files that
snapshot refers to: files are content-addressed and never change, so the pair is
consistent; a file stored after the snapshot is simply left out.

The secret key is in the backup because card tokens, screen keys and tablet tokens are
stored as HMACs keyed with it: without the same key no printed card opens a page after a
restore. The backup file is therefore as sensitive as the server, and is written mode 600.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
import hashlib
import importlib.metadata
import io
import os
import shutil
import sqlite3
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import msgspec

from congress.settings import Settings
from documents.storage import CHUNK, FileStore

FORMAT = "congress-backup/1"
MANIFEST = "manifest.json"
KEY_FILE = "secret_key"
DATABASE = {"sqlite": "database.sqlite3", "postgresql": "database.pgdump"}
ENGINE_NAMES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
PG_BIN = Path("/usr/lib/postgresql/15/bin")

# Every column that names a stored file; a new one must be added here to be backed up.
FILE_REFERENCES = (("document_version", "sha256"), ("card_asset", "sha256"))


class BackupError(Exception):
    """A backup or restore that cannot go on; the message says why, for the operator."""


class Entry(msgspec.Struct, frozen=True):
    name: str
    sha256: str
    size: int


class Manifest(msgspec.Struct, frozen=True):
    format: str
    created_at: str
    engine: str
    app_version: str
    database: Entry
    secret_key: Entry
    files: list[Entry]
    # Files the database refers to but the store lacked (or held changed) at backup time.
    missing: list[str] = []


class BackupReport(msgspec.Struct, frozen=True):
    path: Path
    fingerprint: str
    engine: str
    files: int
    missing: list[str]


class RestoreReport(msgspec.Struct, frozen=True):
    fingerprint: str
    engine: str
    created_at: str
    app_version: str
    files: int
    secret_key_overridden: bool


def engine_of(settings: Settings) -> str:
    return "sqlite" if settings.is_sqlite else "postgresql"


def app_version() -> str:
    try:
        return importlib.metadata.version("congress")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def _sha256_of(stream: IO[bytes]) -> tuple[str, int]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        size += len(chunk)
    return digest.hexdigest(), size


def _file_entry(path: Path, name: str) -> Entry:
    with path.open("rb") as stream:
        sha256, size = _sha256_of(stream)
    return Entry(name=name, sha256=sha256, size=size)


# --- the database snapshot -----------------------------------------------------------------


def _sqlite_snapshot(source: Path, target: Path) -> set[str]:
    """The whole database copied in one step, under one read transaction: in WAL mode the
    writers go on meanwhile. Returns the stored files the copy refers to."""
    if not source.is_file():
        raise BackupError(f"There is no database at {source}.")
    with (
        contextlib.closing(sqlite3.connect(source, timeout=30)) as live,
        contextlib.closing(sqlite3.connect(target)) as copy,
    ):
        live.backup(copy)
        copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
        tables = {r[0] for r in copy.execute("SELECT name FROM sqlite_master")}
        return {
            row[0]
            for table, column in FILE_REFERENCES
            if table in tables
            for row in copy.execute(f'SELECT DISTINCT "{column}" FROM "{table}"')  # noqa: S608 - names from FILE_REFERENCES
        }


def _pg_tool(name: str) -> str:
    found = shutil.which(name) or (str(PG_BIN / name) if (PG_BIN / name).is_file() else None)
    if found is None:
        raise BackupError(f"{name} was found neither on PATH nor in {PG_BIN}.")
    return found


def _libpq(url: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the password as PGPASSWORD: a password on a
    command line is visible to every user of the machine."""
    parts = urlsplit(url)
    env = dict(os.environ)
    if parts.password is not None:
        env["PGPASSWORD"] = parts.password
        host = parts.hostname or ""
        netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
        parts = parts._replace(netloc=netloc)
    return urlunsplit(parts._replace(scheme="postgresql")), env


async def _run_tool(args: list[str], env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *args,
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )
    _, stderr = await process.communicate()
    if process.returncode != 0:
        tool = Path(args[0]).name
        raise BackupError(f"{tool} failed: {stderr.decode(errors='replace').strip()}")


async def _postgres_snapshot(url: str, target: Path) -> set[str]:
    """pg_dump in a snapshot exported by a transaction that reads the referenced files in
    the very same snapshot."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        transaction = connection.transaction(isolation="repeatable_read", readonly=True)
        await transaction.start()
        try:
            snapshot = await connection.fetchval("SELECT pg_export_snapshot()")
            shas: set[str] = set()
            for table, column in FILE_REFERENCES:
                if await connection.fetchval("SELECT to_regclass($1) IS NOT NULL", table):
                    rows = await connection.fetch(f'SELECT DISTINCT "{column}" FROM "{table}"')  # noqa: S608 - names from FILE_REFERENCES
                    shas.update(r[0] for r in rows)
            dsn, env = _libpq(url)
            await _run_tool(
                [
                    _pg_tool("pg_dump"),
                    "--format=custom",
                    f"--snapshot={snapshot}",
                    f"--file={target}",
                    f"--dbname={dsn}",
                ],
                env,
            )
        finally:
            await transaction.rollback()
    finally:
        await connection.close()
    return shas


# --- writing the backup --------------------------------------------------------------------


def _add(tar: tarfile.TarFile, name: str, stream: IO[bytes], size: int) -> None:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mode = 0o600
    info.mtime = int(datetime.datetime.now(datetime.UTC).timestamp())
    tar.addfile(info, stream)


def _stored_size(stream: IO[bytes]) -> int:
    size = stream.seek(0, os.SEEK_END)
    stream.seek(0)
    return size


def _write(
    target: Path,
    manifest_base: dict[str, Any],
    dump: Path,
    key: bytes,
    shas: set[str],
    store: FileStore,
) -> tuple[str, Manifest]:
    """The tar, written next to the target (mode 600) and renamed over it at the end."""
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.")
    os.fchmod(fd, 0o600)  # mkstemp makes it 600 already; say so where it matters
    try:
        with os.fdopen(fd, "wb") as raw, tarfile.open(fileobj=raw, mode="w") as tar:
            database = _file_entry(dump, manifest_base["database_name"])
            with dump.open("rb") as stream:
                _add(tar, database.name, stream, database.size)
            secret = Entry(KEY_FILE, hashlib.sha256(key).hexdigest(), len(key))
            _add(tar, KEY_FILE, io.BytesIO(key), len(key))
            files, missing = [], []
            for sha in sorted(shas):
                entry = _copy_stored(tar, store, sha)
                if entry is None:
                    missing.append(sha)
                else:
                    files.append(entry)
            manifest = Manifest(
                format=FORMAT,
                created_at=manifest_base["created_at"],
                engine=manifest_base["engine"],
                app_version=app_version(),
                database=database,
                secret_key=secret,
                files=files,
                missing=missing,
            )
            encoded = msgspec.json.format(msgspec.json.encode(manifest), indent=1)
            _add(tar, MANIFEST, io.BytesIO(encoded), len(encoded))
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise
    return hashlib.sha256(encoded).hexdigest(), manifest


def _copy_stored(tar: tarfile.TarFile, store: FileStore, sha: str) -> Entry | None:
    """The stored file, if it is there and still has its hash (checked before copying, so
    that a changed file never enters the backup)."""
    try:
        if not store.exists(sha):
            return None
        with store.open(sha) as stream:
            found, size = _sha256_of(stream)
            if found != sha:
                return None
            stream.seek(0)
            _add(tar, f"files/{sha}", stream, size)
    except ValueError:  # not a sha256 at all: nothing the store can hold
        return None
    return Entry(name=f"files/{sha}", sha256=sha, size=size)


async def create_backup(target: Path, settings: Settings, store: FileStore) -> BackupReport:
    """Snapshot the database, then copy the files it refers to, into one tar at `target`."""
    engine = engine_of(settings)
    created_at = datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    with tempfile.TemporaryDirectory(prefix="congress-backup-") as work:
        dump = Path(work) / DATABASE[engine]
        if engine == "sqlite":
            shas = await asyncio.to_thread(_sqlite_snapshot, settings.sqlite_path, dump)
        else:
            shas = await _postgres_snapshot(settings.database_url, dump)
        base = {"created_at": created_at, "engine": engine, "database_name": dump.name}
        fingerprint, manifest = await asyncio.to_thread(
            _write, target, base, dump, settings.secret_key.encode(), shas, store
        )
    return BackupReport(
        path=target,
        fingerprint=fingerprint,
        engine=engine,
        files=len(manifest.files),
        missing=manifest.missing,
    )


# --- reading and checking a backup ---------------------------------------------------------


@contextlib.contextmanager
def _open_backup(source: Path) -> Iterator[tuple[tarfile.TarFile, Manifest, str]]:
    try:
        with tarfile.open(source, mode="r:") as tar:
            member = tar.getmember(MANIFEST)
            stream = tar.extractfile(member)
            if stream is None:
                raise KeyError(MANIFEST)
            encoded = stream.read()
            manifest = msgspec.json.decode(encoded, type=Manifest)
            if manifest.format != FORMAT:
                raise BackupError(
                    f"{source} is a backup in the format {manifest.format!r}; "
                    f"this version reads {FORMAT!r}."
                )
            yield tar, manifest, hashlib.sha256(encoded).hexdigest()
    except (tarfile.TarError, KeyError, msgspec.DecodeError, msgspec.ValidationError) as error:
        raise BackupError(
            f"{source} is not a readable congress backup, or it is damaged ({error})."
        ) from None


def _check_integrity(tar: tarfile.TarFile, manifest: Manifest) -> None:
    """Every entry present with its size and sha256, nothing else: else the backup is
    refused before anything is written."""
    expected = {e.name: e for e in (manifest.database, manifest.secret_key, *manifest.files)}
    problems: list[str] = []
    seen: set[str] = set()
    for member in tar:
        if member.name == MANIFEST:
            continue
        entry = expected.get(member.name)
        stream = tar.extractfile(member) if member.isfile() else None
        if entry is None or stream is None:
            problems.append(f"not in the manifest: {member.name}")
            continue
        seen.add(member.name)
        if _sha256_of(stream) != (entry.sha256, entry.size):
            problems.append(f"changed: {member.name}")
    problems += [f"missing: {name}" for name in sorted(expected.keys() - seen)]
    if problems:
        raise BackupError("The backup is damaged; nothing was restored.\n" + "\n".join(problems))


def _extract(tar: tarfile.TarFile, entry: Entry, target: Path) -> None:
    stream = tar.extractfile(entry.name)
    assert stream is not None
    with target.open("wb") as out:
        shutil.copyfileobj(stream, out, CHUNK)


# --- the target ----------------------------------------------------------------------------


def _sqlite_congresses(path: Path) -> int:
    if not path.is_file():
        return 0
    with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
        tables = {r[0] for r in connection.execute("SELECT name FROM sqlite_master")}
        if "congress" not in tables:
            return 0
        return int(connection.execute("SELECT count(*) FROM congress").fetchone()[0])


async def _postgres_congresses(url: str) -> int:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        if not await connection.fetchval("SELECT to_regclass('public.congress') IS NOT NULL"):
            return 0
        return int(await connection.fetchval("SELECT count(*) FROM congress"))
    finally:
        await connection.close()


def _sqlite_restore(dump: Path, target: Path) -> None:
    """Page by page into the target's own file, through SQLite: its WAL and lock stay
    right, unlike a file copied over it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        contextlib.closing(sqlite3.connect(dump)) as source,
        contextlib.closing(sqlite3.connect(target, timeout=30)) as restored,
    ):
        source.backup(restored)
        restored.execute("PRAGMA journal_mode=WAL")


async def _postgres_restore(dump: Path, url: str) -> None:
    """The target holds no congress: its tables (a migrated schema, accounts) are dropped,
    then pg_restore recreates everything in one transaction."""
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        async with connection.transaction():
            tables = await connection.fetch(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            )
            for row in tables:
                name = row["tablename"].replace('"', '""')
                await connection.execute(f'DROP TABLE IF EXISTS "{name}" CASCADE')
    finally:
        await connection.close()
    dsn, env = _libpq(url)
    await _run_tool(
        [
            _pg_tool("pg_restore"),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={dsn}",
            str(dump),
        ],
        env,
    )


def _write_secret_key(var_dir: Path, key: bytes) -> None:
    var_dir.mkdir(parents=True, exist_ok=True)
    fd, partial = tempfile.mkstemp(dir=var_dir, prefix=".secret_key.")
    with os.fdopen(fd, "wb") as out:
        out.write(key)
    os.replace(partial, var_dir / KEY_FILE)


def _store_files(tar: tarfile.TarFile, manifest: Manifest, store: FileStore) -> None:
    for entry in manifest.files:
        stream = tar.extractfile(entry.name)
        assert stream is not None
        if store.put(stream, entry.size).sha256 != entry.sha256:
            raise BackupError(f"{entry.name} changed while it was restored.")


async def restore_backup(source: Path, settings: Settings, store: FileStore) -> RestoreReport:
    """Refuses a damaged backup, one of the other engine and a target that holds anything;
    else restores the database, the files and the secret key. The caller then migrates and
    verifies the store."""
    engine = engine_of(settings)
    with _open_backup(source) as (tar, manifest, fingerprint):
        if manifest.engine != engine:
            raise BackupError(
                f"This backup is of a {ENGINE_NAMES.get(manifest.engine, manifest.engine)} "
                f"database and this instance uses {ENGINE_NAMES[engine]}: a backup restores "
                "only into the same kind of database."
            )
        if engine == "sqlite":
            congresses = _sqlite_congresses(settings.sqlite_path)
        else:
            congresses = await _postgres_congresses(settings.database_url)
        if congresses:
            raise BackupError(
                f"The target database already holds {congresses} congress(es): a backup is "
                "restored only into an empty instance. Nothing was restored."
            )
        if next(iter(store.all()), None) is not None:
            raise BackupError(
                f"{settings.var_dir / 'files'} already holds stored files: a backup is "
                "restored only into an empty instance. Nothing was restored."
            )
        await asyncio.to_thread(_check_integrity, tar, manifest)
        with tempfile.TemporaryDirectory(prefix="congress-restore-") as work:
            dump = Path(work) / manifest.database.name
            await asyncio.to_thread(_extract, tar, manifest.database, dump)
            if engine == "sqlite":
                await asyncio.to_thread(_sqlite_restore, dump, settings.sqlite_path)
            else:
                await _postgres_restore(dump, settings.database_url)
        await asyncio.to_thread(_store_files, tar, manifest, store)
        key_stream = tar.extractfile(KEY_FILE)
        assert key_stream is not None
        key = key_stream.read()
    _write_secret_key(settings.var_dir, key)
    given = os.environ.get("CONGRESS_SECRET_KEY", "").strip()
    return RestoreReport(
        fingerprint=fingerprint,
        engine=engine,
        created_at=manifest.created_at,
        app_version=manifest.app_version,
        files=len(manifest.files),
        secret_key_overridden=bool(given) and given.encode() != key,
    )
