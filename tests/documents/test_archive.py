"""The congress record: stored-file checks, export, verification, import, minutes."""

from __future__ import annotations

import asyncio
import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from congress.cli import main
from congress.eventlog import SYSTEM, events_of
from documents import archive, minutes
from documents.extraction import extract
from documents.services import Viewer
from documents.storage import file_store
from documents.tables import Document, DocumentVersion
from tests.documents.conftest import pdf_bytes
from tests.documents.test_documents import upload

ADMIN = Viewer("organizer", can_see_confidential=True)


async def cli(*args: str):
    return await asyncio.to_thread(CliRunner().invoke, main, list(args))


@pytest.fixture
async def papers(admin, sitting) -> tuple[int, dict[str, int]]:
    congress_id, sitting_id, _ = sitting
    ids = {}
    for key, access in (("report", "delegates"), ("secret", "confidential"), ("draft", "public")):
        response = await upload(
            admin,
            congress_id,
            pdf_bytes(f"Tài liệu {key} của Đại hội"),
            f"{key}.pdf",
            access=access,
            sitting_id=sitting_id,
        )
        ids[key] = response.json()["document_id"]
    await admin.post(
        f"/api/congresses/{congress_id}/documents/{ids['report']}/versions",
        files={"file": ("report-2.pdf", pdf_bytes("Tài liệu report, bản sửa"), "application/pdf")},
    )
    return congress_id, ids


async def test_verify_reports_changed_and_missing_files(papers):
    congress_id, _ = papers
    assert (await archive.verify_store()).ok
    versions = await DocumentVersion.select(DocumentVersion.sha256).where(
        DocumentVersion.congress == congress_id
    )
    changed_sha, missing_sha = versions[0]["sha256"], versions[1]["sha256"]
    store = file_store()
    changed_path, missing_path = store.path(changed_sha), store.path(missing_sha)  # type: ignore[attr-defined]
    original = changed_path.read_bytes()
    missing_copy = missing_path.read_bytes()
    try:
        changed_path.chmod(0o640)
        changed_path.write_bytes(original[:-1] + bytes([original[-1] ^ 1]))
        missing_path.unlink()
        report = await archive.verify_store()
        assert report.changed == [changed_sha]
        assert report.missing == [missing_sha]
        result = await cli("archive", "verify")
        assert result.exit_code == 1
        assert f"changed: {changed_sha}" in result.output
        assert f"missing: {missing_sha}" in result.output
    finally:
        changed_path.write_bytes(original)
        missing_path.write_bytes(missing_copy)
    assert (await archive.verify_store()).ok


async def test_export_leaves_out_confidential_papers_unless_asked(papers, tmp_path: Path):
    congress_id, ids = papers
    plain, full = tmp_path / "plain.zip", tmp_path / "full.zip"
    await archive.export_archive(congress_id, plain, False, SYSTEM)
    await archive.export_archive(congress_id, full, True, SYSTEM)
    titles = lambda path: {  # noqa: E731
        d["id"] for d in json.loads(zipfile.ZipFile(path).read("manifest.json"))["documents"]
    }
    assert ids["secret"] not in titles(plain)
    assert ids["secret"] in titles(full)
    logged = await events_of(congress_id, types=["ArchiveExported"])
    assert [e.payload["include_confidential"] for e in logged] == [False, True]


def _rewrite(source: Path, target: Path, change) -> None:  # type: ignore[no-untyped-def]
    with zipfile.ZipFile(source) as old, zipfile.ZipFile(target, "w") as new:
        for item in old.infolist():
            data = change(item.filename, old.read(item.filename))
            if data is not None:
                new.writestr(item, data)


async def test_verify_export_detects_any_changed_added_or_missing_byte(papers, tmp_path: Path):
    congress_id, _ = papers
    exported = tmp_path / "record.zip"
    fingerprint = await archive.export_archive(congress_id, exported, True, SYSTEM)
    intact = archive.verify_export(exported)
    assert intact.ok
    assert intact.fingerprint == fingerprint
    assert intact.documents == 3

    files = [n for n in zipfile.ZipFile(exported).namelist() if n.startswith("files/")]
    flipped = tmp_path / "flipped.zip"
    _rewrite(
        exported,
        flipped,
        lambda n, d: d[:100] + bytes([d[100] ^ 1]) + d[101:] if n == files[0] else d,
    )
    assert archive.verify_export(flipped).changed == [files[0]]

    added = tmp_path / "added.zip"
    _rewrite(exported, added, lambda n, d: d)
    with zipfile.ZipFile(added, "a") as extra:
        extra.writestr("files/extra.pdf", b"%PDF-1.7 not ours")
    assert archive.verify_export(added).added == ["files/extra.pdf"]

    missing = tmp_path / "missing.zip"
    _rewrite(exported, missing, lambda n, d: None if n == "events.jsonl" else d)
    assert archive.verify_export(missing).missing == ["events.jsonl"]

    log_edited = tmp_path / "log.zip"
    _rewrite(
        exported,
        log_edited,
        lambda n, d: (
            d.replace(b"DocumentUploaded", b"DocumentUpl0aded") if n == "events.jsonl" else d
        ),
    )
    assert archive.verify_export(log_edited).changed == ["events.jsonl"]

    result = await cli("archive", "verify-export", str(flipped))
    assert result.exit_code == 1
    assert "DAMAGED" in result.output
    ok = await cli("archive", "verify-export", str(exported))
    assert ok.exit_code == 0, ok.output
    assert fingerprint in ok.output


