"""Rate limits on what guessing would abuse: sign-in, card and screen addresses, pairing
codes, and the scans of a tablet.

Each limit refuses once it is reached, with 429, a machine-readable code and a message in
the asker's language; it counts per client address (found behind trusted proxies only),
so another client goes on; and with Redis the instances share one count, while a Redis
that does not answer leaves each instance counting for itself rather than stopping.
"""

from __future__ import annotations

import asyncio
import logging
import re
import secrets
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
import websockets
from litestar.exceptions import WebSocketDisconnect
from playwright.async_api import async_playwright, expect
from redis.asyncio import Redis
from redis.exceptions import RedisError

from checkin import credentials, devices
from congress import accounts
from congress.app import create_app
from congress.auth import LANGUAGE_COOKIE, SESSION_COOKIE
from congress.eventlog import SYSTEM
from congress.ratelimit import LIMITS, RateLimits
from congress.settings import InvalidSetting, Settings, get_settings, load_settings
from tests.checkin.test_checkin_api import DEVICE_HEADERS, hall, nonce  # noqa: F401 - fixture
from tests.checkin.test_scan_browser import CHROMIUM, CHROMIUM_ARGS, Tablet
from tests.conftest import CSRF_COOKIE, Client, LiveServer, RedisServer
from tests.livestream.screen_fixtures import make_screen

PASSWORD = "mật-khẩu-đúng-" + secrets.token_hex(4)
TOO_MANY_SIGN_INS = "Too many failed sign-ins; wait a minute and try again."
TOO_MANY_SCREENS = (
    "Too many unknown screen addresses from this network; wait a minute and try again."
)
TOO_MANY_SCANS = "This tablet sent too many scans in a short time; wait a moment."
# Already in the Vietnamese catalog: what a phone or a tablet shows in the hall.
TOO_MANY_CARDS_VI = "Thiết bị này đã quét quá nhiều thẻ không xác định"
TOO_MANY_CODES_VI = "Thiết bị này đã nhập sai mã ghép nối quá nhiều lần"


@pytest.fixture(scope="module")
async def organizer() -> str:
    """An account that signs in with its password (made once: argon2 is slow)."""
    username = f"thu.ky.{secrets.token_hex(3)}"
    await accounts.create_account(username, "Thư ký Đại hội", PASSWORD, ["secretariat"])
    return username


class Server:
    """One app, reached from whichever address a test names: a phone, a laptop, or a
    reverse proxy in front of them."""

    def __init__(self, settings: Settings) -> None:
        self.app = create_app(settings)
        self.clients: list[httpx.AsyncClient] = []

    def client(self, peer: str, language: str = "en") -> httpx.AsyncClient:
        transport = httpx.ASGITransport(app=self.app, client=(peer, 50000))
        http = httpx.AsyncClient(
            transport=transport,
            base_url="http://testserver.local",
            cookies={LANGUAGE_COOKIE: language},
        )
        self.clients.append(http)
        return http


@asynccontextmanager
async def serving(**settings: Any) -> AsyncIterator[Server]:
    """An app with these settings changed. Its lifespan is not run: these routes need
    nothing it starts (the database is the test session's)."""
    server = Server(msgspec.structs.replace(get_settings(), **settings))
    try:
        yield server
    finally:
        for http in server.clients:
            await http.aclose()


@pytest.fixture
async def served() -> AsyncIterator[Server]:
    async with serving() as server:
        yield server


