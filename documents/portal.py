"""The delegate's page: what a card's QR code opens on the delegate's own phone.

``/D/<token>`` exchanges the card's token for a session cookie and redirects at once, so
the token stays neither in the address bar nor in a Referer. Bad cards get a page that
says what is wrong and nothing about anyone; guessing from one address is slowed down
(only failed look-ups count: a whole hall may share one address).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import msgspec
from litestar import Controller, Request, Response, WebSocket, get, websocket
from litestar.channels import ChannelsPlugin
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import WebSocketDisconnect, WebSocketException
from litestar.handlers.base import BaseRouteHandler
from litestar.params import FromQuery, PathParameter, QueryParameter
from litestar.response import Redirect, Template

from checkin import credentials
from congress import services as congress_services
from congress.auth import origin_allowed
from congress.controllers import ItemId
from congress.errors import NotSignedIn
from congress.eventlog import RecordedEvent, congress_channel
from congress.i18n import N_
from congress.ratelimit import address_key, client_address, rate_limits, retry_after
from congress.tables import Delegate
from congress.templating import page
from documents import services
from documents.controllers import file_response, page_image

DELEGATE_COOKIE = "congress_delegate"
# What a guess gets back: a card address that is not one, or names no card.
GUESSED = {"malformed", "unknown"}
# What a delegate's page reloads a part for; never anything about secret ballots (no
# ballot is an event, and the turnout is left to the screens).
LIVE_TYPES = {
    "DocumentReleased": "documents",
    "DocumentWithdrawn": "documents",
    "DocumentUpdated": "documents",
    "DocumentVersionAdded": "documents",
    "AgendaItemAdded": "agenda",
    "AgendaItemUpdated": "agenda",
    "AgendaItemRemoved": "agenda",
    "AgendaReordered": "agenda",
    "SittingUpdated": "agenda",
    "CongressUpdated": "agenda",
    "PollOpened": "polls",
    "PollClosed": "polls",
    "PollResultReady": "polls",
    "PollPublished": "polls",
    # The speakers' list: what moves a delegate's place in the queue (never the timer).
    "SpeakerRequested": "speakers",
    "SpeakerAdded": "speakers",
    "SpeakerQueued": "speakers",
    "SpeakersReordered": "speakers",
    "SpeakerCalled": "speakers",
    "SpeakerTimerStopped": "speakers",
    "SpeakerWithdrawn": "speakers",
}
NO_STORE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}

CARD_PROBLEMS = {
    "malformed": (
        404,
        N_("This is not a delegate card address. Check that the whole code was scanned."),
    ),
    "unknown": (404, N_("This card is not known. Ask the organizers at the reception desk.")),
    "replaced": (
        410,
        N_("This card was replaced by a new one. Use your new card, or ask the organizers."),
    ),
    "revoked": (410, N_("This card has been withdrawn. Ask the organizers at the reception desk.")),
}


async def signed_in_delegate(
    connection: ASGIConnection[Any, Any, Any, Any],
) -> credentials.SignedInDelegate:
    found = await credentials.delegate_for_session(connection.cookies.get(DELEGATE_COOKIE, ""))
    if found is None:
        raise NotSignedIn(
            "delegate_not_signed_in",
            N_("Open this page by scanning the QR code on your delegate card."),
        )
    return found


async def delegate_guard(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    try:
        connection.scope["delegate"] = await signed_in_delegate(connection)  # type: ignore[typeddict-unknown-key]
    except NotSignedIn:
        if connection.scope["type"] == "websocket":
            raise WebSocketException(detail="delegate_not_signed_in", code=4401) from None
        raise


def me(connection: ASGIConnection[Any, Any, Any, Any]) -> credentials.SignedInDelegate:
    return connection.scope["delegate"]  # type: ignore[typeddict-item]


class CardAddress(Controller):
    """The address in the QR code; upper case keeps the code small, so both cases work."""

    include_in_schema = False

    @get(["/D/{token:str}", "/d/{token:str}"])
    async def open_card(
        self, request: Request[Any, Any, Any], token: Annotated[str, PathParameter(max_length=64)]
    ) -> Response[Any]:
        limits, address = rate_limits(request), address_key(client_address(request))
        if not await limits.allowed("card_lookup", address):
            response = page(
                request,
                "card_problem.html",
                status_code=429,
                message=N_("Too many unknown cards from this device; wait a minute and try again."),
            )
            response.headers.update({**NO_STORE, **retry_after("card_lookup", request)})
            return response
        card = await credentials.look_up(token)
        if card.status in GUESSED:
            await limits.failed("card_lookup", address)
        if card.status != "active":
            status, message = CARD_PROBLEMS[card.status]
            response = page(request, "card_problem.html", status_code=status, message=message)
            response.headers.update(NO_STORE)
            return response
        session = await credentials.open_delegate_session(card)
        settings = request.app.state.settings
        return Redirect(
            "/delegate",
            status_code=303,
            headers=NO_STORE,
            cookies=[
                Cookie(
                    key=DELEGATE_COOKIE,
                    value=session,
                    httponly=True,
                    secure=settings.secure_cookies,
                    samesite="lax",
                    max_age=int(credentials.DELEGATE_SESSION_LIFETIME.total_seconds()),
                )
            ],
        )


class DelegatePortal(Controller):
    path = "/delegate"
    include_in_schema = False
    guards = [delegate_guard]

    async def _context(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        who = me(request)
        congress = await congress_services.titled_congress(who.congress_id)
        delegate = (
            await Delegate.select(
                *Delegate.all_columns(), Delegate.delegation.name.as_alias("delegation_name")
            )
            .where(Delegate.id == who.delegate_id)
            .first()
        )
        sittings = await congress_services.sittings_of(who.congress_id)
        zone = ZoneInfo(congress["timezone"])
        documents = await services.list_documents(who.congress_id, services.DELEGATE)
        return {
            "congress": congress,
            "delegate": delegate,
            "sitting": congress_services.today_sitting(sittings, zone),
            "documents": documents,
        }

    @get("/")
    async def home(self, request: Request[Any, Any, Any]) -> Template:
        response = page(request, "delegate.html", **await self._context(request))
        response.headers.update(NO_STORE)
        return response

    @get("/parts/{part:str}")
    async def part(
        self, request: Request[Any, Any, Any], part: Annotated[str, PathParameter(max_length=16)]
    ) -> Template:
        """A part of the page, fetched again when something changed."""
        if part not in {"documents", "agenda"}:
            from congress.errors import NotFound

            raise NotFound("not_found", N_("There is nothing at this address."))
        return page(request, f"_delegate_{part}.html", **await self._context(request))

    @get("/documents/{document_id:int}")
    async def read(
        self,
        request: Request[Any, Any, Any],
        document_id: ItemId,
    ) -> Template:
        who = me(request)
        document, version = await services.get_version(
            who.congress_id, document_id, None, services.DELEGATE
        )
        base = f"/delegate/documents/{document_id}"
        return page(
            request,
            "delegate_viewer.html",
            document=document,
            version=version,
            file_url=f"{base}/file",
            page_url=f"{base}/pages",
        )

    @get("/documents/{document_id:int}/file")
    async def file(
        self, request: Request[Any, Any, Any], document_id: ItemId, inline: FromQuery[bool] = False
    ) -> Response[Any]:
        who = me(request)
        _, version = await services.get_version(
            who.congress_id, document_id, None, services.DELEGATE
        )
        return await file_response(version, inline)

    @get("/documents/{document_id:int}/pages/{number:int}")
    async def page_image(
        self,
        request: Request[Any, Any, Any],
        document_id: ItemId,
        number: Annotated[int, PathParameter(ge=1, le=10_000)],
        width: Annotated[int, QueryParameter(ge=200, le=2400)] = 800,
    ) -> Response[bytes]:
        who = me(request)
        _, version = await services.get_version(
            who.congress_id, document_id, None, services.DELEGATE
        )
        return await page_image(version, number, width)

    @websocket("/live")
    async def live(self, socket: WebSocket[Any, Any, Any]) -> None:
        """Tells the page which part to fetch again; carries no data itself."""
        if not origin_allowed(socket, socket.app.state.settings.public_url):
            raise WebSocketException(detail="bad_origin", code=4403)
        who = me(socket)
        channels = socket.app.plugins.get(ChannelsPlugin)
        await socket.accept()

        async def forward(message: bytes) -> None:
            event = msgspec.json.decode(message, type=RecordedEvent)
            part = LIVE_TYPES.get(event.type)
            if part:
                await socket.send_text(msgspec.json.encode({"refresh": part}).decode())

        async with (
            channels.start_subscription([congress_channel(who.congress_id)]) as subscriber,
            subscriber.run_in_background(forward),
        ):
            with contextlib.suppress(WebSocketDisconnect, asyncio.CancelledError):
                while True:
                    await socket.receive_data(mode="text")
