"""Importing the delegate list: preview, all-or-nothing, re-import, encodings."""

from __future__ import annotations

import io
import unicodedata

import openpyxl
import pytest

from congress.delegates import services
from congress.delegates.schemas import DelegationIn
from congress.eventlog import SYSTEM, events_of
from congress.tables import Delegate, Delegation
from tests.congress.test_delegate_sheet import cp1258_bytes

HEADER = "Họ và tên,Đơn vị,Đoàn đại biểu,Chức vụ,Loại đại biểu,Giới tính,Năm sinh,Số thẻ\n"
ROWS = [
    ",".join(cells)
    for cells in (
        (
            "Nguyễn Thị Hạnh",
            "Trường THPT Phan Đình Phùng",
            "Công đoàn ngành Giáo dục",
            "Chủ tịch CĐCS",
            "Chính thức",
            "Nữ",
            "1978",
            "001",
        ),
        (
            "Trần Văn Đức",
            "Bệnh viện Đa khoa tỉnh",
            "Công đoàn ngành Y tế",
            "Phó Chủ tịch CĐCS",
            "Chính thức",
            "Nam",
            "1969",
            "002",
        ),
        (
            "Lê Thị Thu Hà",
            "Liên đoàn Lao động tỉnh",
            "Công đoàn ngành Giáo dục",
            "Nguyên Chủ tịch",
            "Khách mời",
            "Nữ",
            "1955",
            "003",
        ),
    )
]


def csv_bytes(*rows: str, encoding: str = "utf-8", header: str = HEADER) -> bytes:
    return (header + "\n".join(rows) + "\n").encode(encoding)


@pytest.fixture
async def congress_with_delegations(make_congress) -> int:
    congress_id = await make_congress()
    for code, name in (("GD", "Công đoàn ngành Giáo dục"), ("YT", "Công đoàn ngành Y tế")):
        await services.add_delegation(congress_id, DelegationIn(code=code, name=name), SYSTEM)
    return congress_id


async def upload(session, congress_id: int, content: bytes, name: str = "ds.csv"):
    return await session.post(
        f"/api/congresses/{congress_id}/delegate-imports",
        files={"data": (name, content, "application/octet-stream")},
    )


async def apply(session, congress_id: int, token: str, create_delegations: bool = False):
    return await session.post(
        f"/api/congresses/{congress_id}/delegate-imports/{token}/apply",
        json={"create_delegations": create_delegations},
    )


async def names_in(congress_id: int) -> list[str]:
    rows = await Delegate.select(Delegate.full_name).where(Delegate.congress == congress_id)
    return sorted(r["full_name"] for r in rows)


async def test_preview_writes_nothing_then_import_writes_all(admin, congress_with_delegations):
    congress_id = congress_with_delegations
    preview = (await upload(admin, congress_id, csv_bytes(*ROWS))).json()
    assert preview["counts"] == {"create": 3, "update": 0, "unchanged": 0, "error": 0}
    assert preview["can_apply"] is True
    assert await names_in(congress_id) == []

    result = (await apply(admin, congress_id, preview["token"])).json()
    assert result == {"created": 3, "updated": 0, "unchanged": 0, "delegations_created": 0}
    assert await names_in(congress_id) == ["Lê Thị Thu Hà", "Nguyễn Thị Hạnh", "Trần Văn Đức"]
    imported = await events_of(congress_id, types=["DelegatesImported"])
    assert [e.payload["created"] for e in imported] == [3]


async def test_reimport_updates_and_never_duplicates(admin, congress_with_delegations):
    congress_id = congress_with_delegations
    first = (await upload(admin, congress_id, csv_bytes(*ROWS))).json()
    await apply(admin, congress_id, first["token"])

    again = (await upload(admin, congress_id, csv_bytes(*ROWS))).json()
    assert again["counts"] == {"create": 0, "update": 0, "unchanged": 3, "error": 0}
    await apply(admin, congress_id, again["token"])

    changed = ROWS[0].replace("Chủ tịch CĐCS", "Chủ tịch Công đoàn trường")
    third = (await upload(admin, congress_id, csv_bytes(changed, *ROWS[1:]))).json()
    assert third["counts"] == {"create": 0, "update": 1, "unchanged": 2, "error": 0}
    assert (await apply(admin, congress_id, third["token"])).json()["updated"] == 1

    assert len(await names_in(congress_id)) == 3
    row = (
        await Delegate.select(Delegate.position)
        .where((Delegate.congress == congress_id) & (Delegate.card_number == "001"))
        .first()
    )
    assert row["position"] == "Chủ tịch Công đoàn trường"


async def test_rows_without_card_numbers_are_matched_by_name(admin, congress_with_delegations):
    congress_id = congress_with_delegations
    rows = [r.rsplit(",", 1)[0] + "," for r in ROWS]
    for _ in range(2):
        preview = (await upload(admin, congress_id, csv_bytes(*rows))).json()
        await apply(admin, congress_id, preview["token"])
    assert len(await names_in(congress_id)) == 3


BAD_ROWS = {
    "missing_name": ",Đơn vị,Công đoàn ngành Y tế,,Chính thức,Nam,1970,010",
    "unknown_kind": "Phạm Văn A,Đơn vị,Công đoàn ngành Y tế,,Đại biểu danh dự,Nam,1970,011",
    "missing_kind": "Phạm Văn B,Đơn vị,Công đoàn ngành Y tế,,,Nam,1970,012",
    "unknown_gender": "Phạm Văn C,Đơn vị,Công đoàn ngành Y tế,,Chính thức,X,1970,013",
    "bad_birth_year": "Phạm Văn D,Đơn vị,Công đoàn ngành Y tế,,Chính thức,Nam,năm ngoái,014",
    "unknown_delegation": "Phạm Văn E,Đơn vị,Công đoàn Bưu điện,,Chính thức,Nam,1970,015",
}


