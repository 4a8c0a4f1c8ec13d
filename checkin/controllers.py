"""The tablets' side: pairing, the scan page, and the JSON API a paired tablet uses.

A paired tablet holds an HttpOnly cookie. Its API calls also send ``X-Congress-Device``:
a page on another site cannot add that header to a request without the browser asking
this server first, which is how these cookie-authenticated writes are kept from forgery.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie
from litestar.exceptions import WebSocketDisconnect, WebSocketException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import JSONBody, PathParameter, QueryParameter
from litestar.response import Redirect, Template

from checkin import attendance, devices, roster
from checkin.tables import CardAsset
from congress import services as congress_services
from congress.auth import origin_allowed
from congress.controllers import ItemId
from congress.delegates.services import search_delegates
from congress.errors import ErrorOut, InvalidInput, NotFound, NotSignedIn, declares_errors
from congress.eventlog import RecordedEvent, congress_channel
from congress.i18n import N_
from congress.ratelimit import (
    TooManyRequests,
    address_key,
    client_address,
    rate_limits,
    retry_after,
)
from congress.schemas import NO_NUL
from congress.tables import Delegate
from congress.templating import page
from documents.storage import file_store

DEVICE_COOKIE = "congress_device"
DEVICE_HEADER = "x-congress-device"
BATCH_LIMIT = 200
TOO_MANY_SCANS = {
    429: ResponseSpec(ErrorOut, description="Too Many Requests", generate_examples=False)
}
COUNT_EVENTS = {"DelegateCheckedIn", "CheckInUndone"}


def _device_token(connection: ASGIConnection[Any, Any, Any, Any]) -> str:
    return connection.cookies.get(DEVICE_COOKIE, "")


async def device_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """A paired, unrevoked tablet; API calls must carry the device header too."""
    is_socket = connection.scope["type"] == "websocket"
    api_call = not is_socket and connection.scope["path"].startswith("/api/")
    if api_call and connection.headers.get(DEVICE_HEADER) != "1":
        raise NotSignedIn("device_header_missing", N_("This tablet is not paired."))
    device = await devices.device_for_token(_device_token(connection))
    if device is None:
        if is_socket:
            raise WebSocketException(detail="device_not_paired", code=4401)
        raise NotSignedIn(
            "device_not_paired", N_("This tablet is no longer paired. Ask an organizer.")
        )
    connection.scope["device"] = device  # type: ignore[typeddict-unknown-key]


def this_device(connection: ASGIConnection[Any, Any, Any, Any]) -> devices.PairedDevice:
    return connection.scope["device"]  # type: ignore[typeddict-item]


class Pairing(Controller):
    include_in_schema = False

    @get(["/P/{code:str}", "/p/{code:str}"])
    async def pair(
        self, request: Request[Any, Any, Any], code: Annotated[str, PathParameter(max_length=32)]
    ) -> Response[Any]:
        limits, address = rate_limits(request), address_key(client_address(request))
        if not await limits.allowed("pairing", address):
            response = page(
                request,
                "card_problem.html",
                status_code=429,
                message=N_("Too many wrong pairing codes from this device; wait a minute."),
            )
            response.headers.update(retry_after("pairing", request))
            return response
        paired = await devices.pair(code)
        if paired is None:
            await limits.failed("pairing", address)
            return page(
                request,
                "card_problem.html",
                status_code=404,
                message=N_(
                    "This pairing code is not valid: it was used, expired or revoked. "
                    "Ask an organizer for a new one."
                ),
            )
        _, token = paired
        settings = request.app.state.settings
        return Redirect(
            "/checkin/scan",
            status_code=303,
            headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
            cookies=[
                Cookie(
                    key=DEVICE_COOKIE,
                    value=token,
                    httponly=True,
                    secure=settings.secure_cookies,
                    samesite="strict",
                    max_age=30 * 86400,
                )
            ],
        )


class ScanPage(Controller):
    path = "/checkin"
    include_in_schema = False
    guards = [device_guard]

    @get("/scan")
    async def scan(
        self,
        request: Request[Any, Any, Any],
        sitting: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> Template:
        device = this_device(request)
        congress = await congress_services.titled_congress(device.congress_id)
        current = await congress_services.current_sitting(device.congress_id, sitting)
        return page(
            request,
            "scan.html",
            device={"id": device.id, "name": device.name},
            congress=congress,
            sittings=await congress_services.sittings_of(device.congress_id),
            sitting_id=current["id"],
        )


async def count_scans(request: Request[Any, Any, Any], device: devices.PairedDevice) -> None:
    """Refuses a tablet that sends more scan requests than a door could make."""
    if await rate_limits(request).attempt(("checkin_scans", str(device.id))) is None:
        raise TooManyRequests(
            "too_many_requests",
            N_("This tablet sent too many scans in a short time; wait a moment."),
        )


class ScanBatch(msgspec.Struct, forbid_unknown_fields=True):
    scans: Annotated[list[attendance.ScanIn], msgspec.Meta(max_length=BATCH_LIMIT)]


@declares_errors
class DeviceController(Controller):
    path = "/api/checkin/device"
    tags = ["check-in tablets"]
    guards = [device_guard]

    @get("/state")
    async def state(
        self,
        request: Request[Any, Any, Any],
        sitting: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> dict[str, Any]:
        device = this_device(request)
        congress = await congress_services.get_congress(device.congress_id)
        current = await congress_services.current_sitting(device.congress_id, sitting)
        totals = await attendance.counts(device.congress_id, current["id"])
        return {
            "device": {"id": device.id, "name": device.name},
            "congress": {"id": congress["id"], "title": congress_services.congress_title(congress)},
            "sitting": {"id": current["id"], "title": current["title"]},
            "present": totals.present,
            "expected": totals.expected,
            "quorum": {"required": totals.required, "reached": totals.reached},
        }

    @post("/scans", status_code=200, responses=TOO_MANY_SCANS)
    async def scan(
        self, request: Request[Any, Any, Any], data: JSONBody[attendance.ScanIn]
    ) -> attendance.Answer:
        device = this_device(request)
        await count_scans(request, device)
        return await attendance.check_in(device, data)

    @post("/scans/batch", status_code=200, responses=TOO_MANY_SCANS)
    async def scan_batch(
        self, request: Request[Any, Any, Any], data: JSONBody[ScanBatch]
    ) -> dict[str, list[attendance.Answer]]:
        """The offline queue, oldest first; each scan answered as if sent alone. The whole
        upload counts as one request against the tablet's limit."""
        device = this_device(request)
        await count_scans(request, device)
        results = []
        for scan in data.scans:
            try:
                results.append(await attendance.check_in(device, scan))
            except (InvalidInput, NotFound) as error:
                results.append(
                    attendance.Answer("red", error.code, error.message, None, None, None, 0, 0)
                )
        return {"results": results}

    @get("/search")
    async def search(
        self,
        request: Request[Any, Any, Any],
        q: Annotated[str, QueryParameter(max_length=100, pattern=NO_NUL)] = "",
        sitting: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> dict[str, Any]:
        device = this_device(request)
        if not q.strip():
            return {"delegates": []}
        _, rows = await search_delegates(device.congress_id, q, limit=20)
        current = await congress_services.current_sitting(device.congress_id, sitting)
        present = await attendance.present_ids(current["id"], [r["id"] for r in rows])
        return {
            "delegates": [
                {
                    "id": r["id"],
                    "full_name": r["full_name"],
                    "delegation": r["delegation_name"] or "",
                    "card_number": r["card_number"] or "",
                    "kind_label": attendance.delegate_view(r)["kind_label"],
                    "present": r["id"] in present,
                }
                for r in rows
            ]
        }

    @get("/roster")
    async def roster(self, request: Request[Any, Any, Any]) -> dict[str, Any]:
        return await roster.roster(this_device(request).congress_id)

    @get("/photos/{delegate_id:int}")
    async def photo(self, request: Request[Any, Any, Any], delegate_id: ItemId) -> Response[bytes]:
        device = this_device(request)
        delegate = (
            await Delegate.select(Delegate.photo)
            .where((Delegate.id == delegate_id) & (Delegate.congress == device.congress_id))
            .first()
        )
        asset = (
            await CardAsset.select(CardAsset.sha256, CardAsset.media_type)
            .where(
                (CardAsset.congress == device.congress_id)
                & (CardAsset.kind == "photo")
                & (CardAsset.name == (delegate or {}).get("photo", ""))
            )
            .first()
            if delegate and delegate["photo"]
            else None
        )
        if asset is None:
            raise NotFound("photo_not_found", N_("This delegate has no photo."))

        def read() -> bytes:
            with file_store().open(asset["sha256"]) as stored:
                return stored.read()

        content = await asyncio.to_thread(read)
        return Response(
            content,
            media_type=asset["media_type"],
            headers={"Cache-Control": "private, max-age=86400"},
        )

    @websocket("/live")
    async def live(
        self,
        socket: WebSocket[Any, Any, Any],
        sitting: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> None:
        """The sitting's present / expected, each time it changes."""
        if not origin_allowed(socket, socket.app.state.settings.public_url):
            raise WebSocketException(detail="bad_origin", code=4403)
        device = this_device(socket)
        current = await congress_services.current_sitting(device.congress_id, sitting)
        channels = socket.app.plugins.get(ChannelsPlugin)
        await socket.accept()
        await live_counts(socket, channels, device.congress_id, current["id"])


async def live_counts(
    socket: WebSocket[Any, Any, Any], channels: ChannelsPlugin, congress_id: int, sitting_id: int
) -> None:
    """Send the counts now, then after every check-in or undo of this sitting."""
    totals = await attendance.counts(congress_id, sitting_id)
    expected = totals.expected

    async def forward(message: bytes) -> None:
        event = msgspec.json.decode(message, type=RecordedEvent)
        if event.type in COUNT_EVENTS and event.payload.get("sitting_id") == sitting_id:
            await socket.send_text(
                msgspec.json.encode(
                    {
                        "present": event.payload["present"],
                        "expected": expected,
                        "sitting_id": sitting_id,
                    }
                ).decode()
            )

    async with channels.start_subscription([congress_channel(congress_id)]) as subscriber:
        await socket.send_text(
            msgspec.json.encode(
                {"present": totals.present, "expected": expected, "sitting_id": sitting_id}
            ).decode()
        )
        async with subscriber.run_in_background(forward):
            with contextlib.suppress(WebSocketDisconnect, asyncio.CancelledError):
                while True:
                    await socket.receive_data(mode="text")
