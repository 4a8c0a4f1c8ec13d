"""The screens' routes: the control page in the console, and the screen's own address.

``/S/<key>`` is opened by the screen's browser, with no one to sign in: the key is its
credential. The page draws the state from ``/S/<key>/state`` and follows
``/S/<key>/live?after=<seq>``, which first sends what the screen missed (from the event
log) and then what happens, and closes with 4403 the moment the screen is revoked.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.connection import ASGIConnection
from litestar.exceptions import WebSocketDisconnect, WebSocketException
from litestar.params import FromQuery, PathParameter, QueryParameter
from litestar.response import Redirect, Template

from checkin.console import qr_data_uri
from congress import services as congress_services
from congress.accounts import Permission
from congress.auth import origin_allowed, require, signed_in
from congress.controllers import CongressId, ItemId
from congress.errors import CongressError, InvalidInput
from congress.eventlog import RecordedEvent, congress_channel, events_of
from congress.forms import read_form
from congress.i18n import N_, translate
from congress.pages import NOTICES, error_context
from congress.ratelimit import address_key, client_address, rate_limits, retry_after
from congress.templating import page
from congress.voting import services as voting
from documents.controllers import file_response, page_image
from livestream.screens import services
from livestream.screens.schemas import CONTENT_KINDS, PlaylistItem, ScreenContent

KeyParameter = Annotated[str, PathParameter(max_length=64)]
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}
KIND_LABELS = {
    "title": N_("Congress title and current item"),
    "speaker": N_("Current speaker and time"),
    "attendance": N_("Attendance and quorum"),
    "poll": N_("Vote or election"),
    "document": N_("A page of a document"),
    "announcement": N_("Announcement"),
    "playlist": N_("Rotating pictures"),
}
SCREEN_PROBLEMS = {
    "malformed": (404, N_("This is not a screen address. Check that it was typed in full.")),
    "unknown": (404, N_("This screen address is not known. Ask the organizers for the address.")),
    "revoked": (
        410,
        N_("This screen has been switched off by the organizers. Ask them for a new address."),
    ),
    # Too many malformed or unknown keys from this address lately: nothing was looked up.
    "too_many_requests": (
        429,
        N_("Too many unknown screen addresses from this network; wait a minute and try again."),
    ),
}
GUESSED = {"malformed", "unknown"}
# Events that change what some screen shows: on one of these the screen is sent its state
# again. A screen learns only the sequence number and type of an event, never its payload.
SCREEN_TYPE_PREFIXES = ("Screen", "Poll", "Speaker", "Document", "Agenda", "Sitting", "Congress")
SCREEN_TYPES = {
    "CurrentItemSet",
    "AnnouncementSet",
    "DelegateCheckedIn",
    "CheckInUndone",
    "ShowOfCardsCounted",
    "PaperCountsEntered",
}
# A burst of events (a hall checking in) gives one new state per interval, not one per scan.
PUSH_INTERVAL = 0.15
HEARTBEAT_SECONDS = 20.0
_PAGES = re.compile(r"^\s*(\d{1,4})\s*(?:-\s*(\d{1,4}))?\s*$")


def on_screens(event_type: str) -> bool:
    return event_type in SCREEN_TYPES or event_type.startswith(SCREEN_TYPE_PREFIXES)


# --- the console --------------------------------------------------------------------------


def _pages(text: str) -> list[int]:
    """ "1-3, 5" -> [1, 2, 3, 5]; at most 50 pages of one document."""
    pages: list[int] = []
    for part in (text or "1").split(","):
        match = _PAGES.match(part)
        if not match:
            raise InvalidInput(
                "bad_pages", N_("Write the pages as e.g. “1-3, 5”."), field="playlist"
            )
        first = int(match.group(1))
        last = int(match.group(2) or first)
        pages.extend(range(max(first, 1), min(last, first + 49) + 1))
    return pages[:50]


async def content_from_form(request: Request[Any, Any, Any]) -> ScreenContent:
    form = await request.form()

    def value(name: str) -> str:
        found = form.get(name, "")
        return found.strip() if isinstance(found, str) else ""

    playlist = [
        PlaylistItem(document_id=int(doc), page=number)
        for doc in (form.getall("playlist") if "playlist" in form else [])
        if isinstance(doc, str) and doc.isascii() and doc.isdigit() and 0 < int(doc) < 2**31
        for number in _pages(value(f"pages_{doc}"))
    ]
    values: dict[str, Any] = {
        "kind": value("kind") or "title",
        "poll_id": value("poll_id") or None,
        "document_id": value("document_id") or None,
        "page": value("page") or 1,
        "announcement_mode": value("announcement_mode") or "full",
        "playlist": [msgspec.to_builtins(i) for i in playlist],
        "interval_seconds": value("interval_seconds") or 10,
        "ticker": value("ticker") in {"on", "true", "1"},
    }
    try:
        return msgspec.convert(values, ScreenContent, strict=False)
    except msgspec.ValidationError:
        raise InvalidInput(
            "bad_screen_content", N_("What the screen should show is not valid.")
        ) from None


class ScreenPages(Controller):
    """The control page: what each screen shows, the current item, the announcement."""

    path = "/console/congresses/{congress_id:int}/screens"
    include_in_schema = False
    guards = [require(Permission.DRIVE_SCREENS)]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        live = await services.live_state(congress_id)
        return page(
            request,
            "screens.html",
            status_code=status_code,
            congress=await congress_services.titled_congress(congress_id),
            screens=await services.screens_of(congress_id),
            sittings=await congress_services.sittings_of(congress_id),
            polls=[p for p in await voting.list_polls(congress_id) if p["status"] != "draft"],
            documents=await services.documents_for_screens(congress_id),
            live=live,
            kinds=CONTENT_KINDS,
            KIND_LABELS=KIND_LABELS,
            **extra,
        )

    async def _done(
        self, request: Request[Any, Any, Any], congress_id: int, work: Any
    ) -> Response[Any]:
        try:
            await work
        except CongressError as exc:
            return await self._page(request, congress_id, exc.status_code, **error_context(exc))
        return Redirect(f"/console/congresses/{congress_id}/screens?notice=saved")

    @get("/")
    async def overview(
        self, request: Request[Any, Any, Any], congress_id: CongressId, notice: FromQuery[str] = ""
    ) -> Template:
        return await self._page(request, congress_id, notice=NOTICES.get(notice))

    async def _with_address(
        self, request: Request[Any, Any, Any], congress_id: int, screen_id: int, key: str
    ) -> Template:
        address = services.screen_address(key)
        return await self._page(
            request,
            congress_id,
            address={"screen_id": screen_id, "address": address, "qr": qr_data_uri(address)},
        )

    @post("/register", status_code=200, guards=[require(Permission.MANAGE_SCREENS)])
    async def register(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            screen_id, key = await services.register_screen(
                congress_id, str(form.get("name", "")), signed_in(request).actor
            )
        except CongressError as exc:
            return await self._page(request, congress_id, exc.status_code, **error_context(exc))
        return await self._with_address(request, congress_id, screen_id, key)

    @post("/{screen_id:int}/key", status_code=200, guards=[require(Permission.MANAGE_SCREENS)])
    async def renew_key(
        self, request: Request[Any, Any, Any], congress_id: CongressId, screen_id: ItemId
    ) -> Template:
        key = await services.renew_screen_key(congress_id, screen_id, signed_in(request).actor)
        return await self._with_address(request, congress_id, screen_id, key)

    @post("/{screen_id:int}/revoke", guards=[require(Permission.MANAGE_SCREENS)])
    async def revoke(
        self, request: Request[Any, Any, Any], congress_id: CongressId, screen_id: ItemId
    ) -> Redirect:
        await services.revoke_screen(congress_id, screen_id, signed_in(request).actor)
        return Redirect(f"/console/congresses/{congress_id}/screens?notice=saved")

    @post("/{screen_id:int}/content")
    async def set_content(
        self, request: Request[Any, Any, Any], congress_id: CongressId, screen_id: ItemId
    ) -> Response[Any]:
        async def work() -> None:
            content = await content_from_form(request)
            await services.set_screen_content(
                congress_id, screen_id, content, signed_in(request).actor
            )

        return await self._done(request, congress_id, work())

    @post("/current")
    async def set_current(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await request.form()
        chosen = str(form.get("current", "") or "")
        sitting_id = agenda_item_id = None
        if chosen.startswith("sitting:") and chosen[8:].isdigit():
            sitting_id = int(chosen[8:])
        elif chosen.startswith("item:") and chosen[5:].isdigit():
            agenda_item_id = int(chosen[5:])
        work = services.set_current_item(
            congress_id, sitting_id, agenda_item_id, signed_in(request).actor
        )
        return await self._done(request, congress_id, work)

    @post("/announcement")
    async def set_announcement(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await request.form()
        text = "" if form.get("clear") else str(form.get("announcement", "") or "")
        work = services.set_announcement(congress_id, text, signed_in(request).actor)
        return await self._done(request, congress_id, work)


# --- the screen's own address ---------------------------------------------------------------


def _refusal_headers(connection: ASGIConnection[Any, Any, Any, Any], status: str) -> dict[str, str]:
    if status == "too_many_requests":
        return {**NO_STORE, **retry_after("screen_lookup", connection)}
    return NO_STORE


def _problem_page(request: Request[Any, Any, Any], status: str) -> Response[Any]:
    status_code, message = SCREEN_PROBLEMS[status]
    response = page(
        request, "screen_problem.html", status_code=status_code, message=message, code=status
    )
    response.headers.update(_refusal_headers(request, status))
    return response


async def look_up(
    connection: ASGIConnection[Any, Any, Any, Any], key: str
) -> services.ScreenLookup:
    """The screen the key names. A malformed or unknown key counts against the asker's
    address; after too many, nothing is looked up (status ``too_many_requests``)."""
    limits, address = rate_limits(connection), address_key(client_address(connection))
    if not await limits.allowed("screen_lookup", address):
        return services.ScreenLookup("too_many_requests")
    found = await services.look_up(key)
    if found.status in GUESSED:
        await limits.failed("screen_lookup", address)
    return found


class ScreenAddress(Controller):
    """What the screen's browser opens; the key in the address is all it has."""

    path = "/S/{key:str}"
    include_in_schema = False

    @get("/")
    async def screen(self, request: Request[Any, Any, Any], key: KeyParameter) -> Response[Any]:
        found = await look_up(request, key)
        if found.status != "active":
            return _problem_page(request, found.status)
        response = page(request, "screen.html")
        response.headers.update(NO_STORE)
        return response

    @get("/state")
    async def state(self, request: Request[Any, Any, Any], key: KeyParameter) -> Response[Any]:
        """Everything the screen draws, and the congress's last event number."""
        found = await look_up(request, key)
        state = await services.screen_state(found.screen_id) if found.screen_id else None
        if state is None:
            status = found.status if found.status != "active" else "revoked"
            status_code, message = SCREEN_PROBLEMS[status]
            code = status if status == "too_many_requests" else f"screen_{status}"
            return Response(
                {"code": code, "message": translate(message)},
                status_code=status_code,
                headers=_refusal_headers(request, status),
            )
        return Response(msgspec.json.encode(state), media_type="application/json", headers=NO_STORE)

    @get("/documents/{document_id:int}/pages/{number:int}")
    async def picture(
        self,
        request: Request[Any, Any, Any],
        key: KeyParameter,
        document_id: ItemId,
        number: Annotated[int, PathParameter(ge=1, le=10_000)],
        width: Annotated[int, QueryParameter(ge=200, le=2400)] = 1920,
    ) -> Response[Any]:
        """A page the screen shows now, as a picture; nothing it does not show."""
        found = await look_up(request, key)
        if found.status == "too_many_requests":
            status_code, message = SCREEN_PROBLEMS[found.status]
            return Response(
                {"code": found.status, "message": translate(message)},
                status_code=status_code,
                headers=_refusal_headers(request, found.status),
            )
        version = (
            await services.shown_version(found.screen_id, document_id, number)
            if found.status == "active" and found.screen_id
            else None
        )
        if version is None:
            return Response({"code": "not_found"}, status_code=404, headers=NO_STORE)
        if version["media_type"] != "application/pdf":
            return await file_response(version, inline=True)
        return await page_image(version, number, width)

    @websocket("/live")
    async def live(
        self,
        socket: WebSocket[Any, Any, Any],
        key: KeyParameter,
        after: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0,
    ) -> None:
        if not origin_allowed(socket, socket.app.state.settings.public_url):
            raise WebSocketException(detail="bad_origin", code=4403)
        found = await look_up(socket, key)
        if found.status == "too_many_requests":
            # Accepted to be closed: a code sent before accepting reaches a browser as a
            # failed handshake, and this one should tell the screen to wait, not give up.
            await socket.accept()
            await socket.close(code=4429, reason=found.status)
            return
        if found.status != "active" or found.screen_id is None or found.congress_id is None:
            code = 4403 if found.status == "revoked" else 4401
            raise WebSocketException(detail=f"screen_{found.status}", code=code)
        await socket.accept()
        feed = ScreenFeed(socket, found.screen_id, after)
        channels = socket.app.plugins.get(ChannelsPlugin)
        async with channels.start_subscription([congress_channel(found.congress_id)]) as subscriber:
            # Subscribed before reading the log: nothing committed in between is lost, and
            # the sequence number drops what arrives twice.
            await feed.catch_up(found.congress_id)
            async with subscriber.run_in_background(feed.take_message):
                await feed.run()


