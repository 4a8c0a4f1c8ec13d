"""Images the cards print: the union's logo and the delegates' photos (by file name)."""

from __future__ import annotations

import asyncio
import os
import tempfile
from pathlib import Path
from typing import IO

from checkin import events
from checkin.tables import CardAsset
from congress.errors import InvalidInput
from congress.eventlog import Actor, Change
from congress.i18n import N_
from congress.settings import get_settings
from congress.text import clean
from documents.filetypes import detect_media_type
from documents.storage import CHUNK, file_store

MAX_IMAGE_BYTES = 10 * 1024 * 1024
CARD_IMAGE_TYPES = {"image/png", "image/jpeg"}


def _store_image(source: IO[bytes]) -> tuple[str, str]:
    tmp_dir = get_settings().var_dir / "tmp"
    tmp_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=tmp_dir, prefix="image-") as spool:
        size = 0
        while chunk := source.read(CHUNK):
            size += len(chunk)
            if size > MAX_IMAGE_BYTES:
                raise InvalidInput(
                    "image_too_large", N_("An image may be at most 10 MB."), field="file"
                )
            spool.write(chunk)
        spool.flush()
        media_type = detect_media_type(Path(spool.name))
        if media_type not in CARD_IMAGE_TYPES:
            raise InvalidInput(
                "not_a_card_image", N_("Cards print PNG or JPEG images only."), field="file"
            )
        with open(spool.name, "rb") as stored:
            return file_store().put(stored, MAX_IMAGE_BYTES).sha256, media_type


async def save_asset(
    congress_id: int, kind: str, name: str, source: IO[bytes], actor: Actor
) -> str:
    """Store a logo or a photo; a photo is found again by the file name the import gave."""
    sha256, media_type = await asyncio.to_thread(_store_image, source)
    name = clean(os.path.basename(name.replace("\\", "/")))[:200] if kind == "photo" else "logo"
    if not name:
        raise InvalidInput("no_file_name", N_("The photo needs a file name."), field="file")
    where = (
        (CardAsset.congress == congress_id) & (CardAsset.kind == kind) & (CardAsset.name == name)
    )
    async with Change(congress_id, actor) as change:
        if await CardAsset.exists().where(where):
            await CardAsset.update(
                {CardAsset.sha256: sha256, CardAsset.media_type: media_type}
            ).where(where)
        else:
            await CardAsset.insert(
                CardAsset(
                    congress=congress_id, kind=kind, name=name, sha256=sha256, media_type=media_type
                )
            )
        await change.record(events.CardImageSaved(kind=kind, name=name))
    return name


async def asset_counts(congress_id: int) -> dict[str, int]:
    rows = await CardAsset.select(CardAsset.kind).where(CardAsset.congress == congress_id)
    return {
        "logo": sum(r["kind"] == "logo" for r in rows),
        "photo": sum(r["kind"] == "photo" for r in rows),
    }
