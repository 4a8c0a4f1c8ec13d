"""The congress core's JSON API: congresses, sittings, agenda, the event log, accounts."""

from __future__ import annotations

import contextlib
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, WebSocket, delete, get, post, put, websocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect
from litestar.params import JSONBody, PathParameter, QueryParameter

from congress import accounts, services
from congress.accounts import Permission, SignedInAccount
from congress.auth import refuse, require, require_same_origin, signed_in
from congress.errors import CongressError, declares_errors
from congress.eventlog import RecordedEvent, congress_channel, events_of
from congress.schemas import (
    NO_NUL,
    AgendaItemIn,
    AgendaItemOut,
    CongressIn,
    CongressOut,
    EventOut,
    Input,
    OrderIn,
    SittingIn,
    SittingOut,
)

CongressId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
ItemId = Annotated[int, PathParameter(ge=1, le=2**31 - 1)]
EventType = Annotated[str, msgspec.Meta(max_length=100, pattern=NO_NUL)]


def who(request: Request[Any, Any, Any]) -> SignedInAccount:
    return signed_in(request)


def congress_out(row: dict[str, Any]) -> CongressOut:
    return CongressOut(
        id=row["id"],
        kind=row["kind"],
        name=row["name"],
        number=row["number"],
        term=row["term"],
        organizing_union=row["organizing_union"],
        venue=row["venue"],
        starts_on=row["starts_on"],
        ends_on=row["ends_on"],
        title=services.congress_title(row),
        last_event_seq=row["last_event_seq"],
    )


def sitting_out(row: dict[str, Any]) -> SittingOut:
    return SittingOut(
        id=row["id"],
        title=row["title"],
        kind=row["kind"],
        starts_at=row["starts_at"],
        location=row["location"],
        ordinal=row["ordinal"],
        agenda=[
            AgendaItemOut(
                id=i["id"],
                sitting_id=i["sitting"],
                title=i["title"],
                presenter=i["presenter"],
                duration_minutes=i["duration_minutes"],
                ordinal=i["ordinal"],
            )
            for i in row["agenda"]
        ],
    )


class Created(msgspec.Struct):
    id: int


class Changed(msgspec.Struct):
    changed: list[str]


