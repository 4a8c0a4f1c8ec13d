"""PDFs made by the system (minutes, later cards and protocols), with WeasyPrint.

WeasyPrint fetches nothing from the network and reads no file outside the app's own static
folders: ``safe_fetcher`` refuses everything else, so a title or a name that smuggles a
``url()`` or an ``<img src>`` into a page fetches nothing.
"""

from __future__ import annotations

import asyncio
import mimetypes
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

from congress.templating import STATIC_DIRS, make_environment

_STATIC_BASE = Path(STATIC_DIRS[0]).resolve().as_uri() + "/"  # relative URLs in our pages
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


def app_fetcher() -> Any:
    """WeasyPrint's fetcher for every PDF of the app: ``data:`` URIs are read in place, the
    rest goes through safe_fetcher (the app's static files or nothing)."""
    from weasyprint.urls import URLFetcher, URLFetcherResponse

    class AppFetcher(URLFetcher):
        def fetch(self, url: str, headers: Any = None) -> Any:
            if url.startswith("data:"):
                return super().fetch(url, headers)
            found = safe_fetcher(url)
            media_type = mimetypes.guess_type(found["redirected_url"])[0]
            # WeasyPrint ignores a stylesheet that does not say it is text/css.
            response_headers = {"Content-Type": media_type or "application/octet-stream"}
            return URLFetcherResponse(found["redirected_url"], found["file_obj"], response_headers)

    return AppFetcher(allowed_protocols=("data", "file"), fail_on_errors=True)


def write_pdf(html: str, base_url: str) -> bytes:
    """HTML to PDF with the app's fetcher; a refused fetch is an ordinary error."""
    from weasyprint import HTML
    from weasyprint.urls import FatalURLFetchingError

    try:
        pdf: bytes = HTML(string=html, base_url=base_url, url_fetcher=app_fetcher()).write_pdf()
    except FatalURLFetchingError as error:
        raise FetchRefused(str(error)) from None
    return pdf


def render_pdf(template: str, **context: Any) -> bytes:
    """A Jinja template (with the app's translations) rendered to PDF bytes."""
    html = make_environment().get_template(template).render(**context)
    return write_pdf(html, _STATIC_BASE)


_apart: ProcessPoolExecutor | None = None


def _process_pool() -> ProcessPoolExecutor:
    """One WeasyPrint worker process for the app's official papers, made on first use."""
    global _apart
    if _apart is None:
        _apart = ProcessPoolExecutor(
            max_workers=1, mp_context=multiprocessing.get_context("forkserver")
        )
    return _apart


async def render_pdf_apart(template: str, **context: Any) -> bytes:
    """render_pdf, with the layout (the long part) in a worker process.

    A tally protocol is made the moment a poll closes, exactly when the screens and the
    phones are being sent the result: WeasyPrint in a thread of the app's own process
    would hold the interpreter lock the event loop needs to send those frames. The page is
    rendered here, in the caller's language, and laid out there.
    """
    html = make_environment().get_template(template).render(**context)
    return await write_pdf_apart(html)


async def write_pdf_apart(html: str) -> bytes:
    """write_pdf in the worker process; in a thread when the worker has died."""
    try:
        return await asyncio.get_running_loop().run_in_executor(
            _process_pool(), write_pdf, html, _STATIC_BASE
        )
    except BrokenProcessPool:
        # The worker died (killed, out of memory): a new one next time; this paper in a
        # thread, so that it is made all the same.
        _forget_pool()
        return await asyncio.to_thread(write_pdf, html, _STATIC_BASE)


def _forget_pool() -> None:
    global _apart
    broken, _apart = _apart, None
    if broken is not None:
        broken.shutdown(wait=False, cancel_futures=True)
