"""Bad days: the disk fills up, or the database goes away, in the middle of the congress.

A write that cannot be made answers 503 ("try again") with a machine-readable code and a
message in the asker's language, leaves nothing half-written, and goes through when it is
sent again once there is room or the database is back, without a restart; reads are
answered meanwhile.

How each failure is made, for real where it can be:

- SQLite's disk: ``PRAGMA max_page_count`` caps the database at its present size on every
  connection of the app, and a scratch table takes the free pages. SQLite then fails exactly
  as on a full disk (SQLITE_FULL, "database or disk is full"), at the write that needs one
  page more; raising the cap is the disk freed. Runs for everyone.
- The disk of the stored files (var/files) or of the uploads' spool (var/tmp): a 256 KB
  tmpfs where this process may mount one (root, as in CI); elsewhere the writes there fail
  with ENOSPC once 256 KB are written.
- PostgreSQL: a TCP proxy in this process between a real app process and the real server,
  cut (connections reset, new ones refused), silenced (nothing answers) and restored.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import hashlib
import io
import os
import secrets
import sqlite3
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import markupsafe
import pytest
import websockets

from checkin import credentials, devices
from checkin.tables import Attendance, CheckinScan
from congress import database
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegationIn
from congress.eventlog import SYSTEM
from congress.tables import Congress, Delegate, Event
from congress.voting import services as voting_services
from congress.voting.tables import PollBallot, PollParticipation
from documents.portal import DELEGATE_COOKIE
from documents.storage import LocalFileStore, file_store, use_file_store
from documents.tables import Document, DocumentVersion
from tests.conftest import ENGINE, LiveServer, Session, free_port, vi
from tests.congress.voting_fixtures import make_assembly

DEVICE_HEADERS = {"x-congress-device": "1"}
STORAGE_FULL = database.StorageFull().message
UNAVAILABLE = database.DatabaseUnavailable().message


def refused_for(response: Any, code: str, msgid: str) -> None:
    """A 503 that says what happened and when to come back, and nothing of our insides."""
    assert response.status_code == 503, response.text
    assert response.json() == {"code": code, "message": vi(msgid)}
    assert int(response.headers["retry-after"]) > 0
    assert "Traceback" not in response.text


async def last_seq(congress_id: int) -> int:
    row = await Congress.select(Congress.last_event_seq).where(Congress.id == congress_id).first()
    assert row is not None
    return int(row["last_event_seq"])


async def seqs(congress_id: int) -> list[int]:
    rows = await Event.select(Event.seq).where(Event.congress == congress_id).order_by(Event.seq)
    return [r["seq"] for r in rows]


# --- SQLite: the database's disk fills up -----------------------------------------------------


def _cap(connection: sqlite3.Connection, pages: int) -> None:
    connection.execute(f"PRAGMA max_page_count = {int(pages)}")


class FullDisk:
    """The disk under the SQLite database, made full and freed again.

    The app's kept connections (those open now and those it opens later) may not grow the
    file past its size at `fill`; a scratch table takes every free page and the room in its
    own pages, so the app's next write that needs a new page fails with SQLITE_FULL."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        db = database.engine()
        assert isinstance(db, database.PooledSQLiteEngine)
        self.db = db
        self.cap: int | None = None
        self.scratch = sqlite3.connect(db.path, isolation_level=None, timeout=30)
        self.unlimited = int(self.scratch.execute("PRAGMA max_page_count").fetchone()[0])
        connect_kept = database.PooledSQLiteEngine._connect_kept

        async def capped(engine: database.PooledSQLiteEngine) -> Any:
            connection = await connect_kept(engine)
            if self.cap is not None:
                _cap(connection.sqlite, self.cap)
            return connection

        monkeypatch.setattr(database.PooledSQLiteEngine, "_connect_kept", capped)

    def fill(self) -> None:
        self.scratch.execute("CREATE TABLE IF NOT EXISTS bad_days_scratch (b BLOB)")
        self.cap = int(self.scratch.execute("PRAGMA page_count").fetchone()[0])
        self._cap_kept(self.cap)
        _cap(self.scratch, self.cap)
        size = 1 << 16
        while size >= 8:
            try:
                self.scratch.execute("INSERT INTO bad_days_scratch VALUES (randomblob(?))", (size,))
            except sqlite3.OperationalError as error:
                if error.sqlite_errorcode != sqlite3.SQLITE_FULL:
                    raise
                size //= 2

    def free(self) -> None:
        self.cap = None
        self._cap_kept(self.unlimited)
        _cap(self.scratch, self.unlimited)
        self.scratch.execute("DROP TABLE IF EXISTS bad_days_scratch")

    def _cap_kept(self, pages: int) -> None:
        for pool in list(self.db._pools.values()):
            for connection in pool.idle:
                _cap(connection.sqlite, pages)

    def close(self) -> None:
        self.free()
        self.scratch.close()


