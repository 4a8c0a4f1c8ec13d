"""An upload's type comes from its content: the name the client sent does not count."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from documents.filetypes import ACCEPTED, DOCX, GIF, JPEG, PDF, PNG, WEBP, XLSX, detect_media_type
from tests.documents import samples

CONTENT_TYPES = b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'


@pytest.mark.parametrize(
    ("content", "media_type"),
    [
        pytest.param(samples.report_pdf, PDF, id="pdf"),
        pytest.param(samples.word_document, DOCX, id="docx"),
        pytest.param(samples.spreadsheet, XLSX, id="xlsx"),
        pytest.param(lambda: samples.image("PNG"), PNG, id="png"),
        pytest.param(lambda: samples.image("JPEG"), JPEG, id="jpeg"),
        pytest.param(lambda: samples.image("GIF"), GIF, id="gif"),
        pytest.param(lambda: samples.image("WEBP"), WEBP, id="webp"),
    ],
)
def test_each_accepted_type_is_told_by_its_content(
    tmp_path: Path, content: Callable[[], bytes], media_type: str
) -> None:
    path = samples.save(tmp_path, "upload", content())

    assert detect_media_type(path) == media_type
    assert media_type in ACCEPTED


def test_a_pdf_named_docx_is_a_pdf(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "x.docx", samples.report_pdf())

    assert detect_media_type(path) == PDF


def test_a_png_named_pdf_is_a_png(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "scan.pdf", samples.image("PNG"))

    assert detect_media_type(path) == PNG


def test_a_pdf_header_after_some_junk_is_still_a_pdf(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "upload", b"\r\n" * 200 + samples.report_pdf())

    assert detect_media_type(path) == PDF


def test_a_pdf_header_beyond_the_first_kilobyte_is_not(tmp_path: Path) -> None:
    path = samples.save(tmp_path, "upload", b" " * 1024 + samples.report_pdf())

    assert detect_media_type(path) is None


@pytest.mark.parametrize(
    "content",
    [
        pytest.param(samples.HTML_PAGE, id="html"),
        pytest.param(samples.SVG_IMAGE, id="svg"),
        pytest.param(samples.PLAIN_TEXT, id="text"),
        pytest.param(samples.OLE2_WORD_97, id="ole2-doc"),
        pytest.param(samples.ELF_EXECUTABLE, id="elf"),
        pytest.param(samples.WINDOWS_EXECUTABLE, id="exe"),
        pytest.param(b"", id="empty"),
        pytest.param(samples.zip_file({"readme.txt": b"hello"}), id="random-zip"),
        pytest.param(b"PK\x03\x04" + bytes(100), id="broken-zip"),
        pytest.param(samples.word_document()[:2000], id="truncated-docx"),
        pytest.param(
            samples.zip_file({"[Content_Types].xml": CONTENT_TYPES + b"</Types>"}),
            id="office-package-of-nothing",
        ),
        pytest.param(
            samples.zip_file(
                {
                    "[Content_Types].xml": CONTENT_TYPES
                    + b'<Override PartName="/word/document.xml" ContentType="application/'
                    b'vnd.ms-word.document.macroEnabled.main+xml"/></Types>',
                    "word/document.xml": b"<w:document/>",
                }
            ),
            id="docm-with-macros",
        ),
    ],
)
def test_other_files_are_refused(tmp_path: Path, content: bytes) -> None:
    path = samples.save(tmp_path, "upload.pdf", content)

    assert detect_media_type(path) is None


def test_every_accepted_type_has_a_label_and_an_extension() -> None:
    for label, extension in ACCEPTED.values():
        assert label
        assert extension.startswith(".")
