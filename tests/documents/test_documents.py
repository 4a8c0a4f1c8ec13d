"""The archive as organizers use it: upload, versions, access levels, release, viewer."""

from __future__ import annotations

import hashlib

import pytest

from congress.eventlog import events_of
from documents.storage import file_store
from tests.documents.conftest import PNG_1PX, docx_bytes, pdf_bytes, zip_bytes

REPORT = "Dự thảo Báo cáo chính trị của Ban Chấp hành Công đoàn tỉnh khóa XVIII"


async def upload(session, congress_id: int, content: bytes, name: str, **fields):
    return await session.post(
        f"/api/congresses/{congress_id}/documents",
        files={"file": (name, content, "application/octet-stream")},
        data={k: str(v) for k, v in fields.items()},
    )


async def test_upload_keeps_versions_and_who_uploaded(as_role, sitting):
    congress_id, sitting_id, item_id = sitting
    secretariat = await as_role("secretariat")
    first = await upload(
        secretariat,
        congress_id,
        pdf_bytes(REPORT, "Trang hai: Đại hội"),
        "du-thao.pdf",
        title="Dự thảo Báo cáo chính trị",
        category="political_report",
        access="delegates",
        sitting_id=sitting_id,
        agenda_item_id=item_id,
    )
    assert first.status_code == 201, first.text
    document_id = first.json()["document_id"]
    second = await secretariat.post(
        f"/api/congresses/{congress_id}/documents/{document_id}/versions",
        files={"file": ("du-thao-2.pdf", pdf_bytes(REPORT + " (sửa lần 2)"), "application/pdf")},
    )
    assert second.json()["version"] == 2

    shown = (await secretariat.get(f"/api/congresses/{congress_id}/documents/{document_id}")).json()
    assert shown["title"] == "Dự thảo Báo cáo chính trị"
    assert [v["number"] for v in shown["versions"]] == [2, 1]
    assert {v["uploaded_by"] for v in shown["versions"]} == {"Test secretariat"}
    assert shown["versions"][1]["page_count"] == 2
    assert shown["versions"][1]["media_type"] == "application/pdf"
    types = [e.type for e in await events_of(congress_id)]
    assert types[-2:] == ["DocumentUploaded", "DocumentVersionAdded"]


@pytest.mark.parametrize(
    ("content", "name", "media_type"),
    [
        (pdf_bytes("Nghị quyết Đại hội"), "nghi-quyet.docx", "application/pdf"),
        (PNG_1PX, "anh.pdf", "image/png"),
        (
            docx_bytes("Tham luận của đoàn Giáo dục"),
            "tham-luan.bin",
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        ),
    ],
)
async def test_the_type_comes_from_the_content(admin, sitting, content, name, media_type):
    congress_id, _, _ = sitting
    response = await upload(admin, congress_id, content, name)
    assert response.status_code == 201, response.text
    document_id = response.json()["document_id"]
    shown = (await admin.get(f"/api/congresses/{congress_id}/documents/{document_id}")).json()
    assert shown["versions"][0]["media_type"] == media_type


@pytest.mark.parametrize(
    ("content", "name"),
    [
        (b"<html><script>alert(1)</script></html>", "bao-cao.pdf"),
        (b"MZ\x90\x00" + b"\0" * 100, "bao-cao.docx"),
        (zip_bytes(), "bao-cao.xlsx"),
        (b"%!PS-Adobe-3.0\n", "bao-cao.pdf"),
    ],
)
async def test_other_types_are_refused_and_nothing_is_kept(admin, sitting, content, name):
    congress_id, _, _ = sitting
    before = set(file_store().all())
    response = await upload(admin, congress_id, content, name)
    assert response.status_code == 422
    assert response.json()["code"] == "unsupported_type"
    assert "PDF" in response.json()["message"]
    assert set(file_store().all()) == before
    assert (await admin.get(f"/api/congresses/{congress_id}/documents")).json() == []


async def test_an_oversized_upload_is_refused(admin, sitting, monkeypatch):
    from documents import services

    monkeypatch.setattr(services, "MAX_UPLOAD_BYTES", 1000)
    congress_id, _, _ = sitting
    response = await upload(admin, congress_id, b"%PDF-1.7\n" + b"0" * 2000, "big.pdf")
    assert response.status_code == 422
    assert response.json()["code"] == "file_too_large"


@pytest.mark.parametrize(
    "name", ["../../etc/passwd.pdf", "..\\..\\windows\\win.ini.pdf", "/var/lib/x.pdf", "a\x00b.pdf"]
)
async def test_a_client_file_name_is_only_a_display_name(admin, sitting, name):
    congress_id, _, _ = sitting
    content = pdf_bytes("Biên bản")
    response = await upload(admin, congress_id, content, name)
    assert response.status_code == 201, response.text
    document_id = response.json()["document_id"]
    version = (await admin.get(f"/api/congresses/{congress_id}/documents/{document_id}")).json()[
        "versions"
    ][0]
    assert "/" not in version["filename"]
    assert "\\" not in version["filename"]
    assert not version["filename"].startswith(".")
    sha = hashlib.sha256(content).hexdigest()
    assert version["sha256"] == sha
    # The file is stored by its hash, not by any name the client gave.
    assert file_store().exists(sha)


