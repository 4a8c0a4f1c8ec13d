"""Delegate cards as a PDF: pure rendering, data in and PDF bytes out, no database.

A card carries the congress, the kind of delegate on a colour band of its own, the name,
delegation, position, card number, photo and the QR code that the check-in tablets scan.
Three layouts: ``cr80`` (one ID-1 card a page, for card printers), ``a6`` (one badge a
page, for A6 holders on a lanyard) and ``a4`` (sheets of 8 cards with cut marks).

WeasyPrint uses one core, so a large batch is split into chunks of whole sheets, each
rendered in a process of its own, and the chunk PDFs are merged in order with pypdf.
Every image is passed inside the page as a ``data:`` URI; anything else the renderer asks
for goes through ``documents.pdf.safe_fetcher``, which refuses all but the app's static
files. Text is escaped by Jinja, so a name holding markup prints as that markup.
"""

from __future__ import annotations

import base64
import io
import logging
import multiprocessing
import unicodedata
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from functools import cache
from pathlib import Path
from typing import Any

import msgspec
import qrcode
from jinja2 import Environment
from PIL import Image, ImageOps, UnidentifiedImageError

log = logging.getLogger(__name__)

LAYOUTS = ("cr80", "a6", "a4")
KIND_LABELS = {
    "official": "THẺ ĐẠI BIỂU",
    "invited": "ĐẠI BIỂU KHÁCH MỜI",
    "guest": "KHÁCH MỜI",
}
CARDS_PER_SHEET = {"cr80": 1, "a6": 1, "a4": 8}
PAGE_SIZES = {"cr80": "85.6mm 53.98mm", "a6": "105mm 148mm", "a4": "210mm 297mm"}
# Below this many cards, starting processes costs more than it saves.
IN_PROCESS_BELOW = 40
CHUNKS_PER_WORKER = 4
SMALLEST_CHUNK = 64
# Mask 0 instead of qrcode's search for the best of 8 masks (about 15 ms a code): any
# mask scans, the search only evens out the light and dark modules a little.
QR_MASK = 0
QR_QUIET_ZONE = 4
PHOTO_PIXELS = {"cr80": (240, 320), "a4": (240, 320), "a6": (360, 480)}
LOGO_PIXELS = 300
STATIC = Path(__file__).resolve().parent / "static"


class CardCongress(msgspec.Struct, frozen=True):
    title: str  # "Đại hội Công đoàn tỉnh Hà Tĩnh"
    number: str  # "XIX", or ""
    term: str  # "2023–2028", or ""
    organizing_union: str  # "Liên đoàn Lao động tỉnh Hà Tĩnh"
    dates: str  # "10–11/10/2023", preformatted, or ""
    logo: bytes | None  # PNG or JPEG


class Card(msgspec.Struct, frozen=True):
    full_name: str
    delegation: str
    position: str
    kind: str  # official | invited | guest
    card_number: str  # or ""
    photo: bytes | None  # PNG or JPEG
    url: str  # what the QR code holds: the delegate's short address


def qr_png(url: str) -> bytes:
    """The QR code of ``url`` as a PNG: one pixel a module, a quiet zone of 4 modules.

    Error correction M, the smallest version that holds the address; an upper-case address
    (digits, A-Z and ``$%*+-./:``) is written in alphanumeric mode, 5.5 bits a character
    instead of 8, so it fits a lower version with larger modules.
    """
    code = qrcode.QRCode(
        error_correction=qrcode.constants.ERROR_CORRECT_M,
        border=QR_QUIET_ZONE,
        mask_pattern=QR_MASK,
    )
    # add_data splits the address into runs of the densest mode each run allows; an
    # address that is alphanumeric throughout stays one alphanumeric run.
    code.add_data(url)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    image = Image.new("1", (size, size), 1)
    image.putdata([0 if dark else 255 for row in matrix for dark in row])
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def render_cards(
    congress: CardCongress,
    cards: Sequence[Card],
    layout: str,
    *,
    workers: int = 2,
    on_progress: Callable[[int, int], None] | None = None,
) -> bytes:
    """The cards as one PDF, in the order given.

    A batch of ``IN_PROCESS_BELOW`` cards or more is shared by ``workers`` processes, in
    chunks of whole sheets merged in order; a smaller one, or ``workers=1``, renders in this
    process. ``on_progress(done, total)`` is called from the calling thread as chunks finish.
    """
    if layout not in LAYOUTS:
        raise ValueError(f"unknown card layout {layout!r}; one of {', '.join(LAYOUTS)}")
    if not cards:
        raise ValueError("no cards to render")
    unknown = {card.kind for card in cards} - KIND_LABELS.keys()
    if unknown:
        raise ValueError(f"unknown delegate kind {sorted(unknown)!r}")
    total = len(cards)
    if workers <= 1 or total < IN_PROCESS_BELOW:
        pdf = _render_chunk(congress, list(cards), layout, 0, _sheet_count(total, layout))
        if on_progress is not None:
            on_progress(total, total)
        return pdf
    return _render_in_processes(congress, cards, layout, workers, on_progress)


