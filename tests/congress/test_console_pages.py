"""What an organizer sees in the browser: signing in and out, congresses, the agenda,
the delegates' search and the delegations' counts."""

from __future__ import annotations

import re
import secrets
from collections.abc import Awaitable, Callable
from html.parser import HTMLParser
from typing import Any

import pytest

from congress import accounts
from congress.auth import LANGUAGE_COOKIE, SESSION_COOKIE
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM
from tests.conftest import Client, Session

PASSWORD = "mat-khau-dai-hoi-19"
FULL_NAME = "Phạm Thu Trang"


class _PageReader(HTMLParser):
    """The text a reader sees, and the cells of each table row."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.text: list[str] = []
        self.rows: list[list[str]] = []
        self._cell: list[str] | None = None
        self._skip = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in {"script", "style", "title"}:
            self._skip += 1
        elif tag == "tr":
            self.rows.append([])
        elif tag in {"td", "th"}:
            self._cell = []

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "title"}:
            self._skip -= 1
        elif tag in {"td", "th"} and self._cell is not None and self.rows:
            self.rows[-1].append(" ".join("".join(self._cell).split()))
            self._cell = None

    def handle_data(self, data: str) -> None:
        if self._skip:
            return
        self.text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def read_page(html: str) -> _PageReader:
    reader = _PageReader()
    reader.feed(html)
    reader.close()
    return reader


def visible(html: str) -> str:
    """The page's text as one line, tags and form values left out."""
    return " ".join("".join(read_page(html).text).split())


def table_row(html: str, text: str, column: int) -> list[str]:
    """The cells of the table row whose cell ``column`` reads ``text``."""
    for row in read_page(html).rows:
        if len(row) > column and row[column] == text:
            return row
    raise AssertionError(f"no table row with {text!r} in column {column}")


def unique(prefix: str) -> str:
    return f"{prefix} {secrets.token_hex(3)}"


@pytest.fixture(scope="module")
async def organizer() -> str:
    """A secretariat account that signs in with its password (made once: argon2 is slow)."""
    username = f"trang.{secrets.token_hex(3)}"
    await accounts.create_account(username, FULL_NAME, PASSWORD, ["secretariat"])
    return username


async def sign_in(client: Client, username: str, password: str) -> Any:
    return await Session(client).submit(
        "/login", {"username": username, "password": password}, follow_redirects=False
    )


# --- signing in and out ------------------------------------------------------------------


async def test_sign_in_page_is_in_vietnamese_by_default(client: Client) -> None:
    response = await client.get("/login")
    assert response.status_code == 200
    text = visible(response.text)
    assert "Đăng nhập" in text
    assert "Sign in" not in text


async def test_sign_in_page_in_english_once_chosen(client: Client) -> None:
    response = await client.get("/language/en?next=/login")
    assert response.status_code == 200
    assert response.url.path == "/login"
    assert client.cookies[LANGUAGE_COOKIE] == "en"
    text = visible(response.text)
    assert "Sign in" in text
    assert "Đăng nhập" not in text
    # the choice is remembered on the next page too, and can be undone
    assert "Sign in" in visible((await client.get("/login")).text)
    back = await client.get("/language/vi?next=/login")
    assert "Đăng nhập" in visible(back.text)


async def test_wrong_password_is_refused_without_a_session(client: Client, organizer: str) -> None:
    response = await sign_in(client, organizer, "not-the-password")
    assert response.status_code == 401
    assert "Sai tên đăng nhập hoặc mật khẩu." in visible(response.text)
    set_cookies = " ".join(response.headers.get_list("set-cookie"))
    assert SESSION_COOKIE not in set_cookies
    assert SESSION_COOKIE not in client.cookies
    refused = await client.get("/console", follow_redirects=False)
    assert refused.status_code in {302, 303}
    assert refused.headers["location"].startswith("/login")


async def test_right_password_opens_the_console_with_an_httponly_cookie(
    client: Client, organizer: str
) -> None:
    response = await sign_in(client, organizer.upper(), PASSWORD)
    assert response.status_code in {302, 303}
    assert response.headers["location"] == "/console"
    [session_cookie] = [
        c for c in response.headers.get_list("set-cookie") if c.startswith(f"{SESSION_COOKIE}=")
    ]
    assert "httponly" in session_cookie.lower()
    console = await client.get("/console")
    assert console.status_code == 200
    assert FULL_NAME in visible(console.text)


