"""Who is asking: the session cookie, the language, and the guards on each route."""

from __future__ import annotations

from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware import AbstractAuthenticationMiddleware, AuthenticationResult
from litestar.types import ASGIApp, Receive, Scope, Send

from congress.accounts import Permission, SignedInAccount, account_for_session
from congress.errors import NotSignedIn, PermissionDenied
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


def signed_in(connection: ASGIConnection[Any, Any, Any, Any]) -> SignedInAccount:
    account = connection.scope.get("user")
    if not isinstance(account, SignedInAccount):
        raise NotSignedIn("not_signed_in", N_("Please sign in first."))
    return account


def require(permission: Permission) -> Any:
    """A guard: the route needs a signed-in account whose roles grant this permission."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        if not signed_in(connection).can(permission):
            raise PermissionDenied("permission_denied", N_("Your role does not allow this."))

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
        raise PermissionDenied("bad_origin", N_("This page may not connect from another site."))
