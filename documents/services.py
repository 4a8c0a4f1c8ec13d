"""State changes of the archive: upload, new version, metadata, release, withdrawal."""

from __future__ import annotations

import asyncio
import datetime
import os
import tempfile
from pathlib import Path
from typing import IO, Any

import msgspec

from congress.accounts import Permission, SignedInAccount
from congress.errors import Conflict, InvalidInput, NotFound, PermissionDenied
from congress.eventlog import Actor, Change
from congress.i18n import N_
from congress.services import get_congress
from congress.settings import get_settings
from congress.tables import AgendaItem, Sitting
from congress.text import clean
from documents import events, search
from documents.extraction import Extracted, extract
from documents.filetypes import ACCEPTED, detect_media_type
from documents.schemas import DocumentIn
from documents.storage import CHUNK, StoredFile, TooLarge, file_store
from documents.tables import Document, DocumentVersion

MAX_UPLOAD_BYTES = 100 * 1024 * 1024


class Viewer(msgspec.Struct, frozen=True):
    """Who is looking: an organizer (with or without confidential papers), a delegate, anyone."""

    kind: str  # organizer | delegate | public
    can_see_confidential: bool = False

    @classmethod
    def of(cls, account: SignedInAccount) -> Viewer:
        return cls("organizer", account.can(Permission.VIEW_CONFIDENTIAL))

    @property
    def audience(self) -> search.Audience:
        return search.Audience(kind=self.kind, can_see_confidential=self.can_see_confidential)  # type: ignore[arg-type]


PUBLIC = Viewer("public")
DELEGATE = Viewer("delegate")


class Prepared(msgspec.Struct, frozen=True):
    """An upload checked, stored and read: what the database row needs."""

    stored: StoredFile
    media_type: str
    filename: str
    extracted: Extracted


def _prepare(source: IO[bytes], filename: str) -> Prepared:
    """Spool to a temporary file, check the type from the content, read the text, store.

    Runs in a thread: it reads and hashes up to 100 MB.
    """
    tmp_dir = get_settings().var_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="upload-") as spool:
        size = 0
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > MAX_UPLOAD_BYTES:
                raise TooLarge
            spool.write(chunk)
        spool.flush()
        if size == 0:
            raise InvalidInput("empty_file", N_("The file is empty."), field="file")
        path = Path(spool.name)
        media_type = detect_media_type(path)
        if media_type is None:
            raise InvalidInput(
                "unsupported_type",
                N_("Only PDF, Word (.docx), Excel (.xlsx) and image files can be archived."),
                field="file",
            )
        extracted = extract(path, media_type)
        with path.open("rb") as stored_source:
            stored = file_store().put(stored_source, MAX_UPLOAD_BYTES)
    return Prepared(stored, media_type, _display_name(filename, media_type), extracted)


def _display_name(filename: str, media_type: str) -> str:
    """The client's name is only shown: its last path part, no control characters."""
    name = os.path.basename(filename.replace("\\", "/"))
    name = "".join(ch for ch in clean(name) if ch.isprintable()).lstrip(".")[:200]
    return name or f"document{ACCEPTED[media_type][1]}"


async def prepare_upload(source: IO[bytes], filename: str) -> Prepared:
    try:
        return await asyncio.to_thread(_prepare, source, filename)
    except TooLarge:
        raise InvalidInput(
            "file_too_large",
            N_("The file is larger than {mb} MB."),
            field="file",
            mb=MAX_UPLOAD_BYTES // 1024 // 1024,
        ) from None


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


async def _check_place(congress_id: int, data: DocumentIn) -> None:
    if data.sitting_id is not None and not await Sitting.exists().where(
        (Sitting.id == data.sitting_id) & (Sitting.congress == congress_id)
    ):
        raise NotFound("sitting_not_found", N_("This sitting does not exist."))
    if data.agenda_item_id is not None:
        item = (
            await AgendaItem.select(AgendaItem.sitting)
            .where((AgendaItem.id == data.agenda_item_id) & (AgendaItem.congress == congress_id))
            .first()
        )
        if item is None:
            raise NotFound("agenda_item_not_found", N_("This agenda item does not exist."))
        if data.sitting_id is not None and item["sitting"] != data.sitting_id:
            raise InvalidInput(
                "agenda_item_elsewhere",
                N_("This agenda item belongs to another sitting."),
                field="agenda_item_id",
            )


