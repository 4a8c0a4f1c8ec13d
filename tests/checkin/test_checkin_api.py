"""Check-in through the tablets' API: every kind of card, idempotence, races, offline."""

from __future__ import annotations

import asyncio
import secrets

import pytest

from checkin import attendance, credentials, devices
from checkin.tables import Attendance, CheckinScan
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM, events_of
from congress.schemas import SittingIn
from congress.services import add_sitting
from tests.conftest import Session

DEVICE_HEADERS = {"x-congress-device": "1"}


def nonce() -> str:
    return secrets.token_hex(16)


@pytest.fixture
async def hall(make_congress):
    """A congress with two sittings, three delegates with cards, and a paired tablet."""
    congress_id = await make_congress()
    sittings = [
        await add_sitting(congress_id, SittingIn(title=t, kind="plenary"), SYSTEM)
        for t in ("Phiên thứ nhất", "Phiên thứ hai")
    ]
    delegation = await delegate_services.add_delegation(
        congress_id, DelegationIn(code="GD", name="Công đoàn ngành Giáo dục"), SYSTEM
    )
    people = []
    for n, (name, kind) in enumerate(
        (("Nguyễn Thị Hạnh", "official"), ("Trần Văn Đức", "official"), ("Lê Văn An", "invited")),
        start=1,
    ):
        people.append(
            await delegate_services.add_delegate(
                congress_id,
                DelegateIn(
                    full_name=name, kind=kind, delegation_id=delegation, card_number=f"{n:03d}"
                ),
                SYSTEM,
            )
        )
    tokens = await credentials.issue_cards(congress_id, people, SYSTEM, replace=False)
    device_id, code = await devices.register_device(congress_id, "Cửa chính 1", SYSTEM)
    return {
        "congress": congress_id,
        "sittings": sittings,
        "people": people,
        "tokens": tokens,
        "device_id": device_id,
        "code": code,
    }


async def paired(client, code: str) -> Session:
    response = await client.get(f"/P/{code}", follow_redirects=False)
    assert response.status_code == 303
    return Session(client)


async def scan(session: Session, sitting: int, **fields):
    body = {"nonce": nonce(), "sitting_id": sitting, **fields}
    return await session.client.post("/api/checkin/device/scans", json=body, headers=DEVICE_HEADERS)


async def test_green_then_orange_then_counts(client, hall):
    tablet = await paired(client, hall["code"])
    sitting = hall["sittings"][0]
    token = hall["tokens"][hall["people"][0]]
    first = (await scan(tablet, sitting, code=credentials.card_address(token))).json()
    assert first["result"] == "green"
    assert first["delegate"]["full_name"] == "Nguyễn Thị Hạnh"
    assert first["message"]
    assert (first["present"], first["expected"]) == (1, 2)
    again = (await scan(tablet, sitting, code=token)).json()
    assert again["result"] == "orange"
    assert again["code"] == "already_checked_in"
    assert again["first_device"] == "Cửa chính 1"
    assert again["first_at"] in again["message"]
    # Each sitting has its own attendance.
    other = (await scan(tablet, hall["sittings"][1], code=token)).json()
    assert other["result"] == "green"
    logged = await events_of(hall["congress"], types=["DelegateCheckedIn"])
    assert len(logged) == 2


async def test_a_retried_nonce_gets_the_same_answer_and_counts_once(client, hall):
    tablet = await paired(client, hall["code"])
    body = {
        "nonce": nonce(),
        "sitting_id": hall["sittings"][0],
        "code": hall["tokens"][hall["people"][1]],
    }
    answers = [
        (
            await tablet.client.post("/api/checkin/device/scans", json=body, headers=DEVICE_HEADERS)
        ).json()
        for _ in range(3)
    ]
    assert answers[0] == answers[1] == answers[2]
    assert answers[0]["result"] == "green"
    assert await CheckinScan.count().where(CheckinScan.nonce == body["nonce"]) == 1


