"""Console pages of the archive: the list and search, uploads, a document and its viewer."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, QueryParameter
from litestar.response import Redirect, Template

from congress import services as congress_services
from congress.accounts import Permission
from congress.auth import require, signed_in
from congress.controllers import CongressId, ItemId
from congress.errors import CongressError
from congress.forms import parse_form, read_form
from congress.pages import NOTICES, error_context
from congress.templating import page
from documents import search, services
from documents.controllers import MAX_REQUEST, UploadForm, VersionForm, upload_metadata
from documents.schemas import DocumentIn
from documents.vocabulary import CATEGORY_LABELS


class DocumentPages(Controller):
    path = "/console/congresses/{congress_id:int}/documents"
    include_in_schema = False

    async def _list_page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        q: str = "",
        category: str = "",
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        viewer = services.Viewer.of(signed_in(request))
        hits: list[search.SearchHit] = []
        total = 0
        if q:
            total, hits = await search.search(congress_id, q, viewer.audience, limit=50)
        documents = await services.list_documents(congress_id, viewer, category=category or None)
        return page(
            request,
            "documents.html",
            status_code=status_code,
            congress=await congress_services.titled_congress(congress_id),
            sittings=await congress_services.sittings_of(congress_id),
            documents=documents,
            q=q,
            category=category,
            hits=hits,
            total=total,
            **extra,
        )

    @get("/", guards=[require(Permission.VIEW_DOCUMENTS)])
    async def documents(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        q: Annotated[str, QueryParameter(max_length=200)] = "",
        category: Annotated[str, QueryParameter(max_length=32)] = "",
        notice: FromQuery[str] = "",
    ) -> Template:
        return await self._list_page(
            request,
            congress_id,
            q,
            category if category in CATEGORY_LABELS else "",
            notice=NOTICES.get(notice),
        )

    @post(
        "/",
        guards=[require(Permission.MANAGE_DOCUMENTS)],
        request_max_body_size=MAX_REQUEST,
    )
    async def upload(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        data: Annotated[UploadForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        account = signed_in(request)
        try:
            document_id = await services.upload_file(
                congress_id,
                upload_metadata(data),
                data.file.file,
                data.file.filename or "",
                account.actor,
                services.Viewer.of(account),
            )
        except CongressError as exc:
            return await self._list_page(
                request, congress_id, status_code=exc.status_code, **error_context(exc)
            )
        return Redirect(f"/console/congresses/{congress_id}/documents/{document_id}?notice=created")

    async def _document_page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        document_id: int,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        viewer = services.Viewer.of(signed_in(request))
        document, versions = await services.get_document(congress_id, document_id, viewer)
        return page(
            request,
            "document.html",
            status_code=status_code,
            congress=await congress_services.titled_congress(congress_id),
            sittings=await congress_services.sittings_of(congress_id),
            document=document,
            versions=versions,
            **extra,
        )

    @get("/{document_id:int}", guards=[require(Permission.VIEW_DOCUMENTS)])
    async def document(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        document_id: ItemId,
        notice: FromQuery[str] = "",
    ) -> Template:
        return await self._document_page(
            request, congress_id, document_id, notice=NOTICES.get(notice)
        )

    async def _act(
        self, request: Request[Any, Any, Any], congress_id: int, document_id: int, action: Any
    ) -> Response[Any]:
        try:
            await action()
        except CongressError as exc:
            return await self._document_page(
                request, congress_id, document_id, exc.status_code, **error_context(exc)
            )
        return Redirect(f"/console/congresses/{congress_id}/documents/{document_id}?notice=saved")

    @post("/{document_id:int}", guards=[require(Permission.MANAGE_DOCUMENTS)])
    async def update(
        self, request: Request[Any, Any, Any], congress_id: CongressId, document_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        account = signed_in(request)
        viewer = services.Viewer.of(account)
        return await self._act(
            request,
            congress_id,
            document_id,
            lambda: services.update_document(
                congress_id, document_id, parse_form(DocumentIn, form), account.actor, viewer
            ),
        )

    @post(
        "/{document_id:int}/versions",
        guards=[require(Permission.MANAGE_DOCUMENTS)],
        request_max_body_size=MAX_REQUEST,
    )
    async def add_version(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        document_id: ItemId,
        data: Annotated[VersionForm, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> Response[Any]:
        account = signed_in(request)
        return await self._act(
            request,
            congress_id,
            document_id,
            lambda: services.add_version_file(
                congress_id,
                document_id,
                data.file.file,
                data.file.filename or "",
                account.actor,
                services.Viewer.of(account),
            ),
        )

    @post("/{document_id:int}/release", guards=[require(Permission.MANAGE_DOCUMENTS)])
    async def release(
        self, request: Request[Any, Any, Any], congress_id: CongressId, document_id: ItemId
    ) -> Response[Any]:
        account = signed_in(request)
        return await self._act(
            request,
            congress_id,
            document_id,
            lambda: services.release_document(
                congress_id, document_id, account.actor, services.Viewer.of(account)
            ),
        )

    @post("/{document_id:int}/withdraw", guards=[require(Permission.MANAGE_DOCUMENTS)])
    async def withdraw(
        self, request: Request[Any, Any, Any], congress_id: CongressId, document_id: ItemId
    ) -> Response[Any]:
        account = signed_in(request)
        return await self._act(
            request,
            congress_id,
            document_id,
            lambda: services.withdraw_document(
                congress_id, document_id, account.actor, services.Viewer.of(account)
            ),
        )

    @get("/{document_id:int}/view", guards=[require(Permission.VIEW_DOCUMENTS)])
    async def view(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        document_id: ItemId,
        version: Annotated[int | None, QueryParameter(ge=1, le=32767)] = None,
    ) -> Template:
        viewer = services.Viewer.of(signed_in(request))
        document, chosen = await services.get_version(congress_id, document_id, version, viewer)
        base = f"/api/congresses/{congress_id}/documents/{document_id}/versions/{chosen['number']}"
        return page(
            request,
            "viewer.html",
            congress=await congress_services.titled_congress(congress_id),
            document=document,
            version=chosen,
            file_url=f"{base}/file",
            page_url=f"{base}/pages",
        )
