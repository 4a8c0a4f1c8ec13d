"""Who is asking: the session cookie, the language, and the guards on each route."""

from __future__ import annotations

from typing import Any, NoReturn

from litestar.connection import ASGIConnection
from litestar.exceptions import WebSocketException
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp, Receive, Scope, Send

from congress.accounts import Permission, SignedInAccount, account_for_session
from congress.errors import CongressError, NotSignedIn, PermissionDenied
from congress.i18n import N_, current_language, pick_language

SESSION_COOKIE = "congress_session"
LANGUAGE_COOKIE = "congress_lang"


class SessionMiddleware(AbstractAuthenticationMiddleware):
    """Puts the signed-in account (or None) on ``request.user``; never refuses by itself."""

    async def authenticate_request(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> AuthenticationResult:
        token = connection.cookies.get(SESSION_COOKIE)
        account = await account_for_session(token) if token and len(token) < 100 else None
        return AuthenticationResult(user=account, auth=None)


class LanguageMiddleware:
    """Sets the language of this request: ?lang=, then the cookie, then the default."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in {"http", "websocket"}:
            await self.app(scope, receive, send)
            return
        connection: ASGIConnection[Any, Any, Any, Any] = ASGIConnection(scope)
        language = pick_language(
            connection.query_params.get("lang"), connection.cookies.get(LANGUAGE_COOKIE)
        )
        token = current_language.set(language)
        try:
            await self.app(scope, receive, send)
        finally:
            current_language.reset(token)


def refuse(connection: ASGIConnection[Any, Any, Any, Any], error: CongressError) -> NoReturn:
    """Raise the error; on a websocket, close with 4401/4403 so the client knows why."""
    if connection.scope["type"] == "websocket":
        raise WebSocketException(detail=error.code, code=4000 + error.status_code)
    raise error


def signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> SignedInAccount:
    account = connection.scope.get("user")
    if not isinstance(account, SignedInAccount):
        refuse(connection, NotSignedIn("not_signed_in", N_("Please sign in first.")))
    return account


def require(permission: Permission) -> Any:
    """A guard: the route needs a signed-in account whose roles grant this permission."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not signed_in(connection).can(permission):
            refuse(
                connection,
                PermissionDenied("permission_denied", N_("Your role does not allow this.")),
            )

    guard.__name__ = f"require_{permission.value}"
    return guard


def require_signed_in(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    signed_in(connection)


def origin_allowed(connection: ASGIConnection[Any, Any, Any, Any], public_url: str) -> bool:
    """A browser's websocket must come from a page of this site: the public URL or the
    host the browser asked for. Non-browser clients send no Origin and are let through to
    the usual authentication."""
    origin = connection.headers.get("origin")
    if origin is None:
        return True
    own = {public_url.rstrip("/")}
    host = connection.headers.get("host")
    if host:
        own |= {f"http://{host}", f"https://{host}"}
    return origin.rstrip("/") in own


def require_same_origin(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    if not origin_allowed(connection, connection.app.state.settings.public_url):
        refuse(
            connection,
            PermissionDenied("bad_origin", N_("Requests from another site are not accepted.")),
        )
