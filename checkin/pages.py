"""Console pages for delegate cards: print, reissue, revoke, logo and photos."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, PathParameter
from litestar.response import Redirect, Template

from checkin import assets, credentials, printing
from checkin.cards import LAYOUTS
from congress import services as congress_services
from congress.accounts import Permission
from congress.auth import require, signed_in
from congress.controllers import CongressId, ItemId
from congress.delegates.services import delegations_with_counts
from congress.errors import CongressError, InvalidInput
from congress.forms import read_form
from congress.i18n import N_
from congress.pages import NOTICES, error_context
from congress.tables import Delegate
from congress.templating import page

JobToken = Annotated[str, PathParameter(max_length=32)]


def pdf_download(pdf: bytes, name: str) -> Response[bytes]:
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            "Cache-Control": "no-store",
        },
    )


@dataclass
class ImagesForm:
    files: list[UploadFile] = field(default_factory=list)


class CardPages(Controller):
    path = "/console/congresses/{congress_id:int}/cards"
    include_in_schema = False
    guards = [require(Permission.MANAGE_CARDS)]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        congress = await congress_services.titled_congress(congress_id)
        states = await credentials.card_states(congress_id)
        total = await Delegate.count().where(Delegate.congress == congress_id)
        active = sum(1 for s in states.values() if s["status"] == "active")
        return page(
            request,
            "cards.html",
            status_code=status_code,
            congress=congress,
            total=total,
            active=active,
            without=total - active,
            delegations=await delegations_with_counts(congress_id),
            images=await assets.asset_counts(congress_id),
            layouts=LAYOUTS,
            **extra,
        )

    @get("/")
    async def cards(
        self, request: Request[Any, Any, Any], congress_id: CongressId, notice: FromQuery[str] = ""
    ) -> Template:
        return await self._page(request, congress_id, notice=NOTICES.get(notice))

    @post("/print", status_code=200)
    async def print_cards(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await read_form(request)
        layout = str(form.get("layout", "a4"))
        scope = str(form.get("scope", "without_card"))
        replace = form.get("replace") == "true"
        delegation = str(form.get("delegation", ""))
        actor = signed_in(request).actor
        try:
            if layout not in LAYOUTS or scope not in {"without_card", "all", "delegation"}:
                raise InvalidInput("bad_choice", N_("Choose a layout and who to print for."))
            ids = await printing.delegates_in_scope(
                congress_id, scope, int(delegation) if delegation.isdigit() else None
            )
            if len(ids) < printing.BACKGROUND_FROM:
                pdf = await printing.print_now(congress_id, ids, layout, actor, replace=replace)
                return pdf_download(pdf, f"the-dai-bieu-{congress_id}-{layout}.pdf")
            job = await printing.start_print_job(
                congress_id, ids, layout, actor, replace=replace, scope_label=scope
            )
        except CongressError as exc:
            return await self._page(request, congress_id, exc.status_code, **error_context(exc))
        return Redirect(f"/console/congresses/{congress_id}/cards/jobs/{job}")

    @get("/jobs/{job:str}")
    async def job(
        self, request: Request[Any, Any, Any], congress_id: CongressId, job: JobToken
    ) -> Template:
        congress = await congress_services.titled_congress(congress_id)
        return page(
            request,
            "card_job.html",
            congress=congress,
            job=await printing.job_state(congress_id, job),
        )

    @get("/jobs/{job:str}/state")
    async def job_state(self, congress_id: CongressId, job: JobToken) -> dict[str, Any]:
        state = await printing.job_state(congress_id, job)
        return {"status": state["status"], "done": state["done"], "total": state["total"]}

    @get("/jobs/{job:str}/pdf")
    async def job_pdf(self, congress_id: CongressId, job: JobToken) -> Response[bytes]:
        pdf = await printing.collect(congress_id, job)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M")
        return pdf_download(pdf, f"the-dai-bieu-{congress_id}-{stamp}.pdf")

    @post("/delegates/{delegate_id:int}/reissue", status_code=200)
    async def reissue(
        self, request: Request[Any, Any, Any], congress_id: CongressId, delegate_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        layout = str(form.get("layout", "cr80"))
        if layout not in LAYOUTS:
            layout = "cr80"
        pdf = await printing.print_now(
            congress_id, [delegate_id], layout, signed_in(request).actor, replace=True
        )
        return pdf_download(pdf, f"the-dai-bieu-{delegate_id}.pdf")

    @post("/delegates/{delegate_id:int}/revoke")
    async def revoke(
        self, request: Request[Any, Any, Any], congress_id: CongressId, delegate_id: ItemId
    ) -> Redirect:
        await credentials.revoke_card(congress_id, delegate_id, signed_in(request).actor)
        return Redirect(f"/console/congresses/{congress_id}/delegates/{delegate_id}?notice=saved")

    @post("/logo")
    async def logo(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        data: Annotated[ImagesForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        return await self._save_images(request, congress_id, "logo", data.files[:1])

    @post("/photos")
    async def photos(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        data: Annotated[ImagesForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        return await self._save_images(request, congress_id, "photo", data.files)

    async def _save_images(
        self, request: Request[Any, Any, Any], congress_id: int, kind: str, files: list[UploadFile]
    ) -> Response[Any]:
        actor = signed_in(request).actor
        try:
            if not files:
                raise InvalidInput("no_file", N_("Choose a file to upload."), field="file")
            for upload in files:
                await assets.save_asset(
                    congress_id, kind, upload.filename or "", upload.file, actor
                )
        except CongressError as exc:
            return await self._page(request, congress_id, exc.status_code, **error_context(exc))
        return Redirect(f"/console/congresses/{congress_id}/cards?notice=saved")
