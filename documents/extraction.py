"""Text for search, the page count, and page images, read from an archived file.

Everything here is synchronous and can take a while (seconds for a long PDF or a big
spreadsheet): callers run it in a thread. PDFium is not thread-safe, not even with
different documents in different threads, so every call into pypdfium2 holds PDFIUM_LOCK
(https://pypdfium2-team.github.io/pypdfium2/python_api.html, "Incompatibility with
Threading"); anyone else in the process who uses pypdfium2 must take it too.

Word and Excel files are ZIP packages. python-docx unpacks every part into memory and both
libraries parse XML parts into trees, so a package whose directory declares parts bigger
than the limits below is not read at all: its text stays empty, and a zip bomb costs only a
look at its directory. The declared sizes can be trusted because zipfile stops inflating a
member at its declared size.
"""

from __future__ import annotations

import datetime
import io
import logging
import re
import threading
import unicodedata
import zipfile
from collections.abc import Callable, Generator, Iterable
from pathlib import Path

import docx
import msgspec
import openpyxl
import pypdfium2 as pdfium
from docx.table import Table
from docx.text.paragraph import Paragraph
from PIL import Image

from documents.filetypes import DOCX, IMAGES, PDF, XLSX

logger = logging.getLogger(__name__)

MAX_TEXT_CHARS = 2_000_000
MIN_RENDER_WIDTH = 200
MAX_RENDER_WIDTH = 2400
# A page four times as tall as it is wide still renders at full width; stranger ones smaller.
MAX_RENDER_PIXELS = MAX_RENDER_WIDTH * MAX_RENDER_WIDTH * 4

# A Word document.xml of 16 MiB is well over a thousand pages. Parsed, a part can cost over
# 20 times its size (measured: 14 MiB of empty paragraphs took 360 MB), so the limit is low.
MAX_PART_BYTES = 16 * 1024 * 1024
MAX_UNPACKED_BYTES = 256 * 1024 * 1024  # python-docx also holds every image in memory
# Paragraphs, table rows and cells visited, text or not: bounds the time a package full of
# empty elements takes (a few seconds), well past where real files reach MAX_TEXT_CHARS.
MAX_ELEMENTS_VISITED = 500_000

PDFIUM_LOCK = threading.Lock()


class Extracted(msgspec.Struct, frozen=True):
    """What the archive keeps from reading a file: its text for search, its number of pages."""

    text: str  # NFC, one paragraph or table row a line, at most MAX_TEXT_CHARS
    page_count: int | None  # PDFs only: Word and Excel files have no pages until printed


class PageNotFound(Exception):
    """The PDF has no page with that number, or it cannot be opened at all."""


def extract(path: Path, media_type: str) -> Extracted:
    """The text and page count of the file at ``path``, whose type was already detected.

    A damaged or encrypted file gives empty text rather than an error: the upload is kept,
    it is only not found by search.
    """
    if media_type == PDF:
        return _extract_pdf(path)
    if media_type == DOCX:
        return Extracted(_package_text(path, _docx_lines), page_count=None)
    if media_type == XLSX:
        return Extracted(_package_text(path, _xlsx_lines), page_count=None)
    if media_type in IMAGES:
        return Extracted("", page_count=None)
    raise ValueError(f"not a media type the archive accepts: {media_type}")


def render_page(path: Path, page_number: int, width: int) -> bytes:
    """Page ``page_number`` (from 1) of the PDF at ``path`` as a PNG ``width`` pixels wide.

    The width is clamped to MIN_RENDER_WIDTH..MAX_RENDER_WIDTH; the height follows the page.
    """
    width = max(MIN_RENDER_WIDTH, min(width, MAX_RENDER_WIDTH))
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(path)
        except pdfium.PdfiumError as error:
            raise PageNotFound(page_number) from error
        try:
            if not 1 <= page_number <= len(document):
                raise PageNotFound(page_number)
            image = _render(document, page_number - 1, width)
        finally:
            document.close()
    if 0 < abs(image.width - width) <= 2:  # PDFium rounds the scaled size; asked was exact
        image = image.resize((width, max(1, round(image.height * width / image.width))))
    png = io.BytesIO()
    image.save(png, format="PNG")
    return png.getvalue()


# --- PDF --------------------------------------------------------------------------------------

# PDFium reports a hyphen-minus that ends a line as U+FFFE and joins the two lines; the hyphen
# is usually a real one ("2023-2028"), so it is kept.
_PDFIUM_LINE_END_HYPHEN = "\ufffe"
# Hyphens that a typesetter added to break a word (WeasyPrint and browsers print U+2010, or a
# soft hyphen): the word is joined again.
_ADDED_HYPHEN = re.compile("[\u2010\u00ad]\r?\n")


def _extract_pdf(path: Path) -> Extracted:
    with PDFIUM_LOCK:
        try:
            document = pdfium.PdfDocument(path)
        except pdfium.PdfiumError:  # damaged, or encrypted with a password we do not have
            logger.info("no text from %s: PDFium cannot open it", path, exc_info=True)
            return Extracted("", page_count=None)
        try:
            page_count = len(document)
            pages = _pdf_page_texts(document, page_count)
        finally:
            document.close()
    text = _collect(
        _ADDED_HYPHEN.sub("", page).replace(_PDFIUM_LINE_END_HYPHEN, "-") for page in pages
    )
    return Extracted(text, page_count)


