"""PDFs made by the system (minutes, later cards and protocols), with WeasyPrint.

WeasyPrint fetches nothing from the network and reads no file outside the app's own static
folders: ``safe_fetcher`` refuses everything else, so a title or a name that smuggles a
``url()`` or an ``<img src>`` into a page fetches nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from congress.templating import STATIC_DIRS, make_environment

_ALLOWED_ROOTS = [Path(d).resolve() for d in STATIC_DIRS]


class FetchRefused(Exception):
    """WeasyPrint asked for something outside the app's own assets."""


def safe_fetcher(url: str, timeout: int = 10, ssl_context: Any = None) -> dict[str, Any]:
    parts = urlsplit(url)
    if parts.scheme == "file":
        path = Path(unquote(parts.path)).resolve()
        if any(path.is_relative_to(root) for root in _ALLOWED_ROOTS) and path.is_file():
            return {"file_obj": path.open("rb"), "redirected_url": url}
    raise FetchRefused(url)


def render_pdf(template: str, **context: Any) -> bytes:
    """A Jinja template (with the app's translations) rendered to PDF bytes."""
    from weasyprint import HTML

    html = make_environment().get_template(template).render(**context)
    base = Path(STATIC_DIRS[0]).resolve().as_uri() + "/"
    pdf: bytes = HTML(string=html, base_url=base, url_fetcher=safe_fetcher).write_pdf()
    return pdf
