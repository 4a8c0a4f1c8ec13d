"""The polls in the organizers' console: the list, a new poll, a poll's page with its actions,
the tally committee's paper counts and the presidium's show of cards, live turnout."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import msgspec
from litestar import Controller, Request, Response, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from congress import services as congress_services
from congress.accounts import Permission, SignedInAccount
from congress.auth import refuse, require, require_same_origin, signed_in
from congress.controllers import CongressId, ItemId
from congress.errors import CongressError, InvalidInput
from congress.eventlog import RecordedEvent, congress_channel
from congress.forms import read_form
from congress.i18n import N_, current_language, gettext, translate
from congress.pages import NOTICES, error_context
from congress.templating import page
from congress.voting import chain, events, protocol, rules, services
from congress.voting.schemas import HandOutIn, PaperCountsIn, PollIn, ShowOfCardsIn
from congress.voting.tables import Poll, PollPaperEntry

STATUS_LABELS = {
    "draft": N_("Draft"),
    "open": N_("Voting now"),
    "closed": N_("Ended"),
    "published": N_("Announced"),
}
KIND_LABELS = {"motion": N_("Motion"), "election": N_("Election")}
METHOD_LABELS = {
    "phone": N_("By phone"),
    "paper": N_("Paper ballots"),
    "phone_and_paper": N_("By phone and on paper"),
    "show_of_cards": N_("Show of cards"),
}
COUNT_LABELS = {
    "issued": N_("Ballots issued"),
    "collected": N_("Ballots collected"),
    "valid": N_("Valid ballots"),
    "invalid": N_("Invalid ballots"),
}
FIELD_LABELS = {
    "kind": N_("Kind"),
    "method": N_("Method"),
    "title": N_("Title"),
    "question": N_("Question"),
    "sitting_id": N_("Sitting"),
    "seats": N_("Number to be elected"),
    "candidates": N_("Candidates"),
    "majority_base": N_("Majority needed"),
    "voters": N_("Who may vote"),
}
POLL_NOTICES = {
    **NOTICES,
    "opened": N_("Voting has begun."),
    "closed": N_("Voting has ended."),
    "published": N_("The result is announced."),
    "counted": N_("The show of cards is counted."),
    "entered": N_("Your entry is saved. Waiting for the other entry."),
    "agreed": N_("Both entries agree: the paper counts stand."),
    "differ": N_("The two entries differ. Count the piles named below again."),
}
NEW_POLL_DEFAULTS = {
    "kind": "motion",
    "method": "phone",
    "seats": "1",
    "majority_base": "collected",
    "voters": "official_present",
    "require_quorum": "true",
}
# The events that change what a poll's page shows; PollTurnout is sent as numbers.
LIVE_EVENTS = {
    event.__name__
    for event in (
        events.PollOpened,
        events.PollTurnout,
        events.PaperCountsEntered,
        events.ShowOfCardsCounted,
        events.PollClosed,
        events.PollResultReady,
        events.PollPublished,
    )
}
MAX_COUNT = 1_000_000


def _invalid(field: str, label: str) -> InvalidInput:
    return InvalidInput(
        "invalid_field", N_("The field “{label}” is not valid."), field=field, label=label
    )


def _candidates(text: str) -> list[dict[str, str]]:
    """One candidate a line, "Name | note"; empty lines are skipped."""
    found = []
    for line in text.splitlines():
        if line.strip():
            name, _, note = line.partition("|")
            found.append({"name": name.strip(), "note": note.strip()})
    return found


def poll_in(form: dict[str, Any]) -> PollIn:
    """The new-poll form as the schema the API takes."""
    values: dict[str, Any] = {
        key: form.get(key, "")
        for key in ("kind", "method", "title", "question", "majority_base", "voters")
    }
    values["seats"] = form.get("seats") or "1"
    values["sitting_id"] = form.get("sitting_id") or None
    values["candidates"] = _candidates(str(form.get("candidates", "")))
    values["named"] = form.get("named") == "true"
    values["require_quorum"] = form.get("require_quorum") == "true"
    try:
        return msgspec.convert(values, PollIn, strict=False)
    except msgspec.ValidationError as exc:
        path = str(exc).rsplit("$.", 1)[-1]
        field = next((f for f in FIELD_LABELS if path.startswith(f)), "title")
        raise _invalid(field, gettext(FIELD_LABELS[field])) from None


def _count(form: dict[str, Any], field: str, label: str, empty: int | None = None) -> int:
    text = str(form.get(field, "")).strip()
    if not text and empty is not None:
        return empty
    if not (text.isascii() and text.isdigit()) or int(text) > MAX_COUNT:
        raise _invalid(field, label)
    return int(text)


def paper_counts_in(form: dict[str, Any], options: list[dict[str, Any]]) -> PaperCountsIn:
    counts = {name: _count(form, name, gettext(label)) for name, label in COUNT_LABELS.items()}
    votes = {o["key"]: _count(form, f"vote_{o['key']}", o["label"]) for o in options}
    return PaperCountsIn(**counts, votes=votes)


def show_of_cards_in(form: dict[str, Any], options: list[dict[str, Any]]) -> ShowOfCardsIn:
    if form.get("unanimous") == "true":
        return ShowOfCardsIn(unanimous=True)

    def count(key: str) -> int:
        label = next((o["label"] for o in options if o["key"] == key), key)
        return _count(form, f"vote_{key}", label, empty=0)

    return ShowOfCardsIn(agree=count("agree"), disagree=count("disagree"), abstain=count("abstain"))


def entry_of(form: dict[str, Any]) -> int:
    entry = str(form.get("entry", ""))
    if entry not in {"1", "2"}:
        raise InvalidInput("bad_entry", N_("The entry is the first or the second."), field="entry")
    return int(entry)


def labelled_options(poll: dict[str, Any]) -> list[dict[str, Any]]:
    """The options with the label a reader sees: a motion's are msgids."""
    read = gettext if poll["kind"] == "motion" else str
    return [{**o, "label": read(str(o["label"]))} for o in poll["options"]]