async def test_identical_uploads_are_stored_once(admin, sitting):
    congress_id, _, _ = sitting
    content = pdf_bytes("Chương trình Đại hội")
    await upload(admin, congress_id, content, "a.pdf")
    await upload(admin, congress_id, content, "b.pdf")
    sha = hashlib.sha256(content).hexdigest()
    assert list(file_store().all()).count(sha) == 1


async def test_release_is_an_explicit_step_and_an_event(admin, sitting):
    congress_id, _, _ = sitting
    document_id = (
        await upload(admin, congress_id, pdf_bytes(REPORT), "bc.pdf", access="delegates")
    ).json()["document_id"]
    shown = (await admin.get(f"/api/congresses/{congress_id}/documents/{document_id}")).json()
    assert shown["released_version"] is None

    released = await admin.post(f"/api/congresses/{congress_id}/documents/{document_id}/release")
    assert released.json()["version"] == 1
    log = await events_of(congress_id, types=["DocumentReleased"])
    assert [e.payload for e in log] == [
        {"document_id": document_id, "version": 1, "access": "delegates"}
    ]


async def test_confidential_papers_cannot_be_released(admin, sitting):
    congress_id, _, _ = sitting
    document_id = (
        await upload(
            admin, congress_id, pdf_bytes("Tài liệu mật"), "mat.pdf", access="confidential"
        )
    ).json()["document_id"]
    response = await admin.post(f"/api/congresses/{congress_id}/documents/{document_id}/release")
    assert response.status_code == 409
    assert response.json()["code"] == "not_releasable"
    assert await events_of(congress_id, types=["DocumentReleased"]) == []


@pytest.mark.parametrize(
    ("role", "sees_confidential", "may_upload"),
    [
        ("admin", True, True),
        ("secretariat", True, True),
        ("presidium", False, False),
        ("tally", False, False),
    ],
)
async def test_who_sees_and_files_what(
    as_role, admin, sitting, role, sees_confidential, may_upload
):
    congress_id, _, _ = sitting
    secret = (
        await upload(admin, congress_id, pdf_bytes("Mật"), "mat.pdf", access="confidential")
    ).json()["document_id"]
    open_paper = (
        await upload(admin, congress_id, pdf_bytes("Công khai"), "ck.pdf", access="organizers")
    ).json()["document_id"]
    session = await as_role(role)
    listed = {
        d["id"] for d in (await session.get(f"/api/congresses/{congress_id}/documents")).json()
    }
    assert (secret in listed) is sees_confidential
    assert open_paper in listed
    secret_file = await session.get(
        f"/api/congresses/{congress_id}/documents/{secret}/versions/1/file"
    )
    assert secret_file.status_code == (200 if sees_confidential else 404)
    attempt = await upload(session, congress_id, pdf_bytes("Mới"), "moi.pdf")
    assert attempt.status_code == (201 if may_upload else 403)


async def test_check_in_staff_see_no_documents(as_role, sitting):
    congress_id, _, _ = sitting
    staff = await as_role("checkin")
    assert (await staff.get(f"/api/congresses/{congress_id}/documents")).status_code == 403


async def test_the_secretariat_cannot_hand_a_paper_to_another_congress(
    admin, sitting, make_congress
):
    congress_id, _, _ = sitting
    other = await make_congress()
    document_id = (await upload(admin, congress_id, pdf_bytes("A"), "a.pdf")).json()["document_id"]
    response = await admin.get(f"/api/congresses/{other}/documents/{document_id}")
    assert response.status_code == 404


async def test_the_viewer_serves_the_pdf_inline_and_pages_as_images(admin, sitting):
    congress_id, _, _ = sitting
    document_id = (await upload(admin, congress_id, pdf_bytes(REPORT, "Trang 2"), "bc.pdf")).json()[
        "document_id"
    ]
    base = f"/api/congresses/{congress_id}/documents/{document_id}/versions/1"
    inline = await admin.get(f"{base}/file?inline=true")
    assert inline.status_code == 200
    assert inline.headers["content-type"].startswith("application/pdf")
    assert inline.headers["content-disposition"].startswith("inline")
    page = await admin.get(f"{base}/pages/2?width=600")
    assert page.status_code == 200
    assert page.content.startswith(b"\x89PNG")
    missing = await admin.get(f"{base}/pages/3")
    assert missing.status_code == 404
    assert missing.json()["code"] == "page_not_found"
    viewer = await admin.get(f"/console/congresses/{congress_id}/documents/{document_id}/view")
    assert viewer.status_code == 200
    assert f"{base}/pages/2?width=1000" in viewer.text
