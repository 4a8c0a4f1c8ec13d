"""The hall's screens through the console and their own address: register, revoke, what
each content kind shows, and what a screen may never see."""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
import pytest

from congress.app import RedactCardTokens
from congress.errors import InvalidInput, NotFound
from congress.eventlog import SYSTEM, RecordingEventBus, events_of
from congress.tables import Delegate
from livestream.screens import services
from livestream.screens.schemas import DocumentView, PlaylistItem, ScreenContent
from livestream.tables import Speaker
from tests.conftest import Session
from tests.congress.test_console_pages import visible
from tests.livestream.screen_fixtures import close_election, make_hall, make_screen, open_election

AsRole = Callable[[str | None], Awaitable[Session]]
ADDRESS = re.compile(r"/S/([A-Z2-7]{26})")


@pytest.fixture
async def hall(
    make_congress: Callable[..., Awaitable[int]], bus: RecordingEventBus
) -> dict[str, Any]:
    return await make_hall(await make_congress(organizing_union="LĐLĐ tỉnh Hà Tĩnh"))


async def show(congress_id: int, screen_id: int, **content: Any) -> dict[str, Any]:
    await services.set_screen_content(congress_id, screen_id, ScreenContent(**content), SYSTEM)
    state = await services.screen_state(screen_id)
    assert state is not None
    return msgspec.structs.asdict(state.view)


async def test_a_screen_is_registered_shown_once_and_revoked(
    hall: dict[str, Any], as_role: AsRole
) -> None:
    admin = await as_role("admin")
    url = f"/console/congresses/{hall['congress']}/screens"
    response = await admin.submit(f"{url}/register", {"name": "Màn hình LED hội trường"})
    assert response.status_code == 200
    key = ADDRESS.search(response.text).group(1)  # type: ignore[union-attr]
    listing = await admin.get(url)
    assert "Màn hình LED hội trường" in visible(listing.text)
    assert key not in listing.text  # shown once, never again

    screen = await as_role(None)
    page = await screen.get(f"/S/{key}")
    assert page.status_code == 200
    assert page.headers["cache-control"] == "no-store"
    state = (await screen.get(f"/S/{key}/state")).json()
    assert state["view"]["kind"] == "title"
    assert state["congress"].endswith("lần thứ XIX")
    assert state["seq"] > 0

    found = await services.look_up(key)
    await admin.submit(f"{url}/{found.screen_id}/revoke")
    gone = await screen.get(f"/S/{key}")
    assert gone.status_code == 410
    assert "tắt" in visible(gone.text) or "switched off" in visible(gone.text)
    assert (await screen.get(f"/S/{key}/state")).json()["code"] == "screen_revoked"
    unknown = await screen.get("/S/" + "A" * 26)
    assert unknown.status_code == 404


async def test_a_new_address_retires_the_old_one(hall: dict[str, Any], as_role: AsRole) -> None:
    screen_id, old = await make_screen(hall["congress"])
    admin = await as_role("admin")
    response = await admin.submit(f"/console/congresses/{hall['congress']}/screens/{screen_id}/key")
    new = ADDRESS.search(response.text).group(1)  # type: ignore[union-attr]
    assert (await services.look_up(old)).status == "unknown"
    assert (await services.look_up(new)).status == "active"


async def test_only_administrators_register_and_the_presidium_drives(
    hall: dict[str, Any], as_role: AsRole
) -> None:
    url = f"/console/congresses/{hall['congress']}/screens"
    screen_id, _ = await make_screen(hall["congress"])
    presidium = await as_role("presidium")
    assert (await presidium.get(url)).status_code == 200
    refused = await presidium.submit(f"{url}/register", {"name": "Màn hình sảnh"})
    assert refused.status_code == 403
    assert (await presidium.submit(f"{url}/{screen_id}/revoke")).status_code == 403
    shown = await presidium.submit(f"{url}/{screen_id}/content", {"kind": "attendance"})
    assert shown.status_code == 200
    assert "screen-" in shown.text
    for role in ("tally", "checkin", "secretariat"):
        assert (await (await as_role(role)).get(url)).status_code == 403