def _check_may_file(data: DocumentIn, viewer: Viewer) -> None:
    if data.access == "confidential" and not viewer.can_see_confidential:
        raise PermissionDenied(
            "confidential_not_allowed", N_("Your role may not handle confidential papers.")
        )


async def _insert_version(
    congress_id: int, document_id: int, number: int, title: str, prepared: Prepared, actor: Actor
) -> int:
    rows = await DocumentVersion.insert(
        DocumentVersion(
            congress=congress_id,
            document=document_id,
            number=number,
            sha256=prepared.stored.sha256,
            size=prepared.stored.size,
            media_type=prepared.media_type,
            filename=prepared.filename,
            page_count=prepared.extracted.page_count,
            text=prepared.extracted.text,
            uploaded_by=actor.id if actor.kind == "account" else None,
            uploaded_by_name=actor.name,
            uploaded_at=_now(),
        )
    ).returning(DocumentVersion.id)
    version_id = int(rows[0]["id"])
    await search.index_version(version_id, title, prepared.extracted.text)
    return version_id


async def upload_document(
    congress_id: int, data: DocumentIn, prepared: Prepared, actor: Actor, viewer: Viewer
) -> int:
    _check_may_file(data, viewer)
    title = clean(data.title)
    async with Change(congress_id, actor) as change:
        await get_congress(congress_id)
        await _check_place(congress_id, data)
        now = _now()
        rows = await Document.insert(
            Document(
                congress=congress_id,
                title=title,
                category=data.category,
                access=data.access,
                sitting=data.sitting_id,
                agenda_item=data.agenda_item_id,
                latest_version=1,
                created_at=now,
                updated_at=now,
            )
        ).returning(Document.id)
        document_id = int(rows[0]["id"])
        await _insert_version(congress_id, document_id, 1, title, prepared, actor)
        await change.record(
            events.DocumentUploaded(
                document_id=document_id, category=data.category, access=data.access
            )
        )
    return document_id


async def upload_file(
    congress_id: int,
    data: DocumentIn,
    source: IO[bytes],
    filename: str,
    actor: Actor,
    viewer: Viewer,
) -> int:
    """An uploaded file as a new document: checked before its bytes are read and stored."""
    _check_may_file(data, viewer)
    prepared = await prepare_upload(source, filename)
    return await upload_document(congress_id, data, prepared, actor, viewer)


async def add_version_file(
    congress_id: int,
    document_id: int,
    source: IO[bytes],
    filename: str,
    actor: Actor,
    viewer: Viewer,
) -> int:
    """An uploaded file as the next version; a paper one may not see takes no upload."""
    await _document(congress_id, document_id, viewer)
    prepared = await prepare_upload(source, filename)
    return await add_version(congress_id, document_id, prepared, actor, viewer)


async def _document(congress_id: int, document_id: int, viewer: Viewer) -> dict[str, Any]:
    row = (
        await Document.select()
        .where((Document.id == document_id) & (Document.congress == congress_id))
        .first()
    )
    if row is None or not visible(row, viewer):
        # Not "forbidden": a paper one may not see is, for them, not there.
        raise NotFound("document_not_found", N_("This document does not exist."))
    return row


def visible(document: dict[str, Any], viewer: Viewer) -> bool:
    access = document["access"]
    if viewer.kind == "organizer":
        return access != "confidential" or viewer.can_see_confidential
    released = document["released_version"] is not None
    if viewer.kind == "delegate":
        return released and access in {"public", "delegates"}
    return released and access == "public"


async def add_version(
    congress_id: int, document_id: int, prepared: Prepared, actor: Actor, viewer: Viewer
) -> int:
    async with Change(congress_id, actor) as change:
        document = await _document(congress_id, document_id, viewer)
        number = document["latest_version"] + 1
        await _insert_version(congress_id, document_id, number, document["title"], prepared, actor)
        await Document.update({Document.latest_version: number, Document.updated_at: _now()}).where(
            Document.id == document_id
        )
        await change.record(events.DocumentVersionAdded(document_id=document_id, version=number))
    return number