async def sign_in(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    if CSRF_COOKIE not in http.cookies:
        await http.get("/login")
    form = {"_csrf_token": http.cookies[CSRF_COOKIE], "username": username, "password": password}
    return await http.post("/login", data=form)


def error_code(page: httpx.Response) -> str:
    found = re.search(r'class="error" role="alert" data-code="([^"]*)"', page.text)
    return found.group(1) if found else ""


# --- signing in -----------------------------------------------------------------------------


async def test_failed_sign_ins_from_one_address_are_refused_after_ten(
    served: Server, organizer: str
) -> None:
    laptop = served.client("203.0.113.10")
    for n in range(LIMITS["sign_in_address"].attempts):
        wrong = await sign_in(laptop, f"doan.{n}", "sai-mat-khau")
        assert wrong.status_code == 401
        assert error_code(wrong) == "wrong_credentials"
    refused = await sign_in(laptop, "doan.x", "sai-mat-khau")
    assert refused.status_code == 429
    assert error_code(refused) == "too_many_attempts"
    assert TOO_MANY_SIGN_INS in refused.text
    assert refused.headers["retry-after"] == "60"
    # The right password is refused too while the limit holds, and opens no session.
    right = await sign_in(laptop, organizer, PASSWORD)
    assert right.status_code == 429
    assert SESSION_COOKIE not in right.cookies
    # Another address signs in.
    other = await sign_in(served.client("203.0.113.11"), organizer, PASSWORD)
    assert other.status_code in {302, 303}
    assert SESSION_COOKIE in other.cookies


async def test_failed_sign_ins_for_one_user_name_are_refused_after_five_from_anywhere(
    served: Server, organizer: str
) -> None:
    for n in range(LIMITS["sign_in_username"].attempts):
        wrong = await sign_in(served.client(f"198.51.100.{n + 1}"), organizer, "doan-mo")
        assert wrong.status_code == 401
    late = served.client("198.51.100.99")
    refused = await sign_in(late, organizer.upper(), PASSWORD)
    assert refused.status_code == 429
    assert error_code(refused) == "too_many_attempts"
    # Other accounts from that address are not held up by it.
    assert (await sign_in(late, "someone.else", "sai")).status_code == 401


async def test_a_right_password_does_not_count(served: Server, organizer: str) -> None:
    laptop = served.client("203.0.113.20")
    for _ in range(LIMITS["sign_in_username"].attempts + 2):
        assert (await sign_in(laptop, organizer, PASSWORD)).status_code in {302, 303}


# --- card addresses and pairing codes --------------------------------------------------------


async def test_unknown_cards_are_refused_after_twenty_per_address(served: Server) -> None:
    phone = served.client("203.0.113.40", language="vi")
    for _ in range(LIMITS["card_lookup"].attempts):
        assert (await phone.get(f"/D/{credentials.new_token()}")).status_code == 404
    refused = await phone.get(f"/D/{credentials.new_token()}")
    assert refused.status_code == 429
    assert TOO_MANY_CARDS_VI in refused.text
    assert refused.headers["retry-after"] == "60"
    neighbour = served.client("203.0.113.41")
    assert (await neighbour.get(f"/D/{credentials.new_token()}")).status_code == 404


async def test_good_cards_do_not_count(served: Server, make_congress) -> None:
    congress_id = await make_congress()
    from congress.delegates import services as delegate_services
    from congress.delegates.schemas import DelegateIn

    people = [
        await delegate_services.add_delegate(
            congress_id, DelegateIn(full_name=f"Đại biểu {n}", kind="official"), SYSTEM
        )
        for n in range(LIMITS["card_lookup"].attempts + 5)
    ]
    tokens = await credentials.issue_cards(congress_id, people, SYSTEM, replace=False)
    # A whole hall behind one Wi-Fi address opens its cards, all at once, after a few
    # mistyped addresses.
    wifi = served.client("203.0.113.50")
    await guess_cards(wifi, LIMITS["card_lookup"].attempts - 1)
    opened = await asyncio.gather(
        *(wifi.get(f"/D/{token}", follow_redirects=False) for token in tokens.values())
    )
    assert [answer.status_code for answer in opened] == [303] * len(tokens)


async def test_wrong_pairing_codes_are_refused_after_ten_per_address(
    served: Server, make_congress
) -> None:
    congress_id = await make_congress()
    _, code = await devices.register_device(congress_id, "Cửa chính 2", SYSTEM)
    stranger = served.client("203.0.113.60", language="vi")
    for _ in range(LIMITS["pairing"].attempts):
        wrong = await stranger.get(f"/P/{secrets.token_hex(8).upper()}")
        assert wrong.status_code == 404
    refused = await stranger.get(f"/P/{code}", follow_redirects=False)
    assert refused.status_code == 429
    assert TOO_MANY_CODES_VI in refused.text
    tablet = served.client("203.0.113.61")
    assert (await tablet.get(f"/P/{code}", follow_redirects=False)).status_code == 303


# --- the screens' addresses -----------------------------------------------------------------


async def test_unknown_screen_keys_are_refused_after_twenty_on_every_screen_route(
    served: Server, make_congress
) -> None:
    _, key = await make_screen(await make_congress())
    guesser = served.client("203.0.113.70")
    routes = ["/S/{}/", "/S/{}/state", "/S/{}/documents/1/pages/1"]
    for n in range(LIMITS["screen_lookup"].attempts):
        guess = routes[n % 3].format(secrets.token_hex(13).upper())
        assert (await guesser.get(guess)).status_code == 404
    page = await guesser.get(f"/S/{key}/")
    assert page.status_code == 429
    assert 'data-code="too_many_requests"' in page.text
    assert TOO_MANY_SCREENS in page.text
    state = await guesser.get(f"/S/{key}/state")
    assert state.status_code == 429
    assert state.json() == {"code": "too_many_requests", "message": TOO_MANY_SCREENS}
    assert state.headers["retry-after"] == "60"
    picture = await guesser.get(f"/S/{key}/documents/1/pages/1")
    assert (picture.status_code, picture.json()["code"]) == (429, "too_many_requests")
    # The real screen, elsewhere, draws.
    screen = served.client("203.0.113.71")
    assert (await screen.get(f"/S/{key}/state")).status_code == 200


async def test_a_revoked_screen_retrying_does_not_count(served: Server, make_congress) -> None:
    from livestream.screens import services

    congress_id = await make_congress()
    screen_id, key = await make_screen(congress_id)
    await services.revoke_screen(congress_id, screen_id, SYSTEM)
    screen = served.client("203.0.113.72")
    for _ in range(LIMITS["screen_lookup"].attempts + 5):
        assert (await screen.get(f"/S/{key}/state")).status_code == 410


async def test_the_screen_socket_closes_with_4429_after_too_many_guesses(
    client: Client, make_congress
) -> None:
    _, key = await make_screen(await make_congress())
    for _ in range(LIMITS["screen_lookup"].attempts):
        assert (await client.get(f"/S/{secrets.token_hex(13).upper()}/state")).status_code == 404
    with (
        pytest.raises(WebSocketDisconnect) as closed,
        await client.websocket_connect(f"/S/{key}/live") as socket,
    ):
        socket.receive_json(timeout=5)
    assert closed.value.code == 4429


# --- the tablets' scans ---------------------------------------------------------------------


async def test_a_tablet_scanning_too_fast_is_refused_and_told_why(
    hall: dict[str, Any],  # noqa: F811
) -> None:
    sitting = hall["sittings"][0]
    token = hall["tokens"][hall["people"][0]]
    _, second_code = await devices.register_device(hall["congress"], "Cửa phụ", SYSTEM)
    async with serving(rate_limits=(("checkin_scans", 3, 60.0),)) as served:
        door, side_door = served.client("10.1.1.1"), served.client("10.1.1.1")
        assert (await door.get(f"/P/{hall['code']}")).status_code == 303
        assert (await side_door.get(f"/P/{second_code}")).status_code == 303

        async def scan(tablet: httpx.AsyncClient) -> httpx.Response:
            body = {"nonce": nonce(), "sitting_id": sitting, "code": token}
            return await tablet.post("/api/checkin/device/scans", json=body, headers=DEVICE_HEADERS)

        for _ in range(3):
            assert (await scan(door)).json()["result"] in {"green", "orange"}
        refused = await scan(door)
        assert refused.status_code == 429
        assert refused.json() == {"code": "too_many_requests", "message": TOO_MANY_SCANS}
        # The limit is the tablet's, not the address's: the side door goes on.
        assert (await scan(side_door)).status_code == 200


async def test_an_upload_of_the_offline_queue_counts_once(
    hall: dict[str, Any],  # noqa: F811
) -> None:
    """A tablet that was offline for the morning sends 500 scans in batches: not refused."""
    sitting = hall["sittings"][0]
    tokens = list(hall["tokens"].values())
    queue = [
        {"nonce": nonce(), "sitting_id": sitting, "code": tokens[n % len(tokens)]}
        for n in range(500)
    ]
    async with serving(rate_limits=(("checkin_scans", 3, 60.0),)) as served:
        tablet = served.client("10.1.1.2")
        assert (await tablet.get(f"/P/{hall['code']}")).status_code == 303
        answered = []
        for start in range(0, len(queue), 200):
            reply = await tablet.post(
                "/api/checkin/device/scans/batch",
                json={"scans": queue[start : start + 200]},
                headers=DEVICE_HEADERS,
            )
            assert reply.status_code == 200, reply.text
            answered += reply.json()["results"]
        assert len(answered) == 500
        assert {answer["result"] for answer in answered} == {"green", "orange"}
        again = await tablet.post(
            "/api/checkin/device/scans/batch", json={"scans": queue[:1]}, headers=DEVICE_HEADERS
        )
        assert again.status_code == 429
        assert again.json()["code"] == "too_many_requests"


def test_the_scans_limit_leaves_a_door_room() -> None:
    """About two scans a second at a busy door, all minute long, fit under the limit."""
    limit = LIMITS["checkin_scans"]
    assert limit.attempts / limit.seconds >= 2 * 2


# --- the client's address behind a reverse proxy --------------------------------------------


async def guess_cards(http: httpx.AsyncClient, times: int, forwarded: str | None = None) -> None:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    for _ in range(times):
        guess = await http.get(f"/D/{credentials.new_token()}", headers=headers)
        assert guess.status_code == 404


async def card_answer(http: httpx.AsyncClient, forwarded: str | None = None) -> int:
    headers = {"x-forwarded-for": forwarded} if forwarded else {}
    return (await http.get(f"/D/{credentials.new_token()}", headers=headers)).status_code


async def test_x_forwarded_for_from_a_peer_that_is_no_trusted_proxy_is_ignored(
    served: Server,
) -> None:
    guesser = served.client("203.0.113.80")
    for n in range(LIMITS["card_lookup"].attempts):
        await guess_cards(guesser, 1, forwarded=f"192.0.2.{n}")
    assert await card_answer(guesser, forwarded="192.0.2.200") == 429


async def test_x_forwarded_for_from_a_trusted_proxy_names_the_client() -> None:
    async with serving(trusted_proxies=("10.0.0.1/32",)) as served:
        proxy = served.client("10.0.0.1")
        await guess_cards(proxy, LIMITS["card_lookup"].attempts, forwarded="198.51.100.7")
        assert await card_answer(proxy, forwarded="198.51.100.7") == 429
        # Another phone behind the same proxy goes on.
        assert await card_answer(proxy, forwarded="198.51.100.8") == 404
        # The guesser writes an address of its own in front: the proxy appends the real
        # one, and that is the one counted.
        assert await card_answer(proxy, forwarded="198.51.100.9, 198.51.100.7") == 429
        assert await card_answer(proxy, forwarded="198.51.100.7,198.51.100.7") == 429


async def test_a_chain_of_trusted_proxies_is_walked_from_the_right() -> None:
    async with serving(trusted_proxies=("10.0.0.0/24", "fd00::/8")) as served:
        inner = served.client("10.0.0.1")
        chain = "198.51.100.7, 10.0.0.2"
        await guess_cards(inner, LIMITS["card_lookup"].attempts, forwarded=chain)
        assert await card_answer(inner, forwarded="192.0.2.1, 198.51.100.7, 10.0.0.3") == 429
        assert await card_answer(inner, forwarded="198.51.100.7, fd00::5") == 429
        assert await card_answer(inner, forwarded="198.51.100.8, 10.0.0.2") == 404
        # The peer itself is not a proxy of ours: its header is not believed.
        outsider = served.client("198.51.100.8")
        assert await card_answer(outsider, forwarded="10.0.0.9") == 404


async def test_ipv6_clients_count_by_their_64_network(served: Server) -> None:
    await guess_cards(served.client("2001:db8:1:2::1"), LIMITS["card_lookup"].attempts)
    assert await card_answer(served.client("2001:db8:1:2::ffff")) == 429
    assert await card_answer(served.client("2001:db8:1:3::1")) == 404


# --- Redis: shared by the instances, and not needed to go on --------------------------------


async def until_redis_answers(url: str) -> None:
    probe = Redis.from_url(url)
    try:
        for _ in range(200):
            try:
                await probe.ping()
                return
            except (OSError, RedisError):
                await asyncio.sleep(0.05)
        raise RuntimeError("redis-server did not start")
    finally:
        await probe.aclose()


async def forget_redis_counts(url: str) -> None:
    """A Redis of this module's: the counts of earlier tests go (ours only, by prefix)."""
    await until_redis_answers(url)
    redis = Redis.from_url(url)
    try:
        async for key in redis.scan_iter(match="congress:rl:*"):
            await redis.delete(key)
    finally:
        await redis.aclose()


async def test_two_instances_on_one_redis_share_the_count(redis_url: str) -> None:
    await forget_redis_counts(redis_url)
    a = LiveServer(env={"CONGRESS_REDIS_URL": redis_url, "FORWARDED_ALLOW_IPS": "192.0.2.254"})
    b = LiveServer(env={"CONGRESS_REDIS_URL": redis_url, "FORWARDED_ALLOW_IPS": "192.0.2.254"})
    await asyncio.gather(a.start(), b.start())
    try:
        async with (
            httpx.AsyncClient(base_url=a.url) as via_a,
            httpx.AsyncClient(base_url=b.url) as via_b,
        ):
            half = LIMITS["card_lookup"].attempts // 2
            await guess_cards(via_a, half)
            await guess_cards(via_b, LIMITS["card_lookup"].attempts - half)
            assert await card_answer(via_a) == 429
            assert await card_answer(via_b) == 429
            # Screen keys too, and the screen's socket hears 4429 through the real server.
            for n in range(LIMITS["screen_lookup"].attempts):
                guess = f"/S/{secrets.token_hex(13).upper()}/state"
                assert (await (via_a if n % 2 else via_b).get(guess)).status_code == 404
            assert (await via_b.get(f"/S/{'A' * 26}/state")).status_code == 429
            socket_url = a.url.replace("http", "ws") + f"/S/{'A' * 26}/live"
            async with websockets.connect(socket_url) as socket:
                with pytest.raises(websockets.ConnectionClosed) as closed:
                    await asyncio.wait_for(socket.recv(), timeout=10)
            assert closed.value.rcvd is not None
            assert closed.value.rcvd.code == 4429
    finally:
        a.stop()
        b.stop()


def redis_settings(url: str, **changes: Any) -> Settings:
    return msgspec.structs.replace(get_settings(), redis_url=url, **changes)


async def test_limiters_on_one_redis_count_together_and_give_back(
    redis_url: str,
) -> None:
    await forget_redis_counts(redis_url)
    first, second = RateLimits(redis_settings(redis_url)), RateLimits(redis_settings(redis_url))
    try:
        limit = LIMITS["pairing"].attempts
        for n in range(limit):
            assert await (first if n % 2 else second).attempt(("pairing", "192.0.2.1"))
        assert await first.attempt(("pairing", "192.0.2.1")) is None
        assert await second.attempt(("pairing", "192.0.2.1")) is None
        assert await first.attempt(("pairing", "192.0.2.2"))
        # Given back: a right code does not count.
        kept = [await first.attempt(("card_lookup", "192.0.2.3")) for _ in range(3)]
        for attempt in kept:
            assert attempt is not None
            await attempt.went_well()
        for _ in range(LIMITS["card_lookup"].attempts):
            assert await second.attempt(("card_lookup", "192.0.2.3"))
        assert await second.attempt(("card_lookup", "192.0.2.3")) is None
        # Failures only, counted after the fact.
        for _ in range(LIMITS["screen_lookup"].attempts - 1):
            assert await first.allowed("screen_lookup", "192.0.2.5")
            await second.failed("screen_lookup", "192.0.2.5")
        assert await first.allowed("screen_lookup", "192.0.2.5")
        await first.failed("screen_lookup", "192.0.2.5")
        assert not await second.allowed("screen_lookup", "192.0.2.5")
        assert await second.allowed("screen_lookup", "192.0.2.6")
        # One refusal of two limits counts neither.
        assert (
            await first.attempt(("sign_in_address", "192.0.2.4"), ("pairing", "192.0.2.1")) is None
        )
        for _ in range(LIMITS["sign_in_address"].attempts):
            assert await first.attempt(("sign_in_address", "192.0.2.4"))
    finally:
        await first.close()
        await second.close()


@asynccontextmanager
async def own_redis(tmp_path: Path) -> AsyncIterator[tuple[str, Callable[[], None]]]:
    """A redis-server this test may stop: (its URL, stop)."""
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server.url, server.stop
    finally:
        server.stop()


async def test_when_redis_goes_away_each_instance_counts_for_itself(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with own_redis(tmp_path) as (url, stop_redis):
        limits = RateLimits(redis_settings(url))
        try:
            for _ in range(5):
                assert await limits.attempt(("card_lookup", "192.0.2.9"))
            stop_redis()
            caplog.set_level(logging.WARNING, logger="congress.ratelimit")
            started = time.monotonic()
            # Still answering, at once, and still limiting: in this instance's memory.
            for _ in range(LIMITS["card_lookup"].attempts):
                assert await limits.attempt(("card_lookup", "192.0.2.9"))
            assert await limits.attempt(("card_lookup", "192.0.2.9")) is None
            assert time.monotonic() - started < 3
            warnings = [r for r in caplog.records if r.name == "congress.ratelimit"]
            assert len(warnings) == 1
            assert "Redis does not answer" in warnings[0].getMessage()
        finally:
            await limits.close()


async def test_a_sign_in_goes_through_while_redis_is_down(tmp_path: Path, organizer: str) -> None:
    async with own_redis(tmp_path) as (url, stop_redis):
        stop_redis()
        # The live feed keeps its memory backend here: only the limits are asked of Redis.
        async with serving() as served:
            served.app.state["rate_limits"] = RateLimits(redis_settings(url))
            try:
                laptop = served.client("203.0.113.90")
                assert (await sign_in(laptop, organizer, "sai")).status_code == 401
                assert (await sign_in(laptop, organizer, PASSWORD)).status_code in {302, 303}
            finally:
                await served.app.state["rate_limits"].close()


# --- settings and the language cookie -------------------------------------------------------


def test_trusted_proxies_and_rate_limits_are_read_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CONGRESS_TRUSTED_PROXIES", " 10.0.0.1, 10.1.0.0/16 ,::1 ")
    monkeypatch.setenv("CONGRESS_RATE_LIMITS", "checkin_scans=1200/60, card_lookup = 40/30")
    settings = load_settings()
    assert settings.trusted_proxies == ("10.0.0.1/32", "10.1.0.0/16", "::1/128")
    assert settings.rate_limits == (("checkin_scans", 1200, 60.0), ("card_lookup", 40, 30.0))
    assert RateLimits(settings)["checkin_scans"].limit == (1200, 60.0)
    monkeypatch.delenv("CONGRESS_TRUSTED_PROXIES")
    monkeypatch.delenv("CONGRESS_RATE_LIMITS")
    assert load_settings().trusted_proxies == ()


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("TRUSTED_PROXIES", "10.0.0.1, proxy.local", "'proxy.local' is not an IP address"),
        ("TRUSTED_PROXIES", "10.0.0.300", "'10.0.0.300' is not an IP address"),
        ("RATE_LIMITS", "checkin_scan=10/60", "'checkin_scan=10/60' is not NAME=COUNT/SECONDS"),
        ("RATE_LIMITS", "card_lookup=10", "'card_lookup=10' is not NAME=COUNT/SECONDS"),
        ("RATE_LIMITS", "card_lookup=10/0", "'card_lookup=10/0' is not NAME=COUNT/SECONDS"),
    ],
)
def test_a_setting_that_cannot_be_read_stops_the_start(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, says: str
) -> None:
    monkeypatch.setenv(f"CONGRESS_{name}", value)
    with pytest.raises(InvalidSetting) as refused:
        load_settings()
    assert f"CONGRESS_{name}" in str(refused.value)
    assert says in str(refused.value)


