"""Vietnamese text: NFC normalisation and the diacritic-free form that search uses."""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_D = str.maketrans({"đ": "d", "Đ": "d"})


def clean(text: str) -> str:
    """NFC, inner whitespace collapsed, ends stripped: how every name is stored."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", text)).strip()


def fold(text: str) -> str:
    """Lower case without diacritics; đ folds to d. "Nguyễn Thị Hạnh" -> "nguyen thi hanh"."""
    if text.isascii():
        return " ".join(text.lower().split())
    decomposed = unicodedata.normalize("NFD", text.translate(_D).lower())
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped).strip()


def search_form(name: str) -> str:
    """Folded and padded with spaces, so that LIKE '% word%' matches the start of a word."""
    return f" {fold(name)} "


def name_sort_key(full_name: str) -> str:
    """Vietnamese lists sort by the given name (the last word), then by the whole name."""
    folded = fold(full_name)
    given = folded.rsplit(" ", 1)[-1]
    return f"{given} {folded}"
