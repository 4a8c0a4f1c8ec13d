"""Who reaches what: every route and websocket of the app, for every kind of caller, and
nothing of one congress through another.

The callers: the public (anonymous), a delegate signed in by the card, a paired check-in
tablet, a screen (its key in the address) and an organizer of each role. The organizer routes
need the permissions of ``tests.congress.test_permissions.EXPECTED``; every other route is in
``OTHER_ROUTES`` below. A route the app serves with no entry in either makes
``test_every_route_has_an_entry`` fail.

Three congresses are made once for the module: A and B, alike, for the callers of A and what
they must not reach of B; and a scratch congress whose objects the organizer matrix may change
(an allowed DELETE really deletes). Roles hold for every congress of the installation
(README, *Roles*), so "another congress" for an organizer is an object of A named through
B's address: that must be not found.
"""

from __future__ import annotations

import base64
import enum
import io
import secrets
from collections.abc import AsyncIterator
from typing import Any

import pytest
from litestar import Litestar
from litestar.exceptions import WebSocketDisconnect
from litestar.routes import HTTPRoute, WebSocketRoute
from litestar.testing import AsyncTestClient

from checkin import assets, credentials, devices
from checkin.controllers import DEVICE_COOKIE, DEVICE_HEADER
from congress import accounts
from congress.accounts import Permission, Role
from congress.app import create_app
from congress.auth import SESSION_COOKIE
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn
from congress.eventlog import SYSTEM
from congress.schemas import AgendaItemIn, CongressIn
from congress.services import add_agenda_item, create_congress
from congress.tables import Congress, Delegate
from congress.voting import services as voting
from congress.voting.schemas import PollIn
from congress.voting.tables import PollParticipation
from documents.portal import DELEGATE_COOKIE
from livestream.public import services as public_services
from livestream.public.schemas import StreamLinkIn
from livestream.screens import services as screen_services
from livestream.screens.schemas import ScreenContent
from livestream.speakers import services as speaker_services
from livestream.speakers.schemas import RequestIn, SpeakerIn
from livestream.tables import Speaker
from tests.conftest import CSRF_COOKIE
from tests.congress.test_permissions import (
    EXPECTED,
    PARAM,
    SIGNED_IN,
    WEBSOCKET,
    allowed,
    fill,
)
from tests.documents.samples import image
from tests.livestream.screen_fixtures import make_hall, make_screen, open_election, paper


class Access(enum.StrEnum):
    """What a route that is not an organizer's needs."""

    PUBLIC = "public"  # anyone
    CARD = "card"  # a card's token in the address: whoever holds the card
    PAIRING = "pairing"  # a tablet's one-time pairing code in the address
    DELEGATE = "delegate"  # the phone's session, opened by a card
    TABLET = "tablet"  # a paired tablet's cookie
    SCREEN = "screen"  # the screen's key in the address


D = "/delegate"
T = "/api/checkin/device"
L = "/live/{congress_id:int}"
S = "/S/{key:str}"

OTHER_ROUTES: dict[tuple[str, str], Access] = {
    # signing in, the language, static files, the API's own description
    ("GET", "/"): Access.PUBLIC,
    ("GET", "/health"): Access.PUBLIC,
    ("GET", "/login"): Access.PUBLIC,
    ("POST", "/login"): Access.PUBLIC,
    ("POST", "/logout"): Access.PUBLIC,
    ("GET", "/language/{language:str}"): Access.PUBLIC,
    ("GET", "/static/{file_path:path}"): Access.PUBLIC,
    ("HEAD", "/static/{file_path:path}"): Access.PUBLIC,
    ("GET", "/schema"): Access.PUBLIC,
    ("GET", "/schema/openapi.json"): Access.PUBLIC,
    ("GET", "/schema/oauth2-redirect.html"): Access.PUBLIC,
    ("GET", "/schema/{path:str}"): Access.PUBLIC,
    # the card's address and the delegate's phone
    ("GET", "/D/{token:str}"): Access.CARD,
    ("GET", "/d/{token:str}"): Access.CARD,
    ("GET", D): Access.DELEGATE,
    ("GET", f"{D}/parts/{{part:str}}"): Access.DELEGATE,
    ("GET", f"{D}/documents/{{document_id:int}}"): Access.DELEGATE,
    ("GET", f"{D}/documents/{{document_id:int}}/file"): Access.DELEGATE,
    ("GET", f"{D}/documents/{{document_id:int}}/pages/{{number:int}}"): Access.DELEGATE,
    (WEBSOCKET, f"{D}/live"): Access.DELEGATE,
    ("GET", f"{D}/polls"): Access.DELEGATE,
    ("POST", f"{D}/polls/{{poll_id:int}}/ballot"): Access.DELEGATE,
    ("GET", f"{D}/polls/{{poll_id:int}}/receipts"): Access.DELEGATE,
    ("GET", f"{D}/speakers"): Access.DELEGATE,
    ("POST", f"{D}/speakers"): Access.DELEGATE,
    ("POST", f"{D}/speakers/{{speaker_id:int}}/withdraw"): Access.DELEGATE,
    # the check-in tablets
    ("GET", "/P/{code:str}"): Access.PAIRING,
    ("GET", "/p/{code:str}"): Access.PAIRING,
    ("GET", "/checkin/scan"): Access.TABLET,
    ("GET", f"{T}/state"): Access.TABLET,
    ("POST", f"{T}/scans"): Access.TABLET,
    ("POST", f"{T}/scans/batch"): Access.TABLET,
    ("GET", f"{T}/search"): Access.TABLET,
    ("GET", f"{T}/roster"): Access.TABLET,
    ("GET", f"{T}/photos/{{delegate_id:int}}"): Access.TABLET,
    (WEBSOCKET, f"{T}/live"): Access.TABLET,
    # the public live page and its feeds
    ("GET", L): Access.PUBLIC,
    ("GET", f"{L}/timeline.json"): Access.PUBLIC,
    ("GET", f"{L}/feed.atom"): Access.PUBLIC,
    ("GET", f"{L}/documents/{{document_id:int}}"): Access.PUBLIC,
    (WEBSOCKET, f"{L}/feed"): Access.PUBLIC,
    # the hall's screens
    ("GET", S): Access.SCREEN,
    ("GET", f"{S}/state"): Access.SCREEN,
    ("GET", f"{S}/documents/{{document_id:int}}/pages/{{number:int}}"): Access.SCREEN,
    (WEBSOCKET, f"{S}/live"): Access.SCREEN,
}