@pytest.fixture
def full_disk(monkeypatch: pytest.MonkeyPatch) -> Iterator[FullDisk]:
    disk = FullDisk(monkeypatch)
    try:
        yield disk
    finally:
        disk.close()


async def paired_tablet(client: Any, congress_id: int) -> Any:
    _, code = await devices.register_device(congress_id, "Cửa chính 1", SYSTEM)
    paired = await client.get(f"/P/{code}", follow_redirects=False)
    assert paired.status_code == 303
    return client


async def scan(tablet: Any, body: dict[str, Any]) -> Any:
    return await tablet.post("/api/checkin/device/scans", json=body, headers=DEVICE_HEADERS)


if ENGINE == "sqlite":

    async def test_a_scan_on_a_full_disk_is_refused_undone_and_taken_once_there_is_room(
        client: Any, admin: Session, make_congress: Any, full_disk: FullDisk
    ) -> None:
        congress_id = await make_congress()
        hall = await make_assembly(congress_id, officials=40, invited=0, present=0)
        sitting = hall["sitting"]
        tablet = await paired_tablet(client, congress_id)
        full_disk.fill()

        # The hall keeps scanning until the disk has no page left for the next scan.
        greens = 0
        for delegate in hall["officials"]:
            body = {"nonce": secrets.token_hex(16), "sitting_id": sitting}
            body["code"] = hall["tokens"][delegate]
            seq_before = await last_seq(congress_id)
            response = await scan(tablet, body)
            if response.status_code != 200:
                break
            assert response.json()["result"] == "green"
            greens += 1
        else:
            pytest.fail("forty scans and the disk never filled")

        refused_for(response, "storage_full", STORAGE_FULL)
        # Nothing of the refused scan: no attendance, no recorded answer, no event, no gap.
        assert not await Attendance.exists().where(
            (Attendance.sitting == sitting) & (Attendance.delegate == delegate)
        )
        assert not await CheckinScan.exists().where(CheckinScan.nonce == body["nonce"])
        assert await last_seq(congress_id) == seq_before

        # Reads go on: the tablet's counter, the console, the public page, the health check.
        state = await tablet.get(
            f"/api/checkin/device/state?sitting={sitting}", headers=DEVICE_HEADERS
        )
        assert state.status_code == 200
        assert state.json()["present"] == greens
        for address in (
            f"/console/congresses/{congress_id}/attendance",
            f"/console/congresses/{congress_id}/delegates",
        ):
            assert (await admin.get(address)).status_code == 200, address
        assert (await admin.get(f"/live/{congress_id}")).status_code == 200
        health = await admin.get("/health")
        assert (health.status_code, health.json()) == (200, {"database": "ok"})

        # Room again: the tablet's queue sends the same scan, and it goes through.
        full_disk.free()
        again = await scan(tablet, body)
        assert again.status_code == 200, again.text
        assert again.json()["result"] == "green"
        assert again.json()["present"] == greens + 1
        assert await CheckinScan.exists().where(CheckinScan.nonce == body["nonce"])
        assert await last_seq(congress_id) == seq_before + 1
        assert await seqs(congress_id) == list(range(1, seq_before + 2))

    async def test_a_ballot_on_a_full_disk_leaves_the_delegate_free_to_vote_again(
        client: Any, admin: Session, make_congress: Any, full_disk: FullDisk
    ) -> None:
        congress_id = await make_congress()
        hall = await make_assembly(congress_id, officials=60, invited=0)
        created = await admin.post(
            f"/api/congresses/{congress_id}/polls",
            json={"sitting_id": hall["sitting"], "kind": "motion", "title": "Thông qua Nghị quyết"},
        )
        assert created.status_code == 201, created.text
        poll_id = int(created.json()["id"])
        opened = await admin.post(f"/api/congresses/{congress_id}/polls/{poll_id}/open")
        assert opened.status_code == 200, opened.text
        # Every phone opened its card before the disk filled (opening one writes a session).
        sessions = {}
        for delegate in hall["officials"]:
            card = await credentials.look_up(hall["tokens"][delegate])
            sessions[delegate] = await credentials.open_delegate_session(card)
        client.cookies.set(DELEGATE_COOKIE, sessions[hall["officials"][0]])
        assert (await client.get("/delegate")).status_code == 200
        phone = {"x-csrf-token": str(client.cookies["congress_csrf"]), "accept": "application/json"}
        full_disk.fill()

        try:
            receipts = 0
            for delegate in hall["officials"]:
                client.cookies.set(DELEGATE_COOKIE, sessions[delegate])
                ballot = {"choices": ["agree"], "retry_key": f"k-{delegate}"}
                path = f"/delegate/polls/{poll_id}/ballot"
                response = await client.post(path, json=ballot, headers=phone)
                if response.status_code != 200:
                    break
                receipts += 1
            else:
                pytest.fail("sixty ballots and the disk never filled")

            refused_for(response, "storage_full", STORAGE_FULL)
            # Neither half of the ballot: no participation ("has voted"), no ballot.
            assert await voting_services.has_voted(poll_id, delegate) is None
            assert await PollBallot.count().where(PollBallot.poll == poll_id) == receipts
            assert (
                await PollParticipation.count().where(PollParticipation.poll == poll_id) == receipts
            )
            # The phone still reads its polls, and may still vote.
            polls = await client.get("/delegate/polls", headers={"accept": "application/json"})
            assert polls.status_code == 200
            [poll] = [p for p in polls.json() if p["id"] == poll_id]
            assert poll["may_vote"] is True

            full_disk.free()
            again = await client.post(path, json=ballot, headers=phone)
            assert again.status_code == 200, again.text
            assert again.json()["receipt"]
            assert await voting_services.has_voted(poll_id, delegate) == "phone"
            assert await PollBallot.count().where(PollBallot.poll == poll_id) == receipts + 1
        finally:
            await voting_services.close_poll(congress_id, poll_id, SYSTEM)

    async def test_a_document_upload_on_a_full_disk_leaves_no_row_and_no_half_file(
        as_role: Any, make_congress: Any, full_disk: FullDisk
    ) -> None:
        congress_id = await make_congress()
        secretariat = await as_role("secretariat")
        content = docx_bytes(300)
        spooled_before = _spooled()
        full_disk.fill()
        response = await upload_document(secretariat, congress_id, content)
        refused_for(response, "storage_full", STORAGE_FULL)
        assert await Document.count().where(Document.congress == congress_id) == 0
        assert await DocumentVersion.count().where(DocumentVersion.congress == congress_id) == 0
        assert _spooled() == spooled_before
        assert not _half_files(file_store())
        listed = await secretariat.get(f"/api/congresses/{congress_id}/documents")
        assert (listed.status_code, listed.json()) == (200, [])

        full_disk.free()
        again = await upload_document(secretariat, congress_id, content)
        assert again.status_code == 201, again.text
        sha256 = hashlib.sha256(content).hexdigest()
        assert await DocumentVersion.exists().where(DocumentVersion.sha256 == sha256)
        with file_store().open(sha256) as stored:
            assert stored.read() == content

    async def test_a_delegate_import_on_a_full_disk_writes_no_delegate(
        admin: Session, make_congress: Any, full_disk: FullDisk
    ) -> None:
        congress_id = await make_congress()
        await delegate_services.add_delegation(
            congress_id, DelegationIn(code="GD", name="Công đoàn ngành Giáo dục"), SYSTEM
        )
        rows = [
            f"Nguyễn Văn Thành {n},Trường THCS số {n},Công đoàn ngành Giáo dục,Giáo viên,"
            f"Chính thức,Nam,{1960 + n % 30},{n:04d}"
            for n in range(1, 151)
        ]
        sheet = "Họ và tên,Đơn vị,Đoàn đại biểu,Chức vụ,Loại đại biểu,Giới tính,Năm sinh,Số thẻ\n"
        staged = await admin.post(
            f"/api/congresses/{congress_id}/delegate-imports",
            files={"data": ("ds.csv", (sheet + "\n".join(rows)).encode(), "text/csv")},
        )
        assert staged.status_code == 201, staged.text
        token = staged.json()["token"]
        seq_before = await last_seq(congress_id)
        full_disk.fill()

        apply = f"/api/congresses/{congress_id}/delegate-imports/{token}/apply"
        response = await admin.post(apply, json={"create_delegations": False})
        refused_for(response, "storage_full", STORAGE_FULL)
        in_english = await admin.post(apply + "?lang=en", json={"create_delegations": False})
        assert in_english.json()["message"] == STORAGE_FULL
        assert await Delegate.count().where(Delegate.congress == congress_id) == 0
        assert await last_seq(congress_id) == seq_before
        # The organizer's list of delegates still opens.
        page = await admin.get(f"/console/congresses/{congress_id}/delegates")
        assert page.status_code == 200

        full_disk.free()
        again = await admin.post(apply, json={"create_delegations": False})
        assert again.status_code == 201, again.text
        assert again.json()["created"] == 150
        assert await Delegate.count().where(Delegate.congress == congress_id) == 150

    async def test_a_console_form_on_a_full_disk_keeps_the_page_and_says_why(
        admin: Session, make_congress: Any, full_disk: FullDisk
    ) -> None:
        congress_id = await make_congress()
        full_disk.fill()
        for n in range(1, 101):
            response = await admin.submit(
                f"/console/congresses/{congress_id}/sittings",
                {"title": f"Phiên họp thứ {n}", "kind": "plenary"},
                follow_redirects=False,
            )
            if not response.is_redirect:  # saved: back to the congress's page
                break
        else:
            pytest.fail("a hundred sittings and the disk never filled")
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert str(markupsafe.escape(vi(STORAGE_FULL))) in response.text
        assert "Traceback" not in response.text
        full_disk.free()
        again = await admin.submit(
            f"/console/congresses/{congress_id}/sittings",
            {"title": f"Phiên họp thứ {n}", "kind": "plenary"},
            follow_redirects=False,
        )
        assert again.is_redirect

    async def test_after_a_full_disk_a_transaction_goes_no_further(full_disk: FullDisk) -> None:
        """SQLite may roll the whole transaction back when the disk is full (a one-row
        insert does). A caller that goes on regardless must not write the rest of its change
        on its own, half of it."""
        full_disk.scratch.execute("CREATE TABLE IF NOT EXISTS bad_days_probe (name TEXT)")
        probe = "INSERT INTO bad_days_probe (name) VALUES ({})"
        try:
            async with database.database_pool(1):  # this loop's own kept connection
                full_disk.fill()
                with pytest.raises(database.TransactionLost):
                    await _go_on_after_a_full_disk(probe)
                full_disk.free()
                assert await database.query("SELECT name FROM bad_days_probe") == []
                async with database.write_transaction():  # the connection serves again
                    await database.query(probe, "C")
            assert await database.query("SELECT name FROM bad_days_probe") == [{"name": "C"}]
        finally:
            full_disk.scratch.execute("DROP TABLE IF EXISTS bad_days_probe")

    async def _go_on_after_a_full_disk(probe: str) -> None:
        async with database.write_transaction():
            await database.query(probe, "A")
            with contextlib.suppress(database.StorageFull):
                await database.query(probe, "x" * 200_000)
            await database.query(probe, "B")


