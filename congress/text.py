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


# The Vietnamese alphabet, and the tones in dictionary order (ngang, huyền, hỏi, ngã, sắc, nặng).
_ALPHABET = "aăâbcdđeêghiklmnoôơpqrstuưvxy"
_TONES = {"\u0300": "1", "\u0309": "2", "\u0303": "3", "\u0301": "4", "\u0323": "5"}
# Ranks are written with [1-9a-u] and words end with "0", so that any database collation
# (C, en_US, ICU) orders the keys exactly as Vietnamese does.
_RANKS = "123456789abcdefghijklmnopqrstu"
_OTHER = "v"
SORT_KEY_LENGTH = 220  # congress.tables.Delegate.sort_key


def _collation(word: str) -> tuple[str, str]:
    letters, tones = [], []
    for char in unicodedata.normalize("NFC", word.lower()):
        parts = unicodedata.normalize("NFD", char)
        tone = next((_TONES[m] for m in parts if m in _TONES), "0")
        shaped = unicodedata.normalize("NFC", "".join(m for m in parts if m not in _TONES))
        rank = _ALPHABET.find(shaped)
        letters.append(_RANKS[rank] if rank >= 0 else _OTHER)
        tones.append(tone)
    return "".join(letters), "".join(tones)


def name_sort_key(full_name: str) -> str:
    """Vietnamese lists sort by the given name (the last word), then by the whole name,
    letter by letter in the Vietnamese alphabet (a < ă < â, d < đ), then by tone."""
    words = clean(full_name).split(" ")
    ordered = [words[-1], *words] if words else []
    collated = [_collation(w) for w in ordered]
    primary = "0".join(letters for letters, _ in collated)
    secondary = "0".join(tones for _, tones in collated)
    # The column holds 220 characters: a long name's key (about four times the name) is cut,
    # which only loses the order among names whose first 220 characters of key are equal.
    return f"{primary}00{secondary}"[:SORT_KEY_LENGTH]
