"""The delegate's page that a card's QR code opens: no app, no password, nothing leaked."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from checkin import credentials
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM
from congress.ratelimit import LIMITS
from tests.conftest import LiveServer
from tests.documents.conftest import pdf_bytes
from tests.documents.test_documents import upload

NAME = "Nguyễn Thị Hạnh"


@pytest.fixture
async def delegate(sitting) -> tuple[int, int, str]:
    """(congress, delegate, token) of a delegate holding a fresh card."""
    congress_id, _, _ = sitting
    delegation = await delegate_services.add_delegation(
        congress_id, DelegationIn(code="GD", name="Công đoàn ngành Giáo dục"), SYSTEM
    )
    delegate_id = await delegate_services.add_delegate(
        congress_id,
        DelegateIn(full_name=NAME, kind="official", delegation_id=delegation, card_number="017"),
        SYSTEM,
    )
    tokens = await credentials.issue_cards(congress_id, [delegate_id], SYSTEM, replace=False)
    return congress_id, delegate_id, tokens[delegate_id]


async def test_the_card_opens_the_page_and_the_token_does_not_stay(client, delegate):
    _, _, token = delegate
    opened = await client.get(f"/D/{token}", follow_redirects=False)
    assert opened.status_code == 303
    assert opened.headers["location"] == "/delegate"
    assert opened.headers["referrer-policy"] == "no-referrer"
    cookie = opened.headers["set-cookie"]
    assert "congress_delegate=" in cookie
    assert "HttpOnly" in cookie
    assert token not in cookie
    page = await client.get("/delegate")
    assert page.status_code == 200
    assert NAME in page.text
    assert "Công đoàn ngành Giáo dục" in page.text
    assert "Phiên chính thức thứ nhất" in page.text
    assert token not in page.text


async def test_the_address_works_in_either_case(client, delegate):
    _, _, token = delegate
    assert (await client.get(f"/d/{token.lower()}", follow_redirects=False)).status_code == 303


async def test_the_qr_address_is_short_and_upper_case(delegate):
    _, _, token = delegate
    address = credentials.card_address(token)
    assert address.endswith(f"/D/{token}")
    assert address == address.upper()
    assert len(token) == 26  # 128 random bits in base32


async def test_delegates_see_only_released_papers_for_them(admin, client, delegate):
    congress_id, _, token = delegate
    ids = {}
    for key, access, release in (
        ("released", "delegates", True),
        ("public", "public", True),
        ("unreleased", "delegates", False),
        ("organizers", "organizers", False),
        ("secret", "confidential", False),
    ):
        response = await upload(
            admin,
            congress_id,
            pdf_bytes(f"Tài liệu {key}"),
            f"{key}.pdf",
            title=f"Tài liệu {key}",
            access=access,
        )
        ids[key] = response.json()["document_id"]
        if release:
            await admin.post(f"/api/congresses/{congress_id}/documents/{ids[key]}/release")
    await client.get(f"/D/{token}")
    page = (await client.get("/delegate")).text
    assert "Tài liệu released" in page
    assert "Tài liệu public" in page
    for hidden in ("unreleased", "organizers", "secret"):
        assert f"Tài liệu {hidden}" not in page
        response = await client.get(f"/delegate/documents/{ids[hidden]}/file")
        assert response.status_code == 404
    pdf = await client.get(f"/delegate/documents/{ids['released']}/file")
    assert pdf.content.startswith(b"%PDF")
    image = await client.get(f"/delegate/documents/{ids['released']}/pages/1")
    assert image.content.startswith(b"\x89PNG")


async def test_a_new_version_stays_unseen_until_released(admin, client, delegate):
    congress_id, _, token = delegate
    document_id = (
        await upload(admin, congress_id, pdf_bytes("Bản một"), "v1.pdf", access="delegates")
    ).json()["document_id"]
    await admin.post(f"/api/congresses/{congress_id}/documents/{document_id}/release")
    await admin.post(
        f"/api/congresses/{congress_id}/documents/{document_id}/versions",
        files={"file": ("v2.pdf", pdf_bytes("Bản hai"), "application/pdf")},
    )
    await client.get(f"/D/{token}")
    first = await client.get(f"/delegate/documents/{document_id}/file")
    assert first.content == pdf_bytes("Bản một")


@pytest.mark.parametrize("problem", ["malformed", "unknown", "replaced", "revoked"])
async def test_bad_cards_say_what_is_wrong_and_nothing_else(client, delegate, problem):
    congress_id, delegate_id, token = delegate
    address = {"malformed": "/D/not-a-token", "unknown": f"/D/{credentials.new_token()}"}.get(
        problem, f"/D/{token}"
    )
    if problem == "replaced":
        await credentials.issue_cards(congress_id, [delegate_id], SYSTEM, replace=True)
    if problem == "revoked":
        await credentials.revoke_card(congress_id, delegate_id, SYSTEM)
    response = await client.get(address, follow_redirects=False)
    assert response.status_code == (410 if problem in {"replaced", "revoked"} else 404)
    assert NAME not in response.text
    assert "congress_delegate=" not in response.headers.get("set-cookie", "")
    assert token not in response.text
    expected = {
        "malformed": "không phải địa chỉ thẻ đại biểu",
        "unknown": "không xác định",
        "replaced": "đã được thay bằng thẻ mới",
        "revoked": "đã bị thu hồi",
    }[problem]
    assert expected in response.text


async def test_a_replaced_card_closes_its_phone_sessions(client, delegate):
    congress_id, delegate_id, token = delegate
    await client.get(f"/D/{token}")
    assert (await client.get("/delegate")).status_code == 200
    new = await credentials.issue_cards(congress_id, [delegate_id], SYSTEM, replace=True)
    assert (await client.get("/delegate")).status_code == 401
    await client.get(f"/D/{new[delegate_id]}")
    assert (await client.get("/delegate")).status_code == 200


async def test_guessing_is_slowed_down(client, delegate):
    _, _, token = delegate
    for _ in range(LIMITS["card_lookup"].attempts):
        assert (await client.get(f"/D/{credentials.new_token()}")).status_code == 404
    assert (await client.get(f"/D/{credentials.new_token()}")).status_code == 429
    # A good card from the same address is refused too while the limit holds.
    assert (await client.get(f"/D/{token}", follow_redirects=False)).status_code == 429


async def test_the_page_is_light(client, delegate):
    _, _, token = delegate
    await client.get(f"/D/{token}")
    page = await client.get("/delegate")
    total = len(page.content)
    for asset in ("/static/delegate.css", "/static/delegate.js"):
        assert asset in page.text
        total += len((await client.get(asset)).content)
    assert total <= 100 * 1024
    assert "http://" not in page.text.replace("http://testserver", "")
    assert "https://" not in page.text


async def test_a_released_paper_reaches_an_open_page(admin, client, delegate):
    congress_id, _, token = delegate
    document_id = (
        await upload(admin, congress_id, pdf_bytes("Nghị quyết"), "nq.pdf", access="delegates")
    ).json()["document_id"]
    await client.get(f"/D/{token}")
    with await client.websocket_connect("/delegate/live") as socket:
        await admin.post(f"/api/congresses/{congress_id}/documents/{document_id}/release")
        message = await asyncio.to_thread(socket.receive_json, timeout=5)
    assert message == {"refresh": "documents"}
    part = await client.get("/delegate/parts/documents")
    assert "nq" in part.text


async def test_tokens_never_reach_the_server_log(tmp_path, delegate):
    _, _, token = delegate
    log = tmp_path / "server.log"
    server = LiveServer(log=log)
    await server.start()
    try:
        async with httpx.AsyncClient(base_url=server.url) as http:
            assert (await http.get(f"/D/{token}")).status_code == 303
            await http.get(f"/d/{token.lower()}")
            await http.get(f"/D/{credentials.new_token()}")
    finally:
        server.stop()
    written = log.read_text()
    assert "GET /D/…" in written
    assert token not in written
    assert token.lower() not in written
