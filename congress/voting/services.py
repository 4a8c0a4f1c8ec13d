"""Polls: one function per state change, each in one transaction with its event.

A ballot is the exception: it writes a participation row and a ballot row and records no
event, so that nothing on any feed or in the log says when whom voted. Turnout reaches the
screens from `checkpoint_poll`, at a fixed interval.
"""

from __future__ import annotations

import datetime
import hashlib
import secrets
import uuid
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine
from piccolo.query.mixins import OnConflictAction

from checkin import attendance
from congress import database
from congress.errors import Conflict, InvalidInput, NotFound
from congress.eventlog import SYSTEM, Actor, Change
from congress.i18n import N_, translate
from congress.services import current_sitting
from congress.tables import Delegate, Sitting
from congress.voting import chain, events, rules
from congress.voting.schemas import (
    BallotIn,
    CandidateIn,
    HandOutIn,
    PaperCountsIn,
    PollIn,
    ShowOfCardsIn,
)
from congress.voting.tables import (
    Poll,
    PollBallot,
    PollChainLink,
    PollOption,
    PollPaperEntry,
    PollParticipation,
)

MOTION_LABELS = {
    "agree": N_("Agree"),
    "disagree": N_("Disagree"),
    "abstain": N_("No opinion"),
}
VOTERS = {
    "official_present": N_("Official delegates checked in to the sitting"),
    "present": N_("All delegates checked in to the sitting"),
    "official": N_("All official delegates"),
    "all": N_("All delegates"),
}
BY_PHONE = {"phone", "phone_and_paper"}
BY_PAPER = {"paper", "phone_and_paper"}
RUNOFF_SUFFIX = "bầu bổ sung"
RECEIPT_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read aloud, typed back


def _now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


def new_receipt() -> str:
    code = "".join(secrets.choice(RECEIPT_ALPHABET) for _ in range(10))
    return f"{code[:5]}-{code[5:]}"


def _retry_hash(delegate_id: int, retry_key: str) -> str:
    """What the ballot row keeps of the phone's retry key. The delegate is mixed in so that
    two phones sending the same key do not collide; without the key (which only the phone
    holds, and which is emptied at close) the hash names no one."""
    if not retry_key:
        return ""
    return hashlib.sha256(f"{delegate_id}:{retry_key}".encode()).hexdigest()


# --- reading -------------------------------------------------------------------------------


async def _poll(congress_id: int, poll_id: int) -> dict[str, Any]:
    row = await Poll.select().where((Poll.id == poll_id) & (Poll.congress == congress_id)).first()
    if row is None:
        raise NotFound("poll_not_found", N_("This poll does not exist."))
    return row


async def _locked(congress_id: int, poll_id: int, strength: str = "UPDATE") -> dict[str, Any]:
    """The poll row, locked until the transaction ends: on PostgreSQL with FOR UPDATE (state
    changes) or FOR SHARE (ballots, which may run side by side but not beside a close);
    on SQLite the IMMEDIATE transaction holds the whole database already."""
    query = Poll.select().where((Poll.id == poll_id) & (Poll.congress == congress_id))
    if isinstance(database.engine(), PostgresEngine):
        query = query.lock_rows(strength)  # type: ignore[arg-type]
    row = await query.first()
    if row is None:
        raise NotFound("poll_not_found", N_("This poll does not exist."))
    return row


async def options_of(poll_id: int) -> list[dict[str, Any]]:
    return await (
        PollOption.select(PollOption.key, PollOption.label, PollOption.note, PollOption.delegate)
        .where(PollOption.poll == poll_id)
        .order_by(PollOption.position)
    )


def option_label(kind: str, option: dict[str, Any]) -> str:
    """A motion's options are translated for the reader; candidates are names."""
    if kind != "motion":
        return str(option["label"])
    msgid = MOTION_LABELS.get(option["key"], option["label"])
    return translate(msgid)


def rules_of(poll: dict[str, Any], options: list[dict[str, Any]]) -> rules.Rules:
    return rules.Rules(
        kind=poll["kind"],
        options=tuple(o["key"] for o in options),
        seats=poll["seats"],
        majority_base=poll["majority_base"],
    )


def result_of(poll: dict[str, Any]) -> rules.Result | None:
    return msgspec.json.decode(poll["result"], type=rules.Result) if poll["result"] else None


def paper_counts_of(poll: dict[str, Any]) -> rules.PaperCounts | None:
    if not poll["paper_counts"]:
        return None
    return msgspec.json.decode(poll["paper_counts"], type=rules.PaperCounts)