async def update_document(
    congress_id: int, document_id: int, data: DocumentIn, actor: Actor, viewer: Viewer
) -> list[str]:
    _check_may_file(data, viewer)
    values: dict[str, Any] = {
        "title": clean(data.title),
        "category": data.category,
        "access": data.access,
        "sitting": data.sitting_id,
        "agenda_item": data.agenda_item_id,
    }
    async with Change(congress_id, actor) as change:
        document = await _document(congress_id, document_id, viewer)
        await _check_place(congress_id, data)
        fields = [k for k, v in values.items() if document[k] != v]
        if not fields:
            return []
        update = {getattr(Document, k): values[k] for k in fields}
        if data.access in {"organizers", "confidential"} and document["released_version"]:
            # Narrowing the access takes the paper back from delegates and the public.
            update[Document.released_version] = None
        await Document.update({**update, Document.updated_at: _now()}).where(
            Document.id == document_id
        )
        if "title" in fields:
            await search.reindex_title(document_id, values["title"])
        await change.record(events.DocumentUpdated(document_id=document_id, fields=fields))
    return fields


async def release_document(congress_id: int, document_id: int, actor: Actor, viewer: Viewer) -> int:
    """Release the latest version to the audience the access level names."""
    async with Change(congress_id, actor) as change:
        document = await _document(congress_id, document_id, viewer)
        if document["access"] not in {"public", "delegates"}:
            raise Conflict(
                "not_releasable",
                N_("Only papers for delegates or for the public can be released."),
            )
        number = document["latest_version"]
        if document["released_version"] == number:
            return number
        await DocumentVersion.update(
            {DocumentVersion.released_at: _now(), DocumentVersion.released_by_name: actor.name}
        ).where((DocumentVersion.document == document_id) & (DocumentVersion.number == number))
        await Document.update({Document.released_version: number}).where(Document.id == document_id)
        await change.record(
            events.DocumentReleased(
                document_id=document_id, version=number, access=document["access"]
            )
        )
    return number


async def withdraw_document(
    congress_id: int, document_id: int, actor: Actor, viewer: Viewer
) -> None:
    async with Change(congress_id, actor) as change:
        document = await _document(congress_id, document_id, viewer)
        if document["released_version"] is None:
            return
        await Document.update({Document.released_version: None}).where(Document.id == document_id)
        await change.record(events.DocumentWithdrawn(document_id=document_id))


async def list_documents(
    congress_id: int, viewer: Viewer, *, category: str | None = None, sitting_id: int | None = None
) -> list[dict[str, Any]]:
    condition: Any = Document.congress == congress_id
    if category:
        condition &= Document.category == category
    if sitting_id:
        condition &= Document.sitting == sitting_id
    # The database narrows to what the viewer may see; visible() stays the one rule.
    if viewer.kind != "organizer":
        condition &= Document.released_version.is_not_null()
        condition &= Document.access.is_in(
            ["public", "delegates"] if viewer.kind == "delegate" else ["public"]
        )
    elif not viewer.can_see_confidential:
        condition &= Document.access != "confidential"
    rows = await Document.select().where(condition).order_by(Document.updated_at, ascending=False)
    return [row for row in rows if visible(row, viewer)]


async def get_document(
    congress_id: int, document_id: int, viewer: Viewer
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The document and the versions this viewer may see, newest first."""
    document = await _document(congress_id, document_id, viewer)
    query = DocumentVersion.select(
        *(c for c in DocumentVersion.all_columns() if c._meta.name != "text")
    ).where(DocumentVersion.document == document_id)
    if viewer.kind != "organizer":
        query = query.where(DocumentVersion.number == document["released_version"])
    versions = await query.order_by(DocumentVersion.number, ascending=False)
    return document, versions


async def get_version(
    congress_id: int, document_id: int, number: int | None, viewer: Viewer
) -> tuple[dict[str, Any], dict[str, Any]]:
    """One version a viewer may open; None means the one they should read."""
    document, versions = await get_document(congress_id, document_id, viewer)
    if number is None:
        number = (
            document["latest_version"]
            if viewer.kind == "organizer"
            else document["released_version"]
        )
    for version in versions:
        if version["number"] == number:
            return document, version
    raise NotFound("version_not_found", N_("This version does not exist."))
