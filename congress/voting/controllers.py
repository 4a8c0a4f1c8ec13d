"""The polls' JSON API for the presidium and the tally committee."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, delete, get, post
from litestar.params import JSONBody, PathParameter

from congress.accounts import Permission
from congress.auth import require
from congress.controllers import CongressId, Created, ItemId, who
from congress.errors import Conflict, declares_errors
from congress.i18n import N_
from congress.services import get_congress
from congress.voting import chain, protocol, services
from congress.voting.schemas import (
    HandOutIn,
    OptionOut,
    PaperCountsIn,
    PollIn,
    PollOut,
    ShowOfCardsIn,
)

Entry = Annotated[int, PathParameter(ge=1, le=2)]


class Status(msgspec.Struct):
    poll_id: int
    status: str
    has_result: bool


class PaperEntryOut(msgspec.Struct):
    entry: int
    agreed: bool | None


class HandedOut(msgspec.Struct):
    delegate_id: int
    full_name: str


class Receipts(msgspec.Struct):
    poll_id: int
    fingerprint: str
    receipts: list[str]


def poll_out(poll: dict[str, Any]) -> PollOut:
    result = services.result_of(poll)
    return PollOut(
        id=poll["id"],
        kind=poll["kind"],
        method=poll["method"],
        title=poll["title"],
        question=poll["question"],
        status=poll["status"],
        seats=poll["seats"],
        majority_base=poll["majority_base"],
        voters=poll["voters"],
        named=poll["named"],
        require_quorum=poll["require_quorum"],
        sitting_id=poll["sitting"],
        runoff_of=poll["runoff_of"],
        options=[
            OptionOut(key=o["key"], label=services.option_label(poll["kind"], o), note=o["note"])
            for o in poll["options"]
        ],
        voted=poll["voted"],
        eligible=poll["eligible"],
        fingerprint=chain.fingerprint(poll["chain_head"]),
        result=msgspec.to_builtins(result) if result else None,
        protocol_document_id=poll["protocol_document"],
    )


async def _status(congress_id: int, poll_id: int) -> Status:
    poll = await services.get_poll(congress_id, poll_id)
    return Status(poll_id=poll_id, status=poll["status"], has_result=bool(poll["result"]))


@declares_errors
class PollController(Controller):
    path = "/api/congresses/{congress_id:int}/polls"
    tags = ["polls"]

    @get("/", guards=[require(Permission.VIEW_POLLS)])
    async def list_polls(self, congress_id: CongressId) -> list[PollOut]:
        await get_congress(congress_id)
        polls = await services.list_polls(congress_id)
        out = []
        for poll in polls:
            poll["options"] = await services.options_of(poll["id"])
            out.append(poll_out(poll))
        return out

    @post("/", guards=[require(Permission.MANAGE_POLLS)])
    async def create(
        self, request: Request[Any, Any, Any], congress_id: CongressId, data: JSONBody[PollIn]
    ) -> Created:
        await get_congress(congress_id)
        return Created(await services.create_poll(congress_id, data, who(request).actor))

    @get("/{poll_id:int}", guards=[require(Permission.VIEW_POLLS)])
    async def get_poll(self, congress_id: CongressId, poll_id: ItemId) -> PollOut:
        return poll_out(await services.get_poll(congress_id, poll_id))

    @delete("/{poll_id:int}", guards=[require(Permission.MANAGE_POLLS)])
    async def remove(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> None:
        await services.remove_poll(congress_id, poll_id, who(request).actor)

    @post("/{poll_id:int}/open", guards=[require(Permission.MANAGE_POLLS)], status_code=200)
    async def open(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Status:
        await services.open_poll(congress_id, poll_id, who(request).actor)
        return await _status(congress_id, poll_id)

    @post("/{poll_id:int}/close", guards=[require(Permission.MANAGE_POLLS)], status_code=200)
    async def close(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Status:
        await services.close_poll(congress_id, poll_id, who(request).actor)
        await _file_protocol_if_ready(request, congress_id, poll_id)
        return await _status(congress_id, poll_id)

    @post("/{poll_id:int}/publish", guards=[require(Permission.MANAGE_POLLS)], status_code=200)
    async def publish(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Status:
        await services.publish_poll(congress_id, poll_id, who(request).actor)
        # A protocol that failed at close is filed now, before the result is announced.
        await _file_protocol_if_ready(request, congress_id, poll_id)
        return await _status(congress_id, poll_id)

    @post("/{poll_id:int}/runoff", guards=[require(Permission.MANAGE_POLLS)])
    async def runoff(
        self, request: Request[Any, Any, Any], congress_id: CongressId, poll_id: ItemId
    ) -> Created:
        return Created(await services.create_runoff(congress_id, poll_id, who(request).actor))

    @post(
        "/{poll_id:int}/show-of-cards", guards=[require(Permission.MANAGE_POLLS)], status_code=200
    )
    async def show_of_cards(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        poll_id: ItemId,
        data: JSONBody[ShowOfCardsIn],
    ) -> Status:
        await services.count_show_of_cards(congress_id, poll_id, data, who(request).actor)
        await _file_protocol_if_ready(request, congress_id, poll_id)
        return await _status(congress_id, poll_id)

    @post(
        "/{poll_id:int}/paper-counts/{entry:int}",
        guards=[require(Permission.COUNT_PAPER)],
        status_code=200,
    )
    async def paper_counts(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        poll_id: ItemId,
        entry: Entry,
        data: JSONBody[PaperCountsIn],
    ) -> PaperEntryOut:
        agreed = await services.enter_paper_counts(
            congress_id, poll_id, entry, data, who(request).actor
        )
        if agreed:
            await _file_protocol_if_ready(request, congress_id, poll_id)
        return PaperEntryOut(entry=entry, agreed=agreed)

    @post(
        "/{poll_id:int}/paper-ballots",
        guards=[require(Permission.COUNT_PAPER)],
        status_code=200,
    )
    async def hand_out(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        poll_id: ItemId,
        data: JSONBody[HandOutIn],
    ) -> HandedOut:
        delegate = await services.hand_out_paper_ballot(
            congress_id, poll_id, data, who(request).actor
        )
        return HandedOut(delegate_id=delegate["id"], full_name=delegate["full_name"])

    @get("/{poll_id:int}/receipts", guards=[require(Permission.VIEW_POLLS)])
    async def receipts(self, congress_id: CongressId, poll_id: ItemId) -> Receipts:
        poll = await services.get_poll(congress_id, poll_id)
        if poll["status"] not in {"closed", "published"}:
            raise Conflict(
                "poll_not_closed", N_("The receipts are listed once the poll is closed.")
            )
        return Receipts(
            poll_id=poll_id,
            fingerprint=chain.fingerprint(poll["chain_head"]),
            receipts=await services.receipts_of(poll_id),
        )

    @get("/{poll_id:int}/export", guards=[require(Permission.VIEW_POLLS)])
    async def export(self, congress_id: CongressId, poll_id: ItemId) -> dict[str, Any]:
        """Everything `congress verify-poll` needs: configuration, sealed ballots, counts,
        result and chain."""
        return await services.export_poll(congress_id, poll_id)


async def _file_protocol_if_ready(
    request: Request[Any, Any, Any], congress_id: int, poll_id: int
) -> None:
    """Files the tally protocol (biên bản kiểm phiếu) once the result is there."""
    await protocol.file_if_ready(congress_id, poll_id, who(request).actor)