async def test_one_nonce_sent_twice_at_once_is_answered_and_recorded_once(hall):
    device = devices.PairedDevice(hall["device_id"], hall["congress"], "Cửa chính 1", "")
    scan_in = attendance.ScanIn(
        nonce=nonce(), sitting_id=hall["sittings"][0], code=hall["tokens"][hall["people"][0]]
    )
    answers = await asyncio.gather(*(attendance.check_in(device, scan_in) for _ in range(3)))
    assert answers[0] == answers[1] == answers[2]
    assert answers[0].result == "green"
    assert await CheckinScan.count().where(CheckinScan.nonce == scan_in.nonce) == 1
    assert await Attendance.count().where(Attendance.sitting == hall["sittings"][0]) == 1
    assert len(await events_of(hall["congress"], types=["DelegateCheckedIn"])) == 1


@pytest.mark.parametrize(
    ("case", "code"),
    [
        ("forged", "HTTP://EVIL/D/AAAAAAAAAAAAAAAAAAAAAAAAAA"),
        ("malformed", "<script>alert(1)</script>"),
        ("replaced", "replaced"),
        ("revoked", "revoked"),
        ("other congress", "other"),
    ],
)
async def test_bad_cards_are_red(client, hall, make_congress, case, code):
    tablet = await paired(client, hall["code"])
    person = hall["people"][0]
    if case == "replaced":
        old = hall["tokens"][person]
        await credentials.issue_cards(hall["congress"], [person], SYSTEM, replace=True)
        code = old
    if case == "revoked":
        await credentials.revoke_card(hall["congress"], person, SYSTEM)
        code = hall["tokens"][person]
    if case == "other congress":
        elsewhere = await make_congress()
        stranger = await delegate_services.add_delegate(
            elsewhere, DelegateIn(full_name="Phạm Thị Lan", kind="official"), SYSTEM
        )
        code = (await credentials.issue_cards(elsewhere, [stranger], SYSTEM, replace=False))[
            stranger
        ]
    answer = (await scan(tablet, hall["sittings"][0], code=code)).json()
    assert answer["result"] == "red"
    expected = {
        "forged": "unknown_card",
        "malformed": "not_a_card",
        "replaced": "card_replaced",
        "revoked": "card_revoked",
        "other congress": "other_congress",
    }[case]
    assert answer["code"] == expected
    assert answer["delegate"] is None
    assert await Attendance.count().where(Attendance.congress == hall["congress"]) == 0


async def test_a_card_number_or_a_name_checks_in_too(client, hall):
    tablet = await paired(client, hall["code"])
    by_number = (await scan(tablet, hall["sittings"][0], code="002")).json()
    assert by_number["delegate"]["full_name"] == "Trần Văn Đức"
    found = (
        await tablet.client.get(
            "/api/checkin/device/search?q=nguyen thi hanh", headers=DEVICE_HEADERS
        )
    ).json()["delegates"]
    assert [d["full_name"] for d in found] == ["Nguyễn Thị Hạnh"]
    by_name = (await scan(tablet, hall["sittings"][0], delegate_id=found[0]["id"])).json()
    assert by_name["result"] == "green"


async def test_two_tablets_scanning_the_same_card_at_once_give_one_green(client, lender, hall):
    from litestar.testing import AsyncTestClient

    tablet_a = await paired(client, hall["code"])
    _, second_code = await devices.register_device(hall["congress"], "Cửa phụ 2", SYSTEM)
    async with AsyncTestClient(app=lender.next_app()) as other_client:
        tablet_b = await paired(other_client, second_code)
        token = hall["tokens"][hall["people"][0]]
        answers = await asyncio.gather(
            *(scan(t, hall["sittings"][0], code=token) for t in (tablet_a, tablet_b) * 5)
        )
    results = sorted(a.json()["result"] for a in answers)
    assert results == ["green"] + ["orange"] * 9
    assert await Attendance.count().where(Attendance.congress == hall["congress"]) == 1