def _sheet_count(cards: int, layout: str) -> int:
    return -(-cards // CARDS_PER_SHEET[layout])


def _chunks(cards: Sequence[Card], layout: str, workers: int) -> list[list[Card]]:
    """Runs of whole sheets, a few for each worker so that progress moves in small steps.

    Each chunk costs a WeasyPrint start (stylesheet, fonts) and its own font subsets in the
    merged file: chunks have ``SMALLEST_CHUNK`` cards or more.
    """
    per_sheet = CARDS_PER_SHEET[layout]
    sheets = _sheet_count(len(cards), layout)
    pieces = max(workers, min(workers * CHUNKS_PER_WORKER, len(cards) // SMALLEST_CHUNK))
    size = -(-sheets // pieces) * per_sheet
    return [list(cards[start : start + size]) for start in range(0, len(cards), size)]


def _render_in_processes(
    congress: CardCongress,
    cards: Sequence[Card],
    layout: str,
    workers: int,
    on_progress: Callable[[int, int], None] | None,
) -> bytes:
    from pypdf import PdfWriter

    chunks = _chunks(cards, layout, workers)
    total_sheets = _sheet_count(len(cards), layout)
    first_sheets = [0]
    for chunk in chunks[:-1]:
        first_sheets.append(first_sheets[-1] + _sheet_count(len(chunk), layout))
    parts: list[bytes] = [b""] * len(chunks)
    done = 0
    # Not fork: the caller is an asyncio server with threads, and a forked child would
    # inherit their locks mid-flight. The fork server forks from a clean process that has
    # already imported WeasyPrint, so only the first batch pays for that import.
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["weasyprint", "checkin.cards"])
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks)), mp_context=context) as pool:
        futures = {
            pool.submit(_render_chunk, congress, chunk, layout, first, total_sheets): index
            for index, (chunk, first) in enumerate(zip(chunks, first_sheets, strict=True))
        }
        try:
            for future in as_completed(futures):
                index = futures[future]
                parts[index] = future.result()
                done += len(chunks[index])
                if on_progress is not None:
                    on_progress(done, len(cards))
        except BaseException:
            for future in futures:
                future.cancel()
            raise
    writer = PdfWriter()
    for part in parts:
        writer.append(io.BytesIO(part))
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def _render_chunk(
    congress: CardCongress, cards: list[Card], layout: str, first_sheet: int, total_sheets: int
) -> bytes:
    """One WeasyPrint document for these cards; runs in a worker process for big batches."""
    from documents.pdf import write_pdf

    per_sheet = CARDS_PER_SHEET[layout]
    views = [_card_view(card, layout) for card in cards]
    sheets = [
        _sheet_view(first_sheet + n + 1, views[start : start + per_sheet])
        for n, start in enumerate(range(0, len(views), per_sheet))
    ]
    html = (
        _environment()
        .get_template("cards_pdf.html")
        .render(
            layout=layout,
            page_size=PAGE_SIZES[layout],
            congress=_congress_view(congress),
            sheets=sheets,
            total_sheets=total_sheets,
        )
    )
    return write_pdf(html, STATIC.as_uri() + "/")


