"""Who may call what: the permission each route of the API and the console needs.

The table below is the specification of the organizers' routes; every other route (the
delegate's phone, the tablets, the screens, the public pages) is in
``tests/congress/test_permission_matrix.py``, which runs every route against every kind of
caller. A route added to the app with no line in either makes that matrix fail, so no route
goes out unguarded by accident.
"""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import pytest

from checkin import devices
from congress import services
from congress.accounts import ROLE_PERMISSIONS, Permission, Role
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM
from congress.schemas import AgendaItemIn, CongressIn, SittingIn
from congress.voting import services as voting_services
from congress.voting.schemas import PollIn
from documents import services as document_services
from documents.schemas import DocumentIn
from tests.conftest import Session

SIGNED_IN = "signed_in"  # any signed-in account, whatever its roles
WEBSOCKET = "WS"

C = "/api/congresses/{congress_id:int}"
K = "/console/congresses/{congress_id:int}"

# (method, path template as the app declares it) -> what the caller needs.
EXPECTED: dict[tuple[str, str], Permission | str] = {
    # --- API: congresses, sittings, agenda
    ("GET", "/api/congresses"): Permission.VIEW_CONGRESS,
    ("POST", "/api/congresses"): Permission.MANAGE_CONGRESS,
    ("GET", C): Permission.VIEW_CONGRESS,
    ("PUT", C): Permission.MANAGE_CONGRESS,
    ("GET", f"{C}/sittings"): Permission.VIEW_CONGRESS,
    ("POST", f"{C}/sittings"): Permission.MANAGE_CONGRESS,
    ("PUT", f"{C}/sittings/order"): Permission.MANAGE_CONGRESS,
    ("PUT", f"{C}/sittings/{{sitting_id:int}}"): Permission.MANAGE_CONGRESS,
    ("DELETE", f"{C}/sittings/{{sitting_id:int}}"): Permission.MANAGE_CONGRESS,
    ("POST", f"{C}/sittings/{{sitting_id:int}}/agenda"): Permission.MANAGE_CONGRESS,
    ("PUT", f"{C}/sittings/{{sitting_id:int}}/agenda/order"): Permission.MANAGE_CONGRESS,
    ("PUT", f"{C}/agenda/{{item_id:int}}"): Permission.MANAGE_CONGRESS,
    ("DELETE", f"{C}/agenda/{{item_id:int}}"): Permission.MANAGE_CONGRESS,
    # --- API: the event log
    ("GET", f"{C}/events"): Permission.READ_EVENT_LOG,
    (WEBSOCKET, f"{C}/events/live"): Permission.READ_EVENT_LOG,
    # --- API: delegations, delegates, the import
    ("GET", f"{C}/delegations"): Permission.VIEW_DELEGATES,
    ("POST", f"{C}/delegations"): Permission.MANAGE_DELEGATES,
    ("PUT", f"{C}/delegations/{{delegation_id:int}}"): Permission.MANAGE_DELEGATES,
    ("GET", f"{C}/delegates"): Permission.VIEW_DELEGATES,
    ("POST", f"{C}/delegates"): Permission.MANAGE_DELEGATES,
    ("GET", f"{C}/delegates/{{delegate_id:int}}"): Permission.VIEW_DELEGATES,
    ("PUT", f"{C}/delegates/{{delegate_id:int}}"): Permission.MANAGE_DELEGATES,
    ("POST", f"{C}/delegate-imports"): Permission.MANAGE_DELEGATES,
    ("GET", f"{C}/delegate-imports/{{token:str}}"): Permission.MANAGE_DELEGATES,
    ("POST", f"{C}/delegate-imports/{{token:str}}/apply"): Permission.MANAGE_DELEGATES,
    # --- API: accounts
    ("GET", "/api/accounts"): Permission.MANAGE_ACCOUNTS,
    ("POST", "/api/accounts"): Permission.MANAGE_ACCOUNTS,
    ("PUT", "/api/accounts/{account_id:int}"): Permission.MANAGE_ACCOUNTS,
    ("POST", "/api/accounts/{account_id:int}/password"): Permission.MANAGE_ACCOUNTS,
    # --- console: congresses, sittings, agenda, the log
    ("GET", "/console"): SIGNED_IN,
    ("POST", "/console/congresses"): Permission.MANAGE_CONGRESS,
    ("GET", K): Permission.VIEW_CONGRESS,
    ("POST", K): Permission.MANAGE_CONGRESS,
    ("POST", f"{K}/sittings"): Permission.MANAGE_CONGRESS,
    ("POST", f"{K}/sittings/{{sitting_id:int}}"): Permission.MANAGE_CONGRESS,
    ("POST", f"{K}/sittings/{{sitting_id:int}}/delete"): Permission.MANAGE_CONGRESS,
    ("POST", f"{K}/sittings/{{sitting_id:int}}/move"): Permission.MANAGE_CONGRESS,
    ("POST", f"{K}/sittings/{{sitting_id:int}}/agenda"): Permission.MANAGE_CONGRESS,
    ("POST", f"{K}/agenda/{{item_id:int}}"): Permission.MANAGE_CONGRESS,
    ("POST", f"{K}/agenda/{{item_id:int}}/delete"): Permission.MANAGE_CONGRESS,
    ("POST", f"{K}/agenda/{{item_id:int}}/move"): Permission.MANAGE_CONGRESS,
    ("GET", f"{K}/events"): Permission.READ_EVENT_LOG,
    # --- console: delegations, delegates, the import
    ("GET", f"{K}/delegates"): Permission.VIEW_DELEGATES,
    ("POST", f"{K}/delegates"): Permission.MANAGE_DELEGATES,
    ("GET", f"{K}/delegates/new"): Permission.MANAGE_DELEGATES,
    ("GET", f"{K}/delegates/{{delegate_id:int}}"): Permission.VIEW_DELEGATES,
    ("POST", f"{K}/delegates/{{delegate_id:int}}"): Permission.MANAGE_DELEGATES,
    ("GET", f"{K}/delegations"): Permission.VIEW_DELEGATES,
    ("POST", f"{K}/delegations"): Permission.MANAGE_DELEGATES,
    ("POST", f"{K}/delegations/{{delegation_id:int}}"): Permission.MANAGE_DELEGATES,
    ("GET", f"{K}/import"): Permission.MANAGE_DELEGATES,
    ("POST", f"{K}/import"): Permission.MANAGE_DELEGATES,
    ("GET", f"{K}/import/{{token:str}}"): Permission.MANAGE_DELEGATES,
    ("POST", f"{K}/import/{{token:str}}/apply"): Permission.MANAGE_DELEGATES,
    # --- console: accounts
    ("GET", f"{C}/documents"): Permission.VIEW_DOCUMENTS,
    ("POST", f"{C}/documents"): Permission.MANAGE_DOCUMENTS,
    ("GET", f"{C}/documents/search"): Permission.VIEW_DOCUMENTS,
    ("GET", f"{C}/documents/{{document_id:int}}"): Permission.VIEW_DOCUMENTS,
    ("PUT", f"{C}/documents/{{document_id:int}}"): Permission.MANAGE_DOCUMENTS,
    ("POST", f"{C}/documents/{{document_id:int}}/versions"): Permission.MANAGE_DOCUMENTS,
    ("POST", f"{C}/documents/{{document_id:int}}/release"): Permission.MANAGE_DOCUMENTS,
    ("POST", f"{C}/documents/{{document_id:int}}/withdraw"): Permission.MANAGE_DOCUMENTS,
    (
        "GET",
        f"{C}/documents/{{document_id:int}}/versions/{{number:int}}/file",
    ): Permission.VIEW_DOCUMENTS,
    (
        "GET",
        f"{C}/documents/{{document_id:int}}/versions/{{number:int}}/pages/{{page:int}}",
    ): Permission.VIEW_DOCUMENTS,
    ("POST", f"{C}/archive/export"): Permission.EXPORT_ARCHIVE,
    ("GET", f"{K}/documents"): Permission.VIEW_DOCUMENTS,
    ("POST", f"{K}/documents"): Permission.MANAGE_DOCUMENTS,
    ("GET", f"{K}/documents/{{document_id:int}}"): Permission.VIEW_DOCUMENTS,
    ("POST", f"{K}/documents/{{document_id:int}}"): Permission.MANAGE_DOCUMENTS,
    ("POST", f"{K}/documents/{{document_id:int}}/versions"): Permission.MANAGE_DOCUMENTS,
    ("POST", f"{K}/documents/{{document_id:int}}/release"): Permission.MANAGE_DOCUMENTS,
    ("POST", f"{K}/documents/{{document_id:int}}/withdraw"): Permission.MANAGE_DOCUMENTS,
    ("GET", f"{K}/documents/{{document_id:int}}/view"): Permission.VIEW_DOCUMENTS,
    ("GET", f"{K}/sittings/{{sitting_id:int}}/minutes"): Permission.MANAGE_DOCUMENTS,
    ("POST", f"{K}/sittings/{{sitting_id:int}}/minutes"): Permission.MANAGE_DOCUMENTS,
    ("POST", f"{K}/sittings/{{sitting_id:int}}/minutes/finalise"): Permission.MANAGE_DOCUMENTS,
    ("GET", f"{K}/cards"): Permission.MANAGE_CARDS,
    ("POST", f"{K}/cards/print"): Permission.MANAGE_CARDS,
    ("GET", f"{K}/cards/jobs/{{job:str}}"): Permission.MANAGE_CARDS,
    ("GET", f"{K}/cards/jobs/{{job:str}}/state"): Permission.MANAGE_CARDS,
    ("GET", f"{K}/cards/jobs/{{job:str}}/pdf"): Permission.MANAGE_CARDS,
    ("POST", f"{K}/cards/delegates/{{delegate_id:int}}/reissue"): Permission.MANAGE_CARDS,
    ("POST", f"{K}/cards/delegates/{{delegate_id:int}}/revoke"): Permission.MANAGE_CARDS,
    ("POST", f"{K}/cards/logo"): Permission.MANAGE_CARDS,
    ("POST", f"{K}/cards/photos"): Permission.MANAGE_CARDS,
    ("GET", f"{K}/devices"): Permission.MANAGE_DEVICES,
    ("POST", f"{K}/devices"): Permission.MANAGE_DEVICES,
    ("POST", f"{K}/devices/{{device_id:int}}/code"): Permission.MANAGE_DEVICES,
    ("POST", f"{K}/devices/{{device_id:int}}/revoke"): Permission.MANAGE_DEVICES,
    ("GET", f"{K}/attendance"): Permission.VIEW_ATTENDANCE,
    ("GET", f"{K}/attendance/part"): Permission.VIEW_ATTENDANCE,
    ("POST", f"{K}/attendance/undo"): Permission.UNDO_CHECKIN,
    ("POST", f"{K}/attendance/report"): Permission.VIEW_ATTENDANCE,
    (WEBSOCKET, f"{K}/attendance/live"): Permission.VIEW_ATTENDANCE,
    # --- API: polls
    ("GET", f"{C}/polls"): Permission.VIEW_POLLS,
    ("POST", f"{C}/polls"): Permission.MANAGE_POLLS,
    ("GET", f"{C}/polls/{{poll_id:int}}"): Permission.VIEW_POLLS,
    ("DELETE", f"{C}/polls/{{poll_id:int}}"): Permission.MANAGE_POLLS,
    ("POST", f"{C}/polls/{{poll_id:int}}/open"): Permission.MANAGE_POLLS,
    ("POST", f"{C}/polls/{{poll_id:int}}/close"): Permission.MANAGE_POLLS,
    ("POST", f"{C}/polls/{{poll_id:int}}/publish"): Permission.MANAGE_POLLS,
    ("POST", f"{C}/polls/{{poll_id:int}}/runoff"): Permission.MANAGE_POLLS,
    ("POST", f"{C}/polls/{{poll_id:int}}/show-of-cards"): Permission.MANAGE_POLLS,
    ("POST", f"{C}/polls/{{poll_id:int}}/paper-counts/{{entry:int}}"): Permission.COUNT_PAPER,
    ("POST", f"{C}/polls/{{poll_id:int}}/paper-ballots"): Permission.COUNT_PAPER,
    ("GET", f"{C}/polls/{{poll_id:int}}/receipts"): Permission.VIEW_POLLS,
    ("GET", f"{C}/polls/{{poll_id:int}}/export"): Permission.VIEW_POLLS,
    # --- console: polls
    ("GET", f"{K}/polls"): Permission.VIEW_POLLS,
    ("GET", f"{K}/polls/new"): Permission.MANAGE_POLLS,
    ("POST", f"{K}/polls"): Permission.MANAGE_POLLS,
    ("GET", f"{K}/polls/{{poll_id:int}}"): Permission.VIEW_POLLS,
    ("GET", f"{K}/polls/{{poll_id:int}}/part"): Permission.VIEW_POLLS,
    ("GET", f"{K}/polls/{{poll_id:int}}/receipts"): Permission.VIEW_POLLS,
    (WEBSOCKET, f"{K}/polls/{{poll_id:int}}/live"): Permission.VIEW_POLLS,
    ("POST", f"{K}/polls/{{poll_id:int}}/open"): Permission.MANAGE_POLLS,
    ("POST", f"{K}/polls/{{poll_id:int}}/close"): Permission.MANAGE_POLLS,
    ("POST", f"{K}/polls/{{poll_id:int}}/publish"): Permission.MANAGE_POLLS,
    ("POST", f"{K}/polls/{{poll_id:int}}/runoff"): Permission.MANAGE_POLLS,
    ("POST", f"{K}/polls/{{poll_id:int}}/remove"): Permission.MANAGE_POLLS,
    ("POST", f"{K}/polls/{{poll_id:int}}/show-of-cards"): Permission.MANAGE_POLLS,
    ("POST", f"{K}/polls/{{poll_id:int}}/paper-counts"): Permission.COUNT_PAPER,
    ("POST", f"{K}/polls/{{poll_id:int}}/paper-ballots"): Permission.COUNT_PAPER,
    # --- stream links
    ("GET", f"{C}/streams"): Permission.MANAGE_STREAMS,
    ("PUT", f"{C}/streams/{{sitting_id:int}}"): Permission.MANAGE_STREAMS,
    ("DELETE", f"{C}/streams/{{sitting_id:int}}"): Permission.MANAGE_STREAMS,
    ("GET", f"{K}/streams"): Permission.MANAGE_STREAMS,
    ("POST", f"{K}/streams/{{sitting_id:int}}"): Permission.MANAGE_STREAMS,
    ("POST", f"{K}/streams/{{sitting_id:int}}/remove"): Permission.MANAGE_STREAMS,
    # --- the speakers' list
    ("GET", f"{C}/speakers"): Permission.ADD_SPEAKERS,
    ("POST", f"{C}/speakers"): Permission.ADD_SPEAKERS,
    ("GET", f"{C}/speakers/{{speaker_id:int}}"): Permission.ADD_SPEAKERS,
    ("PUT", f"{C}/speakers/order"): Permission.RUN_SPEAKERS,
    ("POST", f"{C}/speakers/call-next"): Permission.RUN_SPEAKERS,
    ("POST", f"{C}/speakers/{{speaker_id:int}}/queue"): Permission.RUN_SPEAKERS,
    ("POST", f"{C}/speakers/{{speaker_id:int}}/call"): Permission.RUN_SPEAKERS,
    ("POST", f"{C}/speakers/{{speaker_id:int}}/start"): Permission.RUN_SPEAKERS,
    ("POST", f"{C}/speakers/{{speaker_id:int}}/pause"): Permission.RUN_SPEAKERS,
    ("POST", f"{C}/speakers/{{speaker_id:int}}/stop"): Permission.RUN_SPEAKERS,
    ("POST", f"{C}/speakers/{{speaker_id:int}}/extend"): Permission.RUN_SPEAKERS,
    ("POST", f"{C}/speakers/{{speaker_id:int}}/withdraw"): Permission.RUN_SPEAKERS,
    ("GET", f"{K}/speakers"): Permission.ADD_SPEAKERS,
    ("GET", f"{K}/speakers/part"): Permission.ADD_SPEAKERS,
    ("POST", f"{K}/speakers"): Permission.ADD_SPEAKERS,
    (WEBSOCKET, f"{K}/speakers/live"): Permission.ADD_SPEAKERS,
    ("POST", f"{K}/speakers/call-next"): Permission.RUN_SPEAKERS,
    ("POST", f"{K}/speakers/{{speaker_id:int}}/queue"): Permission.RUN_SPEAKERS,
    ("POST", f"{K}/speakers/{{speaker_id:int}}/move"): Permission.RUN_SPEAKERS,
    ("POST", f"{K}/speakers/{{speaker_id:int}}/call"): Permission.RUN_SPEAKERS,
    ("POST", f"{K}/speakers/{{speaker_id:int}}/start"): Permission.RUN_SPEAKERS,
    ("POST", f"{K}/speakers/{{speaker_id:int}}/pause"): Permission.RUN_SPEAKERS,
    ("POST", f"{K}/speakers/{{speaker_id:int}}/stop"): Permission.RUN_SPEAKERS,
    ("POST", f"{K}/speakers/{{speaker_id:int}}/extend"): Permission.RUN_SPEAKERS,
    ("POST", f"{K}/speakers/{{speaker_id:int}}/withdraw"): Permission.RUN_SPEAKERS,
    # --- the hall's screens
    ("GET", f"{K}/screens"): Permission.DRIVE_SCREENS,
    ("POST", f"{K}/screens/{{screen_id:int}}/content"): Permission.DRIVE_SCREENS,
    ("POST", f"{K}/screens/current"): Permission.DRIVE_SCREENS,
    ("POST", f"{K}/screens/announcement"): Permission.DRIVE_SCREENS,
    ("POST", f"{K}/screens/register"): Permission.MANAGE_SCREENS,
    ("POST", f"{K}/screens/{{screen_id:int}}/key"): Permission.MANAGE_SCREENS,
    ("POST", f"{K}/screens/{{screen_id:int}}/revoke"): Permission.MANAGE_SCREENS,
    ("GET", "/console/accounts"): Permission.MANAGE_ACCOUNTS,
    ("POST", "/console/accounts"): Permission.MANAGE_ACCOUNTS,
    ("POST", "/console/accounts/{account_id:int}"): Permission.MANAGE_ACCOUNTS,
}

