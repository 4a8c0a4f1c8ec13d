"""Several app instances behind a load balancer share the database and Redis: an event made
through instance B reaches a websocket client connected to instance A."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import httpx
import pytest
import websockets

from congress.auth import SESSION_COOKIE
from tests.conftest import CSRF_COOKIE, LiveServer


@pytest.fixture
async def two_instances(redis_url: str) -> AsyncIterator[tuple[LiveServer, LiveServer]]:
    a = LiveServer(env={"CONGRESS_REDIS_URL": redis_url})
    b = LiveServer(env={"CONGRESS_REDIS_URL": redis_url})
    await asyncio.gather(a.start(), b.start())
    try:
        yield a, b
    finally:
        a.stop()
        b.stop()


async def _signed_in(server: LiveServer, token: str) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=server.url, cookies={SESSION_COOKIE: token})
    await client.get("/login")
    return client


async def test_a_change_through_b_reaches_a_socket_on_a(
    two_instances: tuple[LiveServer, LiveServer], role_tokens: dict[str, str], make_congress
) -> None:
    a, b = two_instances
    congress_id = await make_congress()
    url = a.url.replace("http://", "ws://") + f"/api/congresses/{congress_id}/events/live"
    headers = {"Cookie": f"{SESSION_COOKIE}={role_tokens['admin']}", "Origin": a.url}
    async with websockets.connect(url, additional_headers=headers) as socket:
        # Drain what the log already holds (the congress's creation).
        try:
            while True:
                await asyncio.wait_for(socket.recv(), timeout=0.5)
        except TimeoutError:
            pass
        through_b = await _signed_in(b, role_tokens["admin"])
        try:
            made = await through_b.post(
                f"/api/congresses/{congress_id}/sittings",
                json={"title": "Phiên bế mạc", "kind": "closing"},
                headers={"x-csrf-token": through_b.cookies[CSRF_COOKIE]},
            )
        finally:
            await through_b.aclose()
        assert made.status_code == 201, made.text
        event = json.loads(await asyncio.wait_for(socket.recv(), timeout=10))
    assert event["type"] == "SittingAdded"
    assert event["payload"]["sitting_id"] == made.json()["id"]


async def test_each_instance_sees_the_other_s_events(
    two_instances: tuple[LiveServer, LiveServer], role_tokens: dict[str, str], make_congress
) -> None:
    """Both directions, and nothing twice: every event arrives once on each instance."""
    a, b = two_instances
    congress_id = await make_congress()
    received: dict[str, list[int]] = {}

    async def listen(server: LiveServer, name: str, ready: asyncio.Event) -> None:
        url = server.url.replace("http://", "ws://")
        url += f"/api/congresses/{congress_id}/events/live"
        headers = {"Cookie": f"{SESSION_COOKIE}={role_tokens['admin']}", "Origin": server.url}
        seqs: list[int] = []
        async with websockets.connect(url, additional_headers=headers) as socket:
            ready.set()
            try:
                while len(seqs) < 5:
                    seqs.append(json.loads(await asyncio.wait_for(socket.recv(), 10))["seq"])
            finally:
                received[name] = seqs

    ready_a, ready_b = asyncio.Event(), asyncio.Event()
    listeners = [
        asyncio.create_task(listen(a, "a", ready_a)),
        asyncio.create_task(listen(b, "b", ready_b)),
    ]
    await ready_a.wait()
    await ready_b.wait()
    await asyncio.sleep(0.3)  # the servers subscribe right after accepting
    clients = [await _signed_in(s, role_tokens["admin"]) for s in (a, b, a, b)]
    try:
        for n, client in enumerate(clients):
            response = await client.post(
                f"/api/congresses/{congress_id}/sittings",
                json={"title": f"Phiên {n + 1}", "kind": "plenary"},
                headers={"x-csrf-token": client.cookies[CSRF_COOKIE]},
            )
            assert response.status_code == 201, response.text
    finally:
        for client in clients:
            await client.aclose()
    await asyncio.gather(*listeners)
    # The congress's creation (seq 1) comes from the log; the four sittings live.
    assert received["a"] == received["b"] == [1, 2, 3, 4, 5]