# --- the stored files' disk fills up ----------------------------------------------------------


def docx_bytes(paragraphs: int) -> bytes:
    import docx

    document = docx.Document()
    for n in range(paragraphs):
        document.add_paragraph(
            f"Đoạn {n}: Báo cáo chính trị trình Đại hội Công đoàn tỉnh lần thứ XIX, nhiệm kỳ "
            "2023-2028, về phong trào công nhân, viên chức, lao động và hoạt động Công đoàn."
        )
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


def noise_png(side: int) -> bytes:
    """A picture that does not compress: about 3 bytes a pixel."""
    from PIL import Image

    picture = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


async def upload_document(session: Session, congress_id: int, content: bytes) -> Any:
    return await session.post(
        f"/api/congresses/{congress_id}/documents",
        files={"file": ("bao-cao.docx", content, "application/octet-stream")},
        data={"title": "Báo cáo chính trị", "category": "political_report", "access": "delegates"},
    )


def _spooled() -> set[str]:
    """What the uploads left in var/tmp."""
    spool = Path(os.environ["CONGRESS_VAR_DIR"]) / "tmp"
    return {p.name for p in spool.iterdir()} if spool.exists() else set()


def _half_files(store: Any) -> list[Path]:
    """Temporary files of the store, and stored files whose content is not their name."""
    root: Path = store.root
    found = [p for p in root.rglob("*") if p.is_file() and p.name.startswith(".")]
    for path in root.glob("??/??/*"):
        if hashlib.sha256(path.read_bytes()).hexdigest() != path.name:
            found.append(path)
    return found