class ScreenFeed:
    """One screen's websocket: events by number, then its state again when it changed."""

    def __init__(self, socket: WebSocket[Any, Any, Any], screen_id: int, after: int) -> None:
        self.socket = socket
        self.screen_id = screen_id
        self.last = after
        self.dirty = asyncio.Event()
        self.close_code: int | None = None
        self.sending = asyncio.Lock()

    async def send(self, message: dict[str, Any]) -> None:
        async with self.sending:
            await self.socket.send_text(msgspec.json.encode(message).decode())

    async def take(self, event: RecordedEvent) -> None:
        if event.seq <= self.last:
            return
        self.last = event.seq
        if event.type in {"ScreenRevoked", "ScreenKeyRenewed"} and (
            event.payload.get("screen_id") == self.screen_id
        ):
            self.close_code = 4403
            self.dirty.set()
            return
        shown = on_screens(event.type)
        await self.send({"event": {"seq": event.seq, "type": event.type if shown else None}})
        if shown:
            self.dirty.set()

    async def take_message(self, message: bytes) -> None:
        await self.take(msgspec.json.decode(message, type=RecordedEvent))

    async def catch_up(self, congress_id: int) -> None:
        while True:
            missed = await events_of(congress_id, after_seq=self.last, limit=1000)
            for event in missed:
                await self.take(event)
            if len(missed) < 1000:
                break
        self.dirty.set()  # the state as it is now, after what was missed

    async def push_state(self) -> bool:
        state = await services.screen_state(self.screen_id)
        if state is None:
            self.close_code = 4403
            return False
        await self.send({"state": msgspec.to_builtins(state)})
        return True

    async def _push(self) -> None:
        while True:
            # Quiet for a while: the state again all the same. It keeps the link alive
            # through proxies, sets the screen's clock, and finds a revocation that was
            # made where this instance could not hear of it.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.dirty.wait(), HEARTBEAT_SECONDS)
            self.dirty.clear()
            if self.close_code is not None or not await self.push_state():
                await self.socket.close(code=self.close_code or 4403)
                return
            await asyncio.sleep(PUSH_INTERVAL)

    async def _drain(self) -> None:
        # The screen sends nothing; waiting here notices when it goes away.
        with contextlib.suppress(WebSocketDisconnect):
            while True:
                await self.socket.receive_data(mode="text")

    async def run(self) -> None:
        tasks = [asyncio.create_task(self._push()), asyncio.create_task(self._drain())]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
