"""Voting on the delegate's phone, through the API the phone's page uses.

Every message a delegate can meet (not checked in, already voted, voted on paper, closed,
not by phone, too many names) comes with its code and its translated message, in the list
of polls before a tap and from the ballot endpoint after one; a resend with the same retry
key gets the same receipt; the page is told which part to fetch again, and nothing else.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import pytest
from litestar.testing import AsyncTestClient

from checkin import credentials
from congress.eventlog import SYSTEM
from congress.voting import events as voting_events
from congress.voting import services
from documents.portal import LIVE_TYPES
from tests.conftest import Lender, Session, vi
from tests.congress.voting_fixtures import make_assembly

JSON = {"accept": "application/json"}
Assembly = dict[str, Any]
CANDIDATES = [
    {"name": "Nguyễn Thị Hạnh", "note": "Chủ tịch CĐ ngành Y tế"},
    {"name": "Trần Văn Đức", "note": "Phó Chủ tịch LĐLĐ tỉnh"},
    {"name": "Lê Thị Thu Hà", "note": "Trưởng ban Nữ công"},
    {"name": "Phạm Quốc Bảo", "note": ""},
]


class Phone:
    """A delegate's phone: opened by the card's address, sending the CSRF header."""

    def __init__(self, client: AsyncTestClient[Any]) -> None:
        self.client = client
        self.csrf = ""

    async def open_card(self, token: str) -> None:
        path = credentials.card_address(token).rsplit("/", 2)
        opened = await self.client.get(f"/D/{path[-1]}", follow_redirects=False)
        assert opened.status_code == 303, opened.text
        page = await self.client.get("/delegate")
        assert page.status_code == 200
        self.csrf = str(self.client.cookies.get("congress_csrf"))

    async def polls(self) -> list[dict[str, Any]]:
        response = await self.client.get("/delegate/polls", headers=JSON)
        assert response.status_code == 200, response.text
        return list(response.json())

    async def poll(self, poll_id: int) -> dict[str, Any]:
        return next(p for p in await self.polls() if p["id"] == poll_id)

    async def vote(self, poll_id: int, choices: list[str], retry_key: str = "") -> Any:
        return await self.client.post(
            f"/delegate/polls/{poll_id}/ballot",
            json={"choices": choices, "retry_key": retry_key},
            headers={**JSON, "x-csrf-token": self.csrf},
        )


@pytest.fixture
async def assembly(make_congress: Callable[..., Awaitable[int]]) -> AsyncIterator[Assembly]:
    """Six official delegates, the last of them not checked in, and one invited delegate."""
    congress_id = await make_congress()
    yield await make_assembly(congress_id, officials=6, invited=1, present=5)
    await close_open_polls(congress_id)


async def close_open_polls(congress_id: int) -> None:
    """No poll is left open for the tests that checkpoint every open poll of the database."""
    for poll in await services.list_polls(congress_id):
        if poll["status"] == "open":
            await services.close_poll(congress_id, poll["id"], SYSTEM)


PhoneFactory = Callable[[int], Awaitable[Phone]]


@pytest.fixture
async def phone_of(lender: Lender, assembly: Assembly) -> AsyncIterator[PhoneFactory]:
    async with contextlib.AsyncExitStack() as stack:

        async def open_phone(delegate_id: int) -> Phone:
            client = await stack.enter_async_context(AsyncTestClient(lender.next_app()))
            phone = Phone(client)
            await phone.open_card(assembly["tokens"][delegate_id])
            return phone

        yield open_phone


async def make_poll(admin: Session, assembly: Assembly, opened: bool = True, **fields: Any) -> int:
    congress = assembly["congress"]
    body = {"kind": "motion", "title": "Thông qua Nghị quyết Đại hội", **fields}
    created = await admin.post(
        f"/api/congresses/{congress}/polls", json={"sitting_id": assembly["sitting"], **body}
    )
    assert created.status_code == 201, created.text
    poll_id = int(created.json()["id"])
    if opened:
        response = await admin.post(f"/api/congresses/{congress}/polls/{poll_id}/open")
        assert response.status_code == 200, response.text
    return poll_id


async def step(admin: Session, assembly: Assembly, poll_id: int, action: str) -> None:
    response = await admin.post(f"/api/congresses/{assembly['congress']}/polls/{poll_id}/{action}")
    assert response.status_code == 200, response.text


def refused(response: Any, status: int, code: str, msgid: str) -> None:
    assert response.status_code == status, response.text
    assert response.json()["code"] == code
    assert response.json()["message"] == vi(msgid)


# --- what the page is told ------------------------------------------------------------------


def test_poll_events_refresh_the_polls_part_and_nothing_else_does() -> None:
    poll_events = {
        name
        for name, value in vars(voting_events).items()
        if isinstance(value, type) and name.startswith(("Poll", "Paper", "ShowOf"))
    }
    to_polls = {t for t, part in LIVE_TYPES.items() if part == "polls"}
    assert to_polls == {"PollOpened", "PollClosed", "PollResultReady", "PollPublished"}
    assert to_polls <= poll_events
    # Turnout comes at each checkpoint: a whole hall of phones asking again for nothing.
    assert "PollTurnout" not in LIVE_TYPES


async def test_an_opened_poll_reaches_an_open_page(
    admin: Session, client: AsyncTestClient[Any], assembly: Assembly
) -> None:
    poll_id = await make_poll(admin, assembly, opened=False)
    phone = Phone(client)
    await phone.open_card(assembly["tokens"][assembly["officials"][0]])
    assert await phone.polls() == []  # a draft is the presidium's own
    with await client.websocket_connect("/delegate/live") as socket:
        await step(admin, assembly, poll_id, "open")
        message = await asyncio.to_thread(socket.receive_json, timeout=5)
    assert message == {"refresh": "polls"}  # which part; never any data
    [poll] = await phone.polls()
    assert poll["id"] == poll_id
    assert poll["status"] == "open"
    assert poll["may_vote"] is True
    assert (poll["reason"], poll["message"]) == ("", "")
    assert [(o["key"], o["label"]) for o in poll["options"]] == [
        ("agree", vi("Agree")),
        ("disagree", vi("Disagree")),
        ("abstain", vi("No opinion")),
    ]


async def test_the_page_carries_the_voting_part_and_stays_light(
    client: AsyncTestClient[Any], assembly: Assembly
) -> None:
    phone = Phone(client)
    await phone.open_card(assembly["tokens"][assembly["officials"][0]])
    page = await client.get("/delegate")
    assert 'id="part-polls"' in page.text
    assert 'data-source="/delegate/polls"' in page.text
    assert 'id="poll-texts"' in page.text
    assert "{seats}" in page.text  # placeholders voting.js fills in
    total = len(page.content)
    for asset in ("/static/delegate.css", "/static/delegate.js", "/static/voting.js"):
        assert asset in page.text
        response = await client.get(asset)
        assert response.status_code == 200
        total += len(response.content)
    assert total <= 100 * 1024


# --- the ballot and its receipt -------------------------------------------------------------


async def test_a_resend_with_the_same_key_gets_the_same_receipt(
    admin: Session, phone_of: PhoneFactory, assembly: Assembly
) -> None:
    poll_id = await make_poll(admin, assembly)
    phone = await phone_of(assembly["officials"][0])
    first = await phone.vote(poll_id, ["agree"], retry_key="k-7f3a9c")
    assert first.status_code == 200, first.text
    receipt = first.json()["receipt"]
    # The answer was lost on the Wi-Fi: the phone sends the same ballot with the same key.
    again = await phone.vote(poll_id, ["agree"], retry_key="k-7f3a9c")
    assert again.status_code == 200, again.text
    assert again.json() == {"poll_id": poll_id, "receipt": receipt}
    # Two at once (a double tap while the first is on its way): still one ballot, one receipt.
    both = await asyncio.gather(
        phone.vote(poll_id, ["agree"], retry_key="k-7f3a9c"),
        phone.vote(poll_id, ["agree"], retry_key="k-7f3a9c"),
    )
    assert {r.json()["receipt"] for r in both} == {receipt}

    # Another ballot, with another key, is refused.
    refused(
        await phone.vote(poll_id, ["disagree"], retry_key="other"),
        409,
        "already_voted",
        "You have voted in this poll already.",
    )
    poll = await phone.poll(poll_id)
    assert poll["voted"] == "phone"
    assert poll["may_vote"] is False
    assert poll["reason"] == "already_voted"
    assert poll["message"] == vi("You have voted in this poll already.")


async def test_not_checked_in(admin: Session, phone_of: PhoneFactory, assembly: Assembly) -> None:
    poll_id = await make_poll(admin, assembly)
    absent = await phone_of(assembly["officials"][5])
    message = "You are not checked in to this sitting. Please check in at the door first."
    poll = await absent.poll(poll_id)
    assert (poll["may_vote"], poll["voted"]) == (False, None)
    assert poll["reason"] == "not_checked_in"
    assert poll["message"] == vi(message)
    refused(await absent.vote(poll_id, ["agree"], "k1"), 409, "not_checked_in", message)


async def test_an_invited_delegate_is_told_only_official_delegates_vote(
    admin: Session, phone_of: PhoneFactory, assembly: Assembly
) -> None:
    poll_id = await make_poll(admin, assembly)
    invited = await phone_of(assembly["invited"][0])  # checked in, but not official
    poll = await invited.poll(poll_id)
    assert poll["may_vote"] is False
    assert poll["reason"] == "not_official"
    assert poll["message"] == vi("Only official delegates vote in this poll.")
    only = "Only official delegates vote in this poll."
    refused(await invited.vote(poll_id, ["agree"], "k-invited"), 409, "not_official", only)


async def test_voted_on_paper(
    admin: Session,
    phone_of: PhoneFactory,
    assembly: Assembly,
    as_role: Callable[[str | None], Awaitable[Session]],
) -> None:
    poll_id = await make_poll(admin, assembly, method="phone_and_paper")
    delegate = assembly["officials"][1]
    phone = await phone_of(delegate)
    tally = await as_role("tally")
    handed = await tally.post(
        f"/api/congresses/{assembly['congress']}/polls/{poll_id}/paper-ballots",
        json={"delegate_id": delegate},
    )
    assert handed.status_code == 200, handed.text
    message = "You were given a paper ballot: vote on paper, not by phone."
    poll = await phone.poll(poll_id)
    assert (poll["voted"], poll["may_vote"], poll["reason"]) == ("paper", False, "voted_on_paper")
    assert poll["message"] == vi(message)
    refused(await phone.vote(poll_id, ["agree"], "k1"), 409, "voted_on_paper", message)


@pytest.mark.parametrize(
    ("method", "message"),
    [
        ("paper", "This vote is held on paper: the tally committee hands out the ballots."),
        (
            "show_of_cards",
            "This vote is by show of cards: raise your delegate card when the presidium asks.",
        ),
    ],
)
async def test_not_by_phone(
    admin: Session, phone_of: PhoneFactory, assembly: Assembly, method: str, message: str
) -> None:
    poll_id = await make_poll(admin, assembly, method=method)
    phone = await phone_of(assembly["officials"][0])
    poll = await phone.poll(poll_id)
    assert (poll["status"], poll["may_vote"], poll["reason"]) == ("open", False, "not_by_phone")
    assert poll["message"] == vi(message)
    refused(
        await phone.vote(poll_id, ["agree"], "k1"),
        409,
        "not_by_phone",
        "This vote is not held by phone.",
    )


async def test_poll_closed(admin: Session, phone_of: PhoneFactory, assembly: Assembly) -> None:
    poll_id = await make_poll(admin, assembly)
    phone = await phone_of(assembly["officials"][0])
    await step(admin, assembly, poll_id, "close")
    refused(
        await phone.vote(poll_id, ["agree"], "k1"),
        409,
        "poll_closed",
        "Voting has ended: this poll is closed.",
    )
    poll = await phone.poll(poll_id)  # still listed, awaiting the announcement
    assert (poll["status"], poll["may_vote"], poll["reason"]) == ("closed", False, "")
    assert poll["result"] is None  # not before it is announced
    assert poll["fingerprint"] == ""
    refused(
        await phone.client.get(f"/delegate/polls/{poll_id}/receipts", headers=JSON),
        409,
        "not_published",
        "The receipts are listed once the result is announced.",
    )


async def test_a_ballot_resent_after_the_close_is_told_it_was_counted(
    admin: Session, phone_of: PhoneFactory, assembly: Assembly
) -> None:
    """The phone's first answer was lost on the Wi-Fi and the poll closed meanwhile: the
    retry keys are erased at the close, but the delegate is told the ballot counted, not
    that they were too late."""
    poll_id = await make_poll(admin, assembly)
    voter = await phone_of(assembly["officials"][0])
    late = await phone_of(assembly["officials"][1])
    assert (await voter.vote(poll_id, ["agree"], "k-lost")).status_code == 200
    await step(admin, assembly, poll_id, "close")
    refused(
        await voter.vote(poll_id, ["agree"], "k-lost"),
        409,
        "counted_before_close",
        "Your ballot reached us before the poll closed and was counted. Voting has now ended.",
    )
    refused(  # one who never voted is simply late
        await late.vote(poll_id, ["agree"], "k-late"),
        409,
        "poll_closed",
        "Voting has ended: this poll is closed.",
    )


async def test_too_many_names(admin: Session, phone_of: PhoneFactory, assembly: Assembly) -> None:
    poll_id = await make_poll(
        admin,
        assembly,
        kind="election",
        title="Bầu Ban Chấp hành khóa XIX",
        seats=2,
        candidates=CANDIDATES,
    )
    phone = await phone_of(assembly["officials"][0])
    poll = await phone.poll(poll_id)
    assert (poll["kind"], poll["seats"], poll["may_vote"]) == ("election", 2, True)
    assert [(o["label"], o["note"]) for o in poll["options"]] == [
        (c["name"], c["note"]) for c in CANDIDATES
    ]
    refused(
        await phone.vote(poll_id, ["c1", "c2", "c3"], "k1"),
        422,
        "too_many_names",
        "You kept more names than there are seats: strike out more names.",
    )
    # Refused, so not counted: the same phone strikes one more name and sends again.
    kept = await phone.vote(poll_id, ["c1", "c3"], "k1")
    assert kept.status_code == 200, kept.text
    # A ballot with every name struck out is a valid (blank) ballot.
    blank = await (await phone_of(assembly["officials"][1])).vote(poll_id, [], "k2")
    assert blank.status_code == 200, blank.text


# --- the announced result -------------------------------------------------------------------


async def test_a_published_motion_shows_its_result_and_the_receipt_is_listed(
    admin: Session, phone_of: PhoneFactory, assembly: Assembly
) -> None:
    poll_id = await make_poll(admin, assembly)
    receipts = {}
    for delegate, choice in zip(
        assembly["officials"][:5], ["agree", "agree", "agree", "disagree", "abstain"], strict=True
    ):
        phone = await phone_of(delegate)
        response = await phone.vote(poll_id, [choice], f"k{delegate}")
        assert response.status_code == 200, response.text
        receipts[delegate] = response.json()["receipt"]
    await step(admin, assembly, poll_id, "close")
    await step(admin, assembly, poll_id, "publish")

    poll = await phone.poll(poll_id)
    assert poll["status"] == "published"
    assert poll["result"]["passed"] is True
    assert {o["option"]: o["votes"] for o in poll["result"]["outcomes"]} == {
        "agree": 3,
        "disagree": 1,
        "abstain": 1,
    }
    assert poll["result"]["ballots_collected"] == 5
    assert len(poll["fingerprint"]) == 19  # XXXX-XXXX-XXXX-XXXX
    listed = await phone.client.get(f"/delegate/polls/{poll_id}/receipts", headers=JSON)
    assert listed.status_code == 200
    assert listed.json()["fingerprint"] == poll["fingerprint"]
    assert sorted(receipts.values()) == listed.json()["receipts"]


async def test_a_published_election_names_the_elected(
    admin: Session, phone_of: PhoneFactory, assembly: Assembly
) -> None:
    poll_id = await make_poll(
        admin,
        assembly,
        kind="election",
        title="Bầu Ban Chấp hành khóa XIX",
        seats=2,
        candidates=CANDIDATES,
    )
    for delegate, kept in zip(
        assembly["officials"][:4], [["c1", "c2"], ["c1", "c2"], ["c1", "c3"], ["c2"]], strict=True
    ):
        response = await (await phone_of(delegate)).vote(poll_id, kept, "k")
        assert response.status_code == 200, response.text
    await step(admin, assembly, poll_id, "close")
    await step(admin, assembly, poll_id, "publish")
    phone = await phone_of(assembly["officials"][5])
    poll = await phone.poll(poll_id)
    assert poll["result"]["elected"] == ["c1", "c2"]
    assert poll["voted"] is None
    assert (poll["reason"], poll["message"]) == ("", "")  # no reason once voting is over