SMALL_DISK_BYTES = 256 * 1024


class SmallDisk:
    """A directory on a disk of 256 KB: a tmpfs when this process may mount one (root, as in
    CI); otherwise the temporary files made there fail with ENOSPC past 256 KB, as on that
    disk (the store and the spool write through such files)."""

    def __init__(
        self, root: Path, monkeypatch: pytest.MonkeyPatch, size: int = SMALL_DISK_BYTES
    ) -> None:
        self.root = root
        self.monkeypatch = monkeypatch
        root.mkdir(parents=True, exist_ok=True)
        self.mounted = self._mount(f"size={size}")
        if not self.mounted:
            self._fail_writes_past(size)

    def _mount(self, options: str) -> bool:
        if os.geteuid() != 0:
            return False
        command = ["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(self.root)]
        done = subprocess.run(command, capture_output=True, check=False)  # noqa: S603
        return done.returncode == 0

    def _fail_writes_past(self, room: int) -> None:
        make_temporary = tempfile.NamedTemporaryFile
        root = str(self.root)

        def temporary(*args: Any, **kwargs: Any) -> Any:
            file = make_temporary(*args, **kwargs)
            if str(kwargs.get("dir", "")) != root:
                return file
            write, written = file.write, 0

            def write_until_full(data: bytes) -> int:
                nonlocal written
                fits = max(0, min(len(data), room - written))
                written += write(data[:fits])
                if fits < len(data):
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                return fits

            file.write = write_until_full
            return file

        self.monkeypatch.setattr(tempfile, "NamedTemporaryFile", temporary)

    def free(self) -> None:
        if self.mounted:
            assert self._mount("remount,size=16m")
        else:
            self.monkeypatch.undo()

    def remove(self) -> None:
        if self.mounted:
            subprocess.run(["umount", str(self.root)], check=True)  # noqa: S603, S607


@pytest.fixture
def small_disk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SmallDisk]:
    disk = SmallDisk(tmp_path / "files", monkeypatch)
    previous = file_store()
    small = LocalFileStore(disk.root)
    use_file_store(small)
    try:
        yield disk
    finally:
        use_file_store(previous)
        for sha256 in small.all():  # the rows made meanwhile name them: into the test's store
            with small.open(sha256) as stored:
                previous.put(stored, 1 << 30)
        disk.remove()


