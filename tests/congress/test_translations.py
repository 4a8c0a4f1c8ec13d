"""The Vietnamese catalog covers every message in the code and the templates, correctly.

The messages are extracted straight from the source tree with the map in babel.cfg, so a
string added anywhere without a translation fails here, with the list of what is missing and
the commands that bring the catalog up to date (see also congress/locale/README).

Only congress.i18n, babel and jinja2 are imported: no database, no application.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterator
from pathlib import Path

from babel.messages.catalog import Catalog, Message
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from congress import i18n

ROOT = Path(__file__).resolve().parents[2]
BABEL_CFG = ROOT / "babel.cfg"
VI_PO = ROOT / "congress" / "locale" / "vi" / "LC_MESSAGES" / "messages.po"
# The same keywords as `pybabel extract -k N_ -k translate` (the defaults cover _, gettext,
# ngettext and friends).
KEYWORDS = {**DEFAULT_KEYWORDS, "N_": None, "translate": None}

UPDATE_HINT = (
    "Bring the catalog up to date from the repository root, then translate the new or fuzzy "
    "entries in congress/locale/vi/LC_MESSAGES/messages.po (and remove their fuzzy flag):\n"
    "  pybabel extract -F babel.cfg -k N_ -k translate -o congress/locale/messages.pot "
    "--no-location --sort-output .\n"
    "  pybabel update -i congress/locale/messages.pot -d congress/locale"
)

# str.format fields ({value}, {n}, {0}, {n:d}); "{{" and "}}" are literal braces.
_BRACE_FIELD = re.compile(r"\{\{|\}\}|\{([^{}]*)\}")
# printf-style conversions as Jinja's newstyle gettext uses them: %(num)d, %(name)s, %s, %%.
_PERCENT_FIELD = re.compile(r"%(?:\(([^)]*)\))?[#0 +-]*(?:\d+|\*)?(?:\.\d+)?([diouxXeEfFgGcrsa%])")


@functools.cache
def extracted_messages() -> dict[str, tuple[tuple[str, ...], frozenset[str]]]:
    """msgid -> (all msgid forms, the files it comes from), as `pybabel extract` finds them."""
    with BABEL_CFG.open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg, filename=str(BABEL_CFG))
    found: dict[str, tuple[tuple[str, ...], set[str]]] = {}
    for filename, _lineno, message, _comments, _context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        forms = message if isinstance(message, tuple) else (message,)
        forms = tuple(form for form in forms if form)
        if not forms:
            continue
        known_forms, files = found.setdefault(forms[0], (forms, set()))
        if len(forms) > len(known_forms):  # the same msgid used with ngettext somewhere
            found[forms[0]] = (forms, files)
        files.add(filename)
    return {msgid: (forms, frozenset(files)) for msgid, (forms, files) in found.items()}


@functools.cache
def vi_catalog() -> Catalog:
    with VI_PO.open("rb") as po_file:
        return read_po(po_file, locale="vi")


def translated_messages() -> Iterator[Message]:
    """Every real entry of the vi catalog (not the header, not obsolete ones)."""
    for message in vi_catalog():
        if message.id:
            yield message


def msgstr_forms(message: Message) -> tuple[str, ...]:
    string = message.string
    if isinstance(string, (tuple, list)):
        return tuple(string)
    return (string,)


def placeholders(text: str) -> set[str]:
    """The format placeholders in a message, brace style and percent style alike."""
    found = {m.group(0) for m in _BRACE_FIELD.finditer(text) if m.group(1) is not None}
    found.update(m.group(0) for m in _PERCENT_FIELD.finditer(text))
    return found


def test_extraction_finds_messages_in_code_and_templates() -> None:
    """A guard for the test itself: a broken babel.cfg would make every other check pass."""
    messages = extracted_messages()
    files = set().union(*(files for _forms, files in messages.values()))
    assert "Sign in" in messages
    assert any(name.endswith(".py") for name in files), files
    assert any(name.endswith(".html") for name in files), files
    assert not any("piccolo_migrations" in name or name.startswith("tests") for name in files)


def test_every_message_is_translated() -> None:
    catalog = vi_catalog()
    missing: list[str] = []
    for msgid, (forms, _files) in sorted(extracted_messages().items()):
        entry = catalog.get(msgid)
        if entry is None:
            missing.append(f"{msgid!r} (not in the catalog)")
        elif entry.fuzzy:
            missing.append(f"{msgid!r} (fuzzy)")
        elif (len(forms) > 1) != entry.pluralizable:
            missing.append(f"{msgid!r} (singular/plural changed)")
        elif not all(form.strip() for form in msgstr_forms(entry)):
            missing.append(f"{msgid!r} (no translation)")
    assert not missing, (
        f"{len(missing)} message(s) have no Vietnamese translation:\n  "
        + "\n  ".join(missing)
        + "\n"
        + UPDATE_HINT
    )


def test_translations_keep_the_placeholders() -> None:
    wrong: list[str] = []
    for message in translated_messages():
        forms = message.id if isinstance(message.id, tuple) else (message.id,)
        expected = set().union(*(placeholders(form) for form in forms))
        for translation in msgstr_forms(message):
            if translation and placeholders(translation) != expected:
                wrong.append(
                    f"{forms[0]!r}: expected {sorted(expected)}, "
                    f"found {sorted(placeholders(translation))} in {translation!r}"
                )
    assert not wrong, "Translations that change the placeholders:\n  " + "\n  ".join(wrong)


def test_translations_can_be_formatted() -> None:
    """Templates %-format every message (newstyle gettext); Python code str.format()s them."""
    catalog = vi_catalog()
    broken: list[str] = []
    for msgid, (_forms, files) in extracted_messages().items():
        entry = catalog.get(msgid)
        if entry is None:
            continue  # reported by test_every_message_is_translated
        for translation in filter(None, msgstr_forms(entry)):
            try:
                if any(name.endswith(".html") for name in files):
                    names = {m.group(1) for m in _PERCENT_FIELD.finditer(translation)}
                    _ = translation % {name: 1 for name in names if name}
                brace = {m.group(1) for m in _BRACE_FIELD.finditer(translation)} - {None}
                if brace:
                    translation.format(**{name: "x" for name in brace})
            except (ValueError, KeyError, TypeError, IndexError) as exc:
                broken.append(f"{msgid!r} -> {translation!r}: {exc!r}")
    assert not broken, "Translations that break when formatted:\n  " + "\n  ".join(broken)


def test_catalog_parses_and_is_nfc() -> None:
    catalog = vi_catalog()
    assert str(catalog.locale) == "vi"
    raw = VI_PO.read_text(encoding="utf-8")
    # The header as written in the file (Catalog would fill these in from the locale).
    assert '"Language: vi\\n"' in raw
    assert '"Plural-Forms: nplurals=1; plural=0;\\n"' in raw
    not_nfc = [
        message.id
        for message in translated_messages()
        for translation in msgstr_forms(message)
        if not unicodedata.is_normalized("NFC", translation)
    ]
    assert not not_nfc, f"Translations not in Unicode NFC (normalise them): {not_nfc}"
    assert unicodedata.is_normalized("NFC", raw), "messages.po has text that is not NFC"


def test_i18n_gettext_follows_the_current_language() -> None:
    vietnamese = vi_catalog().get("Sign in")
    assert vietnamese is not None
    assert vietnamese.string
    token = i18n.current_language.set("vi")
    try:
        assert i18n.gettext("Sign in") == vietnamese.string == "Đăng nhập"
        assert i18n.ngettext("%(num)d minute", "%(num)d minutes", 5) == "%(num)d phút"
    finally:
        i18n.current_language.reset(token)
    token = i18n.current_language.set("en")
    try:
        assert i18n.gettext("Sign in") == "Sign in"
        assert i18n.ngettext("%(num)d minute", "%(num)d minutes", 1) == "%(num)d minute"
    finally:
        i18n.current_language.reset(token)
