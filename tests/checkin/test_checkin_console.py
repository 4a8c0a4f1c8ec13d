"""What organizers see of check-in: tablets, attendance by delegation, the report, live."""

from __future__ import annotations

import asyncio
import re

from checkin import devices
from congress.eventlog import SYSTEM
from documents.extraction import extract
from documents.storage import file_store
from documents.tables import Document, DocumentVersion
from tests.checkin.test_checkin_api import hall, paired, scan  # noqa: F401 - fixture


async def test_registering_a_tablet_shows_a_one_time_pairing_code(admin, client, hall):  # noqa: F811
    page = await admin.submit(
        f"/console/congresses/{hall['congress']}/devices", {"name": "Cửa phụ 3"}
    )
    assert page.status_code == 200
    code = re.search(r"/P/([A-Z2-7]{16})", page.text).group(1)
    assert 'src="data:image/png;base64,' in page.text
    assert (await client.get(f"/P/{code}", follow_redirects=False)).status_code == 303
    listed = (await admin.get(f"/console/congresses/{hall['congress']}/devices")).text
    assert "Cửa phụ 3" in listed


async def test_attendance_by_delegation_with_quorum(admin, client, hall):  # noqa: F811
    tablet = await paired(client, hall["code"])
    sitting = hall["sittings"][0]
    await scan(tablet, sitting, code="001")
    page = (
        await admin.get(f"/console/congresses/{hall['congress']}/attendance?sitting={sitting}")
    ).text
    assert '<strong id="present">1</strong>' in page
    assert "Chưa đủ" in page or "chưa đủ" in page
    assert "Nguyễn Thị Hạnh" in page
    assert "Cửa chính 1" in page


async def test_an_undo_from_the_console_needs_a_reason(as_role, client, hall):  # noqa: F811
    tablet = await paired(client, hall["code"])
    sitting = hall["sittings"][0]
    await scan(tablet, sitting, code="001")
    staff = await as_role("checkin")
    url = f"/console/congresses/{hall['congress']}/attendance/undo"
    form = {"sitting_id": sitting, "delegate_id": hall["people"][0]}
    refused = await staff.submit(url, {**form, "reason": ""})
    assert refused.status_code == 422
    done = await staff.submit(url, {**form, "reason": "Quét nhầm"}, follow_redirects=False)
    assert done.status_code in {302, 303}
    tally = await as_role("tally")
    assert (await tally.submit(url, {**form, "reason": "x"})).status_code == 403


async def test_the_attendance_report_is_archived(admin, client, hall):  # noqa: F811
    tablet = await paired(client, hall["code"])
    sitting = hall["sittings"][0]
    await scan(tablet, sitting, code="001")
    response = await admin.submit(
        f"/console/congresses/{hall['congress']}/attendance/report?sitting={sitting}",
        follow_redirects=False,
    )
    assert response.status_code in {302, 303}
    document = (
        await Document.select()
        .where((Document.congress == hall["congress"]) & (Document.category == "attendance_report"))
        .first()
    )
    assert document["sitting"] == sitting
    version = (
        await DocumentVersion.select().where(DocumentVersion.document == document["id"]).first()
    )
    text = extract(file_store().path(version["sha256"]), "application/pdf").text  # type: ignore[attr-defined]
    assert "Nguyễn Thị Hạnh" in text
    assert "Trần Văn Đức" in text


async def test_the_console_count_changes_without_reload(client, role_tokens, hall):  # noqa: F811
    # One app for both, as in the hall: the tablet and the organizer's browser.
    tablet = await paired(client, hall["code"])
    client.cookies.set("congress_session", role_tokens["presidium"])
    sitting = hall["sittings"][0]
    url = f"/console/congresses/{hall['congress']}/attendance/live?sitting={sitting}"
    with await client.websocket_connect(url) as socket:
        first = await asyncio.to_thread(socket.receive_json, timeout=5)
        assert first["present"] == 0
        await scan(tablet, sitting, code="002")
        update = await asyncio.to_thread(socket.receive_json, timeout=5)
    assert update == {"present": 1, "expected": 2, "sitting_id": sitting}


async def test_a_revoked_tablet_page_says_so(client, hall):  # noqa: F811
    await paired(client, hall["code"])
    assert (await client.get("/checkin/scan")).status_code == 200
    await devices.revoke_device(hall["congress"], hall["device_id"], SYSTEM)
    page = await client.get("/checkin/scan")
    assert page.status_code == 401
    assert "không còn được ghép" in page.text or "no longer paired" in page.text
