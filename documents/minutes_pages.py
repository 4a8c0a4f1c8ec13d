"""The console page where the secretariat edits and finalises a sitting's minutes."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from congress import services as congress_services
from congress.accounts import Permission
from congress.auth import require, signed_in
from congress.controllers import CongressId, ItemId
from congress.errors import CongressError
from congress.forms import read_form
from congress.pages import NOTICES, error_context
from congress.templating import page
from documents import minutes, services


class MinutesPages(Controller):
    path = "/console/congresses/{congress_id:int}/sittings/{sitting_id:int}/minutes"
    include_in_schema = False
    guards = [require(Permission.MANAGE_DOCUMENTS)]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        sitting_id: int,
        status_code: int = 200,
        body: str | None = None,
        **extra: Any,
    ) -> Template:
        congress = await congress_services.titled_congress(congress_id)
        draft = await minutes.draft_of(congress_id, sitting_id)
        if body is not None:
            draft = {**draft, "body": body}
        sitting = next(
            s for s in await congress_services.sittings_of(congress_id) if s["id"] == sitting_id
        )
        return page(
            request,
            "minutes.html",
            status_code=status_code,
            congress=congress,
            sitting=sitting,
            draft=draft,
            **extra,
        )

    @get("/")
    async def edit(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        sitting_id: ItemId,
        notice: FromQuery[str] = "",
    ) -> Template:
        return await self._page(request, congress_id, sitting_id, notice=NOTICES.get(notice))

    @post("/")
    async def save(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting_id: ItemId
    ) -> Response[Any]:
        body = str((await read_form(request)).get("body", ""))
        try:
            await minutes.save_draft(congress_id, sitting_id, body, signed_in(request).actor)
        except CongressError as exc:
            return await self._page(
                request, congress_id, sitting_id, exc.status_code, body, **error_context(exc)
            )
        return Redirect(f"{request.url.path}?notice=saved")

    @post("/finalise")
    async def finalise(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting_id: ItemId
    ) -> Response[Any]:
        body = str((await read_form(request)).get("body", ""))
        account = signed_in(request)
        try:
            document_id, _ = await minutes.finalise(
                congress_id, sitting_id, body, account.actor, services.Viewer.of(account)
            )
        except CongressError as exc:
            return await self._page(
                request, congress_id, sitting_id, exc.status_code, body, **error_context(exc)
            )
        return Redirect(f"/console/congresses/{congress_id}/documents/{document_id}?notice=saved")
