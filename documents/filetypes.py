"""What kind of file an upload is, judged from its content; the client's name and type are
never trusted.

The archive accepts seven formats, each with an exact signature, so a few byte comparisons
decide. libmagic (python-magic) would add a system library and its database for the same
answer, and it would still not tell a Word file from an Excel file: both are ZIP packages,
told apart only by the main part their ``[Content_Types].xml`` declares, which is how Word,
LibreOffice and python-docx tell them apart too.
"""

from __future__ import annotations

import zipfile
import zlib
from pathlib import Path

PDF = "application/pdf"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PNG = "image/png"
JPEG = "image/jpeg"
GIF = "image/gif"
WEBP = "image/webp"

ACCEPTED: dict[str, tuple[str, str]] = {  # media type -> (label, default extension)
    PDF: ("PDF", ".pdf"),
    DOCX: ("Word", ".docx"),
    XLSX: ("Excel", ".xlsx"),
    PNG: ("PNG", ".png"),
    JPEG: ("JPEG", ".jpg"),
    GIF: ("GIF", ".gif"),
    WEBP: ("WebP", ".webp"),
}

IMAGES = frozenset({PNG, JPEG, GIF, WEBP})

# Acrobat accepts a header anywhere in the first 1024 bytes, and some generators put junk first.
PDF_HEADER_WINDOW = 1024
_ZIP_LOCAL_HEADER = b"PK\x03\x04"
_CONTENT_TYPES = "[Content_Types].xml"
_CONTENT_TYPES_MAX_BYTES = 1024 * 1024
# The main part's content type; a .docm, .dotx or .xlsm declares another one and is refused.
_MAIN_PARTS = {media_type: f"{media_type}.main+xml".encode() for media_type in (DOCX, XLSX)}
_BROKEN_ZIP = (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, RuntimeError)


def detect_media_type(path: Path) -> str | None:
    """The media type of the file at ``path`` if the archive accepts it, else None."""
    with path.open("rb") as file:
        head = file.read(PDF_HEADER_WINDOW)
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith((b"GIF87a", b"GIF89a")):
        return GIF
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(_ZIP_LOCAL_HEADER):
        return _office_type(path)
    if b"%PDF-" in head:
        return PDF
    return None


def _office_type(path: Path) -> str | None:
    """DOCX or XLSX from the main part the package declares; any other ZIP is None."""
    try:
        with zipfile.ZipFile(path) as package:
            info = package.getinfo(_CONTENT_TYPES)
            if info.file_size > _CONTENT_TYPES_MAX_BYTES:
                return None
            with package.open(info) as member:
                content_types = member.read(_CONTENT_TYPES_MAX_BYTES)
    except KeyError:  # no [Content_Types].xml: not an Office package
        return None
    except _BROKEN_ZIP:
        return None
    for media_type, main_part in _MAIN_PARTS.items():
        if main_part in content_types:
            return media_type
    return None