def _pdf_page_texts(document: pdfium.PdfDocument, page_count: int) -> list[str]:
    """The raw text of each page, until there is enough; a page PDFium cannot read is skipped."""
    texts: list[str] = []
    size = 0
    for index in range(page_count):
        try:
            text = _pdf_page_text(document, index)
        except pdfium.PdfiumError:
            logger.info("no text from page %d of a PDF", index + 1, exc_info=True)
            continue
        texts.append(text)
        size += len(text)
        if size >= MAX_TEXT_CHARS:
            break
    return texts


def _pdf_page_text(document: pdfium.PdfDocument, index: int) -> str:
    page = document[index]
    try:
        textpage = page.get_textpage()
        try:
            return str(textpage.get_text_range())
        finally:
            textpage.close()
    finally:
        page.close()


def _render(document: pdfium.PdfDocument, index: int, width: int) -> Image.Image:
    page = document[index]
    try:
        page_width, page_height = page.get_size()  # in points, after the page's /Rotate
        if page_width <= 0 or page_height <= 0:
            raise PageNotFound(index + 1)
        scale = min(width / page_width, (MAX_RENDER_PIXELS / (page_width * page_height)) ** 0.5)
        bitmap = page.render(scale=scale)
        try:
            # A copy, so that the image outlives the bitmap; the PNG is encoded outside the lock.
            return bitmap.to_pil().convert("RGB")
        finally:
            bitmap.close()
    finally:
        page.close()


# --- Word and Excel ---------------------------------------------------------------------------


def _package_text(path: Path, read_lines: Callable[[Path], Generator[str, None, None]]) -> str:
    if not _unpacks_within_limits(path):
        logger.warning("no text from %s: its parts unpack past the limits", path)
        return ""
    lines = read_lines(path)
    try:
        return _collect(lines)
    # python-docx, openpyxl, lxml and zipfile raise many kinds of errors on a damaged file
    # (KeyError for a missing part, ValueError, XMLSyntaxError, BadZipFile, RecursionError for
    # absurdly nested tables); none of them should lose the upload.
    except Exception:
        logger.warning("no text from %s: it cannot be read", path, exc_info=True)
        return ""
    finally:
        lines.close()  # closes the workbook when the text was long enough before the end


def _unpacks_within_limits(path: Path) -> bool:
    try:
        with zipfile.ZipFile(path) as package:
            sizes = [info.file_size for info in package.infolist()]
    except (zipfile.BadZipFile, OSError, ValueError):
        return False
    return max(sizes, default=0) <= MAX_PART_BYTES and sum(sizes) <= MAX_UNPACKED_BYTES


class _Budget:
    """How many more paragraphs, table rows, cells or spreadsheet cells may be visited."""

    def __init__(self) -> None:
        self.left = MAX_ELEMENTS_VISITED

    def take(self, elements: int = 1) -> bool:
        self.left -= elements
        return self.left >= 0


def _docx_lines(path: Path) -> Generator[str, None, None]:
    """Paragraphs and table rows (cells separated by tabs) in document order."""
    document = docx.Document(str(path))
    budget = _Budget()
    for block in document.iter_inner_content():
        if not budget.take():
            return
        yield from _block_lines(block, budget)


def _block_lines(block: Paragraph | Table, budget: _Budget) -> Generator[str, None, None]:
    if isinstance(block, Paragraph):
        yield block.text
        return
    for row in block.rows:
        cells: list[str] = []
        for cell in row.cells:
            if not budget.take():
                return
            text = " ".join(
                line
                for inner in cell.iter_inner_content()  # paragraphs and nested tables
                for line in _block_lines(inner, budget)
            )
            if not cells or text != cells[-1]:  # a merged cell comes once for each column
                cells.append(text)
        yield "\t".join(cells)


def _xlsx_lines(path: Path) -> Generator[str, None, None]:
    """Each sheet's name, then its rows, the cells that have a value separated by tabs."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        budget = _Budget()
        for sheet in workbook.worksheets:
            yield sheet.title
            # The stored dimensions would pad every row to the widest one; only real cells count.
            sheet.reset_dimensions()
            for row in sheet.iter_rows(values_only=True):
                if not budget.take(max(1, len(row))):
                    return
                yield "\t".join(_cell_text(value) for value in row if value is not None)
    finally:
        workbook.close()


def _cell_text(value: object) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    if isinstance(value, datetime.datetime) and value.time() == datetime.time():
        return value.date().isoformat()
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


# --- text -------------------------------------------------------------------------------------

# Invisible characters that only get in the way of search: controls other than tab and line
# breaks, soft hyphens, zero-width and direction marks, byte order marks, private use.
_INVISIBLE = re.compile(
    "[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064"
    "\ufeff\ufffe\uffff\ue000-\uf8ff]"
)


def _collect(chunks: Iterable[str]) -> str:
    """Normalised chunks, one line each, until there are MAX_TEXT_CHARS."""
    lines: list[str] = []
    size = 0
    for chunk in chunks:
        text = _normalise(chunk)
        if text:
            lines.append(text)
            size += len(text) + 1
            if size > MAX_TEXT_CHARS:
                break
    return "\n".join(lines)[:MAX_TEXT_CHARS].rstrip()


def _normalise(text: str) -> str:
    """NFC; runs of spaces made one space; tabs kept between fields; no empty lines."""
    lines = []
    for line in unicodedata.normalize("NFC", _INVISIBLE.sub("", text)).splitlines():
        fields = (" ".join(field.split()) for field in line.split("\t"))
        kept = "\t".join(field for field in fields if field)
        if kept:
            lines.append(kept)
    return "\n".join(lines)