async def list_polls(congress_id: int) -> list[dict[str, Any]]:
    return await Poll.select().where(Poll.congress == congress_id).order_by(Poll.id)


async def get_poll(congress_id: int, poll_id: int) -> dict[str, Any]:
    poll = await _poll(congress_id, poll_id)
    poll["options"] = await options_of(poll_id)
    return poll


# --- who may vote --------------------------------------------------------------------------


def _voter_sql(poll: dict[str, Any]) -> tuple[str, list[Any]]:
    """A WHERE clause on delegate d for who may vote in this poll, and its arguments."""
    clause = "d.congress = {}"
    args: list[Any] = [poll["congress"]]
    if poll["voters"] in {"official_present", "official"}:
        clause += " AND d.kind = 'official'"
    if poll["voters"] in {"official_present", "present"}:
        clause += (
            " AND EXISTS (SELECT 1 FROM attendance a WHERE a.delegate = d.id"
            " AND a.sitting = {} AND a.undone_at IS NULL)"
        )
        args.append(poll["sitting"])
    return clause, args


async def count_eligible(poll: dict[str, Any]) -> int:
    clause, args = _voter_sql(poll)
    sql = f"SELECT COUNT(*) AS n FROM delegate d WHERE {clause}"  # noqa: S608 - constant clauses
    rows = await Delegate.raw(sql, *args)
    return int(rows[0]["n"])


async def may_vote(poll: dict[str, Any], delegate_id: int) -> bool:
    clause, args = _voter_sql(poll)
    sql = f"SELECT 1 AS ok FROM delegate d WHERE d.id = {{}} AND {clause}"  # noqa: S608 - as above
    return bool(await database.query(sql, delegate_id, *args))


async def _present(poll: dict[str, Any]) -> int:
    """Delegates of the voters' kind checked in to the poll's sitting (the "present" base)."""
    present_poll = {**poll, "voters": "official_present" if _officials(poll) else "present"}
    return await count_eligible(present_poll) if poll["sitting"] else 0


def _officials(poll: dict[str, Any]) -> bool:
    return poll["voters"] in {"official_present", "official"}


async def _convened(poll: dict[str, Any]) -> int:
    where: Any = Delegate.congress == poll["congress"]
    if _officials(poll):
        where &= Delegate.kind == "official"
    return await Delegate.count().where(where)


# --- the chain -----------------------------------------------------------------------------


async def _append(poll: dict[str, Any], kind: str, payload: Any) -> chain.Link:
    """Adds a link to a locked poll's chain and moves its head."""
    last = await (
        PollChainLink.select(PollChainLink.position)
        .where(PollChainLink.poll == poll["id"])
        .order_by(PollChainLink.position, ascending=False)
        .first()
    )
    position = (last["position"] if last else 0) + 1
    link = chain.next_link(poll["chain_head"] or chain.GENESIS, position, kind, payload)
    await PollChainLink.insert(
        PollChainLink(
            poll=poll["id"],
            position=link.position,
            kind=link.kind,
            payload=link.payload,
            digest=link.digest,
        )
    )
    await Poll.update({Poll.chain_head: link.digest}).where(Poll.id == poll["id"])
    poll["chain_head"] = link.digest
    return link


async def chain_of(poll_id: int) -> list[chain.Link]:
    rows = await (
        PollChainLink.select(
            PollChainLink.position, PollChainLink.kind, PollChainLink.payload, PollChainLink.digest
        )
        .where(PollChainLink.poll == poll_id)
        .order_by(PollChainLink.position)
    )
    return [chain.Link(r["position"], r["kind"], r["payload"], r["digest"]) for r in rows]


def configuration(poll: dict[str, Any], options: list[dict[str, Any]]) -> dict[str, Any]:
    """What the "created" link seals: everything that decides the result."""
    return {
        "poll": poll["id"],
        "congress": poll["congress"],
        "kind": poll["kind"],
        "method": poll["method"],
        "title": poll["title"],
        "question": poll["question"],
        "seats": poll["seats"],
        "majority_base": poll["majority_base"],
        "voters": poll["voters"],
        "named": poll["named"],
        "require_quorum": poll["require_quorum"],
        "runoff_of": poll["runoff_of"],
        "options": [{"key": o["key"], "label": o["label"], "note": o["note"]} for o in options],
    }


# --- drafting ------------------------------------------------------------------------------