async def test_export_then_import_gives_the_same_archive(papers, tmp_path: Path):
    congress_id, _ = papers
    first = tmp_path / "first.zip"
    await archive.export_archive(congress_id, first, True, SYSTEM)
    imported = await archive.import_archive(first, SYSTEM)
    assert imported != congress_id
    second = tmp_path / "second.zip"
    await archive.export_archive(imported, second, True, SYSTEM)

    def comparable(path: Path) -> list[tuple]:
        manifest = json.loads(zipfile.ZipFile(path).read("manifest.json"))
        return sorted(
            (
                d["title"],
                d["category"],
                d["access"],
                d["released_version"],
                tuple((v["number"], v["sha256"], v["size"], v["filename"]) for v in d["versions"]),
            )
            for d in manifest["documents"]
        )

    assert comparable(first) == comparable(second)
    titles = await Document.select(Document.title).where(Document.congress == imported)
    assert len(titles) == 3
    # The old event log is part of the imported record, before the import's own events.
    log = [e.type for e in await events_of(imported, limit=1000)]
    assert log.index("DocumentVersionAdded") < log.index("ArchiveImported")
    assert log[-2:] == ["ArchiveImported", "ArchiveExported"]


async def test_a_damaged_export_is_not_imported(papers, tmp_path: Path):
    congress_id, _ = papers
    exported, damaged = tmp_path / "ok.zip", tmp_path / "damaged.zip"
    await archive.export_archive(congress_id, exported, False, SYSTEM)
    _rewrite(
        exported,
        damaged,
        lambda n, d: d.replace(b'"title"', b'"titel"') if n == "congress.json" else d,
    )
    before = await Document.count()
    result = await cli("archive", "import", str(damaged))
    assert result.exit_code != 0
    assert await Document.count() == before


async def test_minutes_from_draft_to_archived_pdf(sitting, admin):
    congress_id, sitting_id, _ = sitting
    page = await admin.get(f"/console/congresses/{congress_id}/sittings/{sitting_id}/minutes")
    assert page.status_code == 200
    assert "Phiên chính thức thứ nhất" in page.text
    assert "Trình bày Báo cáo chính trị" in page.text

    draft = await minutes.draft_of(congress_id, sitting_id)
    body = draft["body"] + "\nĐại hội đã thảo luận và thống nhất thông qua dự thảo Nghị quyết.\n"
    saved = await admin.submit(
        f"/console/congresses/{congress_id}/sittings/{sitting_id}/minutes",
        {"body": body},
        follow_redirects=False,
    )
    assert saved.status_code in {302, 303}
    finalised = await admin.submit(
        f"/console/congresses/{congress_id}/sittings/{sitting_id}/minutes/finalise",
        {"body": body},
        follow_redirects=False,
    )
    assert finalised.status_code in {302, 303}, finalised.text
    document = (
        await Document.select()
        .where((Document.congress == congress_id) & (Document.category == "minutes"))
        .first()
    )
    assert document["sitting"] == sitting_id
    assert document["access"] == "organizers"
    version = (
        await DocumentVersion.select().where(DocumentVersion.document == document["id"]).first()
    )
    text = extract(file_store().path(version["sha256"]), "application/pdf").text  # type: ignore[attr-defined]
    assert "BIÊN BẢN" in text
    assert "thống nhất thông qua dự thảo Nghị quyết" in text

    await minutes.finalise(congress_id, sitting_id, body + "\nBổ sung.\n", SYSTEM, ADMIN)
    versions = await DocumentVersion.count().where(DocumentVersion.document == document["id"])
    assert versions == 2
    types = [e.type for e in await events_of(congress_id, types=["MinutesFinalised"])]
    assert types == ["MinutesFinalised", "MinutesFinalised"]
