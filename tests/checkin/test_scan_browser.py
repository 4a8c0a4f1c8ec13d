"""The check-in tablet in a real browser, as the staff at a hall door use it.

A handheld scanner types the card's code and Enter into the page's always-focused input.
The tablet answers green, then orange for the same card; with the network cut it keeps
scans in its queue and says how many wait; when the network is back it uploads them by
itself, and the organizers' attendance page follows without a reload.

Needs Chromium (/usr/bin/chromium, or CONGRESS_TEST_CHROMIUM). It fails, never skips,
when the browser is missing: CI installs it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from playwright.async_api import Page, async_playwright, expect

from checkin.tables import Attendance, CheckinScan
from congress.tables import Congress
from tests.checkin.test_checkin_api import hall  # noqa: F401 - fixture
from tests.conftest import LiveServer

CHROMIUM = os.environ.get("CONGRESS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
GREEN = "rgb(27, 138, 58)"  # .answer.green in checkin/static/scan.css
ORANGE = "rgb(243, 156, 18)"  # .answer.orange
ANSWER_MS = 2000  # how long scan.js shows an answer
DEVICE = "Cửa chính 1"


class Tablet:
    """The scan page, driven like the staff do: scan a card, look at the screen."""

    def __init__(self, page: Page, shots: Path) -> None:
        self.page = page
        self.shots = shots
        self.answer = page.locator("#answer")
        self.shot_number = 0

    async def scan(self, code: str) -> None:
        """A handheld scanner: it types into whatever has the focus, then Enter."""
        await expect(self.page.locator("#code")).to_be_focused()
        await self.page.keyboard.type(code)
        await self.page.keyboard.press("Enter")

    async def shows(self, colour: str) -> None:
        await expect(self.answer).to_be_visible()
        await expect(self.answer).to_have_class(re.compile(rf"\banswer {colour}\b"))

    async def back_to_scanning(self) -> None:
        await expect(self.answer).to_be_hidden(timeout=ANSWER_MS + 3000)
        await expect(self.page.locator("#code")).to_be_focused()

    async def text(self, key: str, **values: Any) -> str:
        """A text of the page as scan.js fills it in, in whatever language the page is."""
        template = await self.page.locator("#texts").get_attribute(f"data-{key}")
        assert template, key
        for name, value in values.items():
            template = template.replace("{" + name + "}", str(value))
        return template

    async def plural(self, key: str, n: int) -> str:
        """The plural form scan.js picks: "one" or "other" by the page's language."""
        form = await self.page.evaluate(
            "n => new Intl.PluralRules(document.body.dataset.lang || 'vi').select(n)", n
        )
        return await self.text(f"{key}-{'one' if form == 'one' else 'other'}", n=n)

    async def screenshot(self, name: str) -> None:
        self.shot_number += 1
        await self.page.screenshot(path=self.shots / f"{self.shot_number:02d}-{name}.png")


async def test_a_tablet_checks_in_online_and_offline_and_the_console_follows(
    hall: dict[str, Any],  # noqa: F811
    role_tokens: dict[str, str],
    tmp_path: Path,
) -> None:
    congress, sitting = hall["congress"], hall["sittings"][0]
    first, second, guest = hall["people"]
    server = LiveServer(log=tmp_path / "server.log")
    try:
        await server.start()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                await staff_at_the_door(browser, server, hall, role_tokens, tmp_path)
            finally:
                await browser.close()
    except BaseException:
        print((tmp_path / "server.log").read_text(errors="replace")[-5000:])
        print(f"screenshots: {tmp_path}")
        raise
    finally:
        server.stop()

    # The database: everyone present once, and the second scans kept as duplicates.
    rows = await Attendance.select(Attendance.delegate, Attendance.device_name).where(
        (Attendance.sitting == sitting) & Attendance.undone_at.is_null()
    )
    assert sorted(r["delegate"] for r in rows) == sorted([first, second, guest])
    assert {r["device_name"] for r in rows} == {DEVICE}
    scans = (
        await CheckinScan.select(CheckinScan.delegate, CheckinScan.result, CheckinScan.duplicate)
        .where(CheckinScan.congress == congress)
        .order_by(CheckinScan.id)
    )
    assert [(s["delegate"], s["result"], s["duplicate"]) for s in scans] == [
        (first, "green", False),
        (first, "orange", True),  # online, on the spot
        (second, "green", False),  # the rest from the offline queue, in scan order
        (guest, "green", False),
        (guest, "orange", True),
    ]