MATRIX: dict[tuple[str, str], Permission | str] = {**EXPECTED, **OTHER_ROUTES}
ORGANIZER_TEMPLATES = frozenset(template for _, template in EXPECTED)

C = "/api/congresses/{congress_id:int}"
K = "/console/congresses/{congress_id:int}"
ANONYMOUS, DELEGATE, TABLET, SCREEN = "anonymous", "delegate", "tablet", "screen"
CALLERS = [ANONYMOUS, DELEGATE, TABLET, SCREEN, *(role.value for role in Role)]
OWN_SITE = "http://testserver.local"
FOREIGN_SITE = "http://evil.example"
# Statuses that say "who are you" or "not you": never what an allowed caller gets.
REFUSALS = {401, 403}
# What the owner of a credential never gets for their own objects either.
NOT_THERE = {404, 410}


def served_routes(app: Litestar) -> set[tuple[str, str]]:
    """(method, path) of every route the app serves; websockets as WEBSOCKET."""
    found: set[tuple[str, str]] = set()
    for route in app.routes:
        if isinstance(route, WebSocketRoute):
            found.add((WEBSOCKET, route.path))
        elif isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                # Litestar answers OPTIONS on every path by itself.
                found |= {(m, route.path) for m in handler.http_methods if m != "OPTIONS"}
        else:  # an ASGI mount would pass by every guard
            found.add(("ASGI", route.path))
    return found


def may(caller: str, needs: Permission | str) -> bool:
    """Whether this kind of caller may use a route that needs this."""
    if isinstance(needs, Permission) or needs == SIGNED_IN:
        role = Role(caller) if caller in Role.__members__.values() else None
        return allowed(role, needs)
    access = Access(needs)
    if access in {Access.PUBLIC, Access.CARD, Access.PAIRING}:
        return True
    return caller == access.value


def route_id(method: str, template: str) -> str:
    return f"{method} {template}"


# --- the congresses and their callers ------------------------------------------------------


SIGNER_USERNAME = f"matrix.signer.{secrets.token_hex(3)}"
SIGNER_PASSWORD = "s" * 12


def unknown_key() -> str:
    """Well formed as a screen key or card token (26 base32 letters), and nobody's."""
    return base64.b32encode(secrets.token_bytes(20)).decode()[:26]


async def make_world(label: str) -> dict[str, Any]:
    """A congress in session: delegates with cards and one with a photo, released, internal
    and confidential papers, a published motion and an open election, the current item, a
    delegate's request to speak and a speaker added by the secretariat, a screen showing the
    first page of the political report, a stream link, a paired tablet and a spare one, a
    staged import, and a delegate's phone signed in."""
    congress_id = await create_congress(
        CongressIn(name=f"Đại hội Công đoàn {label} {secrets.token_hex(3)}", number="XIX")
    )
    world = await make_hall(congress_id)
    world["congress_id"] = congress_id
    world["sitting_id"] = world["sitting"]
    world["item_id"] = world["item"]
    me, other = world["officials"][0], world["officials"][1]
    world["delegate_id"] = me
    world["other_delegate_id"] = other
    row = await Delegate.select(Delegate.delegation).where(Delegate.id == me).first()
    world["delegation_id"] = row["delegation"] if row else None
    await voting.publish_poll(congress_id, world["motion"], SYSTEM)
    await open_election(world)
    await screen_services.set_current_item(congress_id, world["sitting"], world["item"], SYSTEM)
    world["my_request"] = await speaker_services.request_to_speak(
        congress_id, me, RequestIn(topic="Về việc làm của đoàn viên")
    )
    world["other_request"] = await speaker_services.request_to_speak(
        congress_id, other, RequestIn(topic="Về nhà ở công nhân")
    )
    world["speaker_id"] = await speaker_services.add_speaker(
        congress_id, SpeakerIn(name="Đồng chí Khách mời", topic="Phát biểu chào mừng"), SYSTEM
    )
    world["screen_id"], world["screen_key"] = await make_screen(congress_id)
    await screen_services.set_screen_content(
        congress_id,
        world["screen_id"],
        ScreenContent(kind="document", document_id=world["report"], page=1),
        SYSTEM,
    )
    await public_services.set_stream_link(
        congress_id,
        world["sitting"],
        StreamLinkIn(url="https://www.youtube.com/watch?v=dQw4w9WgXcQ"),
        SYSTEM,
    )
    world["device_id"], code = await devices.register_device(congress_id, "Cửa chính 1", SYSTEM)
    paired = await devices.pair(code)
    assert paired is not None
    world["device_token"] = paired[1]
    world["spare_device_id"], _ = await devices.register_device(congress_id, "Cửa phụ", SYSTEM)
    photo = await assets.save_asset(
        congress_id, "photo", "dai-bieu-1.png", io.BytesIO(image("png", (30, 40))), SYSTEM
    )
    await Delegate.update({Delegate.photo: photo}).where(Delegate.id == me)
    world["token"] = await delegate_services.stage_import(
        congress_id, "dai-bieu.csv", "Họ và tên,Loại đại biểu\nNgô Văn Tư,Khách\n".encode(), SYSTEM
    )
    # the card of one official replaced: its old token answers "replaced" at its own doors
    replaced = world["officials"][3]
    old_token = world["tokens"][replaced]
    world["tokens"].update(
        await credentials.issue_cards(congress_id, [replaced], SYSTEM, replace=True)
    )
    world["replaced_token"] = old_token
    await mark(world)
    card = await credentials.look_up(world["tokens"][me])
    world["delegate_session"] = await credentials.open_delegate_session(card)
    world["card_token"] = world["tokens"][world["invited"][0]]
    return world


