"""HTML form posts into the same msgspec schemas the JSON API uses."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec
from litestar import Request

from congress.errors import InvalidInput
from congress.i18n import N_, gettext

T = TypeVar("T", bound=msgspec.Struct)
_FIELD = re.compile(r"\$\.(\w+)")
# <input type="datetime-local"> sends minutes only; ISO 8601 parsers want the seconds.
_MINUTES_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$")

FIELD_LABELS = {
    "name": N_("Name"),
    "number": N_("Number"),
    "term": N_("Term"),
    "organizing_union": N_("Organizing union"),
    "venue": N_("Venue"),
    "starts_on": N_("Starts on"),
    "ends_on": N_("Ends on"),
    "title": N_("Title"),
    "starts_at": N_("Starts at"),
    "location": N_("Location"),
    "presenter": N_("Presenter"),
    "duration_minutes": N_("Duration (minutes)"),
    "full_name": N_("Full name"),
    "unit": N_("Unit"),
    "position": N_("Position"),
    "kind": N_("Kind"),
    "gender": N_("Gender"),
    "birth_year": N_("Birth year"),
    "card_number": N_("Card number"),
    "photo": N_("Photo file"),
    "delegation_id": N_("Delegation"),
    "code": N_("Code"),
    "username": N_("User name"),
    "password": N_("Password"),
    "roles": N_("Roles"),
}

MULTI_VALUED = {"roles"}


async def read_form(request: Request[Any, Any, Any]) -> dict[str, Any]:
    """The form's text fields. A field the handler does not know is ignored, not refused:
    browsers send more than the fields (the button pressed, the CSRF token). A NUL character
    is refused here, in any field: no one types it, and PostgreSQL can neither store nor
    compare text holding it."""
    form = await request.form()
    values: dict[str, Any] = {}
    for key in form:
        if key.startswith("_"):
            continue
        if key in MULTI_VALUED:
            values[key] = [v for v in form.getall(key) if isinstance(v, str)]
        elif isinstance(form.get(key), str):
            values[key] = form.get(key)
        texts = values.get(key, [])
        if any("\x00" in text for text in ([texts] if isinstance(texts, str) else texts)):
            raise invalid_field(key)
    return values


def invalid_field(field: str | None) -> InvalidInput:
    return InvalidInput(
        "invalid_field",
        N_("The field “{label}” is not valid."),
        field=field,
        label=gettext(FIELD_LABELS.get(field or "", field or "?")),
    )


def form_id(form: dict[str, Any], field: str) -> int | None:
    """A row's id chosen in a form, or None when the field holds none (empty, not a number,
    or beyond the database's integers)."""
    text = str(form.get(field, "")).strip()
    if text.isascii() and text.isdecimal() and 0 < int(text) < 2**31:
        return int(text)
    return None


def form_number(form: dict[str, Any], field: str, low: int = 1, high: int = 2**31 - 1) -> int:
    """A whole number typed in a form, between ``low`` and ``high``: anything else is
    refused with the field named. ``str.isdigit`` is not the check: it holds for "²", which
    ``int`` refuses, and it sets no bound (the database's integers end at 2**31 - 1)."""
    text = str(form.get(field, "")).strip()
    if not (text.isascii() and text.isdecimal()) or not low <= int(text) <= high:
        raise invalid_field(field)
    return int(text)


def parse_form(schema: type[T], form: dict[str, Any]) -> T:
    """The form's values as ``schema``; an empty optional field is None, not an error."""
    fields = {f.name: f for f in msgspec.structs.fields(schema)}
    values = {}
    for key, value in form.items():
        if key not in fields:
            continue
        if value == "" and fields[key].default is None:
            continue
        if isinstance(value, str) and _MINUTES_ONLY.match(value):
            value += ":00"
        values[key] = value
    try:
        return msgspec.convert(values, schema, strict=False)
    except msgspec.ValidationError as exc:
        match = _FIELD.search(str(exc))
        raise invalid_field(match.group(1) if match else None) from None
