"""Voting on the delegate's phone: the polls the delegate may see, the ballot, the receipt.

The phone is signed in by its card (documents.portal's cookie). A delegate sees open polls
held by phone, and the closed and published ones with their receipts; never anyone's vote.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from congress.controllers import ItemId
from congress.errors import Conflict
from congress.i18n import N_, translate
from congress.voting import chain, services
from congress.voting.schemas import BallotIn, Receipt
from congress.voting.tables import Poll
from documents.portal import delegate_guard, me


class PhoneOption(msgspec.Struct):
    key: str
    label: str
    note: str


class PhonePoll(msgspec.Struct):
    id: int
    kind: str
    method: str
    title: str
    question: str
    status: str
    seats: int
    named: bool
    options: list[PhoneOption]
    voted: str | None  # how this delegate took part: phone | paper | None
    may_vote: bool
    fingerprint: str
    result: dict[str, Any] | None


class PublishedReceipts(msgspec.Struct):
    poll_id: int
    fingerprint: str
    receipts: list[str]


def _options(poll: dict[str, Any]) -> list[PhoneOption]:
    return [
        PhoneOption(
            key=o["key"],
            label=translate(o["label"]) if poll["kind"] == "motion" else o["label"],
            note=o["note"],
        )
        for o in poll["options"]
    ]


async def _phone_poll(poll: dict[str, Any], delegate_id: int) -> PhonePoll:
    poll["options"] = await services.options_of(poll["id"])
    voted = await services.has_voted(poll["id"], delegate_id)
    open_by_phone = poll["status"] == "open" and poll["method"] in services.BY_PHONE
    published = poll["status"] == "published"
    result = services.result_of(poll) if published else None
    return PhonePoll(
        id=poll["id"],
        kind=poll["kind"],
        method=poll["method"],
        title=poll["title"],
        question=poll["question"],
        status=poll["status"],
        seats=poll["seats"],
        named=poll["named"],
        options=_options(poll),
        voted=voted,
        may_vote=open_by_phone and voted is None and await services.may_vote(poll, delegate_id),
        fingerprint=chain.fingerprint(poll["chain_head"]) if published else "",
        result=msgspec.to_builtins(result) if result else None,
    )


class DelegatePolls(Controller):
    path = "/delegate/polls"
    include_in_schema = False
    guards = [delegate_guard]

    @get("/")
    async def list_polls(self, request: Request[Any, Any, Any]) -> list[PhonePoll]:
        """Open polls first, then the announced results, newest first."""
        who = me(request)
        polls = await (
            Poll.select()
            .where((Poll.congress == who.congress_id) & (Poll.status != "draft"))
            .order_by(Poll.id, ascending=False)
        )
        polls.sort(key=lambda p: p["status"] != "open")
        return [await _phone_poll(p, who.delegate_id) for p in polls if p["status"] != "closed"]

    @post("/{poll_id:int}/ballot", status_code=200)
    async def vote(
        self, request: Request[Any, Any, Any], poll_id: ItemId, data: JSONBody[BallotIn]
    ) -> Receipt:
        who = me(request)
        receipt = await services.cast_ballot(who.congress_id, who.delegate_id, poll_id, data)
        return Receipt(poll_id=poll_id, receipt=receipt)

    @get("/{poll_id:int}/receipts")
    async def receipts(self, request: Request[Any, Any, Any], poll_id: ItemId) -> PublishedReceipts:
        """The published list: a delegate finds their own receipt in it."""
        who = me(request)
        poll = await services.get_poll(who.congress_id, poll_id)
        if poll["status"] != "published":
            raise Conflict(
                "not_published", N_("The receipts are listed once the result is announced.")
            )
        return PublishedReceipts(
            poll_id=poll_id,
            fingerprint=chain.fingerprint(poll["chain_head"]),
            receipts=await services.receipts_of(poll_id),
        )