async def test_setting_content_changes_the_state_and_is_an_event(
    hall: dict[str, Any], as_role: AsRole
) -> None:
    congress_id = hall["congress"]
    screen_id, key = await make_screen(congress_id)
    presidium = await as_role("presidium")
    url = f"/console/congresses/{congress_id}/screens"
    await presidium.submit(
        f"{url}/{screen_id}/content", {"kind": "poll", "poll_id": "", "ticker": "on"}
    )
    state = (await presidium.get(f"/S/{key}/state")).json()
    assert state["view"]["kind"] == "poll"
    await presidium.submit(f"{url}/current", {"current": f"item:{hall['item']}"})
    await presidium.submit(f"{url}/announcement", {"announcement": "Mời các đại biểu về chỗ"})
    state = (await presidium.get(f"/S/{key}/state")).json()
    assert state["agenda_item"] == "Thảo luận Báo cáo chính trị trình Đại hội"
    assert state["sitting"] == "Phiên chính thức"
    assert state["announcement"] == "Mời các đại biểu về chỗ"
    assert state["ticker"] is True
    types = [e.type for e in await events_of(congress_id, after_seq=state["seq"] - 3)]
    assert types == ["ScreenContentSet", "CurrentItemSet", "AnnouncementSet"]
    await presidium.submit(f"{url}/announcement", {"announcement": "x", "clear": "1"})
    assert (await presidium.get(f"/S/{key}/state")).json()["announcement"] == ""


async def test_the_title_shows_the_congress_and_the_current_item(hall: dict[str, Any]) -> None:
    screen_id, _ = await make_screen(hall["congress"])
    view = await show(hall["congress"], screen_id, kind="title")
    assert view["sitting"] is None
    assert view["organizing_union"] == "LĐLĐ tỉnh Hà Tĩnh"
    await services.set_current_item(hall["congress"], None, hall["item"], SYSTEM)
    view = await show(hall["congress"], screen_id, kind="title")
    assert view["agenda_item"] == "Thảo luận Báo cáo chính trị trình Đại hội"
    assert view["presenter"] == "Đồng chí Chủ tịch"
    assert view["sitting"] == "Phiên chính thức"


async def test_the_speaker_is_shown_with_the_time_left(hall: dict[str, Any]) -> None:
    congress_id = hall["congress"]
    screen_id, _ = await make_screen(congress_id)
    assert (await show(congress_id, screen_id, kind="speaker"))["speaking"] is False
    now = datetime.datetime.now(datetime.UTC)
    delegate = await Delegate.select().where(Delegate.id == hall["officials"][0]).first()
    assert delegate is not None
    await Speaker.insert(
        Speaker(
            congress=congress_id,
            sitting=hall["sitting"],
            delegate=delegate["id"],
            name=delegate["full_name"],
            delegation="Công đoàn ngành Y tế",
            topic="Chăm lo đời sống đoàn viên",
            status="speaking",
            allotted_seconds=300,
            elapsed_ms=60_000,
            timer_started_at=now - datetime.timedelta(seconds=30),
            requested_at=now,
        ),
        Speaker(
            congress=congress_id,
            sitting=hall["sitting"],
            name="Trần Văn Đức",
            delegation="Công đoàn Khu kinh tế",
            status="queued",
            position=1,
            requested_at=now,
        ),
    )
    view = await show(congress_id, screen_id, kind="speaker")
    assert view["speaking"]
    assert view["running"]
    assert view["name"] == delegate["full_name"]
    assert 209_000 <= view["remaining_ms"] <= 210_000  # 300 s - 60 s paused before - 30 s now
    assert view["next_name"] == "Trần Văn Đức"
    await Speaker.update({Speaker.timer_started_at: None}).where(Speaker.status == "speaking")
    view = await show(congress_id, screen_id, kind="speaker")
    assert view["remaining_ms"] == 240_000
    assert not view["running"]


