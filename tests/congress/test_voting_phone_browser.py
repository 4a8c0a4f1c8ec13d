"""Voting on a delegate's phone, in a real browser the size of a cheap Android phone.

The delegate opens the card's address; the presidium opens a motion through the API and it
appears on the phone without a reload; the delegate taps, confirms, and sees the receipt,
which is still there after a reload. An election ballot looks like the paper one: names are
struck out and restored by a tap, and keeping more names than seats cannot be sent. An answer
lost on the Wi-Fi is sent again with the same key and gets the same receipt. When the results
are announced the phone shows them and finds its receipt in the published list.

Needs Chromium (/usr/bin/chromium, or CONGRESS_TEST_CHROMIUM). It fails, never skips,
when the browser is missing: CI installs it. Screenshots go to /tmp/phone-*.png (or
CONGRESS_TEST_SHOTS).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Page, Route, async_playwright, expect

from tests.conftest import LiveServer
from tests.congress.test_voting_phone import close_open_polls
from tests.congress.voting_fixtures import make_assembly

CHROMIUM = os.environ.get("CONGRESS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
PHONE = {"width": 360, "height": 740}  # a cheap Android phone, in CSS pixels
SHOTS = Path(os.environ.get("CONGRESS_TEST_SHOTS", tempfile.gettempdir()))  # phone-*.png
RECEIPT = re.compile(r"^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$")
CANDIDATES = [
    {"name": "Nguyễn Thị Hạnh", "note": "Chủ tịch Công đoàn ngành Y tế"},
    {"name": "Trần Văn Đức", "note": "Phó Chủ tịch Liên đoàn Lao động tỉnh"},
    {"name": "Lê Thị Thu Hà", "note": "Trưởng ban Nữ công"},
    {"name": "Phạm Quốc Bảo", "note": "Chủ tịch Công đoàn Khu kinh tế"},
]


class Presidium:
    """The presidium's laptop: the polls API, signed in, with the CSRF header."""

    def __init__(self, http: httpx.AsyncClient, congress: int, sitting: int) -> None:
        self.http = http
        self.base = f"/api/congresses/{congress}/polls"
        self.sitting = sitting

    async def sign_in(self) -> None:
        await self.http.get("/login")
        self.http.headers["x-csrf-token"] = self.http.cookies["congress_csrf"]

    async def open(self, **poll: Any) -> int:
        created = await self.http.post(self.base, json={"sitting_id": self.sitting, **poll})
        assert created.status_code == 201, created.text
        poll_id = int(created.json()["id"])
        await self.do(poll_id, "open")
        return poll_id

    async def do(self, poll_id: int, action: str) -> None:
        response = await self.http.post(f"{self.base}/{poll_id}/{action}")
        assert response.status_code == 200, response.text


class DelegatePhone:
    """The delegate's page, read in whatever language it is in."""

    def __init__(self, page: Page) -> None:
        self.page = page

    async def text(self, key: str, **values: Any) -> str:
        template = await self.page.locator("#poll-texts").get_attribute(f"data-{key}")
        assert template, key
        for name, value in values.items():
            template = template.replace("{" + name + "}", str(value))
        return template

    def poll(self, poll_id: int) -> Any:
        return self.page.locator(f'article.poll[data-poll="{poll_id}"]')

    async def shot(self, name: str, top: Any = None) -> None:
        """The whole page; or, from ``top`` down, what the phone's screen shows."""
        if top is None:
            await self.page.screenshot(path=SHOTS / f"phone-{name}.png", full_page=True)
            return
        await top.evaluate("e => e.scrollIntoView()")
        await self.page.screenshot(path=SHOTS / f"phone-{name}.png")


@pytest.fixture
async def assembly(
    make_congress: Callable[..., Awaitable[int]],
) -> AsyncIterator[dict[str, Any]]:
    congress_id = await make_congress()
    yield await make_assembly(congress_id, officials=4, invited=0)
    await close_open_polls(congress_id)


async def test_a_delegate_votes_on_the_phone(
    assembly: dict[str, Any], role_tokens: dict[str, str], tmp_path: Path
) -> None:
    server = LiveServer(log=tmp_path / "server.log")
    try:
        await server.start()
        async with (
            httpx.AsyncClient(
                base_url=server.url, cookies={"congress_session": role_tokens["presidium"]}
            ) as http,
            async_playwright() as playwright,
        ):
            presidium = Presidium(http, assembly["congress"], assembly["sitting"])
            await presidium.sign_in()
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                await vote_on_the_phone(browser, server, presidium, assembly)
            finally:
                await browser.close()
    except BaseException:
        print((tmp_path / "server.log").read_text(errors="replace")[-5000:])
        raise
    finally:
        server.stop()