async def mark(world: dict[str, Any]) -> None:
    """Objects of this congress alone, named with a mark no other congress uses: a delegate,
    a public paper, an open motion, a speaker, an agenda item and an announcement."""
    congress_id = world["congress_id"]
    world["mark"] = the_mark = f"RIENG{secrets.token_hex(4).upper()}"
    await delegate_services.add_delegate(
        congress_id,
        DelegateIn(
            full_name=f"Đại biểu {the_mark}",
            kind="official",
            delegation_id=world["delegation_id"],
            card_number="9001",
        ),
        SYSTEM,
    )
    await paper(congress_id, f"Tài liệu {the_mark}", "public", image("png", (16, 9)), "r.png")
    world["marked_poll"] = await voting.create_poll(
        congress_id,
        PollIn(kind="motion", title=f"Biểu quyết {the_mark}", sitting_id=world["sitting_id"]),
        SYSTEM,
    )
    await voting.open_poll(congress_id, world["marked_poll"], SYSTEM)
    await speaker_services.add_speaker(congress_id, SpeakerIn(name=f"Khách {the_mark}"), SYSTEM)
    await add_agenda_item(
        congress_id, world["sitting_id"], AgendaItemIn(title=f"Mục {the_mark}"), SYSTEM
    )
    await screen_services.set_announcement(congress_id, f"Thông báo {the_mark}", SYSTEM)


@pytest.fixture(scope="module")
async def worlds() -> dict[str, dict[str, Any]]:
    """A and B, alike; the scratch congress for what organizers may change."""
    return {name: await make_world(name) for name in ("A", "B", "scratch")}


@pytest.fixture(scope="module")
async def organizers() -> dict[str, int]:
    """An account per role (module-made: the logout case ends one of their sessions), an
    account for the account routes to act on, and one to sign in with."""
    made = {}
    for role in Role:
        username = f"matrix.{role.value}.{secrets.token_hex(3)}"
        made[role.value] = await accounts.create_account(
            username, f"Ma trận {role.value}", "m" * 12, [role.value]
        )
    made["target"] = await accounts.create_account(
        f"matrix.target.{secrets.token_hex(3)}", "Tài khoản đích", "t" * 12, ["checkin"]
    )
    # Signs in on /login; apart from the target, which the admin's empty form deactivates.
    await accounts.create_account(SIGNER_USERNAME, "Người đăng nhập", SIGNER_PASSWORD, ["tally"])
    return made


@pytest.fixture(scope="module")
async def sessions(organizers: dict[str, int]) -> dict[str, str]:
    return {role.value: await accounts.open_session(organizers[role.value]) for role in Role}


@pytest.fixture(scope="module")
async def client() -> AsyncIterator[AsyncTestClient[Litestar]]:
    """One client for the whole module; each request sets the cookies of its caller."""
    async with AsyncTestClient(app=create_app()) as test_client:
        yield test_client


@pytest.fixture(scope="module")
async def csrf(client: AsyncTestClient[Litestar]) -> str:
    await client.get("/login")
    return str(client.cookies[CSRF_COOKIE])


@pytest.fixture(autouse=True)
def fresh_rate_limits(client: AsyncTestClient[Litestar]) -> None:
    """Every case starts with nothing counted against the rate limits: the module's one
    client asks from one address, as the whole suite does (see tests/conftest.py)."""
    limits = client.app.state.get("rate_limits")
    if limits is not None:
        limits.forget()


class Caller:
    """The cookies and headers one kind of caller sends."""

    def __init__(self, name: str, world: dict[str, Any], sessions: dict[str, str]) -> None:
        self.name = name
        self.cookies: dict[str, str] = {}
        self.headers: dict[str, str] = {}
        if name == DELEGATE:
            self.cookies[DELEGATE_COOKIE] = world["delegate_session"]
        elif name == TABLET:
            self.cookies[DEVICE_COOKIE] = world["device_token"]
            self.headers[DEVICE_HEADER] = "1"
        elif name in sessions:
            self.cookies[SESSION_COOKIE] = sessions[name]


class Requests:
    """Sends what a browser, phone, tablet or screen would, as one caller."""

    def __init__(self, client: AsyncTestClient[Litestar], csrf: str) -> None:
        self.client = client
        self.csrf = csrf

    def _wear(self, caller: Caller) -> None:
        self.client.cookies.clear()
        self.client.cookies.set(CSRF_COOKIE, self.csrf)
        for name, value in caller.cookies.items():
            self.client.cookies.set(name, value)

    async def send(
        self,
        caller: Caller,
        method: str,
        url: str,
        body: dict[str, Any] | None = None,
        form: dict[str, Any] | None = None,
        files: dict[str, Any] | None = None,
    ) -> Any:
        self._wear(caller)
        headers = {"x-csrf-token": self.csrf, **caller.headers}
        if method in {"GET", "HEAD"}:
            return await self.client.request(method, url, headers=headers, follow_redirects=False)
        if files is not None or url.startswith(("/console", "/login", "/logout")):
            data = {"_csrf_token": self.csrf, **(form or {})}
            return await self.client.request(
                method, url, headers=headers, data=data, files=files, follow_redirects=False
            )
        return await self.client.request(
            method, url, headers=headers, json=body or {}, follow_redirects=False
        )

    async def connect(self, caller: Caller, url: str, origin: str | None = OWN_SITE) -> int | None:
        """Opens a websocket (from a page of ``origin``; None: not from a browser); None when
        it was accepted, else the close code."""
        self._wear(caller)
        headers = {**({"origin": origin} if origin else {}), **caller.headers}
        try:
            with await self.client.websocket_connect(url, headers=headers) as socket:
                socket.close()
        except WebSocketDisconnect as closed:
            return closed.code
        return None


