"""Sample files for the archive's tests, built in memory: real PDF, Word, Excel and image files
as their own libraries write them, and the impostors an upload form must refuse."""

from __future__ import annotations

import datetime
import functools
import io
import unicodedata
import zipfile
from pathlib import Path

import docx
import openpyxl
import weasyprint
from docx.document import Document as WordDocument
from PIL import Image

REPORT_TITLE = "Dự thảo Báo cáo chính trị"
# Typed decomposed (base letter + combining marks), as some editors and Macs save it.
DECOMPOSED_LINE = unicodedata.normalize("NFD", "Nhiệm vụ trọng tâm của nhiệm kỳ tới")
# Narrow enough that WeasyPrint breaks it with a hyphen of its own.
HYPHENATED_WORD = "internationalization"
REPORT_PAGES = [
    f"""<h1>{REPORT_TITLE}</h1>
    <p>Đại hội Công đoàn Việt Nam lần thứ XIII, nhiệm kỳ 2023–2028.</p>
    <p>Đoàn kết – Đổi mới – Dân chủ – Phát triển.</p>""",
    f"""<h2>Phần thứ hai</h2>
    <p>Chăm lo, đại diện, bảo vệ quyền và lợi ích hợp pháp, chính đáng của người lao động.</p>
    <p>{DECOMPOSED_LINE}</p>""",
    f"""<h2>Phần thứ ba</h2>
    <p>Ủy ban Kiểm tra Công đoàn các cấp.</p>
    <p lang="en" style="width: 3cm">{HYPHENATED_WORD}</p>""",
]


@functools.cache
def report_pdf() -> bytes:
    """A three-page political report in Vietnamese, as WeasyPrint prints the archive's PDFs."""
    pages = "".join(f'<section style="break-after: page">{page}</section>' for page in REPORT_PAGES)
    html = f"""<!doctype html><html lang="vi"><head><meta charset="utf-8"><style>
      @page {{ size: A4; margin: 2cm }}
      body {{ font-family: "DejaVu Sans", sans-serif; hyphens: auto }}
      section:last-child {{ break-after: auto }}
    </style></head><body>{pages}</body></html>"""
    return weasyprint.HTML(string=html).write_pdf()


PDF_PAGE_WIDTH_PT = 595.28  # A4
PDF_PAGE_HEIGHT_PT = 841.89


def encrypted_pdf() -> bytes:
    """A one-page PDF locked with a user password (the standard security handler, RC4)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] >>",
        b"<< /Filter /Standard /V 1 /R 2 /P -4 /O <"
        + b"11" * 32
        + b"> /U <"
        + b"22" * 32
        + b"> >>",
    ]
    file_id = b"<00112233445566778899aabbccddeeff>"
    return _pdf_file(objects, b"/Encrypt 4 0 R /ID [" + file_id + b" " + file_id + b"]")


def _pdf_file(objects: list[bytes], trailer: bytes) -> bytes:
    out = b"%PDF-1.4\n"
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R %s >>\n" % (len(objects) + 1, trailer)
    return out + b"startxref\n%d\n%%%%EOF\n" % xref


@functools.cache
def word_document() -> bytes:
    """A Word file: a heading, paragraphs, a table with a merged cell, a paragraph after it."""
    document = docx.Document()
    document.add_heading("Nghị quyết Đại hội", level=1)
    document.add_paragraph("Đại hội biểu quyết thông qua các chỉ tiêu sau.")
    table = document.add_table(rows=3, cols=3)
    for row, values in zip(
        table.rows,
        [
            ("Chỉ tiêu", "Năm 2023", "Năm 2028"),
            ("Đoàn viên mới", "1.000", "1.500"),
            ("Ghi chú", "", ""),
        ],
        strict=True,
    ):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    merged = table.cell(2, 1).merge(table.cell(2, 2))
    merged.text = "Số liệu tạm tính"
    document.add_paragraph("Đại hội kêu gọi cán bộ, đoàn viên thi đua thực hiện.")
    document.add_paragraph(DECOMPOSED_LINE)
    return _saved(document)


def _saved(document: WordDocument) -> bytes:
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()


@functools.cache
def spreadsheet() -> bytes:
    """An Excel workbook with two sheets: a delegate list and a results table."""
    workbook = openpyxl.Workbook()
    delegates = workbook.active
    assert delegates is not None
    delegates.title = "Đại biểu"
    delegates.append(["Họ và tên", "Đoàn", "Ngày sinh", "Số phiếu"])
    delegates.append(["Nguyễn Thị Hạnh", "Công đoàn Hà Nội", datetime.date(1975, 3, 8), 412])
    delegates.append(["Trần Văn Đức", "Công đoàn Đà Nẵng", None, 398.5])
    results = workbook.create_sheet("Kết quả")
    results["B3"] = "Tán thành"
    results["C3"] = 0.97
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def zip_bomb_docx(part_bytes: int) -> bytes:
    """A Word file whose document.xml unpacks to ``part_bytes`` of empty paragraphs."""
    with zipfile.ZipFile(io.BytesIO(word_document())) as original:
        parts = {info.filename: original.read(info) for info in original.infolist()}
    head, _, tail = parts["word/document.xml"].partition(b"<w:body>")
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in parts.items():
            if name != "word/document.xml":
                package.writestr(name, content)
        with package.open("word/document.xml", "w", force_zip64=True) as member:
            member.write(head + b"<w:body>")
            empty = b"<w:p/>" * (1024 * 1024 // 6)
            for _ in range(part_bytes // len(empty) + 1):
                member.write(empty)
            member.write(tail)
    return out.getvalue()


def zip_file(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name, content in members.items():
            package.writestr(name, content)
    return out.getvalue()


def image(kind: str, size: tuple[int, int] = (4, 3)) -> bytes:
    """A tiny image of ``kind`` (PNG, JPEG, GIF, WEBP), written by Pillow."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 16, 46)).save(out, format=kind)
    return out.getvalue()


# The first bytes of formats the archive refuses.
OLE2_WORD_97 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504)  # .doc and .xls
ELF_EXECUTABLE = b"\x7fELF\x02\x01\x01\x00" + bytes(56)
WINDOWS_EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(56) + b"This program cannot be run"
HTML_PAGE = "<!doctype html><html><body><h1>Đại hội</h1></body></html>".encode()
SVG_IMAGE = b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
PLAIN_TEXT = "Dự thảo Báo cáo chính trị\n".encode()


def save(directory: Path, name: str, content: bytes) -> Path:
    path = directory / name
    path.write_bytes(content)
    return path
