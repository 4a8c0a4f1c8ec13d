"""The congress record as one ZIP, its verification, and the integrity of stored files.

An export holds every document version's file once (``files/<sha256>``), the congress and
its sittings (``congress.json``), the event log (``events.jsonl``) and ``manifest.json``,
which lists every other entry with its sha256 and size and every document with its
versions. The manifest's own sha256 is the export's fingerprint, recorded in the event
log when the export is made: a changed, added or missing byte anywhere is detected.
"""

from __future__ import annotations

import asyncio
import datetime
import hashlib
import json
import zipfile
from pathlib import Path
from typing import Any

import msgspec

from congress import services as congress_services
from congress.errors import InvalidInput
from congress.eventlog import Actor, Change, events_of
from congress.i18n import N_
from congress.schemas import AgendaItemIn, CongressIn, SittingIn
from congress.tables import Congress, Event
from documents import events, search
from documents.storage import CHUNK, file_store
from documents.tables import Document, DocumentVersion

FORMAT = "congress-archive/1"


class StoreReport(msgspec.Struct):
    checked: int
    missing: list[str]
    changed: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed


class ExportReport(msgspec.Struct):
    fingerprint: str
    documents: int
    files: int
    missing: list[str]
    changed: list[str]
    added: list[str]

    @property
    def ok(self) -> bool:
        return not self.missing and not self.changed and not self.added


def _sha256_of(stream: Any) -> str:
    digest = hashlib.sha256()
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
    return digest.hexdigest()


async def verify_store() -> StoreReport:
    """Re-hash every file the archive refers to; report the missing and the changed."""
    shas = sorted({r["sha256"] for r in await DocumentVersion.select(DocumentVersion.sha256)})

    def check() -> StoreReport:
        store = file_store()
        missing, changed = [], []
        for sha in shas:
            if not store.exists(sha):
                missing.append(sha)
                continue
            with store.open(sha) as stream:
                if _sha256_of(stream) != sha:
                    changed.append(sha)
        return StoreReport(checked=len(shas), missing=missing, changed=changed)

    return await asyncio.to_thread(check)


def _json(value: Any) -> bytes:
    return msgspec.json.format(msgspec.json.encode(value), indent=1)


async def _record(congress_id: int, include_confidential: bool) -> dict[str, Any]:
    congress = await congress_services.get_congress(congress_id)
    sittings = await congress_services.sittings_of(congress_id)
    documents = (
        await Document.select().where(Document.congress == congress_id).order_by(Document.id)
    )
    if not include_confidential:
        documents = [d for d in documents if d["access"] != "confidential"]
    versions = (
        await DocumentVersion.select(
            *(c for c in DocumentVersion.all_columns() if c._meta.name != "text")
        )
        .where(DocumentVersion.congress == congress_id)
        .order_by(DocumentVersion.number)
    )
    by_document: dict[int, list[dict[str, Any]]] = {}
    for version in versions:
        by_document.setdefault(version["document"], []).append(version)
    return {
        "congress": congress,
        "sittings": sittings,
        "documents": documents,
        "versions": by_document,
    }


def _manifest_documents(record: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        {
            "id": d["id"],
            "title": d["title"],
            "category": d["category"],
            "access": d["access"],
            "sitting": d["sitting"],
            "agenda_item": d["agenda_item"],
            "released_version": d["released_version"],
            "versions": [
                {
                    "number": v["number"],
                    "sha256": v["sha256"],
                    "size": v["size"],
                    "media_type": v["media_type"],
                    "filename": v["filename"],
                    "page_count": v["page_count"],
                    "uploaded_by": v["uploaded_by_name"],
                    "uploaded_at": v["uploaded_at"],
                    "released_at": v["released_at"],
                    "path": f"files/{v['sha256']}",
                }
                for v in record["versions"].get(d["id"], [])
            ],
        }
        for d in record["documents"]
    ]


