"""The delegates JSON API: delegations, delegates, search and the spreadsheet import."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, JSONBody, PathParameter, QueryParameter

from congress.accounts import Permission
from congress.auth import require
from congress.controllers import Changed, CongressId, Created, ItemId, who
from congress.delegate_sheet import Problem
from congress.delegates import services
from congress.delegates.schemas import (
    ApplyImportIn,
    DelegateIn,
    DelegateKind,
    DelegateOut,
    DelegatePage,
    DelegationIn,
    DelegationOut,
    ImportPreviewOut,
    ImportResultOut,
    PreviewRowOut,
    ProblemOut,
)
from congress.errors import declares_errors
from congress.i18n import translate
from congress.problems import problem_message
from congress.schemas import NO_NUL
from congress.services import get_congress


def delegate_out(row: dict[str, Any]) -> DelegateOut:
    return DelegateOut(
        id=row["id"],
        full_name=row["full_name"],
        kind=row["kind"],
        delegation_id=row["delegation"],
        delegation=row.get("delegation_name") or "",
        unit=row["unit"],
        position=row["position"],
        gender=row["gender"],
        birth_year=row["birth_year"],
        card_number=row["card_number"],
        photo=row["photo"],
        updated_at=row["updated_at"],
    )


def problem_out(problem: Problem) -> ProblemOut:
    return ProblemOut(
        code=problem.code,
        field=problem.field,
        value=problem.value,
        message=translate(problem_message(problem.code), value=problem.value),
    )


def preview_out(preview: services.ImportPreview) -> ImportPreviewOut:
    return ImportPreviewOut(
        token=preview.token,
        filename=preview.filename,
        file_type=preview.sheet.file_type,
        encoding=preview.sheet.encoding,
        columns=preview.sheet.columns,
        ignored_columns=preview.sheet.ignored_columns,
        file_problems=[problem_out(p) for p in preview.sheet.problems],
        rows=[
            PreviewRowOut(
                line=r.row.line,
                action=r.action,
                full_name=r.row.full_name,
                delegation=r.row.delegation,
                kind=r.row.kind,
                card_number=r.row.card_number,
                problems=[problem_out(p) for p in r.problems],
            )
            for r in preview.rows
        ],
        counts=preview.counts,
        unknown_delegations=preview.unknown_delegations,
        can_apply=preview.can_apply,
        applied=preview.applied,
    )


@declares_errors
class DelegateController(Controller):
    path = "/api/congresses/{congress_id:int}"
    tags = ["delegates"]

    @get("/delegations", guards=[require(Permission.VIEW_DELEGATES)])
    async def list_delegations(self, congress_id: CongressId) -> list[DelegationOut]:
        await get_congress(congress_id)
        return [
            DelegationOut(
                id=d["id"],
                code=d["code"],
                name=d["name"],
                ordinal=d["ordinal"],
                delegates=d["delegates"],
                official=d["official"],
                invited=d["invited"],
                guest=d["guest"],
            )
            for d in await services.delegations_with_counts(congress_id)
        ]

    @post("/delegations", guards=[require(Permission.MANAGE_DELEGATES)])
    async def add_delegation(
        self, request: Request[Any, Any, Any], congress_id: CongressId, data: JSONBody[DelegationIn]
    ) -> Created:
        return Created(await services.add_delegation(congress_id, data, who(request).actor))

    @put("/delegations/{delegation_id:int}", guards=[require(Permission.MANAGE_DELEGATES)])
    async def update_delegation(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        delegation_id: ItemId,
        data: JSONBody[DelegationIn],
    ) -> Changed:
        return Changed(
            await services.update_delegation(congress_id, delegation_id, data, who(request).actor)
        )

    @get("/delegates", guards=[require(Permission.VIEW_DELEGATES)])
    async def list_delegates(
        self,
        congress_id: CongressId,
        q: Annotated[str, QueryParameter(max_length=200, pattern=NO_NUL)] = "",
        delegation: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
        kind: FromQuery[DelegateKind | None] = None,
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        offset: Annotated[int, QueryParameter(ge=0, le=1_000_000)] = 0,
    ) -> DelegatePage:
        await get_congress(congress_id)
        total, rows = await services.search_delegates(
            congress_id, q, delegation_id=delegation, kind=kind, limit=limit, offset=offset
        )
        return DelegatePage(total=total, delegates=[delegate_out(r) for r in rows])

    @get("/delegates/{delegate_id:int}", guards=[require(Permission.VIEW_DELEGATES)])
    async def get_delegate(self, congress_id: CongressId, delegate_id: ItemId) -> DelegateOut:
        return delegate_out(await services.get_delegate(congress_id, delegate_id))

    @post("/delegates", guards=[require(Permission.MANAGE_DELEGATES)])
    async def add_delegate(
        self, request: Request[Any, Any, Any], congress_id: CongressId, data: JSONBody[DelegateIn]
    ) -> Created:
        return Created(await services.add_delegate(congress_id, data, who(request).actor))

    @put("/delegates/{delegate_id:int}", guards=[require(Permission.MANAGE_DELEGATES)])
    async def update_delegate(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        delegate_id: ItemId,
        data: JSONBody[DelegateIn],
    ) -> Changed:
        return Changed(
            await services.update_delegate(congress_id, delegate_id, data, who(request).actor)
        )


@dataclass
class ImportUpload:
    """The spreadsheet as a form field: a form without it is refused (Litestar answers a
    bare ``UploadFile`` body without a file with a 500)."""

    data: UploadFile


@declares_errors
class DelegateImportController(Controller):
    path = "/api/congresses/{congress_id:int}/delegate-imports"
    tags = ["delegates"]
    guards = [require(Permission.MANAGE_DELEGATES)]

    @post("/")
    async def upload(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        data: Annotated[ImportUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ImportPreviewOut:
        """Upload a CSV or XLSX file; nothing is written to the delegates until it is applied."""
        content = await data.data.read()
        token = await services.stage_import(
            congress_id, data.data.filename or "", content, who(request).actor
        )
        return preview_out(await services.preview_import(congress_id, token))

    @get("/{token:str}")
    async def preview(
        self,
        congress_id: CongressId,
        token: Annotated[str, PathParameter(max_length=64)],
        create_delegations: FromQuery[bool] = False,
    ) -> ImportPreviewOut:
        return preview_out(await services.preview_import(congress_id, token, create_delegations))

    @post("/{token:str}/apply")
    async def apply(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        token: Annotated[str, PathParameter(max_length=64)],
        data: JSONBody[ApplyImportIn],
    ) -> ImportResultOut:
        event = await services.apply_import(
            congress_id, token, data.create_delegations, who(request).actor
        )
        return ImportResultOut(
            created=event.created,
            updated=event.updated,
            unchanged=event.unchanged,
            delegations_created=event.delegations_created,
        )
