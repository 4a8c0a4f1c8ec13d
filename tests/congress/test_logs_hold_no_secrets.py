"""Secrets and tokens never reach a log: a whole day's flow through the real server, then its
log (uvicorn's access log at info included) and this process's logging searched for each."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path
from typing import Any

import httpx
import pytest

from checkin import credentials, devices
from checkin.controllers import DEVICE_COOKIE
from congress import accounts
from congress.auth import SESSION_COOKIE
from congress.eventlog import SYSTEM
from documents.portal import DELEGATE_COOKIE
from livestream.screens import services as screens
from tests.conftest import CSRF_COOKIE, LiveServer
from tests.congress.voting_fixtures import make_assembly

# The test's own HTTP client logs the addresses it opens, as a phone's browser history would;
# that is the visitor's record, not the system's.
CLIENT_LOGGERS = ("httpx", "httpcore")
SECRET_CANDIDATE = "Ứng viên Kín Đáo Qx7"


class Secrets:
    """Everything the flow handles that must stay out of the logs, with where it came from."""

    def __init__(self) -> None:
        self.found: dict[str, str] = {}

    def add(self, what: str, value: str | None) -> None:
        assert value, f"the flow produced no {what}"
        self.found[value] = what

    def add_cookies(self, who: str, client: httpx.AsyncClient) -> None:
        for cookie in client.cookies.jar:
            if cookie.name in {SESSION_COOKIE, DELEGATE_COOKIE, DEVICE_COOKIE, CSRF_COOKIE}:
                self.add(f"{who}'s cookie {cookie.name}", cookie.value)

    def add_card(self, token: str) -> None:
        address = credentials.card_address(token)
        for form in (token, token.upper(), token.lower(), address, address.lower()):
            self.add("card token", form)
        self.add("card token in a QR address", address.rsplit("/", 1)[-1])


async def csrf_of(client: httpx.AsyncClient, page: str) -> str:
    if CSRF_COOKIE not in client.cookies:
        await client.get(page)
    return str(client.cookies[CSRF_COOKIE])


async def sign_in(client: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    form = {
        "username": username,
        "password": password,
        "next": "/console",
        "_csrf_token": await csrf_of(client, "/login"),
    }
    return await client.post("/login", data=form)


async def run_the_day(
    server: LiveServer, assembly: dict[str, Any], username: str, password: str, found: Secrets
) -> None:
    congress, sitting = assembly["congress"], assembly["sitting"]
    voter, scanned, other = assembly["officials"][:3]
    async with httpx.AsyncClient(base_url=server.url) as organizer:
        signed_in = await sign_in(organizer, username, password)
        assert signed_in.status_code in (302, 303), signed_in.text
        assert (await organizer.get("/console/", follow_redirects=True)).status_code == 200
        csrf = {"x-csrf-token": await csrf_of(organizer, "/login")}
        created = await organizer.post(
            f"/api/congresses/{congress}/polls",
            json={
                "kind": "election",
                "title": "Bầu Ban Chấp hành",
                "seats": 1,
                "candidates": [
                    {"name": "Nguyễn Văn An", "note": ""},
                    {"name": SECRET_CANDIDATE, "note": ""},
                ],
                "sitting_id": sitting,
            },
            headers=csrf,
        )
        assert created.status_code == 201, created.text
        poll = created.json()["id"]
        opened = await organizer.post(f"/api/congresses/{congress}/polls/{poll}/open", headers=csrf)
        assert opened.status_code == 200, opened.text
        found.add_cookies("the organizer", organizer)

    async with httpx.AsyncClient(base_url=server.url) as phone:
        token = assembly["tokens"][voter]
        found.add_card(token)
        address = credentials.card_address(token)  # what the QR code holds
        assert (await phone.get(f"/D/{address.rsplit('/', 1)[-1]}")).status_code == 303
        assert (await phone.get("/delegate/")).status_code == 200
        retry_key = "retry-" + secrets.token_hex(8)
        voted = await phone.post(
            f"/delegate/polls/{poll}/ballot",
            json={"choices": ["c2"], "retry_key": retry_key},
            headers={"x-csrf-token": await csrf_of(phone, "/delegate/")},
        )
        assert voted.status_code == 200, voted.text
        found.add("receipt", voted.json()["receipt"])
        found.add("retry key of a ballot", retry_key)
        found.add_cookies("the phone", phone)

    async with httpx.AsyncClient(base_url=server.url) as lower_case_phone:
        token = assembly["tokens"][other]
        found.add_card(token)
        assert (await lower_case_phone.get(f"/d/{token.lower()}")).status_code == 303
        found.add_cookies("a second phone", lower_case_phone)

    _, code = await devices.register_device(congress, "Cửa chính 1", SYSTEM)
    found.add("pairing code", code)
    async with httpx.AsyncClient(base_url=server.url) as tablet:
        assert (await tablet.get(f"/P/{code}")).status_code == 303
        assert (await tablet.get("/checkin/scan")).status_code == 200
        token = assembly["tokens"][scanned]
        found.add_card(token)
        answer = await tablet.post(
            "/api/checkin/device/scans",
            json={
                "nonce": secrets.token_hex(16),
                "sitting_id": sitting,
                "code": credentials.card_address(token),
            },
            headers={"x-congress-device": "1"},
        )
        assert answer.status_code == 200, answer.text
        assert answer.json()["result"] in {"green", "orange"}
        found.add("device token", tablet.cookies.get(DEVICE_COOKIE))
        found.add_cookies("the tablet", tablet)

    _, key = await screens.register_screen(congress, "Màn hình LED hội trường", SYSTEM)
    found.add("screen key", key)
    found.add("screen key", key.lower())
    async with httpx.AsyncClient(base_url=server.url) as screen:
        assert (await screen.get(f"/S/{key}/")).status_code == 200
        assert (await screen.get(f"/S/{key}/state")).status_code == 200

    async with httpx.AsyncClient(base_url=server.url) as stranger:
        wrong = "Sai-" + secrets.token_urlsafe(12)
        found.add("a wrong password", wrong)
        refused = await sign_in(stranger, username, wrong)
        assert refused.status_code == 401
        found.add_cookies("a stranger", stranger)


@pytest.fixture
async def assembly(make_congress: Any) -> dict[str, Any]:
    return await make_assembly(await make_congress(), officials=4, invited=0)


async def test_a_whole_flow_leaves_no_secret_in_any_log(
    tmp_path: Path, assembly: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    username = f"thu.ky.{secrets.token_hex(3)}"
    password = "Mật-khẩu-" + secrets.token_urlsafe(12)
    await accounts.create_account(username, "Thư ký Đại hội", password, ["admin"])
    found = Secrets()
    found.add("password", password)
    found.add("the choice on a secret ballot", SECRET_CANDIDATE)
    found.add("the choice on a secret ballot", '["c2"]')

    log = tmp_path / "server.log"
    server = LiveServer(log=log)
    await server.start()
    try:
        await run_the_day(server, assembly, username, password, found)
    finally:
        server.stop()

    written = log.read_text()
    # The access log was on: each step of the flow left its line.
    for line in ("POST /login", "GET /D/", "GET /d/", "GET /P/", "GET /S/", "/ballot", "/scans"):
        assert line in written, f"{line!r} is not in the server's log"
    in_process = "\n".join(
        f"{record.name} {record.getMessage()} {record.exc_text or ''}"
        for record in caplog.records
        if not record.name.startswith(CLIENT_LOGGERS)
    )
    leaks = {
        f"{what} in the {where}"
        for value, what in found.found.items()
        for where, text in (("server's log", written), ("test process's logging", in_process))
        if value in text
    }
    assert not leaks, sorted(leaks)


async def test_a_failed_request_s_log_line_names_no_card_or_screen_key(
    app: Any, make_congress: Any, caplog: pytest.LogCaptureFixture
) -> None:
    """The app's own warnings name the path of a request that failed (a full disk while a
    card opens, a database gone under a screen): the card's token and the screen's key in
    that path are secrets like any other."""
    from congress import database

    congress_id = await make_congress()
    assembly = await make_assembly(congress_id, officials=1, invited=0)
    token = next(iter(assembly["tokens"].values()))

    async def database_gone(*args: Any, **kwargs: Any) -> Any:
        raise database.DatabaseUnavailable()

    caplog.set_level(logging.WARNING, logger="congress")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(credentials, "look_up", database_gone)
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver.local"
        ) as client:
            response = await client.get(f"/D/{token}")
    assert response.status_code == 503
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "database_unavailable on GET /D/" in logged
    assert token not in logged
