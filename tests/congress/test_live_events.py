"""The event feed over a real socket: a websockets client against the app under uvicorn."""

from __future__ import annotations

import asyncio
import json

import httpx
import pytest
import websockets

from congress import accounts
from tests.conftest import CSRF_COOKIE, LiveServer

pytestmark = pytest.mark.usefixtures("migrated")


async def next_event(socket: websockets.ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(socket.recv(), timeout=5))


async def test_the_console_feed_catches_up_then_goes_live(
    live_server: LiveServer, role_tokens, make_congress
) -> None:
    congress_id = await make_congress()
    cookie = {"congress_session": role_tokens["admin"]}
    feed = live_server.url.replace("http", "ws") + f"/api/congresses/{congress_id}/events/live"
    headers = {"Cookie": f"congress_session={role_tokens['admin']}", "Origin": live_server.url}

    async with websockets.connect(feed + "?after=0", additional_headers=headers) as socket:
        assert (await next_event(socket))["type"] == "CongressCreated"
        async with httpx.AsyncClient(base_url=live_server.url, cookies=cookie) as http:
            await http.get("/login")
            response = await http.post(
                f"/api/congresses/{congress_id}/sittings",
                json={"title": "Phiên chính thức thứ nhất", "kind": "plenary"},
                headers={"x-csrf-token": http.cookies[CSRF_COOKIE]},
            )
            assert response.status_code == 201, response.text
        event = await next_event(socket)
        assert event["type"] == "SittingAdded"
        assert event["seq"] == 2
        assert event["payload"] == {"sitting_id": response.json()["id"]}

    # A screen that was away asks for what it missed, by sequence number.
    async with websockets.connect(feed + "?after=1", additional_headers=headers) as socket:
        assert (await next_event(socket))["seq"] == 2


async def test_the_feed_refuses_strangers(live_server: LiveServer, role_tokens, make_congress):
    congress_id = await make_congress()
    feed = live_server.url.replace("http", "ws") + f"/api/congresses/{congress_id}/events/live"
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(feed):
            pass
    stranger = {
        "Cookie": f"congress_session={role_tokens['admin']}",
        "Origin": "http://evil.example",
    }
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(feed, additional_headers=stranger):
            pass
    tally = {"Cookie": f"congress_session={role_tokens['tally']}"}
    with pytest.raises(websockets.InvalidStatus):
        async with websockets.connect(feed, additional_headers=tally):
            pass
    assert accounts.Role.TALLY.value == "tally"