async def test_attendance_shows_present_expected_and_the_quorum(hall: dict[str, Any]) -> None:
    screen_id, _ = await make_screen(hall["congress"])
    view = await show(hall["congress"], screen_id, kind="attendance")
    assert (view["present"], view["expected"], view["required"]) == (5, 6, 4)
    assert view["reached"] is True
    assert view["sitting"] == "Phiên chính thức"


async def test_a_poll_shows_turnout_while_open_and_the_result_at_close(
    hall: dict[str, Any],
) -> None:
    congress_id = hall["congress"]
    screen_id, _ = await make_screen(congress_id)
    view = await show(congress_id, screen_id, kind="poll")  # the latest: the closed motion
    assert view["poll_id"] == hall["motion"]
    assert view["status"] == "closed"
    result = view["result"]
    assert result.passed is True
    assert [(line.label, line.votes) for line in result.lines] == [
        ("Tán thành", 4),
        ("Không tán thành", 1),
        ("Không ý kiến", 0),
    ]
    assert (result.collected, result.valid, result.base) == (5, 5, 5)
    assert view["voted"] is None  # no turnout once closed

    await open_election(hall, votes=3)
    view = await show(congress_id, screen_id, kind="poll")  # the latest is the election now
    assert view["poll_id"] == hall["election"]
    assert view["status"] == "open"
    assert (view["voted"], view["eligible"]) == (3, 5)
    assert view["result"] is None  # nothing of the ballots while the poll is open

    await close_election(hall, more=2)
    view = await show(congress_id, screen_id, kind="poll", poll_id=hall["election"])
    lines = {line.label: line for line in view["result"].lines}
    assert lines["Nguyễn Văn An"].elected
    assert lines["Nguyễn Văn An"].votes == 5
    assert lines["Trần Thị Bình"].votes == 3
    assert lines["Trần Thị Bình"].elected
    assert not lines["Lê Văn Cường"].elected


async def test_a_document_page_only_when_released_and_not_confidential(
    hall: dict[str, Any], as_role: AsRole
) -> None:
    congress_id = hall["congress"]
    screen_id, key = await make_screen(congress_id)
    view = await show(congress_id, screen_id, kind="document", document_id=hall["report"], page=2)
    assert view["found"]
    assert view["title"] == "Báo cáo chính trị"
    assert view["page_count"] == 2
    screen = await as_role(None)
    picture = await screen.get(f"/S/{key}/{view['url']}?width=400")
    assert picture.status_code == 200
    assert picture.headers["content-type"] == "image/png"
    # A page it does not show, and papers no delegate may read, are not there for it.
    assert (await screen.get(f"/S/{key}/documents/{hall['report']}/pages/1")).status_code == 404
    for hidden in (hall["secret"], hall["draft"]):
        with pytest.raises(NotFound):
            await show(congress_id, screen_id, kind="document", document_id=hidden)
        assert (await screen.get(f"/S/{key}/documents/{hidden}/pages/1")).status_code == 404


async def test_a_withdrawn_document_leaves_the_screen(hall: dict[str, Any]) -> None:
    from documents import services as documents
    from tests.livestream.screen_fixtures import ORGANIZER

    screen_id, _ = await make_screen(hall["congress"])
    await show(hall["congress"], screen_id, kind="document", document_id=hall["report"])
    await documents.withdraw_document(hall["congress"], hall["report"], SYSTEM, ORGANIZER)
    state = await services.screen_state(screen_id)
    assert state is not None
    assert isinstance(state.view, DocumentView)
    assert state.view.found is False


