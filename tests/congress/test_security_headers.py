"""The security headers on every response, the cookies' flags, the start-up refusals, and no
inline script anywhere: the Content-Security-Policy allows scripts from our origin only.

The browser test at the end opens the pages in Chromium and fails on any report of a
blocked script, style, socket or picture.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import AsyncTestClient
from playwright.async_api import Page, async_playwright

from checkin import credentials, devices
from congress import accounts
from congress.app import PAGE_POLICY, create_app
from congress.auth import SESSION_COOKIE
from congress.eventlog import SYSTEM
from congress.settings import Settings, UnsafeSettings, get_settings, load_settings
from livestream.screens import services as screen_services
from tests.conftest import CSRF_COOKIE, LiveServer, free_port
from tests.congress.test_permissions import fill, make_objects

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE_DIRS = [ROOT / p / "templates" for p in ("congress", "documents", "checkin", "livestream")]
CHROMIUM = os.environ.get("CONGRESS_TEST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]
HTTPS = "https://dai-hoi.congdoan.example.vn"
HOST = "testserver.local"  # the test client's host
DELEGATE_COOKIE = "congress_delegate"
DEVICE_COOKIE = "congress_device"
# Routes that are no page: the static files (checked through a file below) and the render
# plugins' catch-all under /schema.
NOT_PAGES = {"/static/{file_path:path}", "/schema/{path:str}"}
# Each of these must answer 200 with an HTML page in the route sweep.
MUST_BE_PAGES = [
    "/login",
    "/console",
    "/console/congresses/{congress_id:int}",
    "/delegate",
    "/checkin/scan",
    "/S/{key:str}",
    "/live/{congress_id:int}",
    "/schema",
]


def https_settings(**changes: Any) -> Settings:
    return msgspec.structs.replace(get_settings(), public_url=HTTPS, **changes)


def set_cookies(response: httpx.Response) -> dict[str, dict[str, str | bool]]:
    """Each Set-Cookie by name: its attributes, lower-cased, flags as True."""
    found: dict[str, dict[str, str | bool]] = {}
    for header in response.headers.get_list("set-cookie"):
        name_value, *attributes = (part.strip() for part in header.split(";"))
        flags: dict[str, str | bool] = {}
        for attribute in attributes:
            key, _, value = attribute.partition("=")
            flags[key.lower()] = value.lower() if value else True
        found[name_value.split("=", 1)[0]] = flags
    return found


async def make_everything() -> dict[str, Any]:
    """A congress with one of everything a page's address names, and the credentials of a
    delegate's card, a tablet's pairing and a screen."""
    made = await make_objects()
    made["card"] = (
        await credentials.issue_cards(
            made["congress_id"], [made["delegate_id"]], SYSTEM, replace=False
        )
    )[made["delegate_id"]]
    made["code"] = (await devices.register_device(made["congress_id"], "Cửa chính 1", SYSTEM))[1]
    made["key"] = (await screen_services.register_screen(made["congress_id"], "LED", SYSTEM))[1]
    made.update(language="en", part="polls", number=1)
    return made


def get_pages(app: Litestar) -> list[str]:
    return sorted(
        route.path
        for route in app.routes
        if isinstance(route, HTTPRoute)
        and route.path not in NOT_PAGES
        and any("GET" in handler.http_methods for handler in route.route_handlers)
    )


def address(template: str, made: dict[str, Any]) -> str:
    if template.startswith(("/D/", "/d/")):
        return fill(template, {**made, "token": made["card"]})
    return fill(template, made)


# --- the headers ---------------------------------------------------------------------------


@pytest.fixture
async def everything() -> dict[str, Any]:
    return await make_everything()


@pytest.fixture
async def browser_like(
    app: Litestar, everything: dict[str, Any], role_tokens: dict[str, str]
) -> AsyncIterator[AsyncTestClient[Litestar]]:
    """Signed in as an administrator, holding a delegate's card and a paired tablet: every
    page of the console, the delegate's portal and the scan page answers it."""
    async with AsyncTestClient(app=create_app()) as client:
        client.cookies.set(SESSION_COOKIE, role_tokens["admin"])
        assert (
            await client.get(f"/D/{everything['card']}", follow_redirects=False)
        ).status_code == 303
        assert (
            await client.get(f"/P/{everything['code']}", follow_redirects=False)
        ).status_code == 303
        yield client