async def staff_at_the_door(
    browser: Any,
    server: LiveServer,
    the_hall: dict[str, Any],
    role_tokens: dict[str, str],
    shots: Path,
) -> None:
    sitting = the_hall["sittings"][0]
    tokens = [the_hall["tokens"][person] for person in the_hall["people"]]
    # What the card's QR code holds (credentials.card_address with the server's address).
    address = f"HTTP://127.0.0.1:{server.port}/D/{{}}"

    # --- The tablet: paired with its one-time code, then the scan page --------------------
    tablet_context = await browser.new_context(
        viewport={"width": 1280, "height": 800}, locale="vi-VN"
    )
    await tablet_context.add_cookies([{"name": "congress_lang", "value": "vi", "url": server.url}])
    page = await tablet_context.new_page()
    await page.goto(f"{server.url}/P/{the_hall['code']}")
    await expect(page).to_have_url(re.compile(r"/checkin/scan$"))
    tablet = Tablet(page, shots)
    # Undated sittings: the page starts on the last one; the staff pick the first.
    await page.locator("#sitting").select_option(str(sitting))
    await expect(page.locator("#present")).to_have_text("0")
    await expect(page.locator("#expected")).to_have_text("2")  # official delegates only
    await expect(page.locator("#net")).to_be_hidden()
    await tablet.screenshot("ready")

    # --- Card 001 by its QR address: green, with the name ------------------------------------
    await tablet.scan(address.format(tokens[0]))
    await tablet.shows("green")
    await expect(tablet.answer).to_have_css("background-color", GREEN)
    await expect(page.locator("#answer-name")).to_have_text("Nguyễn Thị Hạnh")
    await expect(page.locator("#answer-card")).to_contain_text("001")
    await expect(page.locator("#present")).to_have_text("1")
    await tablet.screenshot("green")
    await tablet.back_to_scanning()

    # --- The same card again, by its number: orange, when and where --------------------------
    await tablet.scan("001")
    await tablet.shows("orange")
    await expect(tablet.answer).to_have_css("background-color", ORANGE)
    await expect(page.locator("#answer-name")).to_have_text("Nguyễn Thị Hạnh")
    checked_in = (
        await Attendance.select(Attendance.checked_in_at)
        .where((Attendance.sitting == sitting) & (Attendance.delegate == the_hall["people"][0]))
        .first()
    )
    zone = (
        await Congress.select(Congress.timezone).where(Congress.id == the_hall["congress"]).first()
    )
    at = checked_in["checked_in_at"].astimezone(ZoneInfo(zone["timezone"])).strftime("%H:%M")
    message = page.locator("#answer-message")
    await expect(message).to_contain_text(at)
    await expect(message).to_contain_text(DEVICE)
    await expect(page.locator("#answer-detail")).to_have_text(f"{at} · {DEVICE}")
    await expect(page.locator("#present")).to_have_text("1")
    await tablet.screenshot("orange")
    await tablet.back_to_scanning()

    # --- The console: the attendance page of the sitting, signed in as the presidium ---------
    console_context = await browser.new_context(viewport={"width": 1280, "height": 900})
    await console_context.add_cookies(
        [{"name": "congress_session", "value": role_tokens["presidium"], "url": server.url}]
    )
    console = await console_context.new_page()
    async with console.expect_websocket(lambda socket: "/attendance/live" in socket.url) as opened:
        await console.goto(
            f"{server.url}/console/congresses/{the_hall['congress']}/attendance?sitting={sitting}"
        )
    live = await opened.value
    await live.wait_for_event("framereceived")  # subscribed: the counts as they are now
    await expect(console.locator("#present")).to_have_text("1")
    await expect(console.locator("#expected")).to_have_text("2")
    await console.evaluate("window.notReloaded = true")
    await console.screenshot(path=shots / "console-1.png")

    # --- The hall Wi-Fi drops: scans are saved on the tablet, and it says so ----------------
    # The offline roster lets the tablet show a card's name without the network.
    await page.wait_for_function("localStorage.getItem('checkin.roster') !== null")
    await tablet_context.set_offline(True)
    net = page.locator("#net")
    await expect(net).to_be_visible()
    await expect(net).to_have_class(re.compile(r"\bdown\b"))

    saved = await tablet.text("saved")
    offline_scans = [
        (address.format(tokens[1]), "Trần Văn Đức"),  # a card: its name from the roster
        ("003", ""),  # a card number: no name offline
        ("003", ""),  # and the same again
    ]
    for waiting, (code, name) in enumerate(offline_scans, start=1):
        await tablet.scan(code)
        await tablet.shows("blue")
        await expect(page.locator("#answer-message")).to_have_text(saved)
        await expect(page.locator("#answer-name")).to_have_text(name)
        await expect(net).to_have_text(await tablet.plural("offline", waiting))
        await tablet.screenshot(f"offline-{waiting}")
        await tablet.answer.click()  # a tap puts it back to scanning at once
        await tablet.back_to_scanning()
    await expect(net).to_have_text(re.compile(r"\b3\b"))
    assert len(await page.evaluate("JSON.parse(localStorage.getItem('checkin.queue'))")) == 3
    await expect(page.locator("#present")).to_have_text("1")

    # --- The network is back: the queue goes up by itself -----------------------------------
    await tablet_context.set_offline(False)
    await expect(net).to_be_hidden(timeout=15_000)
    assert await page.evaluate("JSON.parse(localStorage.getItem('checkin.queue'))") == []
    await expect(page.locator("#recent-list > li")).to_have_count(3)
    await expect(page.locator("#recent-list > li.orange")).to_have_count(1)
    await expect(page.locator("#present")).to_have_text("2")
    await expect(tablet.answer).to_be_hidden()  # the delegates are gone: no full screen
    await tablet.screenshot("uploaded")

    # --- The console counts the official delegate who came in offline, without a reload -----
    await expect(console.locator("#present")).to_have_text("2", timeout=10_000)
    assert await console.evaluate("window.notReloaded === true")
    await console.screenshot(path=shots / "console-2.png")
