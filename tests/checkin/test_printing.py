"""Printing cards from the console, and what the printed QR codes then open."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from urllib.parse import urlsplit

import pypdfium2
import pytest
import zxingcpp

from checkin import printing
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM, events_of
from tests.congress.test_bad_days import SmallDisk
from tests.documents.conftest import PNG_1PX, pdf_bytes

NAMES = ["Nguyễn Thị Hạnh", "Trần Văn Đức", "Lê Thị Ượt"]


def qr_addresses(pdf: bytes) -> list[str]:
    """Every QR code on every page, read by a real decoder."""
    found = []
    document = pypdfium2.PdfDocument(pdf)
    try:
        for page in document:
            image = page.render(scale=300 / 72).to_pil()
            found += [code.text for code in zxingcpp.read_barcodes(image)]
    finally:
        document.close()
    return found


@pytest.fixture
async def congress_with_delegates(make_congress) -> tuple[int, list[int]]:
    congress_id = await make_congress()
    delegation = await delegate_services.add_delegation(
        congress_id, DelegationIn(code="YT", name="Công đoàn ngành Y tế"), SYSTEM
    )
    ids = [
        await delegate_services.add_delegate(
            congress_id,
            DelegateIn(
                full_name=name, kind="official", delegation_id=delegation, card_number=f"{n:03d}"
            ),
            SYSTEM,
        )
        for n, name in enumerate(NAMES, start=1)
    ]
    return congress_id, ids


async def print_cards(admin, congress_id: int, **form: str):
    return await admin.submit(
        f"/console/congresses/{congress_id}/cards/print",
        {"layout": "a4", "scope": "without_card", **form},
        follow_redirects=False,
    )


async def open_address(client, address: str):
    return await client.get(urlsplit(address).path, follow_redirects=False)


async def test_printed_cards_open_each_delegates_page(admin, client, congress_with_delegates):
    congress_id, ids = congress_with_delegates
    response = await print_cards(admin, congress_id)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    addresses = qr_addresses(response.content)
    assert len(addresses) == 3
    assert len(set(addresses)) == 3
    seen = []
    for address in addresses:
        opened = await open_address(client, address)
        assert opened.status_code == 303
        page = await client.get("/delegate")
        seen += [name for name in NAMES if name in page.text]
    assert sorted(seen) == sorted(NAMES)
    issued = await events_of(congress_id, types=["CardIssued"])
    assert sorted(e.payload["delegate_id"] for e in issued) == sorted(ids)


async def test_printing_again_does_not_void_printed_cards(admin, congress_with_delegates):
    congress_id, _ = congress_with_delegates
    await print_cards(admin, congress_id)
    again = await print_cards(admin, congress_id)
    assert again.status_code == 422
    assert "đã có thẻ" in again.text


async def test_a_reissued_card_replaces_the_old_one(admin, client, congress_with_delegates):
    congress_id, ids = congress_with_delegates
    first = qr_addresses((await print_cards(admin, congress_id)).content)
    reissued = await admin.submit(
        f"/console/congresses/{congress_id}/cards/delegates/{ids[0]}/reissue", {"layout": "cr80"}
    )
    assert reissued.status_code == 200
    [new_address] = qr_addresses(reissued.content)
    results = {a: (await open_address(client, a)).status_code for a in first}
    assert sorted(results.values()) == [303, 303, 410]
    assert (await open_address(client, new_address)).status_code == 303


async def test_a_revoked_card_opens_nothing(admin, client, congress_with_delegates):
    congress_id, ids = congress_with_delegates
    addresses = qr_addresses((await print_cards(admin, congress_id)).content)
    for delegate_id in ids:
        await admin.submit(
            f"/console/congresses/{congress_id}/cards/delegates/{delegate_id}/revoke"
        )
    for address in addresses:
        response = await open_address(client, address)
        assert response.status_code == 410
        assert "thu hồi" in response.text


async def finished(admin, job_url: str) -> dict:
    """The print job's state once it is no longer running (20 s at most)."""
    for _ in range(200):
        state = (await admin.get(f"{job_url}/state")).json()
        if state["status"] != "running":
            break
        await asyncio.sleep(0.1)
    return state


async def test_a_long_batch_prints_in_the_background(admin, congress_with_delegates, monkeypatch):
    monkeypatch.setattr(printing, "BACKGROUND_FROM", 2)
    congress_id, _ = congress_with_delegates
    started = await print_cards(admin, congress_id, scope="all")
    assert started.status_code in {302, 303}
    job_url = started.headers["location"]
    state = await finished(admin, job_url)
    assert state == {"status": "done", "done": 3, "total": 3}
    pdf = await admin.get(f"{job_url}/pdf")
    assert len(qr_addresses(pdf.content)) == 3
    # The PDF holds the only copy of the tokens: it is handed over once.
    assert (await admin.get(f"{job_url}/pdf")).status_code == 404


async def test_a_batch_the_disk_has_no_room_for_fails_and_leaves_no_half_pdf(
    admin, congress_with_delegates, monkeypatch
):
    monkeypatch.setattr(printing, "BACKGROUND_FROM", 2)
    cards = Path(os.environ["CONGRESS_VAR_DIR"]) / "cards"
    before = set(cards.glob("*")) if cards.exists() else set()
    disk = SmallDisk(cards, monkeypatch, size=4096)  # a card sheet is larger than a page
    try:
        congress_id, _ = congress_with_delegates
        started = await print_cards(admin, congress_id, scope="all")
        job_url = started.headers["location"]
        state = await finished(admin, job_url)
        assert state["status"] == "failed"
        assert (await admin.get(f"{job_url}/pdf")).status_code == 404
        assert set(cards.glob("*")) - before == set()  # no half PDF, no temporary file
    finally:
        disk.remove()


async def test_the_logo_must_be_an_image(admin, congress_with_delegates):
    congress_id, _ = congress_with_delegates
    url = f"/console/congresses/{congress_id}/cards/logo"
    good = await admin.post(
        url, files={"files": ("logo.png", PNG_1PX, "image/png")}, follow_redirects=False
    )
    assert good.status_code in {302, 303}
    bad = await admin.post(url, files={"files": ("logo.png", pdf_bytes("x"), "image/png")})
    assert bad.status_code == 422
    assert "PNG" in bad.text


@pytest.mark.parametrize("role", ["secretariat", "presidium", "tally", "checkin"])
async def test_only_administrators_print_cards(as_role, congress_with_delegates, role):
    congress_id, _ = congress_with_delegates
    session = await as_role(role)
    response = await print_cards(session, congress_id)
    assert response.status_code == 403