def _sheet_view(number: int, cards: list[dict[str, Any]]) -> dict[str, Any]:
    first, last = cards[0]["number"], cards[-1]["number"]
    numbers = (first if first == last else f"{first}–{last}") if first and last else ""
    return {"number": number, "cards": cards, "numbers": numbers}


@cache
def _environment() -> Environment:
    from congress.templating import make_environment

    return make_environment()


def _text(value: str) -> str:
    """NFC (a spreadsheet may hold decomposed accents) and single spaces."""
    return " ".join(unicodedata.normalize("NFC", value).split())


def _congress_view(congress: CardCongress) -> dict[str, Any]:
    title = _text(congress.title).upper()
    number = _text(congress.number).upper()
    edition = f"LẦN THỨ {number}" if number else ""
    term = _text(congress.term)
    dates = _text(congress.dates)
    return {
        "title": title,
        "edition": edition,
        "title_size": _size_class(len(title) + len(edition), (46, 60, 80)),
        "union": _text(congress.organizing_union).upper(),
        "term_and_dates": "\u2002•\u2002".join(
            part for part in (f"Nhiệm kỳ {term}" if term else "", dates) if part
        ),
        "logo": _image_uri(congress.logo, _logo_image),
    }


def _card_view(card: Card, layout: str) -> dict[str, Any]:
    name = _text(card.full_name)
    position = _text(card.position)
    delegation = _text(card.delegation)
    photo = _image_uri(card.photo, lambda image: _photo_image(image, PHOTO_PIXELS[layout]))
    return {
        "kind": card.kind,
        "label": KIND_LABELS[card.kind],
        "name": name,
        "name_size": _size_class(len(name), (16, 22, 30)),
        "delegation": delegation,
        "delegation_size": _size_class(len(delegation), (40, 60, 90)),
        "position": position,
        "position_size": _size_class(len(position), (40, 60, 90)),
        "number": _text(card.card_number),
        "photo": photo,
        "qr": "data:image/png;base64," + base64.b64encode(qr_png(card.url)).decode(),
    }


def _size_class(length: int, limits: tuple[int, int, int]) -> str:
    """l, m, s or xs: the longer the text, the smaller the type (cards/cards.css)."""
    for size, limit in zip(("l", "m", "s"), limits, strict=True):
        if length <= limit:
            return size
    return "xs"


def _image_uri(data: bytes | None, prepare: Callable[[Image.Image], Image.Image]) -> str:
    """An uploaded image, cropped and scaled for the card, as a data: URI ('' if unusable)."""
    if not data:
        return ""
    try:
        with Image.open(io.BytesIO(data)) as original:
            image = prepare(original)
            buffer = io.BytesIO()
            if image.mode in ("RGBA", "LA", "P"):
                image.save(buffer, "PNG", optimize=False)
                media_type = "image/png"
            else:
                image.convert("RGB").save(buffer, "JPEG", quality=85)
                media_type = "image/jpeg"
    except (UnidentifiedImageError, Image.DecompressionBombError, OSError, ValueError) as error:
        # One unreadable photo must not stop a batch of a thousand cards.
        log.warning("card image left out: %s", error)
        return ""
    return f"data:{media_type};base64," + base64.b64encode(buffer.getvalue()).decode()


def _photo_image(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    """3:4, cropped around the upper middle where a face is, scaled to print size."""
    image.draft("RGB", (size[0] * 2, size[1] * 2))  # JPEG decodes at a reduced scale
    upright = ImageOps.exif_transpose(image).convert("RGB")
    return ImageOps.fit(upright, size, Image.Resampling.LANCZOS, centering=(0.5, 0.35))


def _logo_image(image: Image.Image) -> Image.Image:
    upright = ImageOps.exif_transpose(image)
    if upright.mode not in ("RGB", "RGBA", "L", "LA"):
        upright = upright.convert("RGBA")
    upright.thumbnail((LOGO_PIXELS, LOGO_PIXELS), Image.Resampling.LANCZOS)
    return upright