async def padded_size(page: Page, poll_id: int) -> int:
    """The one size of every ballot of the poll: the longest it allows, rounded up to 512."""
    polls = await page.evaluate("fetch('/delegate/polls').then((r) => r.json())")
    keys = [o["key"] for o in next(p for p in polls if p["id"] == poll_id)["options"]]
    ballot = {"choices": keys, "retry_key": "x" * 64, "padding": ""}
    longest = len(json.dumps(ballot, separators=(",", ":")))
    return -(-(longest + 1) // 512) * 512


async def vote_on_the_phone(
    browser: Any, server: LiveServer, presidium: Presidium, assembly: dict[str, Any]
) -> None:
    me = assembly["officials"][0]
    context = await browser.new_context(
        viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True, locale="vi-VN"
    )
    await context.add_cookies([{"name": "congress_lang", "value": "vi", "url": server.url}])
    page = await context.new_page()
    phone = DelegatePhone(page)

    # --- The card's QR code opens the delegate's page ----------------------------------------
    async with page.expect_websocket(lambda socket: "/delegate/live" in socket.url):
        await page.goto(f"{server.url}/D/{assembly['tokens'][me]}")
    await expect(page).to_have_url(re.compile(r"/delegate$"))
    await expect(page.locator("#part-polls")).to_be_hidden()  # no poll yet: nothing shown
    await page.wait_for_timeout(500)  # the server subscribes the socket after accepting it
    await page.evaluate("window.notReloaded = true")

    # --- A motion opens: it appears without a reload ------------------------------------------
    motion = await presidium.open(kind="motion", title="Thông qua Nghị quyết Đại hội XIX")
    card = phone.poll(motion)
    await expect(card).to_be_visible(timeout=10_000)
    assert await page.evaluate("window.notReloaded === true")
    await expect(card.locator("h3")).to_have_text("Thông qua Nghị quyết Đại hội XIX")
    await expect(card.locator(".secret")).to_have_text(await phone.text("secret"))
    buttons = card.locator("button.choice")
    await expect(buttons).to_have_count(3)
    for button in await buttons.all():
        box = await button.bounding_box()
        # Big enough for a thumb: the width of the card, at least 56 CSS pixels high.
        assert box
        assert box["height"] >= 56
        assert box["width"] >= 0.75 * PHONE["width"]
    await phone.shot("motion")

    # --- Tap, confirm, receipt ------------------------------------------------------------------
    agree = buttons.first
    label = await agree.inner_text()
    await agree.tap()
    await expect(card.locator("h4")).to_have_text(await phone.text("confirm"))
    await expect(card.locator(".chosen")).to_have_text(label)
    await phone.shot("motion-confirm")
    async with page.expect_request(f"**/delegate/polls/{motion}/ballot") as sent:
        await card.locator("button.primary").tap()
    # Its size tells nothing: that of every ballot of this poll, whatever the choice.
    assert len((await sent.value).post_data_buffer) == await padded_size(page, motion)
    code = card.locator(".receipt-code")
    await expect(code).to_have_text(RECEIPT)
    receipt = await code.inner_text()
    await expect(card.locator(".received")).to_have_text(await phone.text("received"))
    await expect(card.locator(".receipt-label")).to_have_text(await phone.text("receipt"))
    await phone.shot("receipt")
    # After a reload the receipt is still there: it is kept on the phone.
    await page.reload()
    await expect(phone.poll(motion).locator(".receipt-code")).to_have_text(receipt)

    # --- An election: the paper ballot ----------------------------------------------------------
    await page.evaluate("window.notReloaded = true")
    election = await presidium.open(
        kind="election", title="Bầu Ban Chấp hành khóa XIX", seats=2, candidates=CANDIDATES
    )
    ballot = phone.poll(election)
    await expect(ballot).to_be_visible(timeout=10_000)
    assert await page.evaluate("window.notReloaded === true")
    await expect(ballot.locator(".elect")).to_have_text(await phone.text("elect", seats=2, count=4))
    names = ballot.locator("button.name")
    await expect(names.locator(".label")).to_have_text([c["name"] for c in CANDIDATES])
    await expect(names.locator(".note")).to_have_text([c["note"] for c in CANDIDATES])
    go_on = ballot.locator(".tally button.primary")
    counter, warning = ballot.locator(".counter"), ballot.locator(".too-many")

    async def kept(n: int) -> None:
        await expect(counter).to_have_text(await phone.text("kept", kept=n, seats=2))
        if n > 2:
            await expect(warning).to_have_text(
                await phone.text("too-many", kept=n, seats=2, more=n - 2)
            )
            await expect(go_on).to_be_disabled()
        else:
            await expect(warning).to_be_hidden()
            await expect(go_on).to_be_enabled()

    await kept(4)  # every name kept: too many, it cannot be sent
    await phone.shot("election-too-many", top=ballot.locator(".ballot"))
    await names.nth(1).tap()
    await kept(3)
    await names.nth(3).tap()
    await kept(2)
    await names.nth(3).tap()  # a second tap restores the name
    await expect(names.nth(3)).to_have_attribute("aria-pressed", "false")
    await kept(3)
    await names.nth(3).tap()
    await kept(2)
    struck = names.nth(1).locator(".label")
    assert "line-through" in await struck.evaluate("e => getComputedStyle(e).textDecorationLine")
    assert "line-through" not in await names.nth(0).locator(".label").evaluate(
        "e => getComputedStyle(e).textDecorationLine"
    )
    await phone.shot("election")
    await phone.shot("election-screen", top=ballot.locator(".ballot"))

    await go_on.tap()
    await expect(ballot.locator("h4")).to_have_text(await phone.text("confirm"))
    await expect(ballot.locator("ol.kept li")).to_have_text(["Nguyễn Thị Hạnh", "Lê Thị Thu Hà"])
    await expect(ballot.locator("ul.struck li")).to_have_text(["Trần Văn Đức", "Phạm Quốc Bảo"])
    await phone.shot("election-confirm")

    # The ballot reaches the server, but its answer is lost on the Wi-Fi: the phone sends
    # it again with the same key and gets the receipt of the ballot that was counted.
    lost: list[str] = []

    async def lose_the_first_answer(route: Route) -> None:
        if lost:
            await route.continue_()
            return
        answer = await route.fetch()
        lost.append((await answer.json())["receipt"])
        await route.abort("connectionreset")

    await page.route(f"**/delegate/polls/{election}/ballot", lose_the_first_answer)
    async with page.expect_request(f"**/delegate/polls/{election}/ballot") as sent:
        await ballot.locator(".actions button.primary").tap()
    assert len((await sent.value).post_data_buffer) == await padded_size(page, election)
    await expect(ballot.locator(".receipt-code")).to_have_text(RECEIPT, timeout=15_000)
    assert lost, "the first answer was not intercepted"
    await expect(ballot.locator(".receipt-code")).to_have_text(lost[0])
    stored = await page.evaluate(f"localStorage.getItem('vote.{me}.{election}')")
    # The phone keeps its retry key and the receipt, never the choices. (Checked on the
    # parsed entry: "c1" could be part of the random hex key.)
    kept = json.loads(stored)
    assert kept["receipt"] == lost[0]
    assert set(kept) == {"key", "receipt"}
    assert not any(key in stored for key in ("choices", "Nguyễn Thị Hạnh"))
    await page.unroute(f"**/delegate/polls/{election}/ballot")
    await phone.shot("election-receipt")

    # --- The results are announced: the phone shows them and finds its receipt -------------
    for poll_id in (motion, election):
        await presidium.do(poll_id, "close")
        await presidium.do(poll_id, "publish")
    result = phone.poll(motion)
    await expect(result.locator(".verdict")).to_have_text(await phone.text("passed"))
    await expect(result.locator(".fingerprint code")).to_have_text(
        re.compile(r"^[0-9A-F]{4}(-[0-9A-F]{4}){3}$")
    )
    await expect(result.locator(".check .verdict-line")).to_have_text(
        await phone.text("counted"), timeout=10_000
    )
    await expect(result.locator(".receipt-code-small")).to_have_text(receipt)
    elected = phone.poll(election).locator("ul.outcomes li.elected .label")
    await expect(elected).to_have_text(["Nguyễn Thị Hạnh", "Lê Thị Thu Hà"])
    await expect(phone.poll(election).locator(".check .verdict-line")).to_have_text(
        await phone.text("counted"), timeout=10_000
    )
    assert await page.evaluate("window.notReloaded === true")
    await phone.shot("result")
    await context.close()
