"""Fixtures of the archive tests: files made here, and a congress with a sitting."""

from __future__ import annotations

import io
import zipfile

import pytest

from congress.eventlog import SYSTEM
from congress.schemas import AgendaItemIn, SittingIn
from congress.services import add_agenda_item, add_sitting


def pdf_bytes(*pages: str) -> bytes:
    """A real PDF with Vietnamese text, made by WeasyPrint."""
    from weasyprint import HTML

    body = "".join(f'<p style="page-break-after: always">{p}</p>' for p in pages)
    return HTML(string=f"<html><body>{body}</body></html>").write_pdf()  # type: ignore[no-any-return]


def docx_bytes(*paragraphs: str) -> bytes:
    import docx

    document = docx.Document()
    for paragraph in paragraphs:
        document.add_paragraph(paragraph)
    buffer = io.BytesIO()
    document.save(buffer)
    return buffer.getvalue()


PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def zip_bytes() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("hello.txt", "xin chào")
    return buffer.getvalue()


@pytest.fixture
async def sitting(make_congress) -> tuple[int, int, int]:
    """(congress, sitting, agenda item) of a fresh congress."""
    congress_id = await make_congress()
    sitting_id = await add_sitting(
        congress_id, SittingIn(title="Phiên chính thức thứ nhất", kind="plenary"), SYSTEM
    )
    item_id = await add_agenda_item(
        congress_id,
        sitting_id,
        AgendaItemIn(title="Trình bày Báo cáo chính trị", presenter="Chủ tịch LĐLĐ tỉnh"),
        SYSTEM,
    )
    return congress_id, sitting_id, item_id
