"""Text for search, page counts and page images from the files the archive accepts."""

from __future__ import annotations

import io
import unicodedata
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from PIL import Image

from documents import extraction
from documents.extraction import Extracted, PageNotFound, extract, render_page
from documents.filetypes import DOCX, GIF, JPEG, PDF, PNG, WEBP, XLSX
from tests.documents import samples

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def report(tmp_path: Path) -> Path:
    return samples.save(tmp_path, "report.pdf", samples.report_pdf())


# --- PDF ----------------------------------------------------------------------------------------


def test_pdf_text_keeps_vietnamese_diacritics(report: Path) -> None:
    extracted = extract(report, PDF)

    assert samples.REPORT_TITLE in extracted.text
    assert "Đại hội Công đoàn Việt Nam lần thứ XIII, nhiệm kỳ 2023–2028." in extracted.text
    assert "Ủy ban Kiểm tra Công đoàn các cấp." in extracted.text
    assert extracted.page_count == len(samples.REPORT_PAGES) == 3


def test_pdf_text_is_nfc_even_where_the_source_was_decomposed(report: Path) -> None:
    text = extract(report, PDF).text

    assert unicodedata.is_normalized("NFC", text)
    assert unicodedata.normalize("NFC", samples.DECOMPOSED_LINE) in text


def test_pdf_text_has_no_blank_lines_and_words_weasyprint_hyphenated_are_whole(
    report: Path,
) -> None:
    text = extract(report, PDF).text

    assert "\r" not in text
    assert "" not in text.split("\n")
    assert samples.HYPHENATED_WORD in text.split("\n")


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(b"%PDF-1.7\nnot really a PDF", id="garbage"),
        pytest.param(samples.encrypted_pdf(), id="encrypted"),
    ],
)
def test_a_pdf_that_cannot_be_opened_gives_no_text_and_no_error(
    tmp_path: Path, content: bytes
) -> None:
    path = samples.save(tmp_path, "broken.pdf", content)

    assert extract(path, PDF) == Extracted(text="", page_count=None)


def test_pdf_text_stops_at_the_limit(report: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    whole = extract(report, PDF).text
    monkeypatch.setattr(extraction, "MAX_TEXT_CHARS", 40)

    extracted = extract(report, PDF)

    assert extracted.text == whole[:40] == samples.REPORT_TITLE + "\nĐại hội Công đ"
    assert extracted.page_count == 3


def test_extraction_from_many_threads_at_once_is_safe(report: Path) -> None:
    with ThreadPoolExecutor(max_workers=4) as pool:
        texts = list(pool.map(lambda _: extract(report, PDF).text, range(8)))
        images = list(pool.map(lambda n: render_page(report, n % 3 + 1, 200), range(6)))

    assert len(set(texts)) == 1
    assert all(image.startswith(PNG_SIGNATURE) for image in images)


# --- page images --------------------------------------------------------------------------------


def _png(content: bytes) -> Image.Image:
    assert content.startswith(PNG_SIGNATURE)
    return Image.open(io.BytesIO(content))


@pytest.mark.parametrize(("asked", "width"), [(600, 600), (801, 801), (50, 200), (9000, 2400)])
def test_a_page_renders_as_a_png_of_the_width_asked_within_limits(
    report: Path, asked: int, width: int
) -> None:
    image = _png(render_page(report, 2, asked))

    assert image.format == "PNG"
    assert image.width == width
    a4_height = width * samples.PDF_PAGE_HEIGHT_PT / samples.PDF_PAGE_WIDTH_PT
    assert abs(image.height - a4_height) <= 1


def test_a_rendered_page_shows_something(report: Path) -> None:
    image = _png(render_page(report, 1, 300)).convert("L")

    assert image.getextrema() == (0, 255)  # black type on white paper


@pytest.mark.parametrize("page_number", [0, -1, 4, 1000])
def test_a_page_that_does_not_exist_is_not_found(report: Path, page_number: int) -> None:
    with pytest.raises(PageNotFound):
        render_page(report, page_number, 600)


def test_a_page_of_a_pdf_that_cannot_be_opened_is_not_found(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "locked.pdf", samples.encrypted_pdf())

    with pytest.raises(PageNotFound):
        render_page(path, 1, 600)


# --- Word and Excel -----------------------------------------------------------------------------


def test_word_text_has_paragraphs_and_table_rows_in_document_order(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "nghi-quyet.docx", samples.word_document())

    extracted = extract(path, DOCX)

    assert extracted.text.split("\n") == [
        "Nghị quyết Đại hội",
        "Đại hội biểu quyết thông qua các chỉ tiêu sau.",
        "Chỉ tiêu\tNăm 2023\tNăm 2028",
        "Đoàn viên mới\t1.000\t1.500",
        "Ghi chú\tSố liệu tạm tính",  # merged across two columns, given once
        "Đại hội kêu gọi cán bộ, đoàn viên thi đua thực hiện.",
        unicodedata.normalize("NFC", samples.DECOMPOSED_LINE),
    ]
    assert extracted.page_count is None


def test_excel_text_has_every_sheet_and_its_cells(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "dai-bieu.xlsx", samples.spreadsheet())

    extracted = extract(path, XLSX)

    assert extracted.text.split("\n") == [
        "Đại biểu",
        "Họ và tên\tĐoàn\tNgày sinh\tSố phiếu",
        "Nguyễn Thị Hạnh\tCông đoàn Hà Nội\t1975-03-08\t412",
        "Trần Văn Đức\tCông đoàn Đà Nẵng\t398.5",
        "Kết quả",
        "Tán thành\t0.97",
    ]
    assert extracted.page_count is None


def test_a_word_file_that_would_unpack_too_big_is_not_read(tmp_path: Path) -> None:
    bomb = samples.zip_bomb_docx(extraction.MAX_PART_BYTES + 1)
    path = samples.save(tmp_path, "bomb.docx", bomb)

    assert len(bomb) < 1024 * 1024
    assert extract(path, DOCX) == Extracted(text="", page_count=None)


@pytest.mark.parametrize("media_type", [DOCX, XLSX])
def test_a_damaged_office_file_gives_no_text_and_no_error(tmp_path: Path, media_type: str) -> None:
    content = samples.zip_file(
        {"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<not xml", "xl/x": b""}
    )
    path = samples.save(tmp_path, "damaged", content)

    assert extract(path, media_type) == Extracted(text="", page_count=None)


# --- images -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "media_type"), [("PNG", PNG), ("JPEG", JPEG), ("GIF", GIF), ("WEBP", WEBP)]
)
def test_images_have_no_text_and_no_pages(tmp_path: Path, kind: str, media_type: str) -> None:
    path = samples.save(tmp_path, "photo", samples.image(kind))

    assert extract(path, media_type) == Extracted(text="", page_count=None)


def test_a_type_the_archive_does_not_accept_is_a_programming_error(report: Path) -> None:
    with pytest.raises(ValueError, match="text/html"):
        extract(report, "text/html")