@pytest.fixture
def small_spool(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmallDisk]:
    """var/tmp, where an upload is spooled and read before it is stored, on a small disk."""
    disk = SmallDisk(Path(os.environ["CONGRESS_VAR_DIR"]) / "tmp", monkeypatch)
    try:
        yield disk
    finally:
        disk.remove()


@pytest.mark.parametrize("full", ["small_spool", "small_disk"], ids=["spool", "store"])
async def test_an_upload_that_fills_the_disk_leaves_no_half_file_and_no_row(
    as_role: Any, make_congress: Any, request: pytest.FixtureRequest, full: str
) -> None:
    disk: SmallDisk = request.getfixturevalue(full)
    congress_id = await make_congress()
    secretariat = await as_role("secretariat")
    picture = noise_png(400)  # about 480 KB: it cannot fit
    assert len(picture) > 1.5 * SMALL_DISK_BYTES
    spooled_before = _spooled()
    response = await secretariat.post(
        f"/api/congresses/{congress_id}/documents",
        files={"file": ("so-do.png", picture, "application/octet-stream")},
        data={"title": "Sơ đồ hội trường", "category": "other", "access": "public"},
    )
    refused_for(response, "storage_full", STORAGE_FULL)
    assert await Document.count().where(Document.congress == congress_id) == 0
    assert [p for p in disk.root.rglob("*") if p.is_file()] == []
    assert _spooled() == spooled_before
    assert not _half_files(file_store())
    listed = await secretariat.get(f"/api/congresses/{congress_id}/documents")
    assert (listed.status_code, listed.json()) == (200, [])

    disk.free()
    again = await secretariat.post(
        f"/api/congresses/{congress_id}/documents",
        files={"file": ("so-do.png", picture, "application/octet-stream")},
        data={"title": "Sơ đồ hội trường", "category": "other", "access": "public"},
    )
    assert again.status_code == 201, again.text
    assert not _half_files(file_store())
    with file_store().open(hashlib.sha256(picture).hexdigest()) as stored:
        assert stored.read() == picture