def set_cookie(response: httpx.Response, name: str) -> str:
    return next(c for c in response.headers.get_list("set-cookie") if c.startswith(name + "="))


async def test_the_language_cookie_is_http_only_and_lax(client: Client) -> None:
    chosen = await client.get("/language/en?next=/login", follow_redirects=False)
    cookie = set_cookie(chosen, LANGUAGE_COOKIE)
    assert "HttpOnly" in cookie
    assert "SameSite=lax" in cookie or "SameSite=Lax" in cookie
    assert "Secure" not in cookie


async def test_the_language_cookie_is_secure_behind_https() -> None:
    async with serving(public_url="https://daihoi.example.vn") as served:
        chosen = await served.client("203.0.113.99").get("/language/vi", follow_redirects=False)
    cookie = set_cookie(chosen, LANGUAGE_COOKIE)
    assert "Secure" in cookie
    assert "HttpOnly" in cookie


async def test_the_scan_page_says_the_tablet_is_too_fast_and_keeps_the_scan(
    hall: dict[str, Any],  # noqa: F811
    tmp_path: Path,
) -> None:
    """In a real browser: the refused scan waits in the queue like an offline one, and the
    page shows the server's reason instead of claiming the network is gone."""
    tokens = [hall["tokens"][person] for person in hall["people"]]
    server = LiveServer(env={"CONGRESS_RATE_LIMITS": "checkin_scans=2/60"})
    await server.start()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                context = await browser.new_context(viewport={"width": 1280, "height": 800})
                await context.add_cookies(
                    [{"name": LANGUAGE_COOKIE, "value": "en", "url": server.url}]
                )
                page = await context.new_page()
                await page.goto(f"{server.url}/P/{hall['code']}")
                tablet = Tablet(page, tmp_path)
                for token in tokens[:2]:
                    await tablet.scan(token)
                    await tablet.shows("green")
                    await tablet.answer.click()
                    await tablet.back_to_scanning()
                await tablet.scan(tokens[2])
                await tablet.shows("blue")
                await expect(page.locator("#answer-message")).to_have_text(
                    await tablet.text("saved")
                )
                await expect(page.locator("#answer-detail")).to_have_text(TOO_MANY_SCANS)
                net = page.locator("#net")
                await expect(net).to_have_text(await tablet.plural("sending", 1))
                await expect(net).not_to_have_class(re.compile(r"\bdown\b"))
                queue = await page.evaluate("JSON.parse(localStorage.getItem('checkin.queue'))")
                assert [scan["code"] for scan in queue] == [tokens[2]]
            finally:
                await browser.close()
    finally:
        server.stop()