async def export_archive(
    congress_id: int, target: Path, include_confidential: bool, actor: Actor
) -> str:
    """Write the congress record to ``target``; returns the fingerprint."""
    record = await _record(congress_id, include_confidential)
    log = await events_of(congress_id, limit=10_000_000)
    documents = _manifest_documents(record)
    congress_json = _json({"congress": record["congress"], "sittings": record["sittings"]})
    events_jsonl = b"".join(msgspec.json.encode(e) + b"\n" for e in log)

    def write() -> str:
        store = file_store()
        entries: dict[str, dict[str, Any]] = {}
        partial = target.with_name(target.name + ".part")
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for name, content in (("congress.json", congress_json), ("events.jsonl", events_jsonl)):
                archive.writestr(name, content)
                entries[name] = {
                    "sha256": hashlib.sha256(content).hexdigest(),
                    "size": len(content),
                }
            for document in documents:
                for version in document["versions"]:
                    path = version["path"]
                    if path in entries:
                        continue
                    with store.open(version["sha256"]) as source, archive.open(path, "w") as out:
                        digest = hashlib.sha256()
                        while chunk := source.read(CHUNK):
                            digest.update(chunk)
                            out.write(chunk)
                    entries[path] = {"sha256": digest.hexdigest(), "size": version["size"]}
            manifest = _json(
                {
                    "format": FORMAT,
                    "exported_at": datetime.datetime.now(datetime.UTC),
                    "congress": congress_services.congress_title(record["congress"]),
                    "include_confidential": include_confidential,
                    "documents": documents,
                    "entries": entries,
                }
            )
            archive.writestr("manifest.json", manifest)
        partial.replace(target)
        return hashlib.sha256(manifest).hexdigest()

    fingerprint = await asyncio.to_thread(write)
    async with Change(congress_id, actor) as change:
        await change.record(
            events.ArchiveExported(
                fingerprint=fingerprint,
                include_confidential=include_confidential,
                documents=len(documents),
            )
        )
    return fingerprint


def verify_export(path: Path) -> ExportReport:
    """Every entry against the manifest: what changed, what was added, what is missing."""
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        return ExportReport("", 0, 0, ["manifest.json"], [], [])
    with archive:
        names = set(archive.namelist())
        if "manifest.json" not in names:
            return ExportReport("", 0, 0, ["manifest.json"], [], sorted(names))
        raw = archive.read("manifest.json")
        try:
            manifest = json.loads(raw)
            entries: dict[str, dict[str, Any]] = manifest["entries"]
        except (ValueError, KeyError, TypeError):
            return ExportReport(hashlib.sha256(raw).hexdigest(), 0, 0, [], ["manifest.json"], [])
        missing = sorted(n for n in entries if n not in names)
        added = sorted(n for n in names - {"manifest.json"} if n not in entries)
        changed = []
        for name in sorted(set(entries) & names):
            with archive.open(name) as stream:
                if _sha256_of(stream) != entries[name].get("sha256"):
                    changed.append(name)
        # The documents must point at entries that are there.
        for document in manifest.get("documents", []):
            for version in document.get("versions", []):
                if entries.get(version.get("path"), {}).get("sha256") != version.get("sha256"):
                    changed.append(f"manifest: {document.get('title')} v{version.get('number')}")
        return ExportReport(
            fingerprint=hashlib.sha256(raw).hexdigest(),
            documents=len(manifest.get("documents", [])),
            files=sum(1 for n in entries if n.startswith("files/")),
            missing=missing,
            changed=changed,
            added=added,
        )


