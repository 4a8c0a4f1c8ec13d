"""Jinja pages: one environment over every domain's templates/, translated with gettext."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar import Request
from litestar.response import Template

from congress import i18n
from congress.accounts import ROLE_LABELS, Permission, SignedInAccount

ROOT = Path(__file__).resolve().parent.parent
TEMPLATE_DIRS = [
    ROOT / pkg / "templates" for pkg in ("congress", "checkin", "documents", "livestream")
]
STATIC_DIRS: list[str | Path] = [
    ROOT / pkg / "static" for pkg in ("congress", "checkin", "documents", "livestream")
]

DELEGATE_KIND_LABELS = {
    "official": i18n.N_("Official delegate"),
    "invited": i18n.N_("Invited delegate"),
    "guest": i18n.N_("Guest"),
}
SITTING_KIND_LABELS = {
    "preparatory": i18n.N_("Preparatory sitting"),
    "plenary": i18n.N_("Plenary sitting"),
    "closing": i18n.N_("Closing sitting"),
}
CARD_STATUS_LABELS = {
    "active": i18n.N_("active"),
    "replaced": i18n.N_("replaced"),
    "revoked": i18n.N_("revoked"),
}
GENDER_LABELS = {"male": i18n.N_("Male"), "female": i18n.N_("Female"), "": "—"}


def local_time(
    value: datetime.datetime | None, fmt: str = "%H:%M %d/%m/%Y", tz: str = "Asia/Ho_Chi_Minh"
) -> str:
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(tz)).strftime(fmt)


def local_date(value: datetime.date | None) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def file_size(size: int) -> str:
    for unit in ("B", "KB", "MB"):
        if size < 1024:
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size = size / 1024  # type: ignore[assignment]
    return f"{size:.1f} GB"


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader([str(d) for d in TEMPLATE_DIRS if d.exists()]),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=i18n.gettext, ngettext=i18n.ngettext, newstyle=True
    )
    from documents.vocabulary import ACCESS_LABELS, CATEGORY_LABELS

    env.globals.update(
        CATEGORY_LABELS=CATEGORY_LABELS,
        ACCESS_LABELS=ACCESS_LABELS,
        LANGUAGES=i18n.LANGUAGES,
        Permission=Permission,
        ROLE_LABELS=ROLE_LABELS,
        DELEGATE_KIND_LABELS=DELEGATE_KIND_LABELS,
        SITTING_KIND_LABELS=SITTING_KIND_LABELS,
        GENDER_LABELS=GENDER_LABELS,
        CARD_STATUS_LABELS=CARD_STATUS_LABELS,
    )
    env.filters.update(local_time=local_time, local_date=local_date, file_size=file_size)
    return env


def page(
    request: Request[Any, Any, Any], template: str, status_code: int = 200, **context: Any
) -> Template:
    """A console page with what every page needs: who is signed in, the language, the path."""
    account = request.scope.get("user")
    return Template(
        template_name=template,
        status_code=status_code,
        context={
            "account": account if isinstance(account, SignedInAccount) else None,
            "lang": i18n.current_language.get(),
            "path": request.url.path,
            "query": request.url.query,
            **context,
        },
    )