async def test_announcement_full_screen_and_as_a_ticker(hall: dict[str, Any]) -> None:
    screen_id, _ = await make_screen(hall["congress"])
    await services.set_announcement(hall["congress"], "Nghỉ giải lao 15 phút", SYSTEM)
    view = await show(hall["congress"], screen_id, kind="announcement", announcement_mode="full")
    assert (view["text"], view["mode"]) == ("Nghỉ giải lao 15 phút", "full")
    await services.set_screen_content(
        hall["congress"], screen_id, ScreenContent(kind="attendance", ticker=True), SYSTEM
    )
    state = await services.screen_state(screen_id)
    assert state is not None
    assert state.ticker
    assert state.announcement == "Nghỉ giải lao 15 phút"


async def test_a_playlist_rotates_released_pictures_and_pages(
    hall: dict[str, Any], as_role: AsRole
) -> None:
    congress_id = hall["congress"]
    screen_id, key = await make_screen(congress_id)
    presidium = await as_role("presidium")
    response = await presidium.submit(
        f"/console/congresses/{congress_id}/screens/{screen_id}/content",
        {
            "kind": "playlist",
            "playlist": [str(hall["report"]), str(hall["photo"])],
            f"pages_{hall['report']}": "1-2",
            "interval_seconds": "8",
        },
    )
    assert response.status_code == 200, response.text
    state = (await presidium.get(f"/S/{key}/state")).json()
    view = state["view"]
    assert view["kind"] == "playlist"
    assert view["interval_ms"] == 8000
    assert [p["title"] for p in view["pictures"]] == [
        "Báo cáo chính trị",
        "Báo cáo chính trị",
        "Hoạt động công đoàn",
    ]
    screen = await as_role(None)
    photo = await screen.get(f"/S/{key}/{view['pictures'][2]['url']}")
    assert photo.status_code == 200
    assert photo.headers["content-type"] == "image/png"
    with pytest.raises(NotFound):
        await services.set_screen_content(
            congress_id,
            screen_id,
            ScreenContent(kind="playlist", playlist=[PlaylistItem(document_id=hall["secret"])]),
            SYSTEM,
        )
    with pytest.raises(InvalidInput):
        await services.set_screen_content(
            congress_id, screen_id, ScreenContent(kind="playlist"), SYSTEM
        )


async def test_a_screen_of_one_congress_sees_nothing_of_another(
    hall: dict[str, Any], make_congress: Callable[..., Awaitable[int]], as_role: AsRole
) -> None:
    other = await make_hall(await make_congress())
    screen_id, key = await make_screen(hall["congress"])
    with pytest.raises(NotFound):
        await services.set_screen_content(
            hall["congress"], screen_id, ScreenContent(kind="poll", poll_id=other["motion"]), SYSTEM
        )
    with pytest.raises(NotFound):
        await services.set_screen_content(
            hall["congress"],
            screen_id,
            ScreenContent(kind="document", document_id=other["report"]),
            SYSTEM,
        )
    with pytest.raises(NotFound):  # another congress's console cannot drive this screen
        await services.set_screen_content(other["congress"], screen_id, ScreenContent(), SYSTEM)
    with pytest.raises(NotFound):
        await services.set_current_item(hall["congress"], None, other["item"], SYSTEM)
    view = await show(hall["congress"], screen_id, kind="poll")
    assert view["poll_id"] == hall["motion"]
    screen = await as_role(None)
    assert (await screen.get(f"/S/{key}/documents/{other['report']}/pages/1")).status_code == 404
    presidium = await as_role("presidium")
    refused = await presidium.submit(
        f"/console/congresses/{other['congress']}/screens/{screen_id}/content", {"kind": "title"}
    )
    assert refused.status_code == 404


def test_the_access_log_hides_screen_keys() -> None:
    record = logging.LogRecord(
        "uvicorn.access",
        logging.INFO,
        "",
        0,
        '%s "%s %s"',
        ("1.2.3.4", "GET", "/S/" + "A" * 26 + "/state"),
        None,
    )
    RedactCardTokens().filter(record)
    assert record.args == ("1.2.3.4", "GET", "/S/…/state")