def _check_poll_in(data: PollIn) -> None:
    if data.kind == "election":
        if not data.candidates:
            raise InvalidInput(
                "no_candidates", N_("An election needs at least one candidate."), field="candidates"
            )
        if data.seats > len(data.candidates):
            raise InvalidInput(
                "too_many_seats",
                N_("There are more seats than candidates."),
                field="seats",
            )
        if data.method == "show_of_cards":
            raise InvalidInput(
                "election_by_show_of_cards",
                N_("An election is held by secret ballot, not by a show of cards."),
                field="method",
            )
    elif data.candidates:
        raise InvalidInput(
            "candidates_in_motion", N_("A motion has no candidates."), field="candidates"
        )
    if data.named and data.method not in BY_PHONE:
        raise InvalidInput(
            "named_needs_phone",
            N_("Only a vote by phone can be named."),
            field="named",
        )


def _option_rows(data: PollIn) -> list[PollOption]:
    if data.kind == "motion":
        return [
            PollOption(position=i, key=key, label=str(MOTION_LABELS[key]))
            for i, key in enumerate(rules.MOTION_OPTIONS, start=1)
        ]
    return [
        PollOption(
            position=i,
            key=f"c{i}",
            label=candidate.name.strip(),
            note=candidate.note.strip(),
            delegate=candidate.delegate_id,
        )
        for i, candidate in enumerate(data.candidates, start=1)
    ]


async def _check_references(congress_id: int, data: PollIn) -> None:
    if data.sitting_id is not None and not await Sitting.exists().where(
        (Sitting.id == data.sitting_id) & (Sitting.congress == congress_id)
    ):
        raise InvalidInput(
            "sitting_not_found", N_("This sitting does not exist."), field="sitting_id"
        )
    delegate_ids = {c.delegate_id for c in data.candidates if c.delegate_id is not None}
    if delegate_ids:
        found = await Delegate.count().where(
            Delegate.id.is_in(list(delegate_ids)) & (Delegate.congress == congress_id)
        )
        if found != len(delegate_ids):
            raise InvalidInput(
                "candidate_not_a_delegate",
                N_("A candidate is not a delegate of this congress."),
                field="candidates",
            )


async def create_poll(
    congress_id: int, data: PollIn, actor: Actor, runoff_of: int | None = None
) -> int:
    _check_poll_in(data)
    await _check_references(congress_id, data)
    async with Change(congress_id, actor) as change:
        rows = await Poll.insert(
            Poll(
                congress=congress_id,
                sitting=data.sitting_id,
                kind=data.kind,
                method=data.method,
                title=data.title.strip(),
                question=data.question.strip(),
                seats=data.seats if data.kind == "election" else 1,
                majority_base=data.majority_base,
                voters=data.voters,
                named=data.named,
                require_quorum=data.require_quorum,
                runoff_of=runoff_of,
                created_at=_now(),
            )
        ).returning(Poll.id)
        poll_id = int(rows[0]["id"])
        options = _option_rows(data)
        for option in options:
            option.poll = poll_id
        await PollOption.insert(*options)
        poll = await _locked(congress_id, poll_id)
        await _append(poll, chain.CREATED, configuration(poll, await options_of(poll_id)))
        await change.record(events.PollCreated(poll_id=poll_id, runoff_of=runoff_of))
    return poll_id