async def test_sign_out_ends_the_session(client: Client, organizer: str) -> None:
    await sign_in(client, organizer, PASSWORD)
    token = client.cookies[SESSION_COOKIE]
    assert (await client.get("/console")).status_code == 200

    response = await Session(client).submit("/logout")
    assert response.status_code == 200
    assert response.url.path == "/login"
    assert "Đăng nhập" in visible(response.text)
    assert SESSION_COOKIE not in client.cookies

    # the old cookie, kept by someone, opens nothing any more
    client.cookies.set(SESSION_COOKIE, token)
    refused = await client.get("/console", follow_redirects=False)
    assert refused.status_code in {302, 303}
    assert refused.headers["location"].startswith("/login")


async def test_sign_out_says_so(client: Client, organizer: str) -> None:
    await sign_in(client, organizer, PASSWORD)
    response = await Session(client).submit("/logout")
    assert "Bạn đã đăng xuất." in visible(response.text)


# --- forms without the CSRF token --------------------------------------------------------


async def test_a_form_without_the_csrf_token_is_refused(admin: Session) -> None:
    name = unique("Đại hội giả mạo")
    await admin.csrf()  # the browser has the cookie; the forged form lacks the field
    for form in ({}, {"_csrf_token": "forged"}):
        response = await admin.client.post(
            "/console/congresses",
            data={**form, "name": name, "number": "XIX"},
            follow_redirects=False,
        )
        assert response.status_code == 403
        assert "csrf_failed" in response.text
        assert "Biểu mẫu này đã hết hạn" in visible(response.text)
    assert name not in visible((await admin.get("/console")).text)


# --- congresses, sittings and the agenda -------------------------------------------------


async def create_congress(admin: Session, name: str, **fields: str) -> int:
    response = await admin.submit(
        "/console/congresses",
        {"kind": "congress", "name": name, "number": "xix", **fields},
        follow_redirects=False,
    )
    assert response.status_code in {302, 303}, visible(response.text)
    match = re.fullmatch(r"/console/congresses/(\d+)\?notice=created", response.headers["location"])
    assert match, response.headers["location"]
    return int(match.group(1))


async def test_a_congress_created_in_the_form_is_listed(admin: Session) -> None:
    name = unique("Đại hội Công đoàn tỉnh Hà Tĩnh")
    congress_id = await create_congress(
        admin, name, term="2023–2028", starts_on="2025-10-01", ends_on="2025-10-02"
    )

    shown = await admin.get(f"/console/congresses/{congress_id}?notice=created")
    assert "Đã tạo." in visible(shown.text)
    listing = visible((await admin.get("/console")).text)
    assert f"{name} lần thứ XIX" in listing
    assert "01/10/2025–02/10/2025" in listing


async def test_agenda_items_are_added_and_moved(admin: Session) -> None:
    congress_id = await create_congress(admin, unique("Đại hội"))
    page_url = f"/console/congresses/{congress_id}"
    added = await admin.submit(
        f"{page_url}/sittings", {"title": "Phiên chính thức", "kind": "plenary", "starts_at": ""}
    )
    assert added.status_code == 200
    assert "Phiên chính thức" in visible(added.text)
    [sitting_id] = re.findall(rf'action="{page_url}/sittings/(\d+)/agenda"', added.text)

    for title in ("Khai mạc Đại hội", "Báo cáo của Ban Chấp hành"):
        response = await admin.submit(f"{page_url}/sittings/{sitting_id}/agenda", {"title": title})
        assert response.status_code == 200
    text = visible(response.text)
    assert text.index("Khai mạc Đại hội") < text.index("Báo cáo của Ban Chấp hành")

    # the "move up" buttons, one per item in the order shown
    move_up = re.findall(rf'action="{page_url}/agenda/(\d+)/move\?step=-1"', response.text)
    assert len(move_up) == 2
    moved = await admin.submit(f"{page_url}/agenda/{move_up[1]}/move?step=-1")
    assert moved.status_code == 200
    text = visible(moved.text)
    assert "Đã lưu." in text
    assert text.index("Báo cáo của Ban Chấp hành") < text.index("Khai mạc Đại hội")
    # and it stays so when the page is opened again
    text = visible((await admin.get(page_url)).text)
    assert text.index("Báo cáo của Ban Chấp hành") < text.index("Khai mạc Đại hội")


