"""The application factory: ``congress.app:create_app``."""

from __future__ import annotations

import gc
import html
import logging
import re
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.base import ChannelsBackend
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.config.csrf import CSRFConfig
from litestar.datastructures import MutableScopeHeaders
from litestar.exceptions import HTTPException, ValidationException
from litestar.middleware import DefineMiddleware
from litestar.openapi.config import OpenAPIConfig
from litestar.openapi.plugins import SwaggerRenderPlugin
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.response import Redirect
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import (
    ASGIApp,
    BeforeMessageSendHookHandler,
    Message,
    Receive,
    Scope,
    Send,
    WebSocketAcceptEvent,
    WebSocketCloseEvent,
)

from congress import database, i18n
from congress.auth import LanguageMiddleware, SessionMiddleware
from congress.errors import CongressError
from congress.eventlog import RecordedEvent, congress_channel, use_event_bus
from congress.i18n import N_
from congress.settings import Settings, check_settings, get_settings
from congress.templating import STATIC_DIRS, make_environment, page

log = logging.getLogger("congress")

# Paths where no organizer signs in: no session look-up (one query fewer on every scan
# and every delegate's page). Tablets and delegates have their own credentials.
NO_ORGANIZER_SESSION = [  # regular expressions, searched in the path: anchored
    "^/static/",
    "^/schema",
    "^/favicon.ico$",
    "^/[DdPpSs]/",
    "^/delegate(/|$)",
    "^/checkin/",
    "^/api/checkin/device/",
    "^/live/",
    "^/health$",
]


class ChannelsEventBus:
    """Publishes committed events on the congress's channel of Litestar Channels."""

    def __init__(self, channels: ChannelsPlugin) -> None:
        self.channels = channels

    def publish(self, events: Sequence[RecordedEvent]) -> None:
        for event in events:
            if event.congress is not None:
                self.channels.publish(msgspec.json.encode(event), congress_channel(event.congress))


def channels_backend(settings: Settings) -> ChannelsBackend:
    """In one process, events go from memory to the subscribers; with a Redis URL, through
    Redis pub/sub, so a screen on instance A sees a change made through instance B, mended
    from the event log when Redis loses a message (congress.live_backend). Neither keeps
    history: a screen's state comes from the database, and what it missed from the event
    log by sequence number."""
    if settings.redis_url:
        from congress.live_backend import CongressRedisBackend

        return CongressRedisBackend(settings.redis_url)
    return MemoryChannelsBackend(history=0)


def _wants_json(request: Request[Any, Any, Any]) -> bool:
    return request.url.path.startswith("/api/") or "application/json" in request.headers.get(
        "accept", ""
    )


def error_response(
    request: Request[Any, Any, Any],
    status_code: int,
    code: str,
    message: str,
    **extra: Any,
) -> Response[Any]:
    if _wants_json(request):
        return Response({"code": code, "message": message, **extra}, status_code=status_code)
    if request.url.path.startswith(("/delegate", "/D/", "/d/", "/checkin", "/P/", "/p/")):
        return page(request, "card_problem.html", status_code=status_code, message=message)
    if status_code == 401:
        return Redirect(f"/login?next={request.url.path}")
    return page(request, "error.html", status_code=status_code, code=code, message=message)


def handle_congress_error(request: Request[Any, Any, Any], exc: CongressError) -> Response[Any]:
    extra: dict[str, Any] = {}
    if getattr(exc, "field", None):
        extra["field"] = exc.field  # type: ignore[attr-defined]
    return error_response(
        request, exc.status_code, exc.code, i18n.translate(exc.message, **exc.params), **extra
    )


def handle_validation_error(
    request: Request[Any, Any, Any], exc: ValidationException
) -> Response[Any]:
    errors = [
        {"field": str(e.get("key", "")), "message": str(e.get("message", ""))}
        for e in (exc.extra if isinstance(exc.extra, list) else [])
        if isinstance(e, dict)
    ]
    return error_response(
        request,
        400,
        "invalid_input",
        i18n.translate(N_("Some of what was sent is not valid.")),
        errors=errors,
    )


