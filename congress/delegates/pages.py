"""Console pages for delegations, delegates and the spreadsheet import."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery, PathParameter, QueryParameter
from litestar.response import Redirect, Template

from congress import services as congress_services
from congress.accounts import Permission
from congress.auth import require, signed_in
from congress.controllers import CongressId, ItemId
from congress.delegates import services
from congress.delegates.controllers import preview_out
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.errors import CongressError, InvalidInput
from congress.forms import parse_form, read_form
from congress.i18n import N_
from congress.pages import NOTICES, error_context
from congress.templating import page

PAGE_SIZE = 50


class DelegatePages(Controller):
    path = "/console/congresses/{congress_id:int}"
    include_in_schema = False

    @get("/delegates", guards=[require(Permission.VIEW_DELEGATES)])
    async def delegates(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        q: Annotated[str, QueryParameter(max_length=200)] = "",
        delegation: Annotated[str, QueryParameter(max_length=12)] = "",
        kind: Annotated[str, QueryParameter(max_length=16)] = "",
        page_number: Annotated[int, QueryParameter(name="page", ge=1, le=10_000)] = 1,
        notice: FromQuery[str] = "",
    ) -> Template:
        congress = await congress_services.titled_congress(congress_id)
        delegation_id = int(delegation) if delegation.isdigit() else None
        kind_filter = kind if kind in {"official", "invited", "guest"} else None
        total, rows = await services.search_delegates(
            congress_id,
            q,
            delegation_id=delegation_id,
            kind=kind_filter,
            limit=PAGE_SIZE,
            offset=(page_number - 1) * PAGE_SIZE,
        )
        return page(
            request,
            "delegates.html",
            congress=congress,
            delegates=rows,
            total=total,
            q=q,
            delegation=delegation_id,
            kind=kind_filter or "",
            page_number=page_number,
            pages=max(1, -(-total // PAGE_SIZE)),
            delegations=await services.delegations_with_counts(congress_id),
            notice=NOTICES.get(notice),
        )

    async def _delegate_form(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        delegate: dict[str, Any],
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        return page(
            request,
            "delegate_form.html",
            status_code=status_code,
            congress=await congress_services.titled_congress(congress_id),
            delegate=delegate,
            delegations=await services.delegations_with_counts(congress_id),
            **extra,
        )

    @get("/delegates/new", guards=[require(Permission.MANAGE_DELEGATES)])
    async def new_delegate(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Template:
        return await self._delegate_form(request, congress_id, {"kind": "official"})

    @post("/delegates", guards=[require(Permission.MANAGE_DELEGATES)])
    async def add_delegate(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            delegate_id = await services.add_delegate(
                congress_id, parse_form(DelegateIn, form), signed_in(request).actor
            )
        except CongressError as exc:
            return await self._delegate_form(
                request, congress_id, form, exc.status_code, **error_context(exc)
            )
        return Redirect(f"/console/congresses/{congress_id}/delegates/{delegate_id}?notice=created")

    @get("/delegates/{delegate_id:int}", guards=[require(Permission.VIEW_DELEGATES)])
    async def delegate(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        delegate_id: ItemId,
        notice: FromQuery[str] = "",
    ) -> Template:
        from checkin.credentials import card_of

        row = await services.get_delegate(congress_id, delegate_id)
        row["delegation_id"] = row["delegation"]
        card = await card_of(congress_id, delegate_id)
        return await self._delegate_form(
            request, congress_id, row, notice=NOTICES.get(notice), card=card
        )

    @post("/delegates/{delegate_id:int}", guards=[require(Permission.MANAGE_DELEGATES)])
    async def update_delegate(
        self, request: Request[Any, Any, Any], congress_id: CongressId, delegate_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            await services.update_delegate(
                congress_id, delegate_id, parse_form(DelegateIn, form), signed_in(request).actor
            )
        except CongressError as exc:
            form["id"] = delegate_id
            # A delegate of another congress is not there: 404, not "check the form".
            return await self._delegate_form(
                request, congress_id, form, exc.status_code, **error_context(exc)
            )
        return Redirect(f"/console/congresses/{congress_id}/delegates/{delegate_id}?notice=saved")

    async def _delegations_page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        delegations = await services.delegations_with_counts(congress_id)
        return page(
            request,
            "delegations.html",
            status_code=status_code,
            congress=await congress_services.titled_congress(congress_id),
            delegations=delegations,
            totals={
                k: sum(d[k] for d in delegations)
                for k in ("delegates", "official", "invited", "guest")
            },
            notice=NOTICES.get(extra.pop("notice", "") or ""),
            **extra,
        )

    @get("/delegations", guards=[require(Permission.VIEW_DELEGATES)])
    async def delegations(
        self, request: Request[Any, Any, Any], congress_id: CongressId, notice: FromQuery[str] = ""
    ) -> Template:
        return await self._delegations_page(request, congress_id, notice=notice)

    @post("/delegations", guards=[require(Permission.MANAGE_DELEGATES)])
    async def add_delegation(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            await services.add_delegation(
                congress_id, parse_form(DelegationIn, form), signed_in(request).actor
            )
        except CongressError as exc:
            return await self._delegations_page(
                request, congress_id, exc.status_code, form=form, **error_context(exc)
            )
        return Redirect(f"/console/congresses/{congress_id}/delegations?notice=created")

    @post("/delegations/{delegation_id:int}", guards=[require(Permission.MANAGE_DELEGATES)])
    async def update_delegation(
        self, request: Request[Any, Any, Any], congress_id: CongressId, delegation_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            await services.update_delegation(
                congress_id, delegation_id, parse_form(DelegationIn, form), signed_in(request).actor
            )
        except CongressError as exc:
            return await self._delegations_page(
                request, congress_id, exc.status_code, **error_context(exc)
            )
        return Redirect(f"/console/congresses/{congress_id}/delegations?notice=saved")

    @get("/import", guards=[require(Permission.MANAGE_DELEGATES)])
    async def import_form(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Template:
        return page(
            request, "import.html", congress=await congress_services.titled_congress(congress_id)
        )

    @post("/import", guards=[require(Permission.MANAGE_DELEGATES)])
    async def upload(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await request.form()
        upload = form.get("file")
        try:
            if upload is None or isinstance(upload, str):
                raise InvalidInput("no_file", N_("Choose a file to upload."), field="file")
            token = await services.stage_import(
                congress_id, upload.filename or "", await upload.read(), signed_in(request).actor
            )
        except CongressError as exc:
            return page(
                request,
                "import.html",
                status_code=422,
                congress=await congress_services.titled_congress(congress_id),
                **error_context(exc),
            )
        return Redirect(f"/console/congresses/{congress_id}/import/{token}")

    @get("/import/{token:str}", guards=[require(Permission.MANAGE_DELEGATES)])
    async def preview(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        token: Annotated[str, PathParameter(max_length=64)],
        create_delegations: FromQuery[bool] = False,
    ) -> Template:
        return await self._preview_page(request, congress_id, token, create_delegations)

    async def _preview_page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        token: str,
        create_delegations: bool,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        preview = await services.preview_import(congress_id, token, create_delegations)
        return page(
            request,
            "import_preview.html",
            status_code=status_code,
            congress=await congress_services.titled_congress(congress_id),
            preview=preview_out(preview),
            create_delegations=create_delegations,
            **extra,
        )

    @post("/import/{token:str}/apply", guards=[require(Permission.MANAGE_DELEGATES)])
    async def apply(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        token: Annotated[str, PathParameter(max_length=64)],
    ) -> Response[Any]:
        form = await read_form(request)
        create_delegations = form.get("create_delegations") == "true"
        try:
            await services.apply_import(
                congress_id, token, create_delegations, signed_in(request).actor
            )
        except CongressError as exc:
            return await self._preview_page(
                request, congress_id, token, create_delegations, 422, **error_context(exc)
            )
        return Redirect(f"/console/congresses/{congress_id}/delegates?notice=imported")