def expected_headers(template: str, response: httpx.Response) -> dict[str, str | None]:
    live = template.startswith("/live/")
    # The console's viewer shows a PDF from the documents API in an iframe.
    framed = template == "/api/congresses/{congress_id:int}/documents/{document_id:int}/" + (
        "versions/{number:int}/file"
    )
    expected: dict[str, str | None] = {
        "x-content-type-options": "nosniff",
        "x-frame-options": None if live else ("SAMEORIGIN" if framed else "DENY"),
        "strict-transport-security": None,  # the test app's public URL is http
    }
    if template.startswith(("/D/", "/d/", "/P/", "/p/", "/delegate", "/checkin", "/S/")):
        expected["referrer-policy"] = response.headers.get("referrer-policy")
        assert expected["referrer-policy"] in {"same-origin", "no-referrer"}
    elif template == "/live/{congress_id:int}":
        expected["referrer-policy"] = "strict-origin-when-cross-origin"
    else:
        expected["referrer-policy"] = "same-origin"
    return expected


async def test_every_page_carries_the_security_headers(
    app: Litestar, browser_like: AsyncTestClient[Litestar], everything: dict[str, Any]
) -> None:
    pages = get_pages(app)
    assert set(MUST_BE_PAGES) <= set(pages)
    html_pages = set()
    framed_seen = False
    for template in pages:
        response = await browser_like.get(address(template, everything), follow_redirects=False)
        seen = f"{template} → {response.status_code}"
        assert response.status_code < 500, seen
        for name, value in expected_headers(template, response).items():
            assert response.headers.get(name) == value, f"{seen}: {name}"
        framed_seen |= response.headers.get("x-frame-options") == "SAMEORIGIN"
        policies = response.headers.get_list("content-security-policy")
        if response.headers.get("content-type", "").startswith("text/html"):
            html_pages.add(template)
            assert len(policies) == 1, f"{seen}: one policy, not {policies}"
            if template == "/live/{congress_id:int}":
                assert "frame-ancestors *" in policies[0]
            else:
                assert policies[0] == PAGE_POLICY.format(sockets=f" ws://{HOST} wss://{HOST}")
        if template in MUST_BE_PAGES:
            assert response.status_code == 200, seen
    assert set(MUST_BE_PAGES) <= html_pages
    assert framed_seen, "the viewer's file route was swept"


async def test_error_pages_and_static_files_carry_them_too(
    browser_like: AsyncTestClient[Litestar],
) -> None:
    for url in ("/no/such/page", "/console/congresses/999999999", "/static/console.css"):
        response = await browser_like.get(url)
        assert response.headers["x-content-type-options"] == "nosniff", url
        assert response.headers["x-frame-options"] == "DENY", url
        assert response.headers["referrer-policy"] == "same-origin", url
        is_html = response.headers["content-type"].startswith("text/html")
        assert ("content-security-policy" in response.headers) == is_html, url