def result_rows(result: rules.Result, options: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_key = {o["key"]: o for o in options}
    return [
        {
            "key": outcome.option,
            "label": by_key[outcome.option]["label"],
            "note": by_key[outcome.option]["note"],
            "votes": outcome.votes,
            "percent": protocol.percent(outcome.votes, result.base, current_language.get()),
            "elected": outcome.elected,
            "tied": outcome.tied,
        }
        for outcome in result.outcomes
    ]


def differences(
    first: rules.PaperCounts, second: rules.PaperCounts, options: list[dict[str, Any]]
) -> list[str]:
    """The labels of the numbers two entries disagree on (never the numbers themselves)."""
    found = [
        gettext(label)
        for name, label in COUNT_LABELS.items()
        if getattr(first, name) != getattr(second, name)
    ]
    found += [
        o["label"] for o in options if first.votes.get(o["key"]) != second.votes.get(o["key"])
    ]
    return found


async def double_entry(
    poll_id: int, viewer: SignedInAccount, options: list[dict[str, Any]]
) -> dict[str, Any]:
    """Where the two entries of the paper counts stand, as the viewer may see it.

    Nobody sees an entry's numbers but the member who made it: were the second member to
    see the first one's figures, they could copy them and the double entry would check
    nothing. When both are in and differ, everyone sees which numbers differ, so that
    those piles are counted again.
    """
    rows = await (
        PollPaperEntry.select(
            PollPaperEntry.entry,
            PollPaperEntry.account,
            PollPaperEntry.counts,
            PollPaperEntry.entered_at,
            PollPaperEntry.account.full_name.as_alias("account_name"),
        )
        .where(PollPaperEntry.poll == poll_id)
        .order_by(PollPaperEntry.entry)
    )
    entries = {row["entry"]: row for row in rows}
    counts = {
        n: msgspec.json.decode(r["counts"], type=rules.PaperCounts) for n, r in entries.items()
    }
    mine = next((n for n, r in entries.items() if r["account"] == viewer.id), None)
    if len(counts) < 2:
        state, differing = ("waiting" if counts else "none"), []
    else:
        differing = differences(counts[1], counts[2], options)
        state = "differ" if differing else "agreed"
    return {
        "state": state,
        "entries": entries,
        "differing": differing,
        "mine": mine,
        "own_counts": counts.get(mine) if mine else None,
        # The entry this viewer makes: their own again, else the one still missing.
        "next_entry": mine or (2 if 1 in entries and 2 not in entries else 1),
    }


async def file_protocol(congress_id: int, poll_id: int, account: SignedInAccount) -> None:
    """Files the tally protocol (biên bản kiểm phiếu) once the poll has its result; a
    protocol that cannot be made is logged there, never an error of the change before it."""
    await protocol.file_if_ready(congress_id, poll_id, account.actor)


class PollPages(Controller):
    path = "/console/congresses/{congress_id:int}/polls"
    include_in_schema = False
    guards = [require(Permission.VIEW_POLLS)]

    @get("/")
    async def list_polls(
        self, request: Request[Any, Any, Any], congress_id: CongressId, notice: FromQuery[str] = ""
    ) -> Template:
        polls = await services.list_polls(congress_id)
        for poll in polls:
            # Once counted, the ballots collected: paper ballots nobody marked as handed out
            # count too.
            result = services.result_of(poll)
            poll["collected"] = result.ballots_collected if result else None
        return page(
            request,
            "polls.html",
            congress=await congress_services.titled_congress(congress_id),
            polls=polls,
            notice=POLL_NOTICES.get(notice),
            **_labels(),
        )

    @get("/new", guards=[require(Permission.MANAGE_POLLS)])
    async def new_poll(self, request: Request[Any, Any, Any], congress_id: CongressId) -> Template:
        return await self._new_page(request, congress_id, dict(NEW_POLL_DEFAULTS))

    async def _new_page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        form: dict[str, Any],
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        return page(
            request,
            "poll_new.html",
            status_code=status_code,
            congress=await congress_services.titled_congress(congress_id),
            sittings=await congress_services.sittings_of(congress_id),
            form=form,
            voter_labels=services.VOTERS,
            **_labels(),
            **extra,
        )

    @post("/", guards=[require(Permission.MANAGE_POLLS)])
    async def create(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            await congress_services.get_congress(congress_id)
            poll_id = await services.create_poll(
                congress_id, poll_in(form), signed_in(request).actor
            )
        except CongressError as exc:
            return await self._new_page(
                request, congress_id, form, exc.status_code, **error_context(exc)
            )
        return Redirect(f"{_polls(congress_id)}/{poll_id}?notice=created")

    # --- a poll ---------------------------------------------------------------------------

    async def _context(
        self, request: Request[Any, Any, Any], congress_id: int, poll_id: int
    ) -> dict[str, Any]:
        viewer = signed_in(request)
        poll = await services.get_poll(congress_id, poll_id)
        options = labelled_options(poll)
        result = services.result_of(poll)
        closed = poll["status"] in {"closed", "published"}
        runoff = await Poll.select(Poll.id, Poll.title).where(Poll.runoff_of == poll_id).first()
        return {
            "congress": await congress_services.titled_congress(congress_id),
            "poll": poll,
            "options": options,
            "sitting": next(
                (
                    s
                    for s in await congress_services.sittings_of(congress_id)
                    if s["id"] == poll["sitting"]
                ),
                None,
            ),
            "result": result,
            "rows": result_rows(result, options) if result else [],
            "needed": protocol.needed(result.base) if result else 0,
            "fingerprint": chain.fingerprint(poll["chain_head"]),
            "receipts": len(await services.receipts_of(poll_id)) if closed else None,
            "runoff": runoff,
            "by_paper": poll["method"] in services.BY_PAPER,
            "counting": poll["status"] in {"open", "closed"} and not result,
            "paper": await double_entry(poll_id, viewer, options),
            "voter_labels": services.VOTERS,
            "live": f"{_polls(congress_id)}/{poll_id}",
            **_labels(),
        }

    async def _poll_page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        poll_id: int,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        context = await self._context(request, congress_id, poll_id)
        return page(request, "poll.html", status_code=status_code, **context, **extra)

    @get("/{poll_id:int}")
    async def poll(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        poll_id: ItemId,
        notice: FromQuery[str] = "",
    ) -> Template:
        return await self._poll_page(request, congress_id, poll_id, notice=POLL_NOTICES.get(notice))

    @get("/{poll_id:int}/part")
    async def part(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Template:
        """Status, turnout, actions, double entry and result: fetched again on each event."""
        context = await self._context(request, congress_id, poll_id)
        return page(request, "_poll_live.html", **context)

    @get("/{poll_id:int}/receipts")
    async def receipts(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Template:
        poll = await services.get_poll(congress_id, poll_id)
        closed = poll["status"] in {"closed", "published"}
        return page(
            request,
            "poll_receipts.html",
            congress=await congress_services.titled_congress(congress_id),
            poll=poll,
            fingerprint=chain.fingerprint(poll["chain_head"]),
            receipts=await services.receipts_of(poll_id) if closed else None,
        )

    async def _act(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        poll_id: int,
        action: Callable[[], Awaitable[Any]],
        notice: str,
        *,
        result_may_be_ready: bool = False,
    ) -> Response[Any]:
        """Runs a change; its error on the poll's page, else back to the page with a notice."""
        try:
            await action()
        except CongressError as exc:
            return await self._poll_page(
                request, congress_id, poll_id, exc.status_code, **error_context(exc)
            )
        if result_may_be_ready:
            await file_protocol(congress_id, poll_id, signed_in(request))
        return Redirect(f"{_polls(congress_id)}/{poll_id}?notice={notice}")

    @post("/{poll_id:int}/open", guards=[require(Permission.MANAGE_POLLS)])
    async def open(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Response[Any]:
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            poll_id,
            lambda: services.open_poll(congress_id, poll_id, actor),
            "opened",
        )

    @post("/{poll_id:int}/close", guards=[require(Permission.MANAGE_POLLS)])
    async def close(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Response[Any]:
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            poll_id,
            lambda: services.close_poll(congress_id, poll_id, actor),
            "closed",
            result_may_be_ready=True,
        )

    @post("/{poll_id:int}/publish", guards=[require(Permission.MANAGE_POLLS)])
    async def publish(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Response[Any]:
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            poll_id,
            lambda: services.publish_poll(congress_id, poll_id, actor),
            "published",
        )

    @post("/{poll_id:int}/runoff", guards=[require(Permission.MANAGE_POLLS)])
    async def runoff(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Response[Any]:
        try:
            runoff_id = await services.create_runoff(congress_id, poll_id, signed_in(request).actor)
        except CongressError as exc:
            return await self._poll_page(
                request, congress_id, poll_id, exc.status_code, **error_context(exc)
            )
        return Redirect(f"{_polls(congress_id)}/{runoff_id}?notice=created")

    @post("/{poll_id:int}/remove", guards=[require(Permission.MANAGE_POLLS)])
    async def remove(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Response[Any]:
        try:
            await services.remove_poll(congress_id, poll_id, signed_in(request).actor)
        except CongressError as exc:
            return await self._poll_page(
                request, congress_id, poll_id, exc.status_code, **error_context(exc)
            )
        return Redirect(f"{_polls(congress_id)}?notice=removed")

    @post("/{poll_id:int}/show-of-cards", guards=[require(Permission.MANAGE_POLLS)])
    async def show_of_cards(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        actor = signed_in(request).actor

        async def count() -> None:
            poll = await services.get_poll(congress_id, poll_id)
            data = show_of_cards_in(form, labelled_options(poll))
            await services.count_show_of_cards(congress_id, poll_id, data, actor)

        response = await self._act(
            request, congress_id, poll_id, count, "counted", result_may_be_ready=True
        )
        if isinstance(response, Template):
            response.context["cards_form"] = form
        return response

    @post("/{poll_id:int}/paper-counts", guards=[require(Permission.COUNT_PAPER)])
    async def paper_counts(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        account = signed_in(request)
        try:
            poll = await services.get_poll(congress_id, poll_id)
            entry = entry_of(form)
            data = paper_counts_in(form, labelled_options(poll))
            agreed = await services.enter_paper_counts(
                congress_id, poll_id, entry, data, account.actor
            )
        except CongressError as exc:
            return await self._poll_page(
                request,
                congress_id,
                poll_id,
                exc.status_code,
                paper_form=form,
                **error_context(exc),
            )
        if agreed:
            await file_protocol(congress_id, poll_id, account)
        notice = {True: "agreed", False: "differ", None: "entered"}[agreed]
        return Redirect(f"{_polls(congress_id)}/{poll_id}?notice={notice}#paper")

    @post(
        "/{poll_id:int}/paper-ballots",
        guards=[require(Permission.COUNT_PAPER)],
        status_code=200,
    )
    async def hand_out(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Template:
        """A paper ballot handed to a delegate: answered on the page itself, ready for the
        next card."""
        form = await read_form(request)
        data = HandOutIn(card_number=str(form.get("card_number", ""))[:32])
        try:
            delegate = await services.hand_out_paper_ballot(
                congress_id, poll_id, data, signed_in(request).actor
            )
        except CongressError as exc:
            return await self._poll_page(
                request,
                congress_id,
                poll_id,
                exc.status_code,
                hand_out_card=data.card_number,
                **error_context(exc),
            )
        handed = translate(
            N_("Paper ballot handed out: card {card}, {name}."),
            card=data.card_number.strip(),
            name=delegate["full_name"],
        )
        return await self._poll_page(request, congress_id, poll_id, notice=handed, hand_out_card="")

    @websocket("/{poll_id:int}/live", guards=[require_same_origin])
    async def live(
        self, socket: WebSocket[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> None:
        """This poll's events as they happen: the turnout as numbers, the rest as a type
        that tells the page to fetch its part again."""
        try:
            await services.get_poll(congress_id, poll_id)
        except CongressError as error:  # a poll of another congress: closed with 4404
            refuse(socket, error)
        channels = socket.app.plugins.get(ChannelsPlugin)
        await socket.accept()

        async def forward(message: bytes) -> None:
            event = msgspec.json.decode(message, type=RecordedEvent)
            if event.type in LIVE_EVENTS and event.payload.get("poll_id") == poll_id:
                data = {"type": event.type, **event.payload}
                await socket.send_text(msgspec.json.encode(data).decode())

        subscription = channels.start_subscription([congress_channel(congress_id)])
        async with subscription as subscriber, subscriber.run_in_background(forward):
            # The page sends nothing; waiting here notices when it goes away.
            with contextlib.suppress(WebSocketDisconnect, asyncio.CancelledError):
                while True:
                    await socket.receive_data(mode="text")


def _polls(congress_id: int) -> str:
    return f"/console/congresses/{congress_id}/polls"


def _labels() -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "kind_labels": KIND_LABELS,
        "method_labels": METHOD_LABELS,
        "majority_labels": protocol.BASE_LABELS,
        "count_labels": COUNT_LABELS,
    }