SHEET = "Họ và tên,Loại đại biểu\nNguyễn Văn An,Chính thức\n".encode()
PARAM = re.compile(r"\{(\w+):\w+\}")


def allowed(role: Role | None, needs: Permission | str) -> bool:
    if role is None:
        return False
    return needs == SIGNED_IN or needs in ROLE_PERMISSIONS[role]


def fill(template: str, ids: dict[str, Any]) -> str:
    return PARAM.sub(lambda m: str(ids[m.group(1)]), template)


ALL_OBJECTS = frozenset(
    {"sitting_id", "item_id", "delegation_id", "delegate_id", "token", "document_id", "poll_id"}
)
PNG_1PX = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


async def make_objects(wanted: frozenset[str] = ALL_OBJECTS) -> dict[str, Any]:
    """A new congress with what the path names (and what that needs), made by the system."""
    name = f"Đại hội quyền {secrets.token_hex(3)}"
    made: dict[str, Any] = {
        "congress_id": await services.create_congress(CongressIn(name=name, number="XIX"), SYSTEM)
    }
    congress_id = made["congress_id"]
    if wanted & {"sitting_id", "item_id"}:
        made["sitting_id"] = await services.add_sitting(
            congress_id, SittingIn(title="Phiên trù bị", kind="preparatory"), SYSTEM
        )
    if "item_id" in wanted:
        made["item_id"] = await services.add_agenda_item(
            congress_id, made["sitting_id"], AgendaItemIn(title="Khai mạc"), SYSTEM
        )
    if wanted & {"delegation_id", "delegate_id"}:
        made["delegation_id"] = await delegate_services.add_delegation(
            congress_id, DelegationIn(code="GD", name="Công đoàn ngành Giáo dục"), SYSTEM
        )
    if "delegate_id" in wanted:
        made["delegate_id"] = await delegate_services.add_delegate(
            congress_id,
            DelegateIn(
                full_name="Nguyễn Thị Hạnh", kind="official", delegation_id=made["delegation_id"]
            ),
            SYSTEM,
        )
    if "token" in wanted:
        made["token"] = await delegate_services.stage_import(
            congress_id, "dai-bieu.csv", SHEET, SYSTEM
        )
    if "document_id" in wanted:
        prepared = await document_services.prepare_upload(io.BytesIO(PNG_1PX), "anh.png")
        made["document_id"] = await document_services.upload_document(
            congress_id,
            DocumentIn(title="Ảnh hoạt động", access="delegates"),
            prepared,
            SYSTEM,
            document_services.Viewer("organizer", can_see_confidential=True),
        )
        made["number"] = 1
        made["page"] = 1
    if "poll_id" in wanted:
        made["poll_id"] = await voting_services.create_poll(
            congress_id, PollIn(kind="motion", title="Thông qua chương trình"), SYSTEM
        )
        made["entry"] = 1
    # A job's routes answer 404 for a token that is not there, a speaker's for an id.
    made["job"] = "no-such-job"
    made["speaker_id"] = 2**31 - 2
    made["screen_id"] = 2**31 - 2
    made["device_id"] = (await devices.register_device(congress_id, "Cửa thử", SYSTEM))[0]
    return made


