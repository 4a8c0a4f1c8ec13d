"""The archive's JSON API and file delivery."""

from __future__ import annotations

import asyncio
import datetime
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery, JSONBody, PathParameter, QueryParameter
from litestar.response import File

from congress.accounts import Permission
from congress.auth import require, signed_in
from congress.controllers import Changed, CongressId, ItemId
from congress.errors import NotFound, declares_errors
from congress.forms import parse_form
from congress.i18n import N_
from congress.schemas import NO_NUL
from congress.services import get_congress
from documents import search, services
from documents.extraction import PageNotFound, render_page
from documents.schemas import (
    Category,
    DocumentIn,
    DocumentOut,
    SearchHitOut,
    SearchOut,
    UploadedOut,
    VersionOut,
)
from documents.storage import LocalFileStore, file_store

Number = Annotated[int, PathParameter(ge=1, le=32767)]
MAX_REQUEST = services.MAX_UPLOAD_BYTES + 1024 * 1024


@dataclass
class UploadForm:
    file: UploadFile
    title: str = ""
    category: str = "other"
    access: str = "organizers"
    sitting_id: str = ""
    agenda_item_id: str = ""


@dataclass
class VersionForm:
    file: UploadFile


def version_out(row: dict[str, Any]) -> VersionOut:
    return VersionOut(
        number=row["number"],
        sha256=row["sha256"],
        size=row["size"],
        media_type=row["media_type"],
        filename=row["filename"],
        page_count=row["page_count"],
        uploaded_by=row["uploaded_by_name"],
        uploaded_at=row["uploaded_at"],
        released_at=row["released_at"],
    )


def document_out(row: dict[str, Any], versions: list[dict[str, Any]]) -> DocumentOut:
    return DocumentOut(
        id=row["id"],
        title=row["title"],
        category=row["category"],
        access=row["access"],
        sitting_id=row["sitting"],
        agenda_item_id=row["agenda_item"],
        latest_version=row["latest_version"],
        released_version=row["released_version"],
        updated_at=row["updated_at"],
        versions=[version_out(v) for v in versions],
    )


def upload_metadata(form: UploadForm) -> DocumentIn:
    title = form.title or (form.file.filename or "").rsplit(".", 1)[0]
    return parse_form(
        DocumentIn,
        {
            "title": title,
            "category": form.category,
            "access": form.access,
            "sitting_id": form.sitting_id,
            "agenda_item_id": form.agenda_item_id,
        },
    )


def snippet_text(hit: search.SearchHit) -> str:
    return "".join(f"«{p.text}»" if p.match else p.text for p in hit.snippet)


async def file_response(version: dict[str, Any], inline: bool) -> Response[Any]:
    store = file_store()
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff"}
    if isinstance(store, LocalFileStore):
        return File(
            path=store.path(version["sha256"]),
            filename=version["filename"],
            media_type=version["media_type"],
            content_disposition_type="inline" if inline else "attachment",
            headers=headers,
        )
    content = await asyncio.to_thread(lambda: store.open(version["sha256"]).read())
    return Response(content, media_type=version["media_type"], headers=headers)


async def page_image(version: dict[str, Any], page: int, width: int) -> Response[bytes]:
    """A PDF page as PNG, rendered once per size and kept next to the stored files."""
    if version["media_type"] != "application/pdf":
        raise NotFound("page_not_found", N_("This page does not exist."))
    from congress.settings import get_settings

    cache = get_settings().var_dir / "cache" / "pages" / version["sha256"][:2]
    target = cache / f"{version['sha256']}-{page}-{width}.png"

    def render() -> bytes:
        if target.exists():
            return target.read_bytes()
        store = file_store()
        assert isinstance(store, LocalFileStore)
        png = render_page(store.path(version["sha256"]), page, width)
        cache.mkdir(parents=True, exist_ok=True)
        partial = target.with_suffix(".part")
        partial.write_bytes(png)
        partial.replace(target)
        return png

    try:
        png = await asyncio.to_thread(render)
    except PageNotFound:
        raise NotFound("page_not_found", N_("This page does not exist.")) from None
    return Response(
        png, media_type="image/png", headers={"Cache-Control": "private, max-age=86400"}
    )