async def test_the_offline_queue_uploads_in_one_batch(client, hall):
    tablet = await paired(client, hall["code"])
    sitting = hall["sittings"][0]
    queued = [
        {
            "nonce": nonce(),
            "sitting_id": sitting,
            "code": hall["tokens"][p],
            "scanned_at": "2023-10-11T07:42:00+07:00",
        }
        for p in hall["people"]
    ]
    queued.append({**queued[0], "nonce": nonce()})  # scanned twice while offline
    response = await tablet.client.post(
        "/api/checkin/device/scans/batch", json={"scans": queued}, headers=DEVICE_HEADERS
    )
    results = [r["result"] for r in response.json()["results"]]
    assert results == ["green", "green", "green", "orange"]
    # Sent again (the answer was lost): the same answers, nothing counted twice.
    again = await tablet.client.post(
        "/api/checkin/device/scans/batch", json={"scans": queued}, headers=DEVICE_HEADERS
    )
    assert [r["result"] for r in again.json()["results"]] == results
    duplicates = await CheckinScan.count().where(
        (CheckinScan.congress == hall["congress"]) & (CheckinScan.duplicate == True)  # noqa: E712
    )
    assert duplicates == 1


async def test_a_revoked_tablet_stops_at_once(client, hall):
    tablet = await paired(client, hall["code"])
    await devices.revoke_device(hall["congress"], hall["device_id"], SYSTEM)
    response = await scan(tablet, hall["sittings"][0], code="001")
    assert response.status_code == 401
    assert response.json()["code"] == "device_not_paired"


async def test_a_pairing_code_works_once(client, lender, hall):
    from litestar.testing import AsyncTestClient

    await paired(client, hall["code"])
    async with AsyncTestClient(app=lender.next_app()) as thief:
        response = await thief.get(f"/P/{hall['code']}", follow_redirects=False)
    assert response.status_code == 404


async def test_the_device_header_is_required(client, hall):
    await paired(client, hall["code"])
    response = await client.post(
        "/api/checkin/device/scans",
        json={"nonce": nonce(), "sitting_id": hall["sittings"][0], "code": "001"},
    )
    assert response.status_code == 401


async def test_a_tablet_cannot_check_in_for_another_congress(client, hall, make_congress):
    tablet = await paired(client, hall["code"])
    elsewhere = await make_congress()
    foreign_sitting = await add_sitting(elsewhere, SittingIn(title="Phiên khác"), SYSTEM)
    response = await scan(tablet, foreign_sitting, code="001")
    assert response.status_code == 404


async def test_quorum_is_two_thirds_of_the_official_delegates(client, hall):
    tablet = await paired(client, hall["code"])
    sitting = hall["sittings"][0]
    totals = await attendance.counts(hall["congress"], sitting)
    assert (totals.expected, totals.required, totals.reached) == (2, 2, False)
    await scan(tablet, sitting, code="001")
    await scan(tablet, sitting, code="003")  # invited: not convened, not counted
    assert (await attendance.counts(hall["congress"], sitting)).reached is False
    await scan(tablet, sitting, code="002")
    assert (await attendance.counts(hall["congress"], sitting)).reached is True


async def test_an_undo_is_recorded_with_who_and_why(client, hall):
    tablet = await paired(client, hall["code"])
    sitting = hall["sittings"][0]
    await scan(tablet, sitting, code="001")
    await attendance.undo_check_in(
        hall["congress"], sitting, hall["people"][0], "Quét nhầm thẻ", SYSTEM
    )
    row = await Attendance.select().where(Attendance.congress == hall["congress"]).first()
    assert row["undo_reason"] == "Quét nhầm thẻ"
    assert (await attendance.counts(hall["congress"], sitting)).present == 0
    # Set present again after an undo: a new green.
    assert (await scan(tablet, sitting, code="001")).json()["result"] == "green"


async def test_the_offline_roster_opens_only_with_the_card(client, hall):
    import hashlib
    import json

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    tablet = await paired(client, hall["code"])
    roster = (await tablet.client.get("/api/checkin/device/roster", headers=DEVICE_HEADERS)).json()
    assert len(roster["entries"]) == 3
    assert "Nguyễn" not in str(roster)
    salt = bytes.fromhex(roster["salt"])
    token = hall["tokens"][hall["people"][0]].encode()
    lookup = hashlib.sha256(salt + token).digest()[:16].hex()
    [entry] = [e for e in roster["entries"] if e["h"] == lookup]
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=salt, info=b"congress offline roster"
    ).derive(token)
    shown = json.loads(
        AESGCM(key).decrypt(bytes.fromhex(entry["iv"]), bytes.fromhex(entry["n"]), None)
    )
    assert shown["name"] == "Nguyễn Thị Hạnh"
