"""Benchmark: delegate cards as PDF (checkin/cards.py).

    .venv/bin/python bench/cards.py [--cards 1100] [--repeat 3] [--single 20]

Prints a markdown table of medians: 1,100 cards as A4 sheets of 8 rendered by 2 worker
processes, and by 1 (in this process, WeasyPrint on one core) as the baseline measured in
the same run; one CR80 card; the cost per card. Realistic Vietnamese names and delegations
(seeded), half of the delegates with a photo (a small JPEG), every card with the same logo.
Goals (issue "delegate cards"): 1,100 cards on A4 in <= 15 s on 2 cores; one card <= 300 ms.
"""

from __future__ import annotations

import argparse
import io
import os
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from harness import FAMILY, GIVEN, MIDDLE, POSITIONS  # noqa: E402
from PIL import Image, ImageDraw  # noqa: E402

from checkin.cards import Card, CardCongress, render_cards  # noqa: E402

DELEGATIONS = [
    "Liên đoàn Lao động thành phố Hà Tĩnh",
    "Liên đoàn Lao động thị xã Hồng Lĩnh",
    "Liên đoàn Lao động huyện Cẩm Xuyên",
    "Liên đoàn Lao động huyện Hương Khê",
    "Công đoàn ngành Giáo dục",
    "Công đoàn ngành Y tế",
    "Công đoàn Viên chức tỉnh",
    "Công đoàn các Khu kinh tế tỉnh",
]
KINDS = ["official"] * 8 + ["invited", "guest"]
BASE = "HTTP://192.168.1.10:8000/D/"
ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"


def logo() -> bytes:
    image = Image.new("RGBA", (240, 240), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((4, 4, 236, 236), fill=(183, 28, 28, 255))
    draw.ellipse((48, 48, 192, 192), fill=(255, 214, 0, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def photo(rng: random.Random) -> bytes:
    background = tuple(rng.randint(120, 230) for _ in range(3))
    image = Image.new("RGB", (300, 400), background)
    draw = ImageDraw.Draw(image)
    draw.ellipse((90, 60, 210, 210), fill=(228, 190, 160))
    draw.rectangle((50, 250, 250, 400), fill=(30, 50, 110))
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=85)
    return buffer.getvalue()


def make_cards(count: int) -> list[Card]:
    rng = random.Random(1100)
    return [
        Card(
            full_name=f"{rng.choice(FAMILY)} {rng.choice(MIDDLE)} {rng.choice(GIVEN)}",
            delegation=rng.choice(DELEGATIONS),
            position=rng.choice(POSITIONS),
            kind=rng.choice(KINDS),
            card_number=f"{n:04d}",
            photo=photo(rng) if n % 2 else None,
            url=BASE + "".join(rng.choice(ALPHABET) for _ in range(26)),
        )
        for n in range(1, count + 1)
    ]


CONGRESS = CardCongress(
    title="Đại hội Công đoàn tỉnh Hà Tĩnh",
    number="XIX",
    term="2023–2028",
    organizing_union="Liên đoàn Lao động tỉnh Hà Tĩnh",
    dates="10–11/10/2023",
    logo=logo(),
)


def timed(render: Callable[[], object]) -> float:
    start = time.perf_counter()
    render()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--cards", type=int, default=1100)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--single", type=int, default=20)
    args = parser.parse_args()
    n = args.cards
    cards = make_cards(n)

    # The first card pays for loading fonts and templates once per process: not counted.
    single = [
        timed(lambda: render_cards(CONGRESS, cards[:1], "cr80")) for _ in range(args.single + 1)
    ][1:]
    two = [
        timed(lambda: render_cards(CONGRESS, cards, "a4", workers=2)) for _ in range(args.repeat)
    ]
    one = [
        timed(lambda: render_cards(CONGRESS, cards, "a4", workers=1)) for _ in range(args.repeat)
    ]
    pdf = render_cards(CONGRESS, cards, "a4", workers=2)
    two_s, one_s, card_s = statistics.median(two), statistics.median(one), statistics.median(single)

    print(f"Delegate cards, Python {platform.python_version()}, {os.cpu_count()} cores,")
    print(f"median of {args.repeat} runs (A4) and {len(single)} (CR80)\n")
    print("| what | wall | per card |")
    print("|---|---:|---:|")
    print(f"| {n} cards, A4 8-up, workers=2 | **{two_s:.2f} s** | {two_s / n * 1e3:.1f} ms |")
    print(f"| baseline: the same, workers=1 | {one_s:.2f} s | {one_s / n * 1e3:.1f} ms |")
    print(f"| one card, CR80 | **{card_s * 1e3:.0f} ms** | |")
    print()
    print(f"speed-up of 2 workers over 1: {one_s / two_s:.2f}x; the PDF: {len(pdf) / 1e6:.1f} MB,")
    print(f"{-(-n // 8)} sheets. Every run, workers=2: {', '.join(f'{t:.2f}' for t in two)} s;")
    print(f"workers=1: {', '.join(f'{t:.2f}' for t in one)} s")
    print(f"goal: {n} cards <= 15 s -> {'met' if two_s <= 15 else 'NOT met'}")
    print(f"goal: one card <= 300 ms -> {'met' if card_s <= 0.3 else 'NOT met'}")


if __name__ == "__main__":
    main()
