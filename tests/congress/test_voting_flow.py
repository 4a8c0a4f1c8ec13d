"""A poll's whole life through the API: draft, open, phones vote, turnout, close, publish."""

from __future__ import annotations

import pytest

from checkin import credentials
from congress.eventlog import events_of
from congress.voting import chain, services
from tests.congress.voting_fixtures import make_assembly


@pytest.fixture
async def assembly(make_congress):
    return await make_assembly(await make_congress())


async def phone(client, token: str):
    response = await client.get(
        f"/D/{credentials.card_address(token).rsplit('/', 1)[-1]}", follow_redirects=False
    )
    assert response.status_code in (302, 303), response.text
    csrf = client.cookies.get("congress_csrf") or (await client.get("/delegate/")).cookies.get(
        "congress_csrf"
    )
    return csrf


async def test_motion_from_draft_to_published(admin, lender, assembly):
    from litestar.testing import AsyncTestClient

    congress = assembly["congress"]
    created = await admin.post(
        f"/api/congresses/{congress}/polls",
        json={
            "kind": "motion",
            "title": "Thông qua Nghị quyết Đại hội",
            "sitting_id": assembly["sitting"],
        },
    )
    assert created.status_code == 201, created.text
    poll_id = created.json()["id"]
    opened = await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/open")
    assert opened.status_code == 200, opened.text
    assert opened.json()["status"] == "open"

    receipts = []
    for delegate, choice in zip(
        assembly["officials"], ["agree"] * 4 + ["disagree", "abstain"], strict=True
    ):
        async with AsyncTestClient(lender.next_app()) as client:
            csrf = await phone(client, assembly["tokens"][delegate])
            response = await client.post(
                f"/delegate/polls/{poll_id}/ballot",
                json={"choices": [choice], "retry_key": f"k{delegate}"},
                headers={"x-csrf-token": csrf},
            )
            assert response.status_code == 200, response.text
            receipts.append(response.json()["receipt"])
    assert await services.checkpoint_open_polls() == 1
    turnout = await events_of(congress, types=["PollTurnout"])
    assert [e.payload["voted"] for e in turnout] == [6]
    closed = await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/close")
    assert closed.json() == {"poll_id": poll_id, "status": "closed", "has_result": True}
    poll = (await admin.get(f"/api/congresses/{congress}/polls/{poll_id}")).json()
    assert poll["result"]["passed"] is True
    assert {o["option"]: o["votes"] for o in poll["result"]["outcomes"]} == {
        "agree": 4,
        "disagree": 1,
        "abstain": 1,
    }
    listed = (await admin.get(f"/api/congresses/{congress}/polls/{poll_id}/receipts")).json()
    assert sorted(receipts) == listed["receipts"]
    export = (await admin.get(f"/api/congresses/{congress}/polls/{poll_id}/export")).json()
    links = [chain.Link(**link) for link in export["chain"]]
    assert chain.verify(links) == export["head"]
    assert [link.kind for link in links] == ["created", "opened", "checkpoint", "closed", "result"]
    published = await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/publish")
    assert published.json()["status"] == "published"