HTTP_MESSAGES = {
    401: ("not_signed_in", N_("Please sign in first.")),
    403: ("forbidden", N_("You may not do this.")),
    404: ("not_found", N_("There is nothing at this address.")),
    405: ("method_not_allowed", N_("This address does not accept that request.")),
    413: ("too_large", N_("What was sent is too large.")),
    429: ("too_many_requests", N_("Too many requests; please wait a moment.")),
}


def handle_http_error(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    if exc.status_code == 403 and "CSRF" in str(exc.detail):
        return error_response(
            request,
            403,
            "csrf_failed",
            i18n.translate(N_("This form has expired. Go back, reload the page and try again.")),
        )
    code, message = HTTP_MESSAGES.get(
        exc.status_code, ("http_error", N_("This request could not be handled."))
    )
    if exc.status_code == 400:
        code, message = "bad_request", N_("This request is malformed.")
    return error_response(request, exc.status_code, code, i18n.translate(message))


# A client told "503" comes back after this many seconds (the tablets' queue, a browser).
RETRY_AFTER_S = 5


def handle_outage(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    """The database or the disk failed: 503 with what it was, and no stack trace."""
    outage = database.outage(exc) or database.DatabaseUnavailable()
    cause = exc.__cause__ if isinstance(exc, database.Outage) and exc.__cause__ else exc
    log.warning("%s on %s %s: %r", outage.code, request.method, request.url.path, cause)
    response = error_response(request, 503, outage.code, i18n.translate(outage.message))
    response.headers["retry-after"] = str(RETRY_AFTER_S)
    return response


def handle_unexpected(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if database.outage(exc) is not None:
        return handle_outage(request, exc)
    log.error("unexpected error on %s %s", request.method, request.url.path, exc_info=exc)
    return error_response(
        request,
        500,
        "internal_error",
        i18n.translate(N_("Something went wrong on our side. Nothing was changed; try again.")),
    )


class RedactCardTokens(logging.Filter):
    """Card tokens, screen keys and pairing codes are secrets: the access log shows /D/…,
    /S/… and /P/… instead of them."""

    pattern = re.compile(r"(/[DdPpSs]/)[A-Za-z0-9]{8,64}")

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                self.pattern.sub(r"\1…", a) if isinstance(a, str) else a for a in record.args
            )
        record.msg = self.pattern.sub(r"\1…", str(record.msg))
        return True


def server_timing(app: ASGIApp) -> ASGIApp:
    """Adds ``Server-Timing: app;dur=<ms>``: the benchmarks read the server's own time."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        started = time.perf_counter()

        async def timed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                elapsed = (time.perf_counter() - started) * 1000
                headers = list(message.get("headers", []))
                headers.append((b"server-timing", f"app;dur={elapsed:.2f}".encode()))
                message = {**message, "headers": headers}
            await send(message)

        await app(scope, receive, timed_send)

    return middleware


def websocket_outages(app: ASGIApp) -> ASGIApp:
    """A websocket whose database or disk fails closes with 1013, "try again later" (the
    screens, phones and consoles reconnect with back-off), with one line in the log."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "websocket":
            await app(scope, receive, send)
            return
        accepted = False

        async def noting_send(message: Message) -> None:
            nonlocal accepted
            accepted = accepted or message["type"] == "websocket.accept"
            await send(message)

        try:
            await app(scope, receive, noting_send)
        except Exception as error:
            outage = database.outage(error)
            if outage is None:
                raise
            log.warning("%s on websocket %s: %r", outage.code, scope["path"], error)
            if not accepted:  # a close before the accept reaches a browser as a bare 403
                accept: WebSocketAcceptEvent = {
                    "type": "websocket.accept",
                    "subprotocol": None,
                    "headers": [],
                }
                await send(accept)
            close: WebSocketCloseEvent = {
                "type": "websocket.close",
                "code": 1013,
                "reason": outage.code,
            }
            await send(close)

    return middleware


# Every HTML page: our own scripts, styles and fonts only, no inline script or style, no
# plugin, no framing. Pictures may be data: (QR codes) or blob: (the scan page's camera
# frames), media blob: (HLS through Media Source). The sockets are named for the request's
# host besides 'self', as on the live page: Safari before 15.4 did not count ws: as 'self'.
PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'{sockets}; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")
# Framed by our own pages: the console's document viewer shows a PDF in an iframe.
FRAMED_BY_OUR_PAGES = re.compile(r"^/api/congresses/\d+/documents/\d+/versions/\d+/file$")
HSTS = "max-age=31536000"
CSRF_COOKIE = "congress_csrf"
CSRF_HEADER = "x-csrf-token"


def security_headers(hsts: bool) -> BeforeMessageSendHookHandler:
    """A before-send hook adding the security headers to every response, error pages and
    404s included. A header a handler set itself wins: the live page's policy (framed by
    any site), the delegate pages' ``no-referrer``."""

    async def add_headers(message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        headers = MutableScopeHeaders.from_message(message)
        path: str = scope["path"]
        defaults = {"x-content-type-options": "nosniff", "referrer-policy": "same-origin"}
        if not path.startswith("/live/"):
            framing = "SAMEORIGIN" if FRAMED_BY_OUR_PAGES.match(path) else "DENY"
            defaults["x-frame-options"] = framing
        if hsts:
            defaults["strict-transport-security"] = HSTS
        if headers.get("content-type", "").startswith("text/html"):
            defaults["content-security-policy"] = page_policy(scope)
        for name, value in defaults.items():
            if name not in headers:
                headers[name] = value

    return add_headers


def page_policy(scope: Scope) -> str:
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), "")
    sockets = f" ws://{host} wss://{host}" if _HOST.match(host) else ""
    return PAGE_POLICY.format(sockets=sockets)


class SwaggerPage(SwaggerRenderPlugin):
    """Swagger UI on /schema, started by a static script (congress/static/swagger-init.js)
    that fetches the schema: the page falls under the same policy as every other page."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        title = html.escape(str(openapi_schema["info"]["title"]))
        return f"""<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title>
<link rel="stylesheet" href="{self.css_url}">
<script src="{self.js_url}" defer></script>
<script src="{self.standalone_preset_js_url}" defer></script>
<script src="/static/swagger-init.js" defer></script>
</head>
<body>
<div id="swagger-container" data-spec="/schema/openapi.json"
  data-csrf-cookie="{CSRF_COOKIE}" data-csrf-header="{CSRF_HEADER}"></div>
</body>
</html>
""".encode()


@get("/health", include_in_schema=False)
async def health() -> Response[dict[str, str]]:
    """For a load balancer: 200 while the database answers, 503 while it does not."""
    ok = await database.answers()
    return Response(
        {"database": "ok" if ok else "unavailable"},
        status_code=200 if ok else 503,
        headers={"cache-control": "no-store"},
    )


def create_app(settings: Settings | None = None) -> Litestar:
    settings = settings or get_settings()
    check_settings(settings)
    from checkin.console import AttendancePages, DevicePages
    from checkin.controllers import DeviceController, Pairing, ScanPage
    from checkin.pages import CardPages
    from congress.controllers import AccountController, CongressController, EventLogController
    from congress.delegates.controllers import DelegateController, DelegateImportController
    from congress.delegates.pages import DelegatePages
    from congress.pages import AccountPages, ConsolePages, SignInPages
    from congress.voting.controllers import PollController
    from congress.voting.pages import PollPages
    from congress.voting.portal import DelegatePolls
    from congress.voting.ticker import turnout_ticker
    from documents.controllers import ArchiveController, DocumentController
    from documents.minutes_pages import MinutesPages
    from documents.pages import DocumentPages
    from documents.portal import CardAddress, DelegatePortal
    from livestream.public.controllers import LiveFeeds, LivePage, StreamController, StreamPages
    from livestream.screens.controllers import ScreenAddress, ScreenPages
    from livestream.speakers.controllers import DelegateSpeakers, SpeakerController, SpeakerPages

    channels = ChannelsPlugin(
        backend=channels_backend(settings),
        arbitrary_channels_allowed=True,
    )

    # The access log, and this module's own lines, which name the path of a failed request.
    for logger in (logging.getLogger("uvicorn.access"), log):
        if not any(isinstance(f, RedactCardTokens) for f in logger.filters):
            logger.addFilter(RedactCardTokens())

    @asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        previous = use_event_bus(ChannelsEventBus(channels))
        async with (
            database.database_pool(settings.db_pool_size),
            turnout_ticker(settings.turnout_interval),
        ):
            if gc.get_freeze_count() == 0:
                # What exists once the app has started lives as long as the process: out of
                # the collector's way, a full collection with thousands of open sockets takes
                # a fraction of the time.
                gc.freeze()
            try:
                yield
            finally:
                use_event_bus(previous)
                limits = app.state.get("rate_limits")  # made on first use
                if limits is not None:
                    await limits.close()  # its Redis connections, if any

    app = Litestar(
        route_handlers=[
            SignInPages,
            ConsolePages,
            DelegatePages,
            AccountPages,
            CongressController,
            EventLogController,
            DelegateController,
            DelegateImportController,
            AccountController,
            DocumentController,
            ArchiveController,
            DocumentPages,
            MinutesPages,
            CardAddress,
            DelegatePortal,
            CardPages,
            Pairing,
            ScanPage,
            DeviceController,
            DevicePages,
            AttendancePages,
            PollController,
            DelegatePolls,
            StreamController,
            LiveFeeds,
            LivePage,
            StreamPages,
            ScreenPages,
            ScreenAddress,
            SpeakerController,
            DelegateSpeakers,
            SpeakerPages,
            PollPages,
            health,
            create_static_files_router(
                path="/static", directories=list(STATIC_DIRS), include_in_schema=False
            ),
        ],
        lifespan=[lifespan],
        plugins=[channels],
        middleware=[
            server_timing,
            websocket_outages,
            LanguageMiddleware,
            DefineMiddleware(SessionMiddleware, exclude=NO_ORGANIZER_SESSION),
        ],
        csrf_config=CSRFConfig(
            secret=settings.secret_key,
            cookie_name=CSRF_COOKIE,
            cookie_secure=settings.secure_cookies,
            cookie_httponly=False,  # the API page and our scripts send it back as a header
            cookie_samesite="strict",
            header_name=CSRF_HEADER,
            # The card address is opened by a phone camera: a GET with no form to protect.
            # Tablets prove themselves with a header a foreign page cannot send (see
            # checkin.controllers), not with a form token.
            # The public live page takes no form and sets no cookie for its readers.
            exclude=["/schema", "/api/checkin/device", "^/live/"],
        ),
        template_config=TemplateConfig(
            engine=JinjaTemplateEngine.from_environment(make_environment())
        ),
        openapi_config=OpenAPIConfig(
            title="Congress",
            version="0.1.0",
            description="The congress API. Sign in on /login first; the session cookie and "
            "the CSRF cookie are sent with each request.",
            path="/schema",
            render_plugins=[
                SwaggerPage(
                    js_url="/static/vendor/swagger-ui/swagger-ui-bundle.js",
                    css_url="/static/vendor/swagger-ui/swagger-ui.css",
                    standalone_preset_js_url="/static/vendor/swagger-ui/swagger-ui-standalone-preset.js",
                    path="/",
                )
            ],
        ),
        exception_handlers={
            database.Outage: handle_outage,
            CongressError: handle_congress_error,
            ValidationException: handle_validation_error,
            HTTPException: handle_http_error,
            Exception: handle_unexpected,
        },
        before_send=[security_headers(hsts=settings.secure_cookies)],
        request_max_body_size=20 * 1024 * 1024,
        debug=settings.debug,
    )
    app.state.settings = settings
    app.state.channels = channels
    return app