async def test_a_sitting_gets_the_start_time_the_browser_sends(admin: Session) -> None:
    congress_id = await create_congress(admin, unique("Đại hội"))
    response = await admin.submit(
        f"/console/congresses/{congress_id}/sittings",
        {"title": "Phiên trù bị", "kind": "preparatory", "starts_at": "2025-10-02T08:00"},
    )
    assert response.status_code == 200
    assert "08:00 02/10/2025" in visible(response.text)


async def test_a_congress_cannot_end_before_it_starts(admin: Session) -> None:
    name = unique("Đại hội Công đoàn ngành Giáo dục")
    congress_id = await create_congress(admin, name, starts_on="2025-10-01", ends_on="2025-10-02")
    page_url = f"/console/congresses/{congress_id}"

    response = await admin.submit(
        page_url,
        {
            "kind": "congress",
            "name": "Tên đã đổi",
            "number": "XX",
            "starts_on": "2025-10-03",
            "ends_on": "2025-10-01",
        },
    )
    assert response.status_code == 422
    assert "Ngày kết thúc Đại hội không được trước ngày bắt đầu." in visible(response.text)

    text = visible((await admin.get(page_url)).text)
    assert f"{name} lần thứ XIX" in text
    assert "01/10/2025–02/10/2025" in text
    assert "Tên đã đổi" not in text


# --- delegates and delegations -----------------------------------------------------------


@pytest.fixture
async def delegates_congress(make_congress: Callable[..., Awaitable[int]]) -> int:
    congress_id = await make_congress()
    education = await delegate_services.add_delegation(
        congress_id, DelegationIn(code="GD", name="Công đoàn ngành Giáo dục"), SYSTEM
    )
    health = await delegate_services.add_delegation(
        congress_id, DelegationIn(code="YT", name="Công đoàn ngành Y tế"), SYSTEM
    )
    for full_name, kind, delegation in (
        ("Nguyễn Thị Hạnh", "official", education),
        ("Trần Văn Đức", "invited", education),
        ("Lê Dục", "guest", health),
    ):
        await delegate_services.add_delegate(
            congress_id,
            DelegateIn(full_name=full_name, kind=kind, delegation_id=delegation),
            SYSTEM,
        )
    return congress_id


async def test_delegates_are_found_without_diacritics(
    admin: Session, delegates_congress: int
) -> None:
    url = f"/console/congresses/{delegates_congress}/delegates"

    everyone = visible((await admin.get(url)).text)
    assert "3 đại biểu" in everyone
    assert all(n in everyone for n in ("Nguyễn Thị Hạnh", "Trần Văn Đức", "Lê Dục"))

    response = await admin.get(url, params={"q": "nguyen thi hanh"})
    assert response.status_code == 200
    text = visible(response.text)
    assert "Nguyễn Thị Hạnh" in text
    assert "1 đại biểu" in text
    assert "Trần Văn Đức" not in text
    assert "Lê Dục" not in text

    text = visible((await admin.get(url, params={"q": "Đức"})).text)
    assert "Trần Văn Đức" in text
    assert "Nguyễn Thị Hạnh" not in text

    text = visible((await admin.get(url, params={"q": "Phạm"})).text)
    assert "Không có đại biểu nào phù hợp." in text


async def test_delegations_page_counts_delegates_by_kind(
    admin: Session, delegates_congress: int
) -> None:
    response = await admin.get(f"/console/congresses/{delegates_congress}/delegations")
    assert response.status_code == 200
    # columns: code, delegation, official, invited, guests, total (then the edit form)
    assert table_row(response.text, "Công đoàn ngành Giáo dục", 1)[:6] == [
        "GD",
        "Công đoàn ngành Giáo dục",
        "1",
        "1",
        "0",
        "2",
    ]
    assert table_row(response.text, "Công đoàn ngành Y tế", 1)[:6] == [
        "YT",
        "Công đoàn ngành Y tế",
        "0",
        "0",
        "1",
        "1",
    ]
    assert table_row(response.text, "Tổng số", 1)[1:6] == ["Tổng số", "1", "1", "1", "3"]