@pytest.fixture
async def ids() -> dict[str, Any]:
    return await make_objects()


def test_the_table_is_not_trivial() -> None:
    """Each role is refused somewhere and allowed somewhere (except admin: everywhere)."""
    for role in Role:
        verdicts = {allowed(role, needs) for needs in EXPECTED.values()}
        assert verdicts == ({True} if role is Role.ADMIN else {True, False}), role


# --- one congress's objects are not reachable through another's URL --------------------


async def test_objects_of_one_congress_are_not_found_through_another(
    admin: Session, ids: dict[str, Any], make_congress: Callable[..., Awaitable[int]]
) -> None:
    other = await make_congress()
    b = f"/api/congresses/{other}"
    sitting, item = ids["sitting_id"], ids["item_id"]
    delegation, delegate, token = ids["delegation_id"], ids["delegate_id"], ids["token"]
    attempts = [
        ("PUT", f"{b}/sittings/{sitting}", {"title": "Đổi tên"}),
        ("DELETE", f"{b}/sittings/{sitting}", None),
        ("POST", f"{b}/sittings/{sitting}/agenda", {"title": "Mục lạ"}),
        ("PUT", f"{b}/sittings/{sitting}/agenda/order", {"ids": [item]}),
        ("PUT", f"{b}/agenda/{item}", {"title": "Đổi tên"}),
        ("DELETE", f"{b}/agenda/{item}", None),
        ("PUT", f"{b}/delegations/{delegation}", {"code": "XX", "name": "Đổi tên"}),
        ("GET", f"{b}/delegates/{delegate}", None),
        ("PUT", f"{b}/delegates/{delegate}", {"full_name": "Đổi tên", "kind": "guest"}),
        (
            "POST",
            f"{b}/delegates",
            {"full_name": "Người lạ", "kind": "guest", "delegation_id": delegation},
        ),
        ("GET", f"{b}/delegate-imports/{token}", None),
        ("POST", f"{b}/delegate-imports/{token}/apply", {}),
    ]
    for method, url, body in attempts:
        kwargs = {} if body is None else {"json": body}
        response = await admin.send(method, url, **kwargs)
        assert response.status_code == 404, (method, url, response.text)
        assert response.json()["code"].endswith("not_found"), (method, url, response.text)

    # nothing of congress A was changed, and congress B got nothing
    a = f"/api/congresses/{ids['congress_id']}"
    sittings = (await admin.get(f"{a}/sittings")).json()
    assert [(s["title"], [i["title"] for i in s["agenda"]]) for s in sittings] == [
        ("Phiên trù bị", ["Khai mạc"])
    ]
    assert (await admin.get(f"{a}/delegates/{delegate}")).json()["full_name"] == "Nguyễn Thị Hạnh"
    assert [d["name"] for d in (await admin.get(f"{a}/delegations")).json()] == [
        "Công đoàn ngành Giáo dục"
    ]
    assert (await admin.get(f"{a}/delegate-imports/{token}")).json()["applied"] is False
    assert (await admin.get(f"{b}/sittings")).json() == []
    assert (await admin.get(f"{b}/delegates")).json()["total"] == 0