def test_the_policy_allows_no_inline_script_and_no_framing() -> None:
    directives = dict(d.strip().split(" ", 1) for d in PAGE_POLICY.split(";"))
    assert directives["script-src"] == "'self'"
    assert directives["style-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["base-uri"] == directives["form-action"] == "'self'"
    assert "unsafe" not in PAGE_POLICY


async def test_a_socket_host_that_is_no_host_stays_out_of_the_policy() -> None:
    async with AsyncTestClient(app=create_app()) as client:
        response = await client.get("/login", headers={"host": "evil; script-src *"})
    assert "evil" not in response.headers["content-security-policy"]
    assert response.headers["content-security-policy"] == PAGE_POLICY.format(sockets="")


async def test_hsts_only_when_the_public_url_is_https() -> None:
    async with AsyncTestClient(app=create_app(https_settings())) as client:
        response = await client.get("/login")
    assert response.headers["strict-transport-security"] == "max-age=31536000"


# --- the cookies ---------------------------------------------------------------------------


@pytest.mark.parametrize("https", [False, True], ids=["http", "https"])
async def test_cookie_flags(https: bool, everything: dict[str, Any]) -> None:
    password = "mật khẩu đủ dài"
    username = f"cookie.{everything['congress_id']}"
    await accounts.create_account(username, "Thử cookie", password, ["checkin"])
    app = create_app(https_settings() if https else get_settings())
    # A browser sends Secure cookies back over https only.
    base_url = f"{'https' if https else 'http'}://{HOST}"
    async with AsyncTestClient(app=app, base_url=base_url) as client:
        login_page = await client.get("/login")
        csrf = set_cookies(login_page)[CSRF_COOKIE]
        signed_in = await client.post(
            "/login",
            data={
                "username": username,
                "password": password,
                "_csrf_token": csrf_token(login_page),
            },
            follow_redirects=False,
        )
        session = set_cookies(signed_in)[SESSION_COOKIE]
        delegate = set_cookies(
            await client.get(f"/D/{everything['card']}", follow_redirects=False)
        )[DELEGATE_COOKIE]
        device = set_cookies(await client.get(f"/P/{everything['code']}", follow_redirects=False))[
            DEVICE_COOKIE
        ]

    # The CSRF cookie is read by our scripts (and Swagger UI) to send it back as a header.
    assert "httponly" not in csrf
    for cookie in (session, delegate, device):
        assert cookie.get("httponly") is True
    assert csrf["samesite"] == "strict"
    assert session["samesite"] == "lax"  # the console opens from a link in a mail
    assert delegate["samesite"] == "lax"  # the card's QR code is opened by the camera app
    assert device["samesite"] == "strict"
    for cookie in (csrf, session, delegate, device):
        assert (cookie.get("secure") is True) is https


def csrf_token(login_page: httpx.Response) -> str:
    found = re.search(r'name="_csrf_token" value="([^"]+)"', login_page.text)
    assert found, "the sign-in form carries its token"
    return found.group(1)


# --- start-up refuses a dangerous configuration ---------------------------------------------


def test_a_short_secret_with_https_is_refused() -> None:
    with pytest.raises(UnsafeSettings, match="CONGRESS_SECRET_KEY is shorter than 32"):
        create_app(https_settings(secret_key="demo"))


def test_debug_with_https_is_refused() -> None:
    with pytest.raises(UnsafeSettings, match="CONGRESS_DEBUG is on") as refused:
        create_app(https_settings(debug=True))
    assert refused.value.code == f"Refusing to start with CONGRESS_PUBLIC_URL={HTTPS}:\n" + (
        "  - CONGRESS_DEBUG is on: error pages would show stack traces; set it to 0."
    )


def test_on_plain_http_a_laptop_may_debug_with_any_secret() -> None:
    create_app(msgspec.structs.replace(get_settings(), debug=True, secret_key="demo"))


def test_the_settings_from_the_environment_are_checked(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("CONGRESS_VAR_DIR", str(tmp_path))
    monkeypatch.setenv("CONGRESS_PUBLIC_URL", HTTPS)
    monkeypatch.setenv("CONGRESS_SECRET_KEY", "x" * 31)
    with pytest.raises(UnsafeSettings, match="SECRET_KEY"):
        create_app(load_settings())
    monkeypatch.setenv("CONGRESS_SECRET_KEY", "x" * 32)
    create_app(load_settings())
    monkeypatch.delenv("CONGRESS_SECRET_KEY")  # the generated key is long enough
    assert len(load_settings().secret_key) >= 32
    create_app(load_settings())


def test_congress_serve_refuses_debug_on_https(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "CONGRESS_VAR_DIR": str(tmp_path),
        "CONGRESS_DATABASE_URL": f"sqlite:///{tmp_path / 'congress.sqlite3'}",
        "CONGRESS_PUBLIC_URL": HTTPS,
        "CONGRESS_DEBUG": "1",
        "CONGRESS_PORT": str(free_port()),
    }
    done = subprocess.run(
        [sys.executable, "-c", "from congress.cli import main; main()", "serve"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode != 0
    assert "Refusing to start" in done.stderr
    assert "CONGRESS_DEBUG is on" in done.stderr
    assert "Traceback" not in done.stderr


# --- no inline script in any template --------------------------------------------------------

TAG = re.compile(r"<[a-zA-Z][^>]*>", re.DOTALL)
EVENT_HANDLER = re.compile(r"\son[a-z]+\s*=", re.IGNORECASE)
SCRIPT = re.compile(r"<script\b([^>]*)>", re.IGNORECASE)


def served_templates() -> list[Path]:
    """Every template a browser gets; the *_pdf.html ones only ever reach WeasyPrint."""
    found = [
        path
        for folder in TEMPLATE_DIRS
        for path in sorted(folder.rglob("*.html"))
        if not path.name.endswith("_pdf.html")
    ]
    assert len(found) > 30
    return found


@pytest.mark.parametrize("template", served_templates(), ids=lambda p: p.name)
def test_no_inline_script_style_or_event_handler(template: Path) -> None:
    text = template.read_text()
    for attributes in SCRIPT.findall(text):
        assert "src=" in attributes or 'type="application/json"' in attributes, attributes
    for tag in TAG.findall(text):
        assert not EVENT_HANDLER.search(tag), tag
        assert " style=" not in tag, tag
    assert "<style" not in text
    assert "javascript:" not in text


def test_the_scanner_catches_what_it_should() -> None:
    bad = ['<button onclick="go()">', '<a href="#"\n   onMouseOver="x()">', '<p style="x">']
    assert all(EVENT_HANDLER.search(t) or " style=" in t for t in bad)
    assert not EVENT_HANDLER.search('<a data-on="x" aria-label="{{ _(\'Turn on\') }}">')
    assert not SCRIPT.findall('<script type="application/json" id="x">')[0].count("src=")


# --- in a real browser: nothing is blocked -------------------------------------------------

REPORT_VIOLATIONS = """
window.__violations = [];
document.addEventListener("securitypolicyviolation", (e) => {
  const where = `${e.sourceFile}:${e.lineNumber}`;
  window.__violations.push(`${e.violatedDirective} ${e.blockedURI} ${where}`);
});
"""

INJECT_INLINE_SCRIPT = """() => {
  const script = document.createElement("script");
  script.textContent = "window.__ran = true";
  document.body.append(script);
}"""


async def violations(page: Page) -> list[str]:
    return list(await page.evaluate("window.__violations || []"))


async def test_the_pages_run_under_the_policy_in_chromium(
    everything: dict[str, Any], role_tokens: dict[str, str], tmp_path: Path
) -> None:
    made = everything
    server = LiveServer(log=tmp_path / "server.log")
    console = f"/console/congresses/{made['congress_id']}"
    # (address, what shows that the page's script ran and, for the live pages, its socket)
    visits = [
        ("/console", "body"),
        (console, "body"),
        (f"{console}/events", "#event-log, main"),
        (f"{console}/polls/{made['poll_id']}", "main"),
        (f"{console}/attendance", "main"),
        (f"{console}/documents", "main"),
        (f"{console}/screens", "main"),
        ("/schema", ".swagger-ui .info .title"),
        (f"/D/{made['card']}", "main"),
        (f"/P/{made['code']}", "main"),
        (f"/S/{made['key']}", "body"),
        (f"/live/{made['congress_id']}", "main"),
    ]
    try:
        await server.start()
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
            )
            try:
                context = await browser.new_context()
                await context.add_cookies(
                    [{"name": SESSION_COOKIE, "value": role_tokens["admin"], "url": server.url}]
                )
                await context.add_init_script(REPORT_VIOLATIONS)
                page = await context.new_page()
                console_reports: list[str] = []
                page.on(
                    "console",
                    lambda m: (
                        console_reports.append(m.text)
                        if "Content Security Policy" in m.text
                        else None
                    ),
                )
                sockets: list[str] = []
                page.on("websocket", lambda socket: sockets.append(socket.url))
                for url, ready in visits:
                    response = await page.goto(server.url + url)
                    assert response is not None, url
                    assert response.ok, url
                    await page.locator(ready).first.wait_for(state="attached")
                    await page.wait_for_load_state("networkidle")
                    assert await violations(page) == [], url
                assert console_reports == []
                print("sockets opened:", sockets)
                # The control: an injected inline script is blocked, and that is reported.
                await page.evaluate(INJECT_INLINE_SCRIPT)
                await page.wait_for_timeout(200)
                assert any("script-src" in v for v in await violations(page))
                assert await page.evaluate("window.__ran") is None
                # The live pages opened their sockets: connect-src lets them through.
                assert any("/S/" in s or "/screens/" in s or "/ws" in s for s in sockets), sockets
            finally:
                await browser.close()
    except BaseException:
        print((tmp_path / "server.log").read_text(errors="replace")[-5000:])
        raise
    finally:
        server.stop()
