"""CSRF on every form post: each route that changes something refuses a request that carries
the site's cookies but not the token — what a forged form on another site would send."""

from __future__ import annotations

import re

import pytest
from litestar import Litestar
from litestar.testing import AsyncTestClient

from congress.app import CSRF_COOKIE, create_app
from tests.congress.test_permission_matrix import served_routes

UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}
# Where the CSRF token is not the protection, and why:
NOT_BY_TOKEN = {
    # The tablet's API: its cookie is SameSite=Strict and every call must carry a custom
    # header that a page of another site cannot send (checkin.controllers.device_guard).
    "/api/checkin/device/",
}


def _unsafe_routes() -> list[tuple[str, str]]:
    return sorted((m, p) for m, p in served_routes(create_app()) if m in UNSAFE)


def _filled(template: str) -> str:
    """The path with every parameter given a value of its type (the token is checked before
    the route's handler ever looks at them)."""
    return re.sub(r"\{(\w+):(\w+)\}", lambda m: "1" if m[2] == "int" else "x", template)


def test_only_the_tablet_api_does_without_the_token() -> None:
    spared = [(m, p) for m, p in _unsafe_routes() if any(p.startswith(s) for s in NOT_BY_TOKEN)]
    assert spared, "the tablet's API is gone: update NOT_BY_TOKEN"
    assert not [p for _, p in _unsafe_routes() if p.startswith(("/live/", "/schema"))], (
        "the public live page and the API document are spared the token: they must take no writes"
    )


@pytest.mark.parametrize(
    ("method", "template"),
    [(m, p) for m, p in _unsafe_routes() if not any(p.startswith(s) for s in NOT_BY_TOKEN)],
    ids=lambda value: str(value),
)
async def test_a_change_without_the_token_is_refused(
    method: str, template: str, app: Litestar, role_tokens: dict[str, str]
) -> None:
    async with AsyncTestClient(app=app, base_url="http://testserver.local") as client:
        client.cookies.set("congress_session", role_tokens["admin"])
        await client.get("/login")  # the browser holds the CSRF cookie
        assert client.cookies.get(CSRF_COOKIE)
        for forged in ({}, {"_csrf_token": "forged"}):
            response = await client.request(
                method,
                _filled(template),
                data=forged,
                headers={"origin": "http://evil.example"},
                follow_redirects=False,
            )
            assert response.status_code == 403, (method, template, response.status_code)
            # Told plainly, in the language of the page: the form is stale, reload it.
            assert "Biểu mẫu này đã hết hạn" in response.text