def test_the_store_keeps_nothing_of_a_file_the_disk_had_no_room_for(
    small_disk: SmallDisk,
) -> None:
    store = file_store()
    kept = store.put(io.BytesIO(b"%PDF-1.4 a small paper"), 1 << 20)
    with pytest.raises(database.StorageFull):
        store.put(io.BytesIO(os.urandom(2 * SMALL_DISK_BYTES)), 1 << 30)
    assert list(store.all()) == [kept.sha256]
    assert not _half_files(store)


# --- the database cannot be reached -------------------------------------------------------------


async def test_a_database_that_refuses_connections_is_said_to_be_unavailable() -> None:
    nobody = f"postgresql://congress@127.0.0.1:{free_port()}/congress"
    started = time.monotonic()
    with pytest.raises(database.DatabaseUnavailable) as caught:
        await database._connect_postgres(nobody, timeout=database.POSTGRES_CONNECT_TIMEOUT_S)
    assert time.monotonic() - started < database.POSTGRES_CONNECT_TIMEOUT_S
    assert isinstance(caught.value.__cause__, OSError)
    assert caught.value.status_code == 503


class Proxy:
    """A TCP proxy to the PostgreSQL server that a test can cut, silence and restore."""

    def __init__(self, host: str, port: int) -> None:
        self.target = (host, port)
        self.port = free_port()
        self.server: asyncio.Server | None = None
        self.links: set[asyncio.StreamWriter] = set()
        self.silent = False

    async def open(self, silent: bool = False) -> None:
        """Listening again; `silent`: connections are accepted and nothing answers them, as
        behind a firewall that drops packets."""
        self.silent = silent
        self.server = await asyncio.start_server(self._link, "127.0.0.1", self.port)

    async def cut(self) -> None:
        """The server gone: connections reset, new ones refused."""
        if self.server is not None:
            self.server.close()
            self.server = None
        for writer in list(self.links):
            writer.transport.abort()
        self.links.clear()
        await asyncio.sleep(0.05)  # the resets reach the other side

    async def restore(self) -> None:
        await self.cut()
        await self.open()

    async def _link(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.links.add(writer)
        if self.silent:
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.target)
        except OSError:
            writer.transport.abort()
            return
        self.links.add(up_writer)
        await asyncio.gather(
            self._pipe(reader, up_writer), self._pipe(up_reader, writer), return_exceptions=True
        )

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        finally:
            writer.transport.abort()
            self.links.discard(writer)