@pytest.mark.parametrize("code", sorted(BAD_ROWS))
async def test_a_bad_row_is_shown_and_blocks_the_whole_file(admin, congress_with_delegations, code):
    congress_id = congress_with_delegations
    preview = (await upload(admin, congress_id, csv_bytes(*ROWS, BAD_ROWS[code]))).json()
    bad = [r for r in preview["rows"] if r["problems"]]
    assert [p["code"] for r in bad for p in r["problems"]] == [code]
    assert bad[0]["line"] == 5
    assert bad[0]["problems"][0]["message"]
    assert preview["can_apply"] is False

    response = await apply(admin, congress_id, preview["token"])
    assert response.status_code == 422
    assert response.json()["code"] == "import_has_errors"
    assert await names_in(congress_id) == []


async def test_duplicate_card_numbers_are_flagged_on_both_rows(admin, congress_with_delegations):
    congress_id = congress_with_delegations
    twin = "Hồ Sỹ Nam,Đơn vị,Công đoàn ngành Y tế,,Chính thức,Nam,1980,001"
    preview = (await upload(admin, congress_id, csv_bytes(*ROWS, twin))).json()
    flagged = [r["line"] for r in preview["rows"] if r["problems"]]
    assert flagged == [2, 5]
    assert {p["code"] for r in preview["rows"] for p in r["problems"]} == {"duplicate_card_number"}


async def test_unknown_delegations_can_be_created_with_the_import(admin, make_congress):
    congress_id = await make_congress()
    preview = (await upload(admin, congress_id, csv_bytes(*ROWS))).json()
    assert preview["unknown_delegations"] == ["Công đoàn ngành Giáo dục", "Công đoàn ngành Y tế"]
    assert preview["can_apply"] is False
    result = (await apply(admin, congress_id, preview["token"], create_delegations=True)).json()
    assert result["delegations_created"] == 2
    names = await Delegation.select(Delegation.name).where(Delegation.congress == congress_id)
    assert sorted(n["name"] for n in names) == ["Công đoàn ngành Giáo dục", "Công đoàn ngành Y tế"]


@pytest.mark.parametrize(
    ("encoding", "expected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("cp1258", "cp1258")],
)
async def test_encodings_give_the_same_names(admin, congress_with_delegations, encoding, expected):
    congress_id = congress_with_delegations
    if encoding == "cp1258":
        # Windows-1258 writes tones as combining marks, as old Vietnamese Excel did.
        content = cp1258_bytes(HEADER + "\n".join(ROWS) + "\n")
    else:
        content = csv_bytes(*ROWS, encoding=encoding)
    preview = (await upload(admin, congress_id, content)).json()
    assert preview["encoding"] == expected
    await apply(admin, congress_id, preview["token"])
    names = await names_in(congress_id)
    assert names == ["Lê Thị Thu Hà", "Nguyễn Thị Hạnh", "Trần Văn Đức"]
    assert all(unicodedata.is_normalized("NFC", n) for n in names)


async def test_xlsx_with_english_headers(admin, congress_with_delegations):
    congress_id = congress_with_delegations
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["Full name", "Delegation", "Kind", "Card number", "Birth year"])
    sheet.append(["Võ Thị Mỹ Linh", "GD", "official", 101, 1985])
    sheet.append(["Đặng Quốc Bảo", "YT", "guest", 102, None])
    buffer = io.BytesIO()
    book.save(buffer)
    preview = (await upload(admin, congress_id, buffer.getvalue(), "ds.xlsx")).json()
    assert preview["file_type"] == "xlsx"
    assert preview["counts"]["create"] == 2
    await apply(admin, congress_id, preview["token"])
    assert await names_in(congress_id) == ["Võ Thị Mỹ Linh", "Đặng Quốc Bảo"]


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600, "xls_not_supported"),
        (b"\x89PNG\r\n\x1a\n" + b"\0" * 100, "unsupported_file"),
        ("Họ và tên\n".encode() + b"Nguy\x81n\n", "unreadable_encoding"),
        (b"STT,Don vi\n1,Truong\n", "missing_name_column"),
    ],
)
async def test_bad_files_are_refused_with_a_reason(admin, congress_with_delegations, content, code):
    preview = (await upload(admin, congress_with_delegations, content)).json()
    assert [p["code"] for p in preview["file_problems"]] == [code]
    assert preview["can_apply"] is False


async def test_an_empty_upload_is_refused(admin, congress_with_delegations):
    response = await upload(admin, congress_with_delegations, b"")
    assert response.status_code == 422
    assert response.json()["code"] == "empty_file"


async def test_the_cli_imports_a_file(tmp_path, make_congress):
    """`congress import-delegates` goes through the same preview and import."""
    from click.testing import CliRunner

    from congress.cli import main

    congress_id = await make_congress()
    path = tmp_path / "ds.csv"
    path.write_bytes(csv_bytes(*ROWS))
    # The CLI runs its own event loop; run it in a thread so it does not meet ours.
    import asyncio

    result = await asyncio.to_thread(
        CliRunner().invoke,
        main,
        ["import-delegates", str(congress_id), str(path), "--create-delegations"],
    )
    assert result.exit_code == 0, result.output
    assert "3 new" in result.output
    assert len(await names_in(congress_id)) == 3


async def test_an_upload_without_the_file_is_refused(admin, congress_with_delegations):
    # Found by tests/congress/test_api_fuzz.py: a form without a file was a 500.
    response = await admin.post(
        f"/api/congresses/{congress_with_delegations}/delegate-imports",
        files={"other": ("ds.csv", csv_bytes(*ROWS), "text/csv")},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_input"