@pytest.fixture(scope="module")
def requests(client: AsyncTestClient[Litestar], csrf: str) -> Requests:
    return Requests(client, csrf)


def values_for(
    template: str,
    caller: str,
    worlds: dict[str, dict[str, Any]],
    organizers: dict[str, int],
    *,
    changes: bool = True,
    world: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The path's parameters: a request of an organizer route that may change something gets
    the scratch congress's objects; any other those of congress A, the congress of the
    delegate, the tablet and the screen (or those of ``world``)."""
    organizer_route = template in ORGANIZER_TEMPLATES
    if world is None:
        world = worlds["scratch"] if organizer_route and changes else worlds["A"]
    values = {
        **world,
        "number": 1,
        "page": 1,
        "entry": 1,
        "job": "no-such-job",
        "account_id": organizers["target"],
        "poll_id": world["election"] if organizer_route else world["motion"],
        "document_id": world["report"],
        "part": "documents",
        "language": "en",
        "file_path": "console.css",
        "path": "swagger",
        "token": world["card_token"] if template.startswith(("/D/", "/d/")) else world["token"],
        "key": world["screen_key"] if caller == SCREEN else unknown_key(),
    }
    if template.startswith(f"{D}/speakers"):
        values["speaker_id"] = world["my_request"]
    return values


# --- every route has an entry -------------------------------------------------------------


def test_every_route_has_an_entry(app: Litestar) -> None:
    served = served_routes(app)
    missing = sorted(served - MATRIX.keys())
    assert not missing, f"routes with no entry in the matrix: {missing}"
    gone = sorted(MATRIX.keys() - served)
    assert not gone, f"entries in the matrix for routes that are gone: {gone}"


def test_every_kind_of_caller_is_refused_somewhere_and_allowed_somewhere() -> None:
    for caller in CALLERS:
        verdicts = {may(caller, needs) for needs in MATRIX.values()}
        assert verdicts == {True, False}, caller


# --- the matrix: each HTTP route against each caller ----------------------------------------

HTTP_ROUTES = [
    pytest.param(method, template, id=route_id(method, template))
    for method, template in sorted(MATRIX)
    if method != WEBSOCKET
]
SOCKETS = [
    pytest.param(template, id=template)
    for method, template in sorted(MATRIX)
    if method == WEBSOCKET
]


def refused_as_expected(needs: Permission | str, caller: str, url: str, response: Any) -> None:
    seen = f"{response.status_code}: {response.text[:300]}"
    status = response.status_code
    if isinstance(needs, Permission) or needs == SIGNED_IN:
        signed_in = caller in Role.__members__.values()
        if url.startswith("/api/"):
            assert status == (403 if signed_in else 401), seen
            code = "permission_denied" if signed_in else "not_signed_in"
            assert response.json()["code"] == code, seen
        elif signed_in:
            assert status == 403, seen
            assert response.headers["content-type"].startswith("text/html"), seen
        else:
            assert status in {302, 303}, seen
            assert response.headers["location"].startswith("/login"), seen
    elif needs in {Access.DELEGATE, Access.TABLET}:
        assert status == 401, seen
    else:
        assert needs == Access.SCREEN
        assert status == 404, seen


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize(("method", "template"), HTTP_ROUTES)
async def test_route_matrix(
    requests: Requests,
    worlds: dict[str, dict[str, Any]],
    organizers: dict[str, int],
    sessions: dict[str, str],
    method: str,
    template: str,
    caller: str,
) -> None:
    needs = MATRIX[method, template]
    values = values_for(template, caller, worlds, organizers)
    if needs == Access.PAIRING:
        values["code"] = await devices.new_pairing_code(
            values["congress_id"], values["spare_device_id"], SYSTEM
        )
    if template == "/logout" and caller in sessions:
        # Signing out ends the session: this case gets a session of its own.
        sessions = {caller: await accounts.open_session(organizers[caller])}
    url = fill(template, values)
    # Signing in is for anyone: with the right password, whoever asks is signed in.
    form = {"username": SIGNER_USERNAME, "password": SIGNER_PASSWORD} if url == "/login" else None
    response = await requests.send(Caller(caller, worlds["A"], sessions), method, url, form=form)
    status = response.status_code
    seen = f"{status}: {response.text[:300]}"
    assert status < 500, seen
    if not may(caller, needs):
        refused_as_expected(needs, caller, url, response)
        return
    assert status not in REFUSALS, seen
    if isinstance(needs, Permission) or needs == SIGNED_IN:
        assert not response.headers.get("location", "").startswith("/login"), seen
    elif needs == Access.CARD:
        assert status == 303, seen
        assert response.headers["location"] == "/delegate"
    elif needs == Access.PAIRING:
        assert status == 303, seen
        assert response.headers["location"] == "/checkin/scan"
    elif needs in {Access.DELEGATE, Access.TABLET, Access.SCREEN}:
        # the caller's own congress and own objects: there, and never refused
        assert status not in NOT_THERE, seen
    elif method == "POST" and url == "/login":
        assert status in {302, 303}, seen
        assert response.headers["location"] == "/console"


# --- the websockets: each against each caller, and never from another site ------------------


def refusal_code(needs: Permission | str, caller: str) -> int:
    """The close code a refused socket gets: 4401 "who are you", 4403 "not you"."""
    if isinstance(needs, Permission) and caller in Role.__members__.values():
        return 4403
    return 4401


@pytest.mark.parametrize("caller", CALLERS)
@pytest.mark.parametrize("template", SOCKETS)
async def test_socket_matrix(
    requests: Requests,
    worlds: dict[str, dict[str, Any]],
    organizers: dict[str, int],
    sessions: dict[str, str],
    template: str,
    caller: str,
) -> None:
    needs = MATRIX[WEBSOCKET, template]
    url = fill(template, values_for(template, caller, worlds, organizers, changes=False))
    closed = await requests.connect(Caller(caller, worlds["A"], sessions), url)
    if may(caller, needs):
        assert closed is None, f"refused with {closed}"
    else:
        assert closed == refusal_code(needs, caller), f"closed with {closed}"


def first_allowed(needs: Permission | str) -> str:
    return next(caller for caller in CALLERS if may(caller, needs))


@pytest.mark.parametrize("template", SOCKETS)
async def test_socket_refuses_a_page_of_another_site(
    requests: Requests,
    worlds: dict[str, dict[str, Any]],
    organizers: dict[str, int],
    sessions: dict[str, str],
    template: str,
) -> None:
    caller = first_allowed(MATRIX[WEBSOCKET, template])
    url = fill(template, values_for(template, caller, worlds, organizers, changes=False))
    who = Caller(caller, worlds["A"], sessions)
    assert await requests.connect(who, url, origin=FOREIGN_SITE) == 4403
    assert await requests.connect(who, url, origin=f"{FOREIGN_SITE}.testserver.local") == 4403
    assert await requests.connect(who, url, origin="null") == 4403  # a sandboxed frame
    # the same caller from a page of this site, or from no browser at all, is let in
    assert await requests.connect(who, url, origin=OWN_SITE) is None
    assert await requests.connect(who, url, origin=None) is None


# --- nothing of congress A through the address of congress B ---------------------------------

OBJECTS = (
    "sitting_id",
    "item_id",
    "delegation_id",
    "delegate_id",
    "token",
    "document_id",
    "poll_id",
    "speaker_id",
    "screen_id",
    "device_id",
)
CROSS_ROUTES = [
    pytest.param(method, template, id=route_id(method, template))
    for method, template in sorted(EXPECTED)
    if "{congress_id:int}" in template and set(PARAM.findall(template)) & set(OBJECTS)
]


# What each route needs to get past the reading of its input to the look-up of its object:
# with less, a 400 would prove nothing.
TITLE = {"title": "Đổi tên"}
BODIES: dict[str, dict[str, Any]] = {
    f"{C}/sittings/{{sitting_id:int}}": TITLE,
    f"{C}/sittings/{{sitting_id:int}}/agenda": TITLE,
    f"{C}/agenda/{{item_id:int}}": TITLE,
    f"{C}/documents/{{document_id:int}}": TITLE,
    f"{C}/delegates/{{delegate_id:int}}": {"full_name": "Đổi tên", "kind": "guest"},
    f"{C}/delegations/{{delegation_id:int}}": {"code": "XX", "name": "Đổi tên"},
    f"{C}/streams/{{sitting_id:int}}": {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
    f"{C}/polls/{{poll_id:int}}/paper-ballots": {"card_number": "0001"},
    f"{C}/polls/{{poll_id:int}}/paper-counts/{{entry:int}}": {
        "issued": 7,
        "collected": 7,
        "valid": 7,
        "invalid": 0,
        "votes": {"c1": 7, "c2": 7, "c3": 0},
    },
}
FORMS: dict[str, dict[str, Any]] = {
    f"{K}/sittings/{{sitting_id:int}}": {"title": "Đổi tên", "kind": "plenary"},
    f"{K}/sittings/{{sitting_id:int}}/agenda": TITLE,
    f"{K}/agenda/{{item_id:int}}": TITLE,
    f"{K}/delegates/{{delegate_id:int}}": {"full_name": "Đổi tên", "kind": "guest"},
    f"{K}/delegations/{{delegation_id:int}}": {"code": "XX", "name": "Đổi tên"},
    f"{K}/streams/{{sitting_id:int}}": {"url": "https://www.youtube.com/watch?v=dQw4w9WgXcQ"},
    f"{K}/speakers/{{speaker_id:int}}/extend": {"minutes": "1"},
}
QUERIES = {
    f"{K}/sittings/{{sitting_id:int}}/move": "?step=1",
    f"{K}/agenda/{{item_id:int}}/move": "?step=1",
}
UPLOADS = {
    f"{C}/documents/{{document_id:int}}/versions",
    f"{K}/documents/{{document_id:int}}/versions",
}


@pytest.mark.parametrize(("method", "template"), CROSS_ROUTES)
async def test_an_object_of_a_is_not_found_through_b(
    requests: Requests,
    worlds: dict[str, dict[str, Any]],
    organizers: dict[str, int],
    sessions: dict[str, str],
    method: str,
    template: str,
) -> None:
    """The administrator may do everything, in every congress: an object of congress A named
    in an address of congress B is still not there."""
    a, b = worlds["A"], worlds["B"]
    values = {
        **values_for(template, Role.ADMIN.value, worlds, organizers),
        **{name: a[name] for name in OBJECTS if name in a},
        "document_id": a["report"],
        "poll_id": a["election"],
        "congress_id": b["congress_id"],
    }
    url = fill(template, values) + QUERIES.get(template, "")
    admin = Caller(Role.ADMIN.value, a, sessions)
    if method == WEBSOCKET:
        assert await requests.connect(admin, url) == 4404
        return
    files = {"file": ("v2.png", image("png", (8, 8)), "image/png")} if template in UPLOADS else None
    body = BODIES.get(template)
    if template == f"{C}/sittings/{{sitting_id:int}}/agenda/order":
        body = {"ids": [a["item_id"]]}
    response = await requests.send(
        admin, method, url, body=body, form=FORMS.get(template), files=files
    )
    seen = f"{response.status_code}: {response.text[:300]}"
    assert response.status_code == 404, seen
    if url.startswith("/api/"):
        assert response.json()["code"].endswith(("not_found", "order_mismatch")), seen


# --- the delegate, the tablet, the screen and the public: their own, nothing of B ------------


def a_and_b(worlds: dict[str, dict[str, Any]]) -> tuple[dict[str, Any], dict[str, Any]]:
    return worlds["A"], worlds["B"]


async def test_a_delegate_reads_only_papers_released_to_delegates_of_their_congress(
    requests: Requests, worlds: dict[str, dict[str, Any]], sessions: dict[str, str]
) -> None:
    a, b = a_and_b(worlds)
    phone = Caller(DELEGATE, a, sessions)
    for document in (b["report"], b["photo"], a["secret"], a["draft"]):
        for tail in ("", "/file", "/pages/1"):
            response = await requests.send(phone, "GET", f"{D}/documents/{document}{tail}")
            assert response.status_code == 404, (document, tail, response.status_code)
    assert (await requests.send(phone, "GET", f"{D}/documents/{a['photo']}")).status_code == 200
    home = await requests.send(phone, "GET", D)
    assert "Hoạt động công đoàn" in home.text
    assert "Hồ sơ nhân sự" not in home.text  # the confidential paper's title
    assert "Dự thảo chưa phát hành" not in home.text  # the paper kept for organizers


async def test_a_delegate_votes_and_sees_receipts_only_in_their_congress(
    requests: Requests, worlds: dict[str, dict[str, Any]], sessions: dict[str, str]
) -> None:
    a, b = a_and_b(worlds)
    phone = Caller(DELEGATE, a, sessions)
    listed = (await requests.send(phone, "GET", f"{D}/polls")).json()
    assert {p["id"] for p in listed} == {a["motion"], a["election"], a["marked_poll"]}
    receipts = await requests.send(phone, "GET", f"{D}/polls/{b['motion']}/receipts")
    assert receipts.status_code == 404
    before = await PollParticipation.count().where(PollParticipation.poll == b["election"])
    ballot = await requests.send(
        phone, "POST", f"{D}/polls/{b['election']}/ballot", body={"choices": ["c1", "c2"]}
    )
    assert ballot.status_code == 404, ballot.text
    assert await PollParticipation.count().where(PollParticipation.poll == b["election"]) == before
    mine = await PollParticipation.count().where(PollParticipation.delegate == a["delegate_id"])
    # the two polls of A they voted in while the fixtures were made, and nothing else
    assert mine == 2


async def test_a_delegate_withdraws_only_their_own_request_to_speak(
    requests: Requests, worlds: dict[str, dict[str, Any]], sessions: dict[str, str]
) -> None:
    a, b = a_and_b(worlds)
    phone = Caller(DELEGATE, a, sessions)
    for speaker in (a["other_request"], b["my_request"], b["other_request"], a["speaker_id"]):
        response = await requests.send(phone, "POST", f"{D}/speakers/{speaker}/withdraw")
        assert response.status_code == 404, (speaker, response.text)
    rows = await Speaker.select(Speaker.id, Speaker.status).where(
        Speaker.id.is_in([a["other_request"], b["my_request"], b["other_request"]])
    )
    assert {r["status"] for r in rows} == {"requested"}
    asked = await requests.send(phone, "POST", f"{D}/speakers", body={"topic": "Về tiền lương"})
    assert asked.status_code in {200, 409}, asked.text
    view = (await requests.send(phone, "GET", f"{D}/speakers")).json()
    assert view["sitting_id"] == a["sitting_id"]
    own = await Speaker.select(Speaker.delegate, Speaker.congress).where(
        Speaker.id == view["mine"]["id"]
    )
    assert own == [{"delegate": a["delegate_id"], "congress": a["congress_id"]}]


async def test_a_tablet_checks_in_only_for_its_congress(
    requests: Requests, worlds: dict[str, dict[str, Any]], sessions: dict[str, str]
) -> None:
    a, b = a_and_b(worlds)
    tablet = Caller(TABLET, a, sessions)
    photo = await requests.send(tablet, "GET", f"{T}/photos/{b['delegate_id']}")
    assert photo.status_code == 404
    state = (await requests.send(tablet, "GET", f"{T}/state?sitting={b['sitting_id']}")).json()
    assert state["congress"]["id"] == a["congress_id"]
    assert state["sitting"]["id"] == a["sitting_id"]
    found = (await requests.send(tablet, "GET", f"{T}/search?q=Nguyen")).json()["delegates"]
    a_people = set(a["officials"]) | set(a["invited"])
    assert found
    assert {d["id"] for d in found} <= a_people
    roster = (await requests.send(tablet, "GET", f"{T}/roster")).json()
    assert len(roster["entries"]) == len(a_people)

    scans = [
        # B's card, active
        {"code": b["tokens"][b["officials"][2]]},
        # B's delegate picked by id
        {"delegate_id": b["officials"][2]},
        # B's card whose delegate was given a new one
        {"code": b["replaced_token"]},
    ]
    for scan in scans:
        body = {"nonce": secrets.token_hex(8), "sitting_id": a["sitting_id"], **scan}
        answer = (await requests.send(tablet, "POST", f"{T}/scans", body=body)).json()
        assert (answer["result"], answer["code"]) == ("red", "other_congress"), (scan, answer)
        assert answer["delegate"] is None
    into_b = {
        "nonce": secrets.token_hex(8),
        "sitting_id": b["sitting_id"],
        "code": a["tokens"][a["officials"][5]],
    }
    response = await requests.send(tablet, "POST", f"{T}/scans", body=into_b)
    assert response.status_code == 404
    assert response.json()["code"] == "sitting_not_found"


async def test_a_screen_shows_only_the_pages_it_is_showing(
    requests: Requests, worlds: dict[str, dict[str, Any]], sessions: dict[str, str]
) -> None:
    a, b = a_and_b(worlds)
    screen = Caller(SCREEN, a, sessions)
    base = f"/S/{a['screen_key']}"
    shown = await requests.send(screen, "GET", f"{base}/documents/{a['report']}/pages/1")
    assert shown.status_code == 200
    assert shown.headers["content-type"] == "image/png"
    for document, page in (
        (a["report"], 2),  # the same paper, a page it does not show
        (a["photo"], 1),  # released to delegates, not on this screen
        (a["secret"], 1),
        (a["draft"], 1),
        (b["report"], 1),  # what B's screen shows
    ):
        response = await requests.send(screen, "GET", f"{base}/documents/{document}/pages/{page}")
        assert response.status_code == 404, (document, page)
    state = (await requests.send(screen, "GET", f"{base}/state")).json()
    assert a["congress_id"] != b["congress_id"]
    assert "Đại hội Công đoàn A " in state["congress"]
    # B's screen key opens B's screen only
    other = (await requests.send(screen, "GET", f"/S/{b['screen_key']}/state")).json()
    assert "Đại hội Công đoàn B " in other["congress"]


async def test_the_public_gets_only_public_papers_of_the_congress_it_names(
    requests: Requests, worlds: dict[str, dict[str, Any]], sessions: dict[str, str]
) -> None:
    a, b = a_and_b(worlds)
    public = Caller(ANONYMOUS, a, sessions)
    live_a, live_b = f"/live/{a['congress_id']}", f"/live/{b['congress_id']}"
    assert (
        await requests.send(public, "GET", f"{live_a}/documents/{a['report']}")
    ).status_code == 200
    for url in (
        f"{live_a}/documents/{a['photo']}",  # for delegates only
        f"{live_a}/documents/{a['secret']}",
        f"{live_a}/documents/{a['draft']}",
        f"{live_a}/documents/{b['report']}",  # B's public paper through A's page
        f"{live_b}/documents/{a['report']}",
        f"/live/{2**31 - 2}",
        f"/live/{2**31 - 2}/timeline.json",
        f"/live/{2**31 - 2}/feed.atom",
    ):
        assert (await requests.send(public, "GET", url)).status_code == 404, url
    assert await requests.connect(public, f"/live/{2**31 - 2}/feed") == 4404


CONGRESS_SOCKETS = [
    pytest.param(template, id=template)
    for method, template in sorted(MATRIX)
    if method == WEBSOCKET and "{congress_id:int}" in template
]


@pytest.mark.parametrize("template", CONGRESS_SOCKETS)
async def test_a_socket_of_a_congress_that_is_not_there_closes_with_4404(
    requests: Requests,
    worlds: dict[str, dict[str, Any]],
    organizers: dict[str, int],
    sessions: dict[str, str],
    template: str,
) -> None:
    values = values_for(template, Role.ADMIN.value, worlds, organizers, changes=False)
    values["congress_id"] = 2**31 - 2
    url = fill(template, values)
    assert await requests.connect(Caller(Role.ADMIN.value, worlds["A"], sessions), url) == 4404


# --- the sockets of A hear nothing of B ------------------------------------------------------


async def last_seq(congress_id: int) -> int:
    row = await Congress.select(Congress.last_event_seq).where(Congress.id == congress_id).first()
    assert row is not None
    return int(row["last_event_seq"])


async def test_the_sockets_of_a_hear_nothing_of_b(
    requests: Requests, worlds: dict[str, dict[str, Any]], sessions: dict[str, str]
) -> None:
    """The phone, the tablet and the screen of A stay connected while B changes; the first
    thing each hears is what then happens in A."""
    a, b = a_and_b(worlds)
    admin = Caller(Role.ADMIN.value, a, sessions)
    phone, tablet, screen = (Caller(c, a, sessions) for c in (DELEGATE, TABLET, SCREEN))

    async def announce(world: dict[str, Any], text: str) -> None:
        url = f"/console/congresses/{world['congress_id']}/screens/announcement"
        response = await requests.send(admin, "POST", url, form={"announcement": text})
        assert response.status_code in {302, 303}, response.text[:300]

    async def check_in(world: dict[str, Any], delegate: int) -> None:
        body = {
            "nonce": secrets.token_hex(8),
            "sitting_id": world["sitting_id"],
            "delegate_id": delegate,
        }
        device = Caller(TABLET, world, sessions)
        answer = (await requests.send(device, "POST", f"{T}/scans", body=body)).json()
        assert answer["result"] in {"green", "orange"}, answer

    # the phone: B's agenda changes, then A's speakers' list
    requests._wear(phone)
    with await requests.client.websocket_connect(
        f"{D}/live", headers={"origin": OWN_SITE}
    ) as socket:
        item = f"/api/congresses/{b['congress_id']}/sittings/{b['sitting_id']}/agenda"
        assert (
            await requests.send(admin, "POST", item, body={"title": "Mục của B"})
        ).status_code == 201
        added = f"/api/congresses/{a['congress_id']}/speakers"
        body = {"name": "Khách của A", "sitting_id": a["sitting_id"]}
        assert (await requests.send(admin, "POST", added, body=body)).status_code == 201
        assert socket.receive_json(timeout=5) == {"refresh": "speakers"}

    # the tablet: a check-in at B's door, then one at A's
    requests._wear(tablet)
    url = f"{T}/live?sitting={a['sitting_id']}"
    with await requests.client.websocket_connect(
        url, headers={"origin": OWN_SITE, **tablet.headers}
    ) as socket:
        first = socket.receive_json(timeout=5)
        assert first["sitting_id"] == a["sitting_id"]
        await check_in(b, b["officials"][5])
        await check_in(a, a["officials"][5])
        counted = socket.receive_json(timeout=5)
        assert counted == {**first, "present": counted["present"]}
        assert counted["present"] == first["present"] + 1

    # the screen: an announcement in B, then one in A (numbered apart: the event numbers of
    # A and B are counted each on its own, and B's must not pass for A's)
    after = await last_seq(a["congress_id"])
    if await last_seq(b["congress_id"]) == after:
        await announce(b, "Thông báo trước của B")
    requests._wear(screen)
    url = f"/S/{a['screen_key']}/live?after={after}"
    with await requests.client.websocket_connect(url, headers={"origin": OWN_SITE}) as socket:
        assert "state" in socket.receive_json(timeout=5)
        await announce(b, "Thông báo của B")
        await announce(a, "Thông báo của A")
        assert socket.receive_json(timeout=5) == {
            "event": {"seq": after + 1, "type": "AnnouncementSet"}
        }
        state = socket.receive_json(timeout=5)["state"]
        assert state["announcement"] == "Thông báo của A"


def carried_in_the_body(a: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """Requests to congress B's API that name objects of A in their body."""
    return [
        ("PUT", "/sittings/order", {"ids": [a["sitting_id"]]}),
        (
            "POST",
            "/delegates",
            {"full_name": "Người lạ", "kind": "guest", "delegation_id": a["delegation_id"]},
        ),
        (
            "POST",
            "/polls",
            {"kind": "motion", "title": "Biểu quyết lạ", "sitting_id": a["sitting_id"]},
        ),
        ("POST", "/speakers", {"delegate_id": a["delegate_id"]}),
        ("POST", "/speakers", {"name": "Khách lạ", "sitting_id": a["sitting_id"]}),
        ("POST", "/speakers", {"name": "Khách lạ", "document_id": a["report"]}),
        ("PUT", "/speakers/order", {"ids": [a["speaker_id"]]}),
        ("POST", "/speakers/call-next", {"sitting_id": a["sitting_id"]}),
    ]


async def test_objects_of_a_named_in_a_body_sent_to_b_are_refused(
    requests: Requests, worlds: dict[str, dict[str, Any]], sessions: dict[str, str]
) -> None:
    a, b = a_and_b(worlds)
    admin = Caller(Role.ADMIN.value, a, sessions)
    before = await last_seq(b["congress_id"])
    for method, tail, body in carried_in_the_body(a):
        url = f"/api/congresses/{b['congress_id']}{tail}"
        response = await requests.send(admin, method, url, body=body)
        seen = (method, tail, body, response.status_code, response.text[:200])
        assert response.status_code in {404, 422}, seen
        assert response.json()["code"].endswith(("not_found", "order_mismatch")), seen
    # the screens of B cannot be set to show A's poll, paper or pages either
    screens = f"/console/congresses/{b['congress_id']}/screens"
    for form in (
        {"kind": "poll", "poll_id": str(a["motion"])},
        {"kind": "document", "document_id": str(a["report"])},
        {"kind": "playlist", "playlist": str(a["report"]), f"pages_{a['report']}": "1"},
        {"current": f"item:{a['item_id']}"},
        {"current": f"sitting:{a['sitting_id']}"},
    ):
        target = (
            f"{screens}/current" if "current" in form else f"{screens}/{b['screen_id']}/content"
        )
        response = await requests.send(admin, "POST", target, form=form)
        assert response.status_code == 404, (form, response.status_code)
    assert await last_seq(b["congress_id"]) == before  # nothing happened in B


TEXT_TYPES = ("text/", "application/json", "application/atom+xml")
# Bytes of a paper or a photo, not text: the pages that link them are read instead.
PICTURES_AND_FILES = {
    template
    for _, template in MATRIX
    if template.endswith(("/file", "/pages/{page:int}", "/pages/{number:int}", "/pdf"))
    or template.startswith((f"{T}/photos", "/static", f"{L}/documents"))
}


async def test_nothing_b_shows_names_anything_of_a(
    requests: Requests,
    worlds: dict[str, dict[str, Any]],
    organizers: dict[str, int],
    sessions: dict[str, str],
) -> None:
    """Every page, list and feed of congress B, read by whoever may read it (the
    administrator, B's delegate, tablet and screen, the public), never names an object of A;
    and B's own marked objects do show, so the look is not blind."""
    a, b = a_and_b(worlds)
    leaks, shown = [], []
    for method, template in sorted(MATRIX):
        if method != "GET" or template in PICTURES_AND_FILES:
            continue
        caller = first_allowed(MATRIX[method, template])
        values = values_for(template, caller, worlds, organizers, changes=False, world=b)
        if MATRIX[method, template] == Access.PAIRING:
            values["code"] = await devices.new_pairing_code(
                b["congress_id"], b["spare_device_id"], SYSTEM
            )
        response = await requests.send(Caller(caller, b, sessions), method, fill(template, values))
        if not response.headers.get("content-type", "").startswith(TEXT_TYPES):
            continue
        if a["mark"] in response.text:
            leaks.append(template)
        if b["mark"] in response.text:
            shown.append(template)
    assert leaks == []
    for where in (f"{K}/delegates", f"{C}/documents", f"{C}/polls", f"{K}/speakers", L, D):
        assert where in shown, (where, shown)


async def test_searching_b_finds_nothing_of_a(
    requests: Requests, worlds: dict[str, dict[str, Any]], sessions: dict[str, str]
) -> None:
    a, b = a_and_b(worlds)
    admin = Caller(Role.ADMIN.value, b, sessions)
    tablet = Caller(TABLET, b, sessions)
    api = f"/api/congresses/{b['congress_id']}"
    for wanted, found in ((a["mark"], 0), (b["mark"], 1)):
        papers = (await requests.send(admin, "GET", f"{api}/documents/search?q={wanted}")).json()
        assert papers["total"] == found, papers
        people = (await requests.send(admin, "GET", f"{api}/delegates?q={wanted}")).json()
        assert people["total"] == found, people
        at_door = (await requests.send(tablet, "GET", f"{T}/search?q={wanted}")).json()
        assert len(at_door["delegates"]) == found, at_door
