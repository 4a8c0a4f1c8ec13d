"""The speakers' list: delegates ask from their phones, the secretariat adds speakers with
their written speech, the presidium orders the queue, calls, times and withdraws.

Every step goes through the API (or the phone) and is checked in the event log; the timer's
arithmetic is checked with a clock the test moves; one open request per delegate and sitting
holds also for requests sent at the same instant; each role meets each route as
congress.accounts says.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from checkin import credentials
from congress.accounts import ROLE_PERMISSIONS, Permission, Role
from congress.errors import Conflict, InvalidInput
from congress.eventlog import SYSTEM, events_of
from documents.portal import LIVE_TYPES
from documents.tables import Document
from livestream.speakers import events, services
from livestream.speakers.schemas import RequestIn, SpeakerIn
from tests.conftest import Lender, Session
from tests.congress.voting_fixtures import make_assembly

JSON = {"accept": "application/json"}
Assembly = dict[str, Any]
T0 = datetime.datetime(2026, 11, 23, 8, 0, tzinfo=datetime.UTC)


class Phone:
    """A delegate's phone, opened by the card's address."""

    def __init__(self, client: AsyncTestClient[Any]) -> None:
        self.client = client
        self.csrf = ""

    async def open_card(self, token: str) -> None:
        code = credentials.card_address(token).rsplit("/", 1)[-1]
        assert (await self.client.get(f"/D/{code}", follow_redirects=False)).status_code == 303
        page = await self.client.get("/delegate")
        assert page.status_code == 200
        assert 'id="part-speakers"' in page.text
        self.csrf = str(self.client.cookies.get("congress_csrf"))

    async def speakers(self) -> dict[str, Any]:
        response = await self.client.get("/delegate/speakers", headers=JSON)
        assert response.status_code == 200, response.text
        return dict(response.json())

    async def post(self, path: str, body: dict[str, Any]) -> Any:
        return await self.client.post(path, json=body, headers={**JSON, "x-csrf-token": self.csrf})

    async def ask(self, topic: str = "") -> Any:
        return await self.post("/delegate/speakers", {"topic": topic})

    async def withdraw(self, speaker_id: int) -> Any:
        return await self.post(f"/delegate/speakers/{speaker_id}/withdraw", {})


@pytest.fixture
async def assembly(make_congress: Callable[..., Awaitable[int]]) -> Assembly:
    return await make_assembly(await make_congress(), officials=4, invited=1)


PhoneFactory = Callable[[int], Awaitable[Phone]]


@pytest.fixture
async def phone_of(lender: Lender, assembly: Assembly) -> AsyncIterator[PhoneFactory]:
    async with contextlib.AsyncExitStack() as stack:

        async def open_phone(delegate_id: int) -> Phone:
            client = await stack.enter_async_context(AsyncTestClient(lender.next_app()))
            phone = Phone(client)
            await phone.open_card(assembly["tokens"][delegate_id])
            return phone

        yield open_phone


async def add_document(congress_id: int, title: str, access: str = "delegates") -> int:
    now = datetime.datetime.now(datetime.UTC)
    rows = await Document.insert(
        Document(
            congress=congress_id,
            title=title,
            category="speech",
            access=access,
            created_at=now,
            updated_at=now,
        )
    ).returning(Document.id)
    return int(rows[0]["id"])


def api(assembly: Assembly, tail: str = "") -> str:
    return f"/api/congresses/{assembly['congress']}/speakers{tail}"


async def ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.text
    return response.json()


async def event_types(congress_id: int, after: int) -> list[str]:
    names = [e.__name__ for e in vars(events).values() if isinstance(e, type)]
    return [e.type for e in await events_of(congress_id, after_seq=after, types=names)]


async def last_seq(congress_id: int) -> int:
    found = await events_of(congress_id, newest_first=True, limit=1)
    return found[0].seq if found else 0


# --- the whole flow ------------------------------------------------------------------------


async def test_the_whole_flow_through_the_phone_and_the_api(
    as_role: Callable[[str | None], Awaitable[Session]],
    assembly: Assembly,
    phone_of: PhoneFactory,
) -> None:
    congress = assembly["congress"]
    hanh, duc, ha, _bao = assembly["officials"]
    secretariat = await as_role("secretariat")
    presidium = await as_role("presidium")
    speech = await add_document(congress, "Tham luận: Chăm lo đời sống đoàn viên")
    start = await last_seq(congress)

    # A delegate asks from the phone.
    phone = await phone_of(hanh)
    before = await phone.speakers()
    assert before["sitting_id"] == assembly["sitting"]
    assert before["mine"] is None
    asked = await ok(await phone.ask("Về nhà ở cho công nhân khu công nghiệp"))
    assert asked["mine"]["status"] == "requested"
    assert asked["mine"]["place"] is None
    hanh_speaker = asked["mine"]["id"]

    # The secretariat adds a delegate by card number, with the written speech, and a guest.
    duc_card = f"{assembly['officials'].index(duc) + 1:04d}"
    added = await ok(
        await secretariat.post(
            api(assembly),
            json={"card_number": duc_card, "topic": "Tham luận", "document_id": speech},
        ),
        201,
    )
    duc_speaker = added["id"]
    guest = await ok(
        await secretariat.post(
            api(assembly),
            json={
                "name": "Ông Nguyễn Văn Khách",
                "delegation": "Sở Lao động",
                "allotted_seconds": 600,
            },
        ),
        201,
    )
    listed = await ok(await secretariat.get(api(assembly)))
    assert [(s["name"], s["status"], s["position"]) for s in listed] == [
        ("Trần Văn Đức", "queued", 1),
        ("Ông Nguyễn Văn Khách", "queued", 2),
        ("Nguyễn Thị Hạnh", "requested", 0),
    ]
    assert listed[0]["document_id"] == speech
    assert listed[0]["delegation"] == "Công đoàn ngành Y tế"
    assert listed[0]["time_left_ms"] == 300_000
    assert not listed[0]["running"]

    # The presidium accepts the request, then moves it to the front.
    queued = await ok(await presidium.post(api(assembly, f"/{hanh_speaker}/queue")))
    assert queued["status"] == "queued"
    assert queued["position"] == 3
    assert (await phone.speakers())["mine"]["place"] == 3
    order = [hanh_speaker, duc_speaker, guest["id"]]
    reordered = await ok(await presidium.put(api(assembly, "/order"), json={"ids": order}))
    assert [s["position"] for s in reordered] == [1, 2, 3]
    assert (await phone.speakers())["mine"]["place"] == 1

    # Called, timed, paused, resumed, given more time.
    called = await ok(await presidium.post(api(assembly, "/call-next"), json={}))
    assert called["id"] == hanh_speaker
    assert called["status"] == "speaking"
    mine = (await phone.speakers())["mine"]
    assert mine["status"] == "speaking"
    assert (await ok(await presidium.post(api(assembly, f"/{hanh_speaker}/start"))))["running"]
    paused = await ok(await presidium.post(api(assembly, f"/{hanh_speaker}/pause")))
    assert not paused["running"]
    assert paused["time_left_ms"] == 300_000 - paused["elapsed_ms"]
    resumed = await ok(await presidium.post(api(assembly, f"/{hanh_speaker}/start")))
    assert resumed["running"]
    assert resumed["elapsed_ms"] >= paused["elapsed_ms"]
    extended = await ok(
        await presidium.post(api(assembly, f"/{hanh_speaker}/extend"), json={"seconds": 120})
    )
    assert extended["allotted_seconds"] == 420

    # The next one: the one before is done, with the time used kept.
    nxt = await ok(await presidium.post(api(assembly, "/call-next"), json={}))
    assert nxt["id"] == duc_speaker
    before_done = await ok(await presidium.get(api(assembly, f"/{hanh_speaker}")))
    assert before_done["status"] == "done"
    assert not before_done["running"]
    assert before_done["elapsed_ms"] >= resumed["elapsed_ms"]
    assert (await phone.speakers())["mine"] is None
    assert (await phone.speakers())["speaking_now"] == "Trần Văn Đức"
    stopped = await ok(await presidium.post(api(assembly, f"/{duc_speaker}/stop")))
    assert stopped["status"] == "done"

    # The presidium withdraws the guest; then the queue is empty.
    withdrawn = await ok(await presidium.post(api(assembly, f"/{guest['id']}/withdraw")))
    assert withdrawn["status"] == "withdrawn"
    empty = await presidium.post(api(assembly, "/call-next"), json={})
    assert empty.status_code == 409
    assert empty.json()["code"] == "queue_empty"

    # Another delegate asks and withdraws from the phone.
    other = await phone_of(ha)
    mine = (await ok(await other.ask()))["mine"]
    assert (await ok(await other.withdraw(mine["id"])))["mine"] is None

    assert await event_types(congress, start) == [
        "SpeakerRequested",
        "SpeakerAdded",
        "SpeakerAdded",
        "SpeakerQueued",
        "SpeakersReordered",
        "SpeakerCalled",
        "SpeakerTimerStarted",
        "SpeakerTimerPaused",
        "SpeakerTimerStarted",
        "SpeakerTimeExtended",
        "SpeakerCalled",
        "SpeakerTimerStopped",
        "SpeakerWithdrawn",
        "SpeakerRequested",
        "SpeakerWithdrawn",
    ]
    log = await events_of(congress, after_seq=start, limit=50)
    requested = next(e for e in log if e.type == "SpeakerRequested")
    assert requested.payload == {
        "speaker_id": hanh_speaker,
        "sitting_id": assembly["sitting"],
        "delegate_id": hanh,
    }
    assert requested.actor == f"delegate:{hanh}"
    second_call = [e for e in log if e.type == "SpeakerCalled"][1]
    assert second_call.payload["previous_id"] == hanh_speaker
    withdrawals = [e.payload["by_delegate"] for e in log if e.type == "SpeakerWithdrawn"]
    assert withdrawals == [False, True]


async def test_events_are_published_after_the_commit_and_reach_the_phone(
    assembly: Assembly, bus: Any
) -> None:
    congress = assembly["congress"]
    await services.request_to_speak(congress, assembly["officials"][0], RequestIn(topic=""))
    assert [e.type for e in bus.published] == ["SpeakerRequested"]
    phone_parts = {name: part for name, part in LIVE_TYPES.items() if name.startswith("Speaker")}
    assert set(phone_parts.values()) == {"speakers"}
    # The timer never makes a hall of phones ask again.
    assert "SpeakerTimerStarted" not in phone_parts
    assert "SpeakerTimerPaused" not in phone_parts


# --- the timer -----------------------------------------------------------------------------


def row(allotted: int, elapsed: int, started: datetime.datetime | None) -> dict[str, Any]:
    return {"allotted_seconds": allotted, "elapsed_ms": elapsed, "timer_started_at": started}


def test_time_left_is_allotted_minus_elapsed_minus_the_running_stretch() -> None:
    now = T0 + datetime.timedelta(seconds=90)
    assert services.time_left_ms(row(300, 0, None), now) == 300_000
    assert services.time_left_ms(row(300, 20_000, None), now) == 280_000
    assert services.time_left_ms(row(300, 20_000, T0), now) == 190_000
    assert services.elapsed_ms(row(300, 20_000, T0), now) == 110_000
    # Over time: below zero, and it keeps going.
    assert services.time_left_ms(row(60, 0, T0), now) == -30_000
    assert services.time_left_ms(row(60, 50_000, T0), now) == -80_000


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> datetime.datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += datetime.timedelta(seconds=seconds)


async def test_pause_and_resume_keep_the_time_used_and_over_time_goes_negative(
    assembly: Assembly, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = Clock()
    monkeypatch.setattr(services, "utc_now", clock)
    congress = assembly["congress"]
    speaker = await services.add_speaker(
        congress, SpeakerIn(name="Bà Lê Thị Thu Hà", allotted_seconds=120), SYSTEM
    )
    await services.call_speaker(congress, SYSTEM, speaker_id=speaker)

    async def left() -> int:
        return services.time_left_ms(await services.get_speaker(congress, speaker), clock.now)

    clock.advance(30)  # called, not started: the time waits
    assert await left() == 120_000
    await services.start_timer(congress, speaker, SYSTEM)
    clock.advance(45)
    assert await left() == 75_000
    await services.pause_timer(congress, speaker, SYSTEM)
    assert (await services.get_speaker(congress, speaker))["elapsed_ms"] == 45_000
    clock.advance(600)  # a long pause costs nothing
    assert await left() == 75_000
    await services.start_timer(congress, speaker, SYSTEM)
    clock.advance(60)
    assert await left() == 15_000
    clock.advance(40)
    assert await left() == -25_000  # over time
    await services.extend_time(congress, speaker, 60, SYSTEM)
    assert await left() == 35_000
    clock.advance(5)
    used = await services.stop_speaker(congress, speaker, SYSTEM)
    assert used == 150_000
    done = await services.get_speaker(congress, speaker)
    assert done["status"] == "done"
    assert done["timer_started_at"] is None
    clock.advance(100)
    assert await left() == 30_000  # stopped for good

    log = await events_of(congress, types=["SpeakerTimerPaused", "SpeakerTimerStopped"])
    assert [e.payload["elapsed_ms"] for e in log] == [45_000, 150_000]


async def test_the_timer_refuses_what_makes_no_sense(assembly: Assembly) -> None:
    congress = assembly["congress"]
    speaker = await services.add_speaker(congress, SpeakerIn(name="Ông Phạm Quốc Bảo"), SYSTEM)
    with pytest.raises(Conflict) as error:
        await services.start_timer(congress, speaker, SYSTEM)
    assert error.value.code == "not_speaking"
    await services.call_speaker(congress, SYSTEM)
    with pytest.raises(Conflict) as error:
        await services.pause_timer(congress, speaker, SYSTEM)
    assert error.value.code == "timer_not_running"
    await services.start_timer(congress, speaker, SYSTEM)
    with pytest.raises(Conflict) as error:
        await services.start_timer(congress, speaker, SYSTEM)
    assert error.value.code == "timer_running"
    with pytest.raises(Conflict) as error:
        await services.withdraw_speaker(congress, speaker, SYSTEM)
    assert error.value.code == "cannot_withdraw"


# --- one request per delegate ----------------------------------------------------------------


async def test_one_open_request_per_delegate_and_sitting(
    assembly: Assembly, phone_of: PhoneFactory, as_role: Callable[[str | None], Awaitable[Session]]
) -> None:
    congress = assembly["congress"]
    delegate = assembly["officials"][1]
    phone = await phone_of(delegate)
    first = await ok(await phone.ask("Lần một"))
    again = await phone.ask("Lần hai")
    assert again.status_code == 409
    assert again.json()["code"] == "already_requested"
    assert again.json()["message"]

    secretariat = await as_role("secretariat")
    added = await secretariat.post(api(assembly), json={"delegate_id": delegate})
    assert added.status_code == 409
    assert added.json()["code"] == "already_on_list"

    # Withdrawn, the delegate may ask again.
    await ok(await phone.withdraw(first["mine"]["id"]))
    await ok(await phone.ask("Lần ba"))

    # Requests sent at the same instant: exactly one gets through.
    others = assembly["officials"][2]
    results = await asyncio.gather(
        *(services.request_to_speak(congress, others, RequestIn()) for _ in range(5)),
        return_exceptions=True,
    )
    assert sum(isinstance(r, int) for r in results) == 1
    assert all(r.code == "already_requested" for r in results if isinstance(r, Conflict))


async def test_a_delegate_withdraws_only_their_own_request(
    assembly: Assembly, phone_of: PhoneFactory
) -> None:
    mine = await phone_of(assembly["officials"][0])
    theirs = await phone_of(assembly["officials"][1])
    speaker = (await ok(await mine.ask()))["mine"]["id"]
    refused = await theirs.withdraw(speaker)
    assert refused.status_code == 404
    assert refused.json()["code"] == "speaker_not_found"
    assert (await mine.speakers())["mine"]["id"] == speaker


async def test_the_written_speech_must_be_a_paper_of_the_congress_and_not_confidential(
    assembly: Assembly,
    make_congress: Callable[..., Awaitable[int]],
    as_role: Callable[[str | None], Awaitable[Session]],
) -> None:
    secretariat = await as_role("secretariat")
    secret = await add_document(assembly["congress"], "Mật", access="confidential")
    elsewhere = await add_document(await make_congress(), "Đại hội khác")
    for document, code in ((secret, "speech_confidential"), (elsewhere, "speech_not_found")):
        response = await secretariat.post(
            api(assembly), json={"name": "Ông A", "document_id": document}
        )
        assert response.status_code == 422
        assert response.json()["code"] == code
    nobody = await secretariat.post(api(assembly), json={"topic": "Không tên"})
    assert nobody.status_code == 422
    assert nobody.json()["code"] == "no_speaker"
    unknown = await secretariat.post(api(assembly), json={"card_number": "9999"})
    assert unknown.status_code == 404
    assert unknown.json()["code"] == "delegate_not_found"


async def test_reordering_must_name_every_queued_speaker(assembly: Assembly) -> None:
    congress = assembly["congress"]
    ids = [
        await services.add_speaker(congress, SpeakerIn(name=f"Diễn giả {n}"), SYSTEM)
        for n in range(3)
    ]
    with pytest.raises(InvalidInput) as error:
        await services.reorder_speakers(congress, ids[:2], SYSTEM)
    assert error.value.code == "order_mismatch"
    await services.move_speaker(congress, ids[2], 1, SYSTEM)
    queued = [s["id"] for s in await services.list_speakers(congress, assembly["sitting"])]
    assert queued == [ids[2], ids[0], ids[1]]
    await services.withdraw_speaker(congress, ids[2], SYSTEM)
    rows = await services.list_speakers(congress, assembly["sitting"])
    assert [(r["id"], r["position"]) for r in rows if r["status"] == "queued"] == [
        (ids[0], 1),
        (ids[1], 2),
    ]


# --- the console page ------------------------------------------------------------------------


async def test_the_console_page_drives_the_list(
    as_role: Callable[[str | None], Awaitable[Session]], assembly: Assembly
) -> None:
    congress = assembly["congress"]
    page_url = f"/console/congresses/{congress}/speakers"
    secretariat = await as_role("secretariat")
    presidium = await as_role("presidium")

    # A name that matches several delegates asks which one.
    await add_document(congress, "Tham luận của Đoàn Y tế")
    ambiguous = await secretariat.submit(page_url, {"who": "Thị", "minutes": "5"})
    assert ambiguous.status_code == 200
    assert "Nguyễn Thị Hạnh" in ambiguous.text
    assert 'name="delegate_id"' in ambiguous.text
    assert await services.list_speakers(congress, assembly["sitting"]) == []
    by_card = await secretariat.submit(
        page_url, {"who": "0002", "minutes": "7", "topic": "An toàn lao động"}
    )
    assert by_card.status_code == 200
    assert "Trần Văn Đức" in by_card.text
    secretariat_page = await secretariat.get(page_url)
    assert "Tham luận của Đoàn Y tế" in secretariat_page.text  # the speech to pick
    assert "/call-next" not in secretariat_page.text  # the secretariat does not run the list

    speaker = (await services.list_speakers(congress, assembly["sitting"]))[0]
    assert speaker["allotted_seconds"] == 420
    called = await presidium.submit(f"{page_url}/call-next", {"sitting_id": assembly["sitting"]})
    assert called.status_code == 200
    assert 'id="clock"' in called.text
    assert "7:00" in called.text
    started = await presidium.submit(f"{page_url}/{speaker['id']}/start")
    assert 'data-running="true"' in started.text
    refused = await presidium.submit(f"{page_url}/{speaker['id']}/start")
    assert refused.status_code == 409
    assert 'data-code="timer_running"' in refused.text
    part = await presidium.get(f"{page_url}/part?sitting={assembly['sitting']}")
    assert part.status_code == 200
    assert "Trần Văn Đức" in part.text


# --- who may do what -------------------------------------------------------------------------

K = "/console/congresses/{c}/speakers"
A = "/api/congresses/{c}/speakers"
ROUTES: list[tuple[str, str, Permission]] = [
    ("GET", A, Permission.ADD_SPEAKERS),
    ("POST", A, Permission.ADD_SPEAKERS),
    ("GET", A + "/{s}", Permission.ADD_SPEAKERS),
    ("PUT", A + "/order", Permission.RUN_SPEAKERS),
    ("POST", A + "/call-next", Permission.RUN_SPEAKERS),
    *(
        ("POST", A + "/{s}/" + action, Permission.RUN_SPEAKERS)
        for action in ("queue", "call", "start", "pause", "stop", "extend", "withdraw")
    ),
    ("GET", K, Permission.ADD_SPEAKERS),
    ("GET", K + "/part", Permission.ADD_SPEAKERS),
    ("POST", K, Permission.ADD_SPEAKERS),
    ("POST", K + "/call-next", Permission.RUN_SPEAKERS),
    *(
        ("POST", K + "/{s}/" + action, Permission.RUN_SPEAKERS)
        for action in ("queue", "move", "call", "start", "pause", "stop", "extend", "withdraw")
    ),
]
ROLES = [None, *Role]


@pytest.mark.parametrize("role", ROLES, ids=lambda r: r or "anonymous")
async def test_each_role_meets_each_route_as_the_roles_say(
    role: str | None,
    as_role: Callable[[str | None], Awaitable[Session]],
    assembly: Assembly,
) -> None:
    session = await as_role(role)
    granted = ROLE_PERMISSIONS[Role(role)] if role else frozenset()
    speaker = await services.add_speaker(assembly["congress"], SpeakerIn(name="Ông B"), SYSTEM)
    for method, template, permission in ROUTES:
        url = template.format(c=assembly["congress"], s=speaker)
        body: dict[str, Any] = {}
        if method == "PUT":
            body = {"json": {"ids": [speaker]}}
        elif url.startswith("/api") and method == "POST":
            body = {"json": {}}
        response = await session.send(method, url, headers=JSON, **body)
        if role is None:
            assert response.status_code == 401, (method, url, response.text)
        elif permission in granted:
            assert response.status_code not in {401, 403}, (role, method, url, response.text)
        else:
            assert response.status_code == 403, (role, method, url, response.text)
    assert Role.CHECKIN not in {r for r in Role if Permission.ADD_SPEAKERS in ROLE_PERMISSIONS[r]}


async def test_the_phone_routes_need_a_card(
    anonymous: Session, as_role: Callable[[str | None], Awaitable[Session]]
) -> None:
    admin = await as_role("admin")
    for session in (anonymous, admin):  # an organizer's session is no card
        assert (await session.get("/delegate/speakers", headers=JSON)).status_code == 401
        refused = await session.post("/delegate/speakers", json={}, headers=JSON)
        assert refused.status_code == 401
