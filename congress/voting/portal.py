"""Voting on the delegate's phone: the polls the delegate may see, the ballot, the receipt.

The phone is signed in by its card (documents.portal's cookie). A delegate sees open polls
(with the reason when they cannot vote by phone), closed ones awaiting the announcement, and
the published ones with their receipts; never anyone's vote.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, Request, get, post
from litestar.params import JSONBody

from congress.controllers import ItemId
from congress.errors import Conflict, declares_errors
from congress.i18n import N_, translate
from congress.tables import Delegate
from congress.voting import chain, services
from congress.voting.schemas import BallotIn, Receipt
from congress.voting.tables import Poll, PollOption, PollParticipation
from documents.portal import delegate_guard, me

# Why a delegate cannot vote by phone in an open poll: (code, message). The codes are those
# the ballot endpoint answers with, so the page says the same before and after a tap.
NOT_BY_PHONE = {
    "paper": N_("This vote is held on paper: the tally committee hands out the ballots."),
    "show_of_cards": N_(
        "This vote is by show of cards: raise your delegate card when the presidium asks."
    ),
}
ALREADY_VOTED = N_("You have voted in this poll already.")
VOTED_ON_PAPER = N_("You were given a paper ballot: vote on paper, not by phone.")
NOT_CHECKED_IN = N_("You are not checked in to this sitting. Please check in at the door first.")
ONLY_OFFICIALS = N_("Only official delegates vote in this poll.")
NOT_ELIGIBLE = N_("You are not among the voters of this poll.")
# Open first, then closed (awaiting the announcement), then announced.
STATUS_ORDER = {"open": 0, "closed": 1, "published": 2}


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
    # When an open poll has may_vote false: why (not_by_phone, already_voted,
    # voted_on_paper, not_checked_in, not_eligible), and the message the page shows.
    reason: str = ""
    message: str = ""


class PublishedReceipts(msgspec.Struct):
    poll_id: int
    fingerprint: str
    receipts: list[str]


def _label(poll: dict[str, Any], option: dict[str, Any]) -> str:
    return services.option_label(poll["kind"], option)


def _options(poll: dict[str, Any], options: list[dict[str, Any]]) -> list[PhoneOption]:
    return [PhoneOption(key=o["key"], label=_label(poll, o), note=o["note"]) for o in options]


async def _options_of(poll_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
    """The options of many polls in one query: every phone asks at once when a poll opens."""
    by_poll: dict[int, list[dict[str, Any]]] = {poll_id: [] for poll_id in poll_ids}
    if poll_ids:
        rows = await (
            PollOption.select(PollOption.poll, PollOption.key, PollOption.label, PollOption.note)
            .where(PollOption.poll.is_in(poll_ids))
            .order_by(PollOption.poll, PollOption.position)
        )
        for row in rows:
            by_poll[row["poll"]].append(row)
    return by_poll


async def _took_part(poll_ids: list[int], delegate_id: int) -> dict[int, str]:
    if not poll_ids:
        return {}
    rows = await PollParticipation.select(PollParticipation.poll, PollParticipation.method).where(
        PollParticipation.poll.is_in(poll_ids) & (PollParticipation.delegate == delegate_id)
    )
    return {row["poll"]: row["method"] for row in rows}


async def why_not(poll: dict[str, Any], delegate_id: int, voted: str | None) -> tuple[str, str]:
    """Why this delegate cannot vote by phone in this open poll: (code, msgid), or ("", "")."""
    if poll["method"] not in services.BY_PHONE:
        return "not_by_phone", NOT_BY_PHONE.get(poll["method"], NOT_BY_PHONE["paper"])
    if voted == "paper":
        return "voted_on_paper", VOTED_ON_PAPER
    if voted:
        return "already_voted", ALREADY_VOTED
    if await services.may_vote(poll, delegate_id):
        return "", ""
    if poll["voters"] in {"official_present", "official"}:
        row = await Delegate.select(Delegate.kind).where(Delegate.id == delegate_id).first()
        if row is None or row["kind"] != "official":
            return "not_official", ONLY_OFFICIALS
    if poll["voters"] in {"official_present", "present"}:
        return "not_checked_in", NOT_CHECKED_IN
    return "not_eligible", NOT_ELIGIBLE


async def _phone_poll(
    poll: dict[str, Any], options: list[dict[str, Any]], voted: str | None, delegate_id: int
) -> PhonePoll:
    reason, message = ("", "")
    if poll["status"] == "open":
        reason, message = await why_not(poll, delegate_id, voted)
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
        options=_options(poll, options),
        voted=voted,
        may_vote=poll["status"] == "open" and not reason,
        fingerprint=chain.fingerprint(poll["chain_head"]) if published else "",
        result=msgspec.to_builtins(result) if result else None,
        reason=reason,
        message=translate(message) if message else "",
    )


@declares_errors
class DelegatePolls(Controller):
    path = "/delegate/polls"
    include_in_schema = False
    guards = [delegate_guard]

    @get("/")
    async def list_polls(self, request: Request[Any, Any, Any]) -> list[PhonePoll]:
        """Open polls first, then closed ones awaiting the announcement, then the announced
        results; newest first within each."""
        who = me(request)
        polls = await (
            Poll.select()
            .where((Poll.congress == who.congress_id) & Poll.status.is_in(list(STATUS_ORDER)))
            .order_by(Poll.id, ascending=False)
        )
        polls.sort(key=lambda p: STATUS_ORDER[p["status"]])
        ids = [p["id"] for p in polls]
        options = await _options_of(ids)
        took_part = await _took_part(ids, who.delegate_id)
        return [
            await _phone_poll(p, options[p["id"]], took_part.get(p["id"]), who.delegate_id)
            for p in polls
        ]

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
