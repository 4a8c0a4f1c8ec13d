"""The live feed between instances survives Redis restarting and mends lost messages from the
event log: a console watching the congress gets every event, in order, exactly once."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
import websockets

from congress import services
from congress.auth import SESSION_COOKIE
from congress.eventlog import SYSTEM
from congress.schemas import SittingIn
from tests.conftest import CSRF_COOKIE, LiveServer, RedisServer


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
async def instance(redis_server: RedisServer) -> AsyncIterator[LiveServer]:
    server = LiveServer(env={"CONGRESS_REDIS_URL": redis_server.url})
    await server.start()
    try:
        yield server
    finally:
        server.stop()


async def _add_sitting(server: LiveServer, token: str, congress_id: int, title: str) -> int:
    async with httpx.AsyncClient(base_url=server.url, cookies={SESSION_COOKIE: token}) as client:
        await client.get("/login")
        response = await client.post(
            f"/api/congresses/{congress_id}/sittings",
            json={"title": title, "kind": "plenary"},
            headers={"x-csrf-token": client.cookies[CSRF_COOKIE]},
        )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


async def _receive(socket: websockets.ClientConnection, count: int) -> list[dict]:
    return [json.loads(await asyncio.wait_for(socket.recv(), timeout=20)) for _ in range(count)]


async def test_a_redis_restart_loses_no_event(
    instance: LiveServer, redis_server: RedisServer, role_tokens: dict[str, str], make_congress
) -> None:
    congress_id = await make_congress()
    url = instance.url.replace("http://", "ws://") + f"/api/congresses/{congress_id}/events/live"
    headers = {"Cookie": f"{SESSION_COOKIE}={role_tokens['admin']}", "Origin": instance.url}
    async with websockets.connect(url, additional_headers=headers) as socket:
        [created] = await _receive(socket, 1)  # from the log: the congress's creation
        await _add_sitting(instance, role_tokens["admin"], congress_id, "Trước khi Redis tắt")
        [before] = await _receive(socket, 1)

        redis_server.stop()
        # Made while Redis is away: the change is saved, and the console still hears of it.
        during = await _add_sitting(instance, role_tokens["admin"], congress_id, "Khi Redis tắt")
        [while_down] = await _receive(socket, 1)
        redis_server.start()
        await asyncio.sleep(1)
        await _add_sitting(instance, role_tokens["admin"], congress_id, "Sau khi Redis bật")
        [after] = await _receive(socket, 1)

    events = [created, before, while_down, after]
    assert [e["seq"] for e in events] == [1, 2, 3, 4]
    assert while_down["type"] == "SittingAdded"
    assert while_down["payload"]["sitting_id"] == during


async def test_an_event_never_published_reaches_the_console_from_the_log(
    instance: LiveServer, role_tokens: dict[str, str], make_congress
) -> None:
    """As when the instance that made a change is killed between its commit and its publish:
    the change is in the database, no message ever comes through Redis."""
    congress_id = await make_congress()
    url = instance.url.replace("http://", "ws://") + f"/api/congresses/{congress_id}/events/live"
    headers = {"Cookie": f"{SESSION_COOKIE}={role_tokens['admin']}", "Origin": instance.url}
    async with websockets.connect(url, additional_headers=headers) as socket:
        await _receive(socket, 1)
        await asyncio.sleep(0.5)  # subscribed
        # Written by this test's process: committed, published to no one.
        silent = await services.add_sitting(congress_id, SittingIn(title="Không ai báo"), SYSTEM)
        [quiet] = await _receive(socket, 1)  # found by the quiet channel's look at the log
        # And one lost in the middle: the next published event brings it along, in order.
        lost = await services.add_sitting(congress_id, SittingIn(title="Bị mất"), SYSTEM)
        await _add_sitting(instance, role_tokens["admin"], congress_id, "Được báo")
        mended, published = await _receive(socket, 2)
    assert quiet["payload"]["sitting_id"] == silent
    assert mended["payload"]["sitting_id"] == lost
    assert [quiet["seq"], mended["seq"], published["seq"]] == [2, 3, 4]