@declares_errors
class DocumentController(Controller):
    path = "/api/congresses/{congress_id:int}/documents"
    tags = ["archive"]

    @get("/", guards=[require(Permission.VIEW_DOCUMENTS)])
    async def list_documents(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        category: FromQuery[Category | None] = None,
        sitting: Annotated[int | None, QueryParameter(ge=1, le=2**31 - 1)] = None,
    ) -> list[DocumentOut]:
        await get_congress(congress_id)
        viewer = services.Viewer.of(signed_in(request))
        rows = await services.list_documents(
            congress_id, viewer, category=category, sitting_id=sitting
        )
        return [document_out(r, []) for r in rows]

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
    ) -> UploadedOut:
        """Upload one file as a new document (the console sends several files one by one)."""
        account = signed_in(request)
        document_id = await services.upload_file(
            congress_id,
            upload_metadata(data),
            data.file.file,
            data.file.filename or "",
            account.actor,
            services.Viewer.of(account),
        )
        return UploadedOut(document_id=document_id, version=1)

    @get("/search", guards=[require(Permission.VIEW_DOCUMENTS)])
    async def search_documents(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        q: Annotated[str, QueryParameter(max_length=200, pattern=NO_NUL)] = "",
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 20,
        offset: Annotated[int, QueryParameter(ge=0, le=100_000)] = 0,
    ) -> SearchOut:
        await get_congress(congress_id)
        viewer = services.Viewer.of(signed_in(request))
        total, hits = await search.search(
            congress_id, q, viewer.audience, limit=limit, offset=offset
        )
        return SearchOut(
            total=total,
            hits=[
                SearchHitOut(
                    document_id=h.document_id,
                    version=h.version_number,
                    title=h.title,
                    category=h.category,
                    access=h.access,
                    snippet=snippet_text(h),
                )
                for h in hits
            ],
        )

    @get("/{document_id:int}", guards=[require(Permission.VIEW_DOCUMENTS)])
    async def get_document(
        self, request: Request[Any, Any, Any], congress_id: CongressId, document_id: ItemId
    ) -> DocumentOut:
        viewer = services.Viewer.of(signed_in(request))
        return document_out(*await services.get_document(congress_id, document_id, viewer))

    @put("/{document_id:int}", guards=[require(Permission.MANAGE_DOCUMENTS)])
    async def update_document(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        document_id: ItemId,
        data: JSONBody[DocumentIn],
    ) -> Changed:
        account = signed_in(request)
        return Changed(
            await services.update_document(
                congress_id, document_id, data, account.actor, services.Viewer.of(account)
            )
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
    ) -> UploadedOut:
        account = signed_in(request)
        number = await services.add_version_file(
            congress_id,
            document_id,
            data.file.file,
            data.file.filename or "",
            account.actor,
            services.Viewer.of(account),
        )
        return UploadedOut(document_id=document_id, version=number)

    @post("/{document_id:int}/release", guards=[require(Permission.MANAGE_DOCUMENTS)])
    async def release(
        self, request: Request[Any, Any, Any], congress_id: CongressId, document_id: ItemId
    ) -> UploadedOut:
        account = signed_in(request)
        number = await services.release_document(
            congress_id, document_id, account.actor, services.Viewer.of(account)
        )
        return UploadedOut(document_id=document_id, version=number)

    @post("/{document_id:int}/withdraw", guards=[require(Permission.MANAGE_DOCUMENTS)])
    async def withdraw(
        self, request: Request[Any, Any, Any], congress_id: CongressId, document_id: ItemId
    ) -> None:
        account = signed_in(request)
        await services.withdraw_document(
            congress_id, document_id, account.actor, services.Viewer.of(account)
        )

    @get(
        "/{document_id:int}/versions/{number:int}/file",
        guards=[require(Permission.VIEW_DOCUMENTS)],
    )
    async def download(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        document_id: ItemId,
        number: Number,
        inline: FromQuery[bool] = False,
    ) -> Response[Any]:
        viewer = services.Viewer.of(signed_in(request))
        _, version = await services.get_version(congress_id, document_id, number, viewer)
        return await file_response(version, inline)

    @get(
        "/{document_id:int}/versions/{number:int}/pages/{page:int}",
        guards=[require(Permission.VIEW_DOCUMENTS)],
    )
    async def page(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        document_id: ItemId,
        number: Number,
        page: Annotated[int, PathParameter(ge=1, le=10_000)],
        width: Annotated[int, QueryParameter(ge=200, le=2400)] = 1000,
    ) -> Response[bytes]:
        viewer = services.Viewer.of(signed_in(request))
        _, version = await services.get_version(congress_id, document_id, number, viewer)
        return await page_image(version, page, width)


@declares_errors
class ArchiveController(Controller):
    path = "/api/congresses/{congress_id:int}/archive"
    tags = ["archive"]
    guards = [require(Permission.EXPORT_ARCHIVE)]

    @post("/export", status_code=200)
    async def export(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        include_confidential: FromQuery[bool] = False,
    ) -> File:
        """The whole congress record as one ZIP; confidential papers only when asked."""
        from congress.settings import get_settings
        from documents.archive import export_archive

        congress = await get_congress(congress_id)
        exports = get_settings().var_dir / "exports"
        exports.mkdir(parents=True, exist_ok=True)
        stamp = datetime.datetime.now(datetime.UTC).strftime("%Y%m%d-%H%M%S")
        target = exports / f"congress-{congress_id}-{stamp}.zip"
        fingerprint = await export_archive(
            congress_id, target, include_confidential, signed_in(request).actor
        )
        return File(
            path=target,
            filename=f"luu-tru-dai-hoi-{congress['number'] or congress_id}-{stamp}.zip",
            media_type="application/zip",
            headers={"X-Archive-Fingerprint": fingerprint},
        )