async def import_archive(path: Path, actor: Actor) -> int:
    """Recreate an exported congress record in this instance; returns the new congress id.

    The export is verified first and refused whole if anything differs from its manifest.
    """
    report = await asyncio.to_thread(verify_export, path)
    if not report.ok:
        raise InvalidInput(
            "export_damaged",
            N_("This export does not match its manifest; nothing was imported."),
            field="file",
        )
    with zipfile.ZipFile(path) as archive:
        manifest = json.loads(archive.read("manifest.json"))
        recorded = json.loads(archive.read("congress.json"))
        log = [json.loads(line) for line in archive.read("events.jsonl").splitlines() if line]
    source = recorded["congress"]
    congress_id = await congress_services.create_congress(
        msgspec.convert(
            {
                k: source[k]
                for k in (
                    "name",
                    "kind",
                    "number",
                    "term",
                    "organizing_union",
                    "venue",
                    "starts_on",
                    "ends_on",
                )
            },
            CongressIn,
        ),
        actor,
    )
    sitting_ids: dict[int, int] = {}
    item_ids: dict[int, int] = {}
    for sitting in recorded["sittings"]:
        new_sitting = await congress_services.add_sitting(
            congress_id,
            msgspec.convert(
                {k: sitting[k] for k in ("title", "kind", "starts_at", "location")}, SittingIn
            ),
            actor,
        )
        sitting_ids[sitting["id"]] = new_sitting
        for item in sitting["agenda"]:
            item_ids[item["id"]] = await congress_services.add_agenda_item(
                congress_id,
                new_sitting,
                msgspec.convert(
                    {k: item[k] for k in ("title", "presenter", "duration_minutes")},
                    AgendaItemIn,
                ),
                actor,
            )

    def store_files() -> None:
        store = file_store()
        with zipfile.ZipFile(path) as archive:
            for name in manifest["entries"]:
                if name.startswith("files/") and not store.exists(name.removeprefix("files/")):
                    with archive.open(name) as stream:
                        store.put(stream, max_size=1 << 40)

    await asyncio.to_thread(store_files)
    async with Change(congress_id, actor) as change:
        # The old log is kept as it was, before this instance's own events.
        offset = (
            await Congress.select(Congress.last_event_seq).where(Congress.id == congress_id).first()
        )
        await _import_documents(congress_id, manifest["documents"], sitting_ids, item_ids)
        await _keep_old_log(congress_id, log, offset["last_event_seq"] if offset else 0)
        await change.record(
            events.ArchiveImported(
                fingerprint=report.fingerprint, documents=len(manifest["documents"])
            )
        )
    return congress_id


async def _import_documents(
    congress_id: int,
    documents: list[dict[str, Any]],
    sitting_ids: dict[int, int],
    item_ids: dict[int, int],
) -> None:
    now = datetime.datetime.now(datetime.UTC)
    for document in documents:
        versions = document["versions"]
        rows = await Document.insert(
            Document(
                congress=congress_id,
                title=document["title"],
                category=document["category"],
                access=document["access"],
                sitting=sitting_ids.get(document["sitting"]),
                agenda_item=item_ids.get(document["agenda_item"]),
                latest_version=max((v["number"] for v in versions), default=0),
                released_version=document["released_version"],
                created_at=now,
                updated_at=now,
            )
        ).returning(Document.id)
        document_id = rows[0]["id"]
        for version in versions:
            text = await _text_of(version["sha256"], version["media_type"])
            inserted = await DocumentVersion.insert(
                DocumentVersion(
                    congress=congress_id,
                    document=document_id,
                    number=version["number"],
                    sha256=version["sha256"],
                    size=version["size"],
                    media_type=version["media_type"],
                    filename=version["filename"],
                    page_count=version["page_count"],
                    text=text,
                    uploaded_by_name=version["uploaded_by"],
                    uploaded_at=msgspec.convert(version["uploaded_at"], datetime.datetime),
                    released_at=msgspec.convert(version["released_at"], datetime.datetime | None),
                )
            ).returning(DocumentVersion.id)
            await search.index_version(inserted[0]["id"], document["title"], text)


async def _text_of(sha256: str, media_type: str) -> str:
    from documents.extraction import extract
    from documents.storage import LocalFileStore

    store = file_store()
    if not isinstance(store, LocalFileStore):
        return ""
    return (await asyncio.to_thread(extract, store.path(sha256), media_type)).text


async def _keep_old_log(congress_id: int, log: list[dict[str, Any]], after: int) -> None:
    """The exported event log, renumbered after this congress's first events."""
    seq = after
    for entry in log:
        seq += 1
        await Event.insert(
            Event(
                congress=congress_id,
                seq=seq,
                type=entry["type"],
                payload=json.dumps(entry["payload"], ensure_ascii=False),
                actor=entry["actor"],
                actor_name=entry["actor_name"],
                created_at=msgspec.convert(entry["at"], datetime.datetime),
            )
        )
    await Congress.update({Congress.last_event_seq: seq}).where(Congress.id == congress_id)