@declares_errors
class CongressController(Controller):
    path = "/api/congresses"
    tags = ["congresses"]

    @get("/", guards=[require(Permission.VIEW_CONGRESS)])
    async def list_congresses(self) -> list[CongressOut]:
        return [congress_out(r) for r in await services.list_congresses()]

    @post("/", guards=[require(Permission.MANAGE_CONGRESS)])
    async def create_congress(
        self, request: Request[Any, Any, Any], data: JSONBody[CongressIn]
    ) -> Created:
        return Created(id=await services.create_congress(data, who(request).actor))

    @get("/{congress_id:int}", guards=[require(Permission.VIEW_CONGRESS)])
    async def get_congress(self, congress_id: CongressId) -> CongressOut:
        return congress_out(await services.get_congress(congress_id))

    @put("/{congress_id:int}", guards=[require(Permission.MANAGE_CONGRESS)])
    async def update_congress(
        self, request: Request[Any, Any, Any], congress_id: CongressId, data: JSONBody[CongressIn]
    ) -> Changed:
        return Changed(await services.update_congress(congress_id, data, who(request).actor))

    @get("/{congress_id:int}/sittings", guards=[require(Permission.VIEW_CONGRESS)])
    async def list_sittings(self, congress_id: CongressId) -> list[SittingOut]:
        await services.get_congress(congress_id)
        return [sitting_out(s) for s in await services.sittings_of(congress_id)]

    @post("/{congress_id:int}/sittings", guards=[require(Permission.MANAGE_CONGRESS)])
    async def add_sitting(
        self, request: Request[Any, Any, Any], congress_id: CongressId, data: JSONBody[SittingIn]
    ) -> Created:
        return Created(await services.add_sitting(congress_id, data, who(request).actor))

    @put("/{congress_id:int}/sittings/order", guards=[require(Permission.MANAGE_CONGRESS)])
    async def reorder_sittings(
        self, request: Request[Any, Any, Any], congress_id: CongressId, data: JSONBody[OrderIn]
    ) -> None:
        await services.reorder_sittings(congress_id, data.ids, who(request).actor)

    @put(
        "/{congress_id:int}/sittings/{sitting_id:int}",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def update_sitting(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        sitting_id: ItemId,
        data: JSONBody[SittingIn],
    ) -> Changed:
        return Changed(
            await services.update_sitting(congress_id, sitting_id, data, who(request).actor)
        )

    @delete(
        "/{congress_id:int}/sittings/{sitting_id:int}",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def remove_sitting(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting_id: ItemId
    ) -> None:
        await services.remove_sitting(congress_id, sitting_id, who(request).actor)

    @post(
        "/{congress_id:int}/sittings/{sitting_id:int}/agenda",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def add_agenda_item(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        sitting_id: ItemId,
        data: JSONBody[AgendaItemIn],
    ) -> Created:
        return Created(
            await services.add_agenda_item(congress_id, sitting_id, data, who(request).actor)
        )

    @put(
        "/{congress_id:int}/sittings/{sitting_id:int}/agenda/order",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def reorder_agenda(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        sitting_id: ItemId,
        data: JSONBody[OrderIn],
    ) -> None:
        await services.reorder_agenda(congress_id, sitting_id, data.ids, who(request).actor)

    @put("/{congress_id:int}/agenda/{item_id:int}", guards=[require(Permission.MANAGE_CONGRESS)])
    async def update_agenda_item(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        item_id: ItemId,
        data: JSONBody[AgendaItemIn],
    ) -> Changed:
        return Changed(
            await services.update_agenda_item(congress_id, item_id, data, who(request).actor)
        )

    @delete("/{congress_id:int}/agenda/{item_id:int}", guards=[require(Permission.MANAGE_CONGRESS)])
    async def remove_agenda_item(
        self, request: Request[Any, Any, Any], congress_id: CongressId, item_id: ItemId
    ) -> None:
        await services.remove_agenda_item(congress_id, item_id, who(request).actor)


def event_out(event: RecordedEvent) -> EventOut:
    return EventOut(
        seq=event.seq,
        type=event.type,
        payload=event.payload,
        actor=event.actor,
        actor_name=event.actor_name,
        at=event.at,
    )


@declares_errors
class EventLogController(Controller):
    path = "/api/congresses/{congress_id:int}/events"
    tags = ["event log"]
    guards = [require(Permission.READ_EVENT_LOG)]

    @get("/")
    async def list_events(
        self,
        congress_id: CongressId,
        event_type: Annotated[
            list[EventType] | None, QueryParameter(name="type", max_items=50)
        ] = None,
        after: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0,
        limit: Annotated[int, QueryParameter(ge=1, le=1000)] = 200,
    ) -> list[EventOut]:
        await services.get_congress(congress_id)
        found = await events_of(congress_id, after_seq=after, types=event_type or (), limit=limit)
        return [event_out(e) for e in found]

    @websocket("/live", guards=[require_same_origin])
    async def live(
        self,
        socket: WebSocket[Any, Any, Any],
        congress_id: CongressId,
        after: Annotated[int, QueryParameter(ge=0, le=2**31 - 1)] = 0,
    ) -> None:
        """Every event after ``after``: first the missed ones from the log, then live."""
        try:
            await services.get_congress(congress_id)
        except CongressError as error:  # no such congress: closed with 4404
            refuse(socket, error)
        channels = socket.app.plugins.get(ChannelsPlugin)
        await socket.accept()
        # Subscribe before reading the log, so nothing committed in between is lost;
        # the sequence number drops what arrives twice.
        last = after

        async def forward(message: bytes) -> None:
            nonlocal last
            event = msgspec.json.decode(message, type=RecordedEvent)
            if event.seq > last:
                await socket.send_text(msgspec.json.encode(event_out(event)).decode())
                last = event.seq

        async with channels.start_subscription([congress_channel(congress_id)]) as subscriber:
            for event in await events_of(congress_id, after_seq=after, limit=10_000):
                await forward(msgspec.json.encode(event))
            async with subscriber.run_in_background(forward):
                # The client sends nothing; waiting here notices when it goes away.
                with contextlib.suppress(WebSocketDisconnect):
                    while True:
                        await socket.receive_data(mode="text")


class AccountIn(Input):
    username: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    full_name: Annotated[str, msgspec.Meta(max_length=200)]
    password: Annotated[str, msgspec.Meta(max_length=200)]
    roles: Annotated[list[str], msgspec.Meta(max_length=10)]


class AccountUpdateIn(Input):
    full_name: Annotated[str, msgspec.Meta(max_length=200)]
    roles: Annotated[list[str], msgspec.Meta(max_length=10)]
    active: bool = True


class PasswordIn(Input):
    password: Annotated[str, msgspec.Meta(max_length=200)]


class AccountOut(msgspec.Struct):
    id: int
    username: str
    full_name: str
    roles: list[str]
    active: bool


@declares_errors
class AccountController(Controller):
    path = "/api/accounts"
    tags = ["accounts"]
    guards = [require(Permission.MANAGE_ACCOUNTS)]

    @get("/")
    async def list_accounts(self) -> list[AccountOut]:
        return [
            AccountOut(
                id=r["id"],
                username=r["username"],
                full_name=r["full_name"],
                roles=r["roles"].split(),
                active=r["active"],
            )
            for r in await accounts.list_accounts()
        ]

    @post("/")
    async def create_account(
        self, request: Request[Any, Any, Any], data: JSONBody[AccountIn]
    ) -> Created:
        account_id = await accounts.create_account(
            data.username, data.full_name, data.password, data.roles, who(request).actor
        )
        return Created(account_id)

    @put("/{account_id:int}")
    async def update_account(
        self, request: Request[Any, Any, Any], account_id: ItemId, data: JSONBody[AccountUpdateIn]
    ) -> Changed:
        return Changed(
            await accounts.update_account(
                account_id,
                full_name=data.full_name,
                roles=data.roles,
                active=data.active,
                actor=who(request).actor,
            )
        )

    @post("/{account_id:int}/password")
    async def set_password(
        self, request: Request[Any, Any, Any], account_id: ItemId, data: JSONBody[PasswordIn]
    ) -> None:
        await accounts.set_password(account_id, data.password, who(request).actor)
