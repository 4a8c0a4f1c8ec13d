"""Delegate cards as PDF: every QR code read back by a real decoder, the names in the text."""

from __future__ import annotations

import contextlib
import io
import re
import socket
import threading
import unicodedata
from collections.abc import Iterator

import msgspec
import pypdfium2
import pytest
import zxingcpp
from PIL import Image, ImageDraw

from checkin.cards import Card, CardCongress, qr_png, render_cards

BASE = "HTTP://192.168.1.10:8000/D/"
NAMES = ["Nguyễn Thị Hạnh", "Đặng Quốc Bảo", "Lê Thị Ượt"]
MM_PER_POINT = 25.4 / 72


def image_bytes(kind: str, size: tuple[int, int], colour: tuple[int, ...]) -> bytes:
    image = Image.new("RGBA" if kind == "PNG" else "RGB", size, colour)
    ImageDraw.Draw(image).ellipse((size[0] // 4, size[1] // 5, size[0] * 3 // 4, size[1] // 2))
    buffer = io.BytesIO()
    image.save(buffer, kind)
    return buffer.getvalue()


CONGRESS = CardCongress(
    title="Đại hội Công đoàn tỉnh Hà Tĩnh",
    number="XIX",
    term="2023–2028",
    organizing_union="Liên đoàn Lao động tỉnh Hà Tĩnh",
    dates="10–11/10/2023",
    logo=image_bytes("PNG", (120, 120), (183, 28, 28, 255)),
)
PHOTO = image_bytes("JPEG", (300, 400), (200, 180, 160))


def token(n: int) -> str:
    return f"{n:02d}ABCDEFGHIJKLMNOPQRSTUVWX"


def make_cards(count: int, names: list[str] = NAMES) -> list[Card]:
    return [
        Card(
            full_name=names[n % len(names)],
            delegation="Công đoàn ngành Giáo dục",
            position="Chủ tịch Công đoàn cơ sở",
            kind=("official", "invited", "guest")[n % 3],
            card_number=f"{n + 1:03d}",
            photo=PHOTO if n % 2 == 0 else None,
            url=BASE + token(n),
        )
        for n in range(count)
    ]


@contextlib.contextmanager
def opened(pdf: bytes) -> Iterator[pypdfium2.PdfDocument]:
    document = pypdfium2.PdfDocument(pdf)
    try:
        yield document
    finally:
        document.close()


def qr_codes_per_page(pdf: bytes, dpi: int) -> list[list[str]]:
    """What a real decoder reads from each page printed at this resolution."""
    with opened(pdf) as document:
        return [
            [code.text for code in zxingcpp.read_barcodes(page.render(scale=dpi / 72).to_pil())]
            for page in document
        ]


def page_sizes_mm(pdf: bytes) -> list[tuple[float, float]]:
    with opened(pdf) as document:
        return [
            (page.get_width() * MM_PER_POINT, page.get_height() * MM_PER_POINT) for page in document
        ]


def text_per_page(pdf: bytes) -> list[str]:
    with opened(pdf) as document:
        return [page.get_textpage().get_text_bounded() for page in document]


def flat(text: str) -> str:
    """Text without the line breaks a narrow column puts into it."""
    return re.sub(r"\s+", "", text)


# --- every card's QR code, once, on the right page of the right size ----------------------------


def test_a4_sheets_hold_eight_cards_each_and_every_qr_code_once() -> None:
    cards = make_cards(10)
    pdf = render_cards(CONGRESS, cards, "a4")
    sizes = page_sizes_mm(pdf)
    assert len(sizes) == 2
    for width, height in sizes:
        assert width == pytest.approx(210, abs=0.5)
        assert height == pytest.approx(297, abs=0.5)
    pages = qr_codes_per_page(pdf, dpi=200)
    assert sorted(pages[0]) == sorted(card.url for card in cards[:8])
    assert sorted(pages[1]) == sorted(card.url for card in cards[8:])


def test_cr80_is_one_card_a_page_at_the_size_of_an_id_card() -> None:
    cards = make_cards(2)
    pdf = render_cards(CONGRESS, cards, "cr80")
    for width, height in page_sizes_mm(pdf):
        assert width == pytest.approx(85.6, abs=0.5)
        assert height == pytest.approx(53.98, abs=0.5)
    assert qr_codes_per_page(pdf, dpi=300) == [[cards[0].url], [cards[1].url]]


def test_a6_is_one_badge_a_page() -> None:
    cards = make_cards(3)
    pdf = render_cards(CONGRESS, cards, "a6")
    for width, height in page_sizes_mm(pdf):
        assert width == pytest.approx(105, abs=0.5)
        assert height == pytest.approx(148, abs=0.5)
    assert qr_codes_per_page(pdf, dpi=150) == [[card.url] for card in cards]


def test_a_large_batch_rendered_by_worker_processes_keeps_the_order() -> None:
    cards = make_cards(48, names=[f"Đại biểu {n:03d}" for n in range(48)])
    progress: list[tuple[int, int]] = []
    pdf = render_cards(
        CONGRESS, cards, "a4", workers=2, on_progress=lambda *done: progress.append(done)
    )
    pages = text_per_page(pdf)
    assert len(pages) == 6
    for sheet, text in enumerate(pages):
        found = [int(n) for n in re.findall(r"Đại biểu (\d{3})", text)]
        assert sorted(found) == list(range(sheet * 8, sheet * 8 + 8))
    assert progress[-1] == (48, 48)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


# --- names exactly as written, in Vietnamese ----------------------------------------------------


@pytest.mark.parametrize("form", ["NFC", "NFD"])
def test_names_print_with_their_diacritics(form: str) -> None:
    names = [unicodedata.normalize(form, name) for name in NAMES]
    pdf = render_cards(CONGRESS, make_cards(3, names=names), "cr80")
    texts = text_per_page(pdf)
    for name, text in zip(NAMES, texts, strict=True):
        assert name in unicodedata.normalize("NFC", text)
        assert name in text  # the PDF itself holds the composed letters
    assert "ĐẠI HỘI CÔNG ĐOÀN TỈNH HÀ TĨNH LẦN THỨ XIX" in texts[0]
    assert "THẺ ĐẠI BIỂU" in texts[0]
    assert "ĐẠI BIỂU KHÁCH MỜI" in texts[1]
    assert "KHÁCH MỜI" in texts[2]
    assert "Số thẻ: 001" in texts[0]


@pytest.mark.parametrize("layout", ["cr80", "a6"])
def test_a_long_name_and_position_stay_on_the_card(layout: str) -> None:
    name = "Nguyễn Thị Phương Thảo Hoàng Lan Anh"
    position = (
        "Ủy viên Ban Chấp hành Công đoàn ngành Giáo dục, Chủ tịch Công đoàn cơ sở "
        "Trường Trung học phổ thông Phan Đình Phùng, thành phố Hà Tĩnh, tỉnh Hà Tĩnh (2023)"
    )
    assert len(position) >= 150
    card = Card(name, "Công đoàn ngành Giáo dục", position, "official", "001", PHOTO, BASE + "X")
    pdf = render_cards(CONGRESS, [card], layout)
    with opened(pdf) as document:
        page = document[0]
        textpage = page.get_textpage()
        assert flat(name) in flat(textpage.get_text_bounded())
        assert flat(position) in flat(textpage.get_text_bounded())
        width, height = page.get_size()
        boxes = [textpage.get_charbox(index) for index in range(textpage.count_chars())]
    assert min(left for left, _, _, _ in boxes) >= 0
    assert min(bottom for _, bottom, _, _ in boxes) >= 0
    assert max(right for _, _, right, _ in boxes) <= width
    assert max(top for _, _, _, top in boxes) <= height


# --- what a spreadsheet cell cannot do ----------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[int, list[str]]]:
    """A TCP server on 127.0.0.1 that notes every connection and closes it at once."""
    server = socket.create_server(("127.0.0.1", 0))
    server.settimeout(0.2)
    connections: list[str] = []
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                connection, peer = server.accept()
            except TimeoutError:
                continue
            connections.append(f"{peer}")
            connection.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


def test_the_listener_would_see_a_fetch(listener: tuple[int, list[str]]) -> None:
    from weasyprint import HTML

    port, connections = listener
    HTML(string=f'<img src="http://127.0.0.1:{port}/x">').write_pdf()
    assert connections


def test_markup_in_a_name_prints_as_text_and_fetches_nothing(
    listener: tuple[int, list[str]],
) -> None:
    port, connections = listener
    name = f'<img src="http://127.0.0.1:{port}/x">'
    delegation = f"</div><style>*{{background:url(http://127.0.0.1:{port}/y)}}</style>"
    position = f'"><link rel=stylesheet href="http://127.0.0.1:{port}/z">'
    card = Card(name, delegation, position, "guest", "<b>7</b>", None, BASE + "INJECTION")
    congress = CardCongress(
        f"<script>fetch('http://127.0.0.1:{port}/w')</script>", "", "", "", "", None
    )
    for layout in ("cr80", "a6"):
        pdf = render_cards(congress, [card], layout)
        text = flat(text_per_page(pdf)[0])
        for markup in (name, delegation, position, "<b>7</b>"):
            assert flat(markup) in text
    assert connections == []


# --- the QR code itself -------------------------------------------------------------------------


def qr_version(png: bytes) -> int:
    size = Image.open(io.BytesIO(png)).size[0]
    modules = size - 2 * 4
    return (modules - 17) // 4


def decode_png(png: bytes) -> list[str]:
    image = Image.open(io.BytesIO(png)).convert("L")
    big = image.resize((image.width * 8, image.height * 8), Image.Resampling.NEAREST)
    return [code.text for code in zxingcpp.read_barcodes(big)]


def test_qr_png_decodes_back_to_its_address() -> None:
    for url in (BASE + token(1), "https://dai-hoi.example.vn/d/Mixed-Case?x=1"):
        assert decode_png(qr_png(url)) == [url]


def test_an_upper_case_address_gets_a_small_qr_code() -> None:
    url = BASE + "ABCDEFGHIJKLMNOPQRSTUVWXYZ"  # 27 + 26 characters
    png = qr_png(url)
    image = Image.open(io.BytesIO(png))
    assert image.width == image.height
    assert (image.width - 8 - 17) % 4 == 0  # one pixel a module, a quiet zone of 4
    assert image.getpixel((0, 0)) == image.getpixel((3, 3)) != image.getpixel((4, 4))
    # Alphanumeric mode fits 53 characters in version 3; bytes (lower case) need version 4.
    assert qr_version(png) <= 3
    assert qr_version(qr_png(url.lower())) == 4
    assert qr_version(qr_png(url + "0123456")) <= 4  # about 55-60 characters: still small


# --- what the renderer refuses ------------------------------------------------------------------


def test_an_unknown_layout_or_kind_is_refused() -> None:
    with pytest.raises(ValueError, match="layout"):
        render_cards(CONGRESS, make_cards(1), "letter")
    card = make_cards(1)[0]
    with pytest.raises(ValueError, match="kind"):
        render_cards(CONGRESS, [msgspec.structs.replace(card, kind="vip")], "cr80")
    with pytest.raises(ValueError, match="no cards"):
        render_cards(CONGRESS, [], "a4")


def test_an_unreadable_photo_or_logo_leaves_a_card_without_it() -> None:
    congress = msgspec.structs.replace(CONGRESS, logo=b"not an image")
    card = msgspec.structs.replace(make_cards(1)[0], photo=b"\xff\xd8 broken jpeg")
    pdf = render_cards(congress, [card], "cr80")
    assert qr_codes_per_page(pdf, dpi=300) == [[card.url]]
