"""A screen's feed over a real socket: a websockets client against the app under uvicorn,
through a server restart, a revocation and a stranger's page."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
import websockets

from congress.auth import SESSION_COOKIE
from congress.eventlog import SYSTEM, RecordingEventBus, events_of
from livestream.screens import services
from livestream.screens.schemas import ScreenContent
from tests.conftest import CSRF_COOKIE, LiveServer
from tests.livestream.screen_fixtures import make_screen

pytestmark = pytest.mark.usefixtures("bus")


async def received(socket: websockets.ClientConnection, wait: float = 5) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(socket.recv(), timeout=wait))
    return message


async def closed(socket: websockets.ClientConnection) -> websockets.ConnectionClosed:
    """Reads on until the server closes the socket; the close, as the client saw it."""
    try:
        while True:
            await received(socket)
    except websockets.ConnectionClosed as close:
        return close


async def until_state(
    socket: websockets.ClientConnection, seen: list[int], wait: float = 5
) -> dict[str, Any]:
    """Messages up to the next state; the events' numbers go into ``seen``."""
    while True:
        message = await received(socket, wait)
        if "event" in message:
            seen.append(message["event"]["seq"])
        if "state" in message:
            state: dict[str, Any] = message["state"]
            return state


def feed(server: LiveServer, key: str, after: int) -> str:
    return server.url.replace("http", "ws") + f"/S/{key}/live?after={after}"


async def presidium_post(
    server: LiveServer, token: str, path: str, form: dict[str, str]
) -> httpx.Response:
    async with httpx.AsyncClient(base_url=server.url, cookies={SESSION_COOKIE: token}) as http:
        await http.get("/login")
        return await http.post(
            path, data={**form, "_csrf_token": http.cookies[CSRF_COOKIE]}, follow_redirects=False
        )


async def test_a_screen_loses_no_event_across_a_server_restart(
    live_server: LiveServer,
    role_tokens: dict[str, str],
    make_congress: Callable[..., Awaitable[int]],
) -> None:
    congress_id = await make_congress()
    screen_id, key = await make_screen(congress_id)
    console = f"/console/congresses/{congress_id}/screens"
    token = role_tokens["presidium"]
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        first = (await http.get(f"/S/{key}/state")).json()
    seen: list[int] = []
    async with websockets.connect(feed(live_server, key, first["seq"])) as socket:
        assert (await until_state(socket, seen))["view"]["kind"] == "title"
        response = await presidium_post(
            live_server, token, f"{console}/announcement", {"announcement": "Xin chào"}
        )
        assert response.status_code in {302, 303}
        state = await until_state(socket, seen)
        assert state["announcement"] == "Xin chào"

        live_server.stop()
        await closed(socket)
    # While the server is away, the presidium's changes go on (another instance, say).
    await services.set_screen_content(
        congress_id, screen_id, ScreenContent(kind="announcement"), SYSTEM
    )
    await services.set_announcement(congress_id, "Nghỉ giải lao 15 phút", SYSTEM)
    await live_server.start()
    # Right after the restart, before the screen is back.
    response = await presidium_post(
        live_server, token, f"{console}/announcement", {"announcement": "Mời đại biểu về chỗ"}
    )
    assert response.status_code in {302, 303}

    async with websockets.connect(feed(live_server, key, max(seen))) as socket:
        state = await until_state(socket, seen)
        assert state["view"] == {
            "kind": "announcement",
            "text": "Mời đại biểu về chỗ",
            "mode": "full",
        }
        await presidium_post(live_server, token, f"{console}/announcement", {"clear": "1"})
        assert (await until_state(socket, seen))["announcement"] == ""

    logged = [e.seq for e in await events_of(congress_id, after_seq=first["seq"])]
    assert seen == logged  # every one, once, in order
    assert len(logged) == 5


async def test_a_revoked_screen_is_cut_off_at_once(
    live_server: LiveServer, make_congress: Callable[..., Awaitable[int]]
) -> None:
    congress_id = await make_congress()
    screen_id, key = await make_screen(congress_id)
    async with websockets.connect(feed(live_server, key, 0)) as socket:
        await until_state(socket, [])
        await services.revoke_screen(congress_id, screen_id, SYSTEM)
        # Made in this process, which shares no channel with the server: the state says so
        # at once, and the feed at its next heartbeat.
        async with httpx.AsyncClient(base_url=live_server.url) as http:
            assert (await http.get(f"/S/{key}/state")).status_code == 410
    with pytest.raises(websockets.InvalidStatus) as refused:
        async with websockets.connect(feed(live_server, key, 0)):
            pass
    assert refused.value.response.status_code == 403


async def test_revoking_from_the_console_closes_the_feed_with_4403(
    live_server: LiveServer,
    role_tokens: dict[str, str],
    make_congress: Callable[..., Awaitable[int]],
) -> None:
    congress_id = await make_congress()
    screen_id, key = await make_screen(congress_id)
    async with websockets.connect(feed(live_server, key, 0)) as socket:
        await until_state(socket, [])
        response = await presidium_post(
            live_server,
            role_tokens["admin"],
            f"/console/congresses/{congress_id}/screens/{screen_id}/revoke",
            {},
        )
        assert response.status_code in {302, 303}
        close = await closed(socket)
        assert close.rcvd is not None
        assert close.rcvd.code == 4403


async def test_unknown_keys_and_strangers_pages_are_refused(
    live_server: LiveServer, make_congress: Callable[..., Awaitable[int]]
) -> None:
    congress_id = await make_congress()
    _, key = await make_screen(congress_id)
    for url, headers in (
        (feed(live_server, "A" * 26, 0), {}),
        (feed(live_server, key, 0), {"Origin": "http://evil.example"}),
    ):
        with pytest.raises(websockets.InvalidStatus):
            async with websockets.connect(url, additional_headers=headers):
                pass
    async with websockets.connect(
        feed(live_server, key, 0), additional_headers={"Origin": live_server.url}
    ) as socket:
        assert (await until_state(socket, []))["view"]["kind"] == "title"


async def test_a_screen_hears_only_numbers_of_what_it_may_not_show(
    live_server: LiveServer,
    make_congress: Callable[..., Awaitable[int]],
    bus: RecordingEventBus,
) -> None:
    """Events reach the screen as a number and, for what screens show, a type: no payload."""
    congress_id = await make_congress()
    other = await make_congress()
    _, key = await make_screen(congress_id)
    await make_screen(other, "Màn hình sảnh")
    async with websockets.connect(feed(live_server, key, 0)) as socket:
        messages = []
        while True:
            message = await received(socket)
            messages.append(message)
            if "state" in message:
                break
    events = [m["event"] for m in messages if "event" in m]
    assert [e["seq"] for e in events] == [1, 2]  # this congress's only
    assert events[1] == {"seq": 2, "type": "ScreenRegistered"}
    assert all(set(e) == {"seq", "type"} for e in events)
    assert events[0]["type"] == "CongressCreated"
