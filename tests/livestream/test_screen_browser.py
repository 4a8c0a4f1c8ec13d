"""The screens in a real browser at the shapes of real walls: a 32:9 strip (3840×1080), a
1920×540 strip and a portrait totem (1080×1920). Every content kind is drawn and saved to
/tmp/screen-<kind>-<w>x<h>.png for a person to look at; no block of text may overflow.
Then the server goes away under an open page, which keeps its picture and, once the
server is back, catches up by itself.

Needs Chromium (/usr/bin/chromium, or CONGRESS_TEST_CHROMIUM); fails, never skips.
"""

from __future__ import annotations

import datetime
import os
from collections.abc import Awaitable, Callable
from typing import Any

from playwright.async_api import Page, async_playwright, expect

from congress.eventlog import SYSTEM, RecordingEventBus
from congress.voting import services as voting
from congress.voting.schemas import BallotIn, CandidateIn, PollIn
from livestream.screens import services
from livestream.screens.schemas import PlaylistItem, ScreenContent
from livestream.tables import Speaker
from tests.conftest import LiveServer
from tests.livestream.screen_fixtures import make_hall, make_screen, open_election

CHROMIUM = os.environ.get("CONGRESS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SIZES = [(3840, 1080), (1920, 540), (1080, 1920)]
CANDIDATES = [
    "Nguyễn Thị Hạnh",
    "Trần Văn Đức",
    "Lê Thị Thu Hà",
    "Phạm Quốc Bảo",
    "Hoàng Minh Tuấn",
    "Võ Thị Ánh",
    "Đặng Văn Hùng",
]
OVERFLOWING = """() => [...document.querySelectorAll('#stage [data-fit], #bar')]
  .concat([...document.querySelectorAll('#stage .who, #stage .votes, #stage .tag')])
  .filter(n => n.scrollHeight > n.clientHeight + 8 || n.scrollWidth > n.clientWidth + 2)
  .map(n => n.className + ': ' + n.textContent.slice(0, 40))"""


async def closed_election(hall: dict[str, Any]) -> int:
    congress_id = hall["congress"]
    poll_id = await voting.create_poll(
        congress_id,
        PollIn(
            kind="election",
            title="Bầu Ủy ban Kiểm tra Công đoàn tỉnh khóa XIX, nhiệm kỳ 2023–2028",
            seats=4,
            candidates=[CandidateIn(name=n, note="Công đoàn ngành Y tế") for n in CANDIDATES],
            sitting_id=hall["sitting"],
            require_quorum=False,
        ),
        SYSTEM,
    )
    await voting.open_poll(congress_id, poll_id, SYSTEM)
    picks = [["c1", "c2", "c3", "c4"], ["c1", "c2", "c5"], ["c1", "c3", "c6", "c7"]]
    for delegate, choices in zip(hall["officials"][:3], picks, strict=True):
        await voting.cast_ballot(congress_id, delegate, poll_id, BallotIn(choices=choices))
    await voting.close_poll(congress_id, poll_id, SYSTEM)
    return poll_id


async def speaking(hall: dict[str, Any]) -> None:
    now = datetime.datetime.now(datetime.UTC)
    await Speaker.insert(
        Speaker(
            congress=hall["congress"],
            sitting=hall["sitting"],
            name="Nguyễn Thị Thanh Hương",
            delegation="Công đoàn Khu kinh tế tỉnh Hà Tĩnh",
            topic="Nâng cao chất lượng thương lượng tập thể tại doanh nghiệp",
            status="speaking",
            allotted_seconds=420,
            elapsed_ms=0,
            timer_started_at=now,
            requested_at=now,
        ),
        Speaker(
            congress=hall["congress"],
            sitting=hall["sitting"],
            name="Trần Văn Đức",
            delegation="Công đoàn ngành Giáo dục",
            status="queued",
            position=1,
            requested_at=now,
        ),
    )


async def shown(page: Page) -> None:
    await expect(page.locator("#stage .view")).to_have_count(1)
    await page.wait_for_timeout(400)  # pictures load, type is fitted


async def test_every_kind_fits_every_wall_and_survives_a_restart(
    live_server: LiveServer,
    make_congress: Callable[..., Awaitable[int]],
    bus: RecordingEventBus,
) -> None:
    congress_id = await make_congress(
        name="Đại hội Công đoàn tỉnh Hà Tĩnh", term="2023–2028", organizing_union="LĐLĐ tỉnh"
    )
    hall = await make_hall(congress_id)
    await services.set_current_item(congress_id, None, hall["item"], SYSTEM)
    await services.set_announcement(
        congress_id,
        "Đề nghị các đại biểu về chỗ ngồi, chuẩn bị thẻ biểu quyết cho phiên làm việc buổi chiều.",
        SYSTEM,
    )
    await speaking(hall)
    await open_election(hall, votes=3)
    election = await closed_election(hall)
    contents = {
        "title": ScreenContent(kind="title"),
        "speaker": ScreenContent(kind="speaker"),
        "attendance": ScreenContent(kind="attendance"),
        "poll-open": ScreenContent(kind="poll", poll_id=hall["election"]),
        "poll-motion": ScreenContent(kind="poll", poll_id=hall["motion"]),
        "poll-election": ScreenContent(kind="poll", poll_id=election),
        "document": ScreenContent(kind="document", document_id=hall["report"], page=1),
        "announcement": ScreenContent(kind="announcement", announcement_mode="full"),
        "playlist": ScreenContent(
            kind="playlist",
            playlist=[PlaylistItem(document_id=hall["photo"]), PlaylistItem(hall["report"], 2)],
            interval_seconds=3,
        ),
    }
    keys = {}
    for kind, content in contents.items():
        screen_id, keys[kind] = await make_screen(congress_id, kind)
        await services.set_screen_content(congress_id, screen_id, content, SYSTEM)

    problems = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        for width, height in SIZES:
            page = await browser.new_page(viewport={"width": width, "height": height})
            for kind, key in keys.items():
                await page.goto(f"{live_server.url}/S/{key}")
                await shown(page)
                shot = f"/tmp/screen-{kind}-{width}x{height}.png"  # noqa: S108 - for a person to look at
                await page.screenshot(path=shot)
                for overflow in await page.evaluate(OVERFLOWING):
                    problems.append(f"{kind} at {width}x{height}: {overflow}")
            await page.close()

        # The server goes away under an open screen: the picture stays; when it is back,
        # the screen catches up by itself.
        page = await browser.new_page(viewport={"width": 1920, "height": 540})
        await page.goto(f"{live_server.url}/S/{keys['announcement']}")
        await shown(page)
        live_server.stop()
        await page.wait_for_timeout(1500)
        await expect(page.locator("#stage .text")).to_contain_text("Đề nghị các đại biểu")
        await expect(page.locator("#link")).to_have_class("down")
        await services.set_announcement(congress_id, "Phiên họp tiếp tục lúc 14 giờ", SYSTEM)
        await live_server.start()
        await expect(page.locator("#stage .text")).to_have_text(
            "Phiên họp tiếp tục lúc 14 giờ", timeout=15_000
        )
        await browser.close()
    assert not problems, problems