if ENGINE == "postgresql":

    def through(proxy: Proxy) -> str:
        parts = urlsplit(os.environ["CONGRESS_DATABASE_URL"])
        user = parts.netloc.rsplit("@", 1)[0] + "@" if "@" in parts.netloc else ""
        return urlunsplit(parts._replace(netloc=f"{user}127.0.0.1:{proxy.port}"))

    @pytest.fixture
    async def proxy() -> AsyncIterator[Proxy]:
        parts = urlsplit(os.environ["CONGRESS_DATABASE_URL"])
        running = Proxy(parts.hostname or "127.0.0.1", parts.port or 5432)
        await running.open()
        yield running
        await running.cut()

    @pytest.fixture
    async def app_behind(proxy: Proxy, tmp_path: Path) -> AsyncIterator[LiveServer]:
        server = LiveServer(
            env={"CONGRESS_DATABASE_URL": through(proxy)}, log=tmp_path / "server.log"
        )
        await server.start()
        yield server
        # Stopping waits for the app to close its connections, which pass through the proxy
        # in this loop: the loop goes on meanwhile.
        await asyncio.to_thread(server.stop)

    async def timed(call: Callable[[], Any], within: float) -> Any:
        started = time.monotonic()
        response = await call()
        assert time.monotonic() - started < within, "an answer took too long"
        return response

    async def test_postgresql_going_away_is_503_and_coming_back_needs_no_restart(
        proxy: Proxy,
        app_behind: LiveServer,
        role_tokens: dict[str, str],
        make_congress: Any,
    ) -> None:
        import httpx

        from congress.auth import SESSION_COOKIE
        from congress.tables import Sitting

        congress_id = await make_congress()
        sittings = f"/api/congresses/{congress_id}/sittings"
        cookies = {SESSION_COOKIE: role_tokens["admin"]}
        async with httpx.AsyncClient(base_url=app_behind.url, cookies=cookies) as http:
            await http.get("/login")
            csrf = {"x-csrf-token": http.cookies["congress_csrf"]}

            async def add_sitting(title: str) -> Any:
                body = {"title": title, "kind": "plenary"}
                return await http.post(sittings, json=body, headers=csrf)

            assert (await add_sitting("Phiên trù bị")).status_code == 201
            health = await http.get("/health")
            assert (health.status_code, health.json()) == (200, {"database": "ok"})

            await proxy.cut()
            refused = await timed(lambda: add_sitting("Phiên thứ nhất"), 5)
            refused_for(refused, "database_unavailable", UNAVAILABLE)
            assert await Sitting.count().where(Sitting.congress == congress_id) == 1
            health = await timed(lambda: http.get("/health"), 5)
            assert (health.status_code, health.json()) == (503, {"database": "unavailable"})
            console = await timed(lambda: http.get("/console"), 5)
            assert console.status_code == 503
            assert str(markupsafe.escape(vi(UNAVAILABLE))) in console.text
            # A console's live feed opened meanwhile: "try again later", and it will.
            feed = app_behind.url.replace("http", "ws", 1) + f"{sittings[:-9]}/events/live"
            headers = {"Cookie": f"{SESSION_COOKIE}={role_tokens['admin']}"}
            headers["Origin"] = app_behind.url
            with pytest.raises(websockets.ConnectionClosed) as closed:
                async with (
                    asyncio.timeout(10),
                    websockets.connect(feed, additional_headers=headers) as socket,
                ):
                    await socket.recv()
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 1013
            # What needs no database is served as ever.
            assert (await http.get("/static/console.css")).status_code == 200
            async with httpx.AsyncClient(base_url=app_behind.url) as anonymous:
                assert (await anonymous.get("/login")).status_code == 200

            await proxy.restore()
            assert (await add_sitting("Phiên thứ nhất")).status_code == 201
            assert (await http.get("/health")).json() == {"database": "ok"}

            # A network that drops packets: the health check answers within its bound.
            await proxy.cut()
            await proxy.open(silent=True)
            health = await timed(lambda: http.get("/health"), database.HEALTH_TIMEOUT_S + 2)
            assert health.status_code == 503
            await proxy.restore()
            assert (await add_sitting("Phiên bế mạc")).status_code == 201

        assert app_behind.process.poll() is None, "the server is still running"
        assert await Sitting.count().where(Sitting.congress == congress_id) == 3
        log = (app_behind.log or Path()).read_text(errors="replace")
        assert "database_unavailable on POST" in log
        assert "Traceback" not in log

    async def _lost_mid_way(engine: Any, proxy: Proxy, insert: Any) -> BaseException:
        """What a transaction raises when its connection is cut between two statements."""
        from piccolo.querystring import QueryString

        try:
            async with engine.transaction():
                await engine.run_querystring(insert)
                await proxy.cut()
                await engine.run_querystring(QueryString("SELECT 1"))
        except Exception as error:
            return error
        pytest.fail("the transaction went on without its connection")

    async def test_a_transaction_cut_mid_way_leaves_nothing_and_gives_its_connection_back(
        proxy: Proxy,
    ) -> None:
        import asyncpg
        from piccolo.querystring import QueryString

        direct = await asyncpg.connect(os.environ["CONGRESS_DATABASE_URL"])
        try:
            await direct.execute("CREATE TABLE IF NOT EXISTS bad_days_probe (name text)")
            # Made in a thread: Piccolo asks the server's version there, through the proxy,
            # which runs in this loop.
            engine = await asyncio.to_thread(
                database.ReconnectingPostgresEngine,
                config={"dsn": through(proxy), "timeout": 1, "command_timeout": 5},
                extensions=(),
                log_queries=False,
            )
            await engine.start_connection_pool(min_size=0, max_size=2)
            try:
                name = secrets.token_hex(8)
                insert = QueryString("INSERT INTO bad_days_probe (name) VALUES ({})", name)
                failure = await _lost_mid_way(engine, proxy, insert)
                assert isinstance(database.outage(failure), database.DatabaseUnavailable)
                await proxy.restore()
                # More transactions than the pool has connections: each was given back (a
                # connection kept would leave the last ones waiting for it for ever).
                async with asyncio.timeout(10):
                    for _ in range(5):
                        async with engine.transaction():
                            await engine.run_querystring(QueryString("SELECT 1"))
                rows = await direct.fetch("SELECT 1 FROM bad_days_probe WHERE name = $1", name)
                assert rows == []

                # Nothing answers at all: a connection is given up within its timeout.
                await proxy.cut()
                await proxy.open(silent=True)
                await engine.close_connection_pool()
                started = time.monotonic()
                with pytest.raises(database.DatabaseUnavailable):
                    await engine.start_connection_pool(min_size=1, max_size=2)
                assert time.monotonic() - started < 3
            finally:
                if engine.pool is not None:
                    await engine.close_connection_pool()
        finally:
            await direct.execute("DROP TABLE IF EXISTS bad_days_probe")
            await direct.close()
