"""Console pages of check-in: the tablets, and attendance with the quorum, live."""

from __future__ import annotations

import asyncio
import base64
import io
from typing import Annotated, Any

import qrcode
from litestar import Controller, Request, Response, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from checkin import attendance, devices
from checkin.controllers import live_counts
from congress import services as congress_services
from congress.accounts import Permission
from congress.auth import refuse, require, require_same_origin, signed_in
from congress.controllers import CongressId, ItemId
from congress.errors import CongressError
from congress.forms import form_id, read_form
from congress.pages import NOTICES, error_context
from congress.templating import page
from documents import services as document_services
from documents.pdf import render_pdf
from documents.schemas import DocumentIn

SittingQuery = Annotated[int | None, QueryParameter(name="sitting", ge=1, le=2**31 - 1)]


def qr_data_uri(text: str) -> str:
    image = qrcode.make(text, box_size=8, border=4)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


class DevicePages(Controller):
    path = "/console/congresses/{congress_id:int}/devices"
    include_in_schema = False
    guards = [require(Permission.MANAGE_DEVICES)]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        return page(
            request,
            "devices.html",
            status_code=status_code,
            congress=await congress_services.titled_congress(congress_id),
            devices=await devices.devices_of(congress_id),
            **extra,
        )

    @get("/")
    async def list_devices(
        self, request: Request[Any, Any, Any], congress_id: CongressId, notice: FromQuery[str] = ""
    ) -> Template:
        return await self._page(request, congress_id, notice=NOTICES.get(notice))

    async def _with_code(
        self, request: Request[Any, Any, Any], congress_id: int, device_id: int, code: str
    ) -> Template:
        address = devices.pairing_address(code)
        return await self._page(
            request,
            congress_id,
            pairing={
                "device_id": device_id,
                "code": code,
                "address": address,
                "qr": qr_data_uri(address),
            },
        )

    @post("/", status_code=200)
    async def register(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            device_id, code = await devices.register_device(
                congress_id, str(form.get("name", "")), signed_in(request).actor
            )
        except CongressError as exc:
            return await self._page(request, congress_id, exc.status_code, **error_context(exc))
        return await self._with_code(request, congress_id, device_id, code)

    @post("/{device_id:int}/code", status_code=200)
    async def new_code(
        self, request: Request[Any, Any, Any], congress_id: CongressId, device_id: ItemId
    ) -> Template:
        code = await devices.new_pairing_code(congress_id, device_id, signed_in(request).actor)
        return await self._with_code(request, congress_id, device_id, code)

    @post("/{device_id:int}/revoke")
    async def revoke(
        self, request: Request[Any, Any, Any], congress_id: CongressId, device_id: ItemId
    ) -> Redirect:
        await devices.revoke_device(congress_id, device_id, signed_in(request).actor)
        return Redirect(f"/console/congresses/{congress_id}/devices?notice=saved")


class AttendancePages(Controller):
    path = "/console/congresses/{congress_id:int}/attendance"
    include_in_schema = False
    guards = [require(Permission.VIEW_ATTENDANCE)]

    async def _context(self, congress_id: int, sitting: int | None) -> dict[str, Any]:
        congress = await congress_services.titled_congress(congress_id)
        sittings = await congress_services.sittings_of(congress_id)
        current = await congress_services.current_sitting(congress_id, sitting)
        return {
            "congress": congress,
            "sittings": sittings,
            "sitting": current,
            "totals": await attendance.counts(congress_id, current["id"]),
            "groups": await attendance.by_delegation(congress_id, current["id"]),
        }

    @get("/")
    async def overview(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        sitting: SittingQuery = None,
        notice: FromQuery[str] = "",
    ) -> Template:
        context = await self._context(congress_id, sitting)
        return page(request, "attendance.html", notice=NOTICES.get(notice), **context)

    @get("/part")
    async def part(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting: SittingQuery = None
    ) -> Template:
        """The counts and the table, fetched again when someone checks in."""
        context = await self._context(congress_id, sitting)
        return page(request, "_attendance_part.html", **context)

    @post("/undo", guards=[require(Permission.UNDO_CHECKIN)])
    async def undo(self, request: Request[Any, Any, Any], congress_id: CongressId) -> Response[Any]:
        form = await read_form(request)
        sitting_id = form_id(form, "sitting_id") or 0
        delegate_id = form_id(form, "delegate_id") or 0
        try:
            await attendance.undo_check_in(
                congress_id,
                sitting_id,
                delegate_id,
                str(form.get("reason", "")),
                signed_in(request).actor,
            )
        except CongressError as exc:
            context = await self._context(congress_id, sitting_id or None)
            return page(
                request,
                "attendance.html",
                status_code=exc.status_code,
                **context,
                **error_context(exc),
            )
        return Redirect(
            f"/console/congresses/{congress_id}/attendance?sitting={sitting_id}&notice=saved"
        )

    @post("/report", guards=[require(Permission.VIEW_ATTENDANCE)])
    async def report(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting: SittingQuery = None
    ) -> Redirect:
        """The attendance report of a sitting as a PDF, filed in the archive."""
        account = signed_in(request)
        context = await self._context(congress_id, sitting)
        pdf = await asyncio.to_thread(render_pdf, "attendance_pdf.html", **context)
        prepared = await document_services.prepare_upload(
            io.BytesIO(pdf), f"diem-danh-{context['sitting']['id']}.pdf"
        )
        from congress.i18n import N_, gettext

        label = gettext(N_("Attendance report"))
        document_id = await document_services.upload_document(
            congress_id,
            DocumentIn(
                title=f"{label} – {context['sitting']['title']}",
                category="attendance_report",
                access="organizers",
                sitting_id=context["sitting"]["id"],
            ),
            prepared,
            account.actor,
            document_services.Viewer("organizer", can_see_confidential=True),
        )
        return Redirect(f"/console/congresses/{congress_id}/documents/{document_id}?notice=created")

    @websocket("/live", guards=[require_same_origin])
    async def live(
        self,
        socket: WebSocket[Any, Any, Any],
        congress_id: CongressId,
        sitting: SittingQuery = None,
    ) -> None:
        try:
            current = await congress_services.current_sitting(congress_id, sitting)
        except CongressError as error:  # no such congress, or no sitting yet: 4404
            refuse(socket, error)
        await socket.accept()
        await live_counts(
            socket, socket.app.plugins.get(ChannelsPlugin), congress_id, current["id"]
        )