async def remove_poll(congress_id: int, poll_id: int, actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        poll = await _locked(congress_id, poll_id)
        if poll["status"] != "draft":
            raise Conflict("poll_not_draft", N_("Only a draft poll can be removed."))
        await Poll.delete().where(Poll.id == poll_id)
        await change.record(events.PollRemoved(poll_id=poll_id))


async def create_runoff(congress_id: int, poll_id: int, actor: Actor) -> int:
    """A draft runoff among the candidates tied for the last seat(s), in one step."""
    poll = await get_poll(congress_id, poll_id)
    result = result_of(poll)
    if result is None or not result.tied:
        raise Conflict("no_tie", N_("This poll has no tie to resolve."))
    if await Poll.exists().where(Poll.runoff_of == poll_id):
        raise Conflict("runoff_exists", N_("The runoff of this poll exists already."))
    by_key = {o["key"]: o for o in poll["options"]}
    data = PollIn(
        kind="election",
        title=f"{poll['title']} – {RUNOFF_SUFFIX}",
        method=poll["method"],
        question=poll["question"],
        sitting_id=poll["sitting"],
        seats=result.seats_left,
        candidates=[
            _candidate(by_key[key])
            for key in rules.runoff_rules(rules_of(poll, poll["options"]), result).options
        ],
        majority_base=poll["majority_base"],
        voters=poll["voters"],
        named=poll["named"],
        require_quorum=poll["require_quorum"],
    )
    return await create_poll(congress_id, data, actor, runoff_of=poll_id)


def _candidate(option: dict[str, Any]) -> CandidateIn:
    return CandidateIn(name=option["label"], note=option["note"], delegate_id=option["delegate"])


# --- opening and closing -------------------------------------------------------------------


async def open_poll(congress_id: int, poll_id: int, actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        poll = await _locked(congress_id, poll_id)
        if poll["status"] != "draft":
            raise Conflict("poll_not_draft", N_("This poll has been opened already."))
        if poll["sitting"] is None:
            poll["sitting"] = (await current_sitting(congress_id))["id"]
        if poll["require_quorum"]:
            counts = await attendance.counts(congress_id, poll["sitting"])
            if not counts.reached:
                raise Conflict(
                    "quorum_not_reached",
                    N_("The quorum is not reached: {present} present, {required} needed."),
                    present=counts.present,
                    required=counts.required,
                )
        eligible = await count_eligible(poll)
        await Poll.update(
            {
                Poll.status: "open",
                Poll.sitting: poll["sitting"],
                Poll.opened_at: _now(),
                Poll.eligible: eligible,
            }
        ).where(Poll.id == poll_id)
        await _append(poll, chain.OPENED, {"sitting": poll["sitting"], "eligible": eligible})
        await change.record(events.PollOpened(poll_id=poll_id, eligible=eligible))


async def _sealed_ballots(poll_id: int) -> list[dict[str, Any]]:
    return await (
        PollBallot.select(
            PollBallot.id, PollBallot.receipt, PollBallot.choices, PollBallot.delegate
        )
        .where(PollBallot.poll == poll_id)
        .order_by(PollBallot.receipt)
    )


async def _seal(poll: dict[str, Any]) -> list[dict[str, Any]]:
    """Rewrites the poll's ballots sorted by receipt, retry keys dropped, and its
    participations sorted by delegate: the order rows were written in, the order of voting,
    is gone from both."""
    ballots = await _sealed_ballots(poll["id"])
    await PollBallot.delete().where(PollBallot.poll == poll["id"])
    if ballots:
        await PollBallot.insert(
            *(
                PollBallot(
                    id=b["id"],
                    poll=poll["id"],
                    receipt=b["receipt"],
                    choices=b["choices"],
                    delegate=b["delegate"],
                )
                for b in ballots
            )
        )
    voters = await (
        PollParticipation.select(PollParticipation.delegate, PollParticipation.method)
        .where(PollParticipation.poll == poll["id"])
        .order_by(PollParticipation.delegate)
    )
    await PollParticipation.delete().where(PollParticipation.poll == poll["id"])
    if voters:
        await PollParticipation.insert(
            *(
                PollParticipation(poll=poll["id"], delegate=v["delegate"], method=v["method"])
                for v in voters
            )
        )
    return ballots


def _counts_needed(poll: dict[str, Any]) -> bool:
    return poll["method"] in BY_PAPER or poll["method"] == "show_of_cards"


async def close_poll(congress_id: int, poll_id: int, actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        poll = await _locked(congress_id, poll_id)
        if poll["status"] != "open":
            raise Conflict("poll_not_open", N_("This poll is not open."))
        ballots = await _seal(poll)
        voted = await PollParticipation.count().where(PollParticipation.poll == poll_id)
        counted = {
            "eligible": await count_eligible(poll),
            "present": await _present(poll),
            "convened": await _convened(poll),
        }
        await Poll.update(
            {
                Poll.status: "closed",
                Poll.closed_at: _now(),
                Poll.voted: voted,
                Poll.eligible: counted["eligible"],
                Poll.present: counted["present"],
                Poll.convened: counted["convened"],
            }
        ).where(Poll.id == poll_id)
        poll.update(counted, voted=voted, status="closed")
        sealed = [(b["receipt"], msgspec.json.decode(b["choices"])) for b in ballots]
        await _append(
            poll,
            chain.CLOSED,
            {
                **counted,
                "voted": voted,
                "e_ballots": len(sealed),
                "sealed": chain.sealed_digest(sealed),
            },
        )
        has_result = not _counts_needed(poll) or bool(poll["paper_counts"])
        await change.record(events.PollClosed(poll_id=poll_id, has_result=has_result))
        if has_result:
            await _decide(poll, change)


async def _decide(poll: dict[str, Any], change: Change) -> rules.Result:
    """Computes and seals the result of a closed poll whose counts are all in."""
    options = await options_of(poll["id"])
    ballots = await _sealed_ballots(poll["id"])
    result = rules.tally(
        rules_of(poll, options),
        (msgspec.json.decode(b["choices"], type=list[str]) for b in ballots),
        paper_counts_of(poll),
        present=poll["present"],
        convened=poll["convened"],
    )
    encoded = msgspec.json.encode(result).decode()
    await Poll.update({Poll.result: encoded}).where(Poll.id == poll["id"])
    poll["result"] = encoded
    link = await _append(poll, chain.RESULT, msgspec.to_builtins(result))
    await change.record(
        events.PollResultReady(poll_id=poll["id"], fingerprint=chain.fingerprint(link.digest))
    )
    return result


async def publish_poll(congress_id: int, poll_id: int, actor: Actor) -> None:
    async with Change(congress_id, actor) as change:
        poll = await _locked(congress_id, poll_id)
        if poll["status"] != "closed":
            raise Conflict("poll_not_closed", N_("Only a closed poll can be published."))
        if not poll["result"]:
            raise Conflict(
                "result_pending", N_("The result is not there yet: the counts are missing.")
            )
        await Poll.update({Poll.status: "published", Poll.published_at: _now()}).where(
            Poll.id == poll_id
        )
        await change.record(events.PollPublished(poll_id=poll_id))


# --- turnout checkpoints -------------------------------------------------------------------


async def checkpoint_poll(congress_id: int, poll_id: int) -> bool:
    """Seals the receipts handed out so far into the chain and sends the turnout, when it
    changed since the last checkpoint. True when it did."""
    voted = await PollParticipation.count().where(PollParticipation.poll == poll_id)
    poll = await _poll(congress_id, poll_id)
    if poll["status"] != "open" or voted == poll["voted"]:
        return False
    async with Change(congress_id, SYSTEM) as change:
        poll = await _locked(congress_id, poll_id)
        voted = await PollParticipation.count().where(PollParticipation.poll == poll_id)
        if poll["status"] != "open" or voted == poll["voted"]:
            return False  # another instance got there first
        # The ballots' random ids, never their receipts: once the receipts are published,
        # a digest of the receipts received so far would let anyone find by trial which
        # receipt came in between two ticks, and so whose it is. The ids never leave the
        # database; an auditor with the database can still check the checkpoints.
        ballot_ids = await PollBallot.select(PollBallot.id).where(PollBallot.poll == poll_id)
        eligible = await count_eligible(poll)
        await Poll.update({Poll.voted: voted, Poll.eligible: eligible}).where(Poll.id == poll_id)
        await _append(
            poll,
            chain.CHECKPOINT,
            {
                "voted": voted,
                "e_ballots": len(ballot_ids),
                "ballots": chain.id_set_digest(str(b["id"]) for b in ballot_ids),
            },
        )
        await change.record(events.PollTurnout(poll_id=poll_id, voted=voted, eligible=eligible))
    return True


async def checkpoint_open_polls() -> int:
    """Every open poll of every congress; what the app's ticker calls."""
    polls = await Poll.select(Poll.id, Poll.congress).where(Poll.status == "open")
    done = 0
    for poll in polls:
        done += await checkpoint_poll(poll["congress"], poll["id"])
    return done


# --- ballots -------------------------------------------------------------------------------

BALLOT_MESSAGES = {
    "no_choice": N_("Choose one answer."),
    "too_many_choices": N_("Choose only one answer."),
    "too_many_names": N_("You kept more names than there are seats: strike out more names."),
    "unknown_option": N_("This choice is not on the ballot."),
    "duplicate_option": N_("A name is on your ballot twice."),
}


_POLL_FOR_BALLOT = (
    "SELECT id, congress, kind, method, status, seats, majority_base, voters, named, sitting"
    " FROM poll WHERE id = {} AND congress = {}"
)
_OPTION_KEYS = "SELECT key FROM poll_option WHERE poll = {} ORDER BY position"
_TAKE_PART = (
    "INSERT INTO poll_participation (id, poll, delegate, method) VALUES ({}, {}, {}, {})"
    " ON CONFLICT DO NOTHING RETURNING id"
)
_ADD_BALLOT = (
    "INSERT INTO poll_ballot (id, poll, choices, receipt, retry_key, delegate)"
    " VALUES ({}, {}, {}, {}, {}, {})"
)


async def cast_ballot(congress_id: int, delegate_id: int, poll_id: int, ballot: BallotIn) -> str:
    """Records a delegate's e-ballot; its receipt. A retry with the same key gets the same
    receipt; any other second ballot is refused.

    A door of 1,100 phones votes in the same second: the whole ballot is one transaction of
    five plain statements (the poll, locked against a close; its options; the voter's
    right; the participation; the ballot), and the rare cases are looked at afterwards."""
    retry = _retry_hash(delegate_id, ballot.retry_key)
    receipt = new_receipt()
    async with database.write_transaction():
        poll = await _poll_for_ballot(congress_id, poll_id)
        try:
            _check_open_for_phones(poll)
        except Conflict as closed:
            if closed.code == "poll_closed" and await has_voted(poll_id, delegate_id) == "phone":
                # A phone that never got its answer sends the ballot again after the close:
                # the retry keys are gone (secrecy), but the delegate took part by phone.
                raise Conflict(
                    "counted_before_close",
                    N_(
                        "Your ballot reached us before the poll closed and was counted. "
                        "Voting has now ended."
                    ),
                ) from None
            raise
        keys = tuple(r["key"] for r in await database.query(_OPTION_KEYS, poll_id))
        poll_rules = rules.Rules(
            kind=poll["kind"],
            options=keys,
            seats=poll["seats"],
            majority_base=poll["majority_base"],
        )
        try:
            choices = rules.check_ballot(poll_rules, ballot.choices)
        except rules.BallotError as error:
            raise InvalidInput(error.code, BALLOT_MESSAGES[error.code], field="choices") from None
        if not await may_vote(poll, delegate_id):
            raise await _not_eligible(poll, delegate_id)
        took_part = await database.query(_TAKE_PART, uuid.uuid4(), poll_id, delegate_id, "phone")
        if took_part:
            await database.query(
                _ADD_BALLOT,
                uuid.uuid4(),
                poll_id,
                msgspec.json.encode(list(choices)).decode(),
                receipt,
                retry,
                delegate_id if poll["named"] else None,
            )
    if took_part:
        return receipt
    if retry:  # the same ballot sent again (or twice at once): the first one's receipt
        again = await _receipt_for_retry(poll_id, delegate_id, retry)
        if again:
            return again
    raise await _already_voted(poll_id, delegate_id)


async def _poll_for_ballot(congress_id: int, poll_id: int) -> dict[str, Any]:
    """The poll as a ballot needs it, locked FOR SHARE on PostgreSQL: ballots go side by
    side, a close waits for them (and they for it)."""
    sql = _POLL_FOR_BALLOT
    if isinstance(database.engine(), PostgresEngine):
        sql += " FOR SHARE"
    rows = await database.query(sql, poll_id, congress_id)
    if not rows:
        raise NotFound("poll_not_found", N_("This poll does not exist."))
    return rows[0]


async def _receipt_for_retry(poll_id: int, delegate_id: int, retry: str) -> str | None:
    row = (
        await PollBallot.select(PollBallot.receipt)
        .where((PollBallot.poll == poll_id) & (PollBallot.retry_key == retry))
        .first()
    )
    if row is None or not await PollParticipation.exists().where(
        (PollParticipation.poll == poll_id) & (PollParticipation.delegate == delegate_id)
    ):
        return None
    return str(row["receipt"])


def _check_open_for_phones(poll: dict[str, Any]) -> None:
    if poll["status"] == "draft":
        raise Conflict("poll_not_open", N_("Voting has not started yet."))
    if poll["status"] != "open":
        raise Conflict("poll_closed", N_("Voting has ended: this poll is closed."))
    if poll["method"] not in BY_PHONE:
        raise Conflict("not_by_phone", N_("This vote is not held by phone."))


async def _not_eligible(poll: dict[str, Any], delegate_id: int) -> Conflict:
    """Why this delegate may not vote: not an official delegate, or not checked in."""
    if _officials(poll) and not await Delegate.exists().where(
        (Delegate.id == delegate_id) & (Delegate.kind == "official")
    ):
        return Conflict("not_official", N_("Only official delegates vote in this poll."))
    if poll["voters"] in {"official_present", "present"}:
        return Conflict(
            "not_checked_in",
            N_("You are not checked in to this sitting. Please check in at the door first."),
        )
    return Conflict("not_eligible", N_("You are not among the voters of this poll."))


async def _already_voted(poll_id: int, delegate_id: int) -> Conflict:
    row = (
        await PollParticipation.select(PollParticipation.method)
        .where((PollParticipation.poll == poll_id) & (PollParticipation.delegate == delegate_id))
        .first()
    )
    if row and row["method"] == "paper":
        return Conflict(
            "voted_on_paper", N_("You were given a paper ballot: vote on paper, not by phone.")
        )
    return Conflict("already_voted", N_("You have voted in this poll already."))


async def has_voted(poll_id: int, delegate_id: int) -> str | None:
    """How the delegate took part ("phone", "paper"), or None."""
    row = (
        await PollParticipation.select(PollParticipation.method)
        .where((PollParticipation.poll == poll_id) & (PollParticipation.delegate == delegate_id))
        .first()
    )
    return row["method"] if row else None


async def hand_out_paper_ballot(
    congress_id: int, poll_id: int, data: HandOutIn, actor: Actor
) -> dict[str, Any]:
    """Records that a delegate got a paper ballot: from then on, no phone ballot."""
    delegate = await _delegate_for(congress_id, data)
    poll = await _poll(congress_id, poll_id)
    if poll["status"] != "open":
        raise Conflict("poll_not_open", N_("This poll is not open."))
    if poll["method"] not in BY_PAPER:
        raise Conflict("not_by_paper", N_("This vote is not held on paper."))
    if not await may_vote(poll, delegate["id"]):
        raise await _not_eligible(poll, delegate["id"])
    async with database.write_transaction():
        await _locked(congress_id, poll_id, "SHARE")
        took_part = (
            await PollParticipation.insert(
                PollParticipation(poll=poll_id, delegate=delegate["id"], method="paper")
            )
            .on_conflict(action=OnConflictAction.do_nothing)
            .returning(PollParticipation.id)
        )
    if not took_part:
        raise await _already_voted(poll_id, delegate["id"])
    return delegate


async def _delegate_for(congress_id: int, data: HandOutIn) -> dict[str, Any]:
    where: Any = Delegate.congress == congress_id
    if data.delegate_id is not None:
        where &= Delegate.id == data.delegate_id
    elif data.card_number.strip():
        where &= Delegate.card_number == data.card_number.strip()
    else:
        raise InvalidInput(
            "no_delegate", N_("Give the delegate's card number."), field="card_number"
        )
    row = await Delegate.select(Delegate.id, Delegate.full_name).where(where).first()
    if row is None:
        raise NotFound("delegate_not_found", N_("No delegate of this congress has this card."))
    return row


# --- counts from paper and from a show of cards --------------------------------------------

PAPER_MESSAGES = {
    "collected_mismatch": N_("Ballots collected must equal valid plus invalid ballots."),
    "collected_over_issued": N_("More ballots were collected than were handed out."),
    "votes_over_valid": N_("An option has more votes than there are valid ballots."),
    "motion_sum": N_("The votes of a motion must add up to the valid ballots."),
    "unknown_option": N_("These counts name an option that is not on the ballot."),
    "too_many_votes": N_("The votes add up to more names than the valid ballots can hold."),
}


def _check_counts(poll_rules: rules.Rules, counts: PaperCountsIn) -> rules.PaperCounts:
    code = None
    if counts.collected != counts.valid + counts.invalid:
        code = "collected_mismatch"
    elif counts.collected > counts.issued:
        code = "collected_over_issued"
    elif set(counts.votes) - set(poll_rules.options):
        code = "unknown_option"
    elif any(v > counts.valid for v in counts.votes.values()):
        code = "votes_over_valid"
    elif poll_rules.kind == "motion" and sum(counts.votes.values()) != counts.valid:
        code = "motion_sum"
    elif sum(counts.votes.values()) > counts.valid * poll_rules.seats:
        code = "too_many_votes"
    if code:
        raise InvalidInput(code, PAPER_MESSAGES[code], field="votes")
    votes = {key: counts.votes.get(key, 0) for key in poll_rules.options}
    return rules.PaperCounts(
        issued=counts.issued,
        collected=counts.collected,
        valid=counts.valid,
        invalid=counts.invalid,
        votes=votes,
    )


async def enter_paper_counts(
    congress_id: int, poll_id: int, entry: int, counts: PaperCountsIn, actor: Actor
) -> bool | None:
    """One member's entry (1 or 2). True when both entries now agree and the counts stand,
    False when they differ, None while the other entry is missing."""
    if entry not in (1, 2):
        raise InvalidInput("bad_entry", N_("The entry is the first or the second."), field="entry")
    poll = await get_poll(congress_id, poll_id)
    if poll["method"] not in BY_PAPER:
        raise Conflict("not_by_paper", N_("This vote is not held on paper."))
    paper = _check_counts(rules_of(poll, poll["options"]), counts)
    async with Change(congress_id, actor) as change:
        poll = await _locked(congress_id, poll_id)
        if poll["status"] not in {"open", "closed"} or poll["result"]:
            raise Conflict("counts_closed", N_("The counts of this poll can no longer change."))
        other = (
            await PollPaperEntry.select()
            .where((PollPaperEntry.poll == poll_id) & (PollPaperEntry.entry == 3 - entry))
            .first()
        )
        if other and other["account"] == actor.id:
            raise Conflict(
                "same_member",
                N_("The second entry must be made by another member of the tally committee."),
            )
        encoded = msgspec.json.encode(paper).decode()
        await PollPaperEntry.delete().where(
            (PollPaperEntry.poll == poll_id) & (PollPaperEntry.entry == entry)
        )
        await PollPaperEntry.insert(
            PollPaperEntry(
                poll=poll_id, entry=entry, account=actor.id, counts=encoded, entered_at=_now()
            )
        )
        agreed = None if other is None else other["counts"] == encoded
        await change.record(events.PaperCountsEntered(poll_id=poll_id, entry=entry, agreed=agreed))
        if agreed:
            await _counts_stand(poll, chain.PAPER, paper, change)
    return agreed


async def _counts_stand(
    poll: dict[str, Any], kind: str, counts: rules.PaperCounts, change: Change
) -> None:
    encoded = msgspec.json.encode(counts).decode()
    await Poll.update({Poll.paper_counts: encoded}).where(Poll.id == poll["id"])
    poll["paper_counts"] = encoded
    await _append(poll, kind, msgspec.to_builtins(counts))
    if poll["status"] == "closed":
        await _decide(poll, change)


async def paper_entries(poll_id: int) -> list[dict[str, Any]]:
    return await (
        PollPaperEntry.select(
            PollPaperEntry.entry,
            PollPaperEntry.counts,
            PollPaperEntry.entered_at,
            PollPaperEntry.account.full_name.as_alias("account_name"),
        )
        .where(PollPaperEntry.poll == poll_id)
        .order_by(PollPaperEntry.entry)
    )


async def count_show_of_cards(
    congress_id: int, poll_id: int, data: ShowOfCardsIn, actor: Actor
) -> None:
    """The presidium's count of raised cards, or "unanimous" (everyone present agrees)."""
    async with Change(congress_id, actor) as change:
        poll = await _locked(congress_id, poll_id)
        if poll["method"] != "show_of_cards":
            raise Conflict("not_show_of_cards", N_("This vote is not a show of cards."))
        if poll["status"] not in {"open", "closed"} or poll["result"]:
            raise Conflict("counts_closed", N_("The counts of this poll can no longer change."))
        if data.unanimous:
            present = await _present(poll)
            votes = {"agree": present, "disagree": 0, "abstain": 0}
        else:
            votes = {"agree": data.agree, "disagree": data.disagree, "abstain": data.abstain}
        total = sum(votes.values())
        counts = rules.PaperCounts(
            issued=total, collected=total, valid=total, invalid=0, votes=votes
        )
        await change.record(events.ShowOfCardsCounted(poll_id=poll_id, unanimous=data.unanimous))
        await _counts_stand(poll, chain.CARDS, counts, change)


# --- what is shown and exported ------------------------------------------------------------


async def receipts_of(poll_id: int) -> list[str]:
    rows = await (
        PollBallot.select(PollBallot.receipt)
        .where(PollBallot.poll == poll_id)
        .order_by(PollBallot.receipt)
    )
    return [r["receipt"] for r in rows]


async def export_poll(congress_id: int, poll_id: int) -> dict[str, Any]:
    """Everything `congress verify-poll` needs to recompute the tally and the chain."""
    poll = await get_poll(congress_id, poll_id)
    if poll["status"] not in {"closed", "published"}:
        raise Conflict("poll_not_closed", N_("A poll can be exported once it is closed."))
    ballots = await _sealed_ballots(poll_id)
    return {
        "format": "congress-poll/1",
        "configuration": configuration(poll, poll["options"]),
        "status": poll["status"],
        "present": poll["present"],
        "convened": poll["convened"],
        "eligible": poll["eligible"],
        "voted": poll["voted"],
        "ballots": [
            {
                "receipt": b["receipt"],
                "choices": msgspec.json.decode(b["choices"]),
                **({"delegate": b["delegate"]} if poll["named"] else {}),
            }
            for b in ballots
        ],
        "paper_counts": msgspec.json.decode(poll["paper_counts"]) if poll["paper_counts"] else None,
        "result": msgspec.json.decode(poll["result"]) if poll["result"] else None,
        "chain": [msgspec.to_builtins(link) for link in await chain_of(poll_id)],
        "fingerprint": chain.fingerprint(poll["chain_head"]),
        "head": poll["chain_head"],
    }
