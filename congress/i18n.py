"""Translations from Babel catalogs (congress/locale/<lang>/LC_MESSAGES/messages.po).

Message ids are English; Vietnamese is the default language. The .po files are compiled
in memory at start-up, so there is no compiled .mo file to forget to rebuild.
"""

from __future__ import annotations

import contextvars
import functools
import gettext as gettext_module
import io
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations

LANGUAGES = {"vi": "Tiếng Việt", "en": "English"}
DEFAULT_LANGUAGE = "vi"
LOCALE_DIR = Path(__file__).parent / "locale"

current_language: contextvars.ContextVar[str] = contextvars.ContextVar(
    "current_language", default=DEFAULT_LANGUAGE
)


def N_(message: str) -> str:
    """Marks a msgid for extraction; it is translated later, where the reader is known."""
    return message


@functools.cache
def translations(language: str) -> gettext_module.NullTranslations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return gettext_module.NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def translate(message: str, **params: object) -> str:
    text = gettext(message)
    return text.format(**params) if params else text


def pick_language(*candidates: str | None) -> str:
    for candidate in candidates:
        if candidate and candidate in LANGUAGES:
            return candidate
    return DEFAULT_LANGUAGE
