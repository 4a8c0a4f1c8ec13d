"""The speakers' list over HTTP: the JSON API of the secretariat and the presidium, and the
delegate's phone (signed in by the card, as documents.portal does)."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, get, post, put
from litestar.params import JSONBody, QueryParameter

from congress.accounts import Permission
from congress.auth import require
from congress.controllers import CongressId, Created, ItemId, who
from congress.errors import declares_errors
from congress.services import get_congress
from documents.portal import delegate_guard, me
from livestream.speakers import services
from livestream.speakers.pages import SpeakerPages
from livestream.speakers.schemas import (
    CallIn,
    ExtendIn,
    OrderIn,
    PhoneSpeakers,
    RequestIn,
    SpeakerIn,
    SpeakerOut,
)

__all__ = ["DelegateSpeakers", "SpeakerController", "SpeakerPages"]

SittingQuery = Annotated[int | None, QueryParameter(name="sitting", ge=1, le=2**31 - 1)]
RUN = [require(Permission.RUN_SPEAKERS)]


@declares_errors
class SpeakerController(Controller):
    path = "/api/congresses/{congress_id:int}/speakers"
    tags = ["speakers"]

    async def _out(self, congress_id: int, speaker_id: int) -> SpeakerOut:
        return services.speaker_out(await services.get_speaker(congress_id, speaker_id))

    @get("/", guards=[require(Permission.ADD_SPEAKERS)])
    async def list_speakers(
        self, congress_id: CongressId, sitting: SittingQuery = None
    ) -> list[SpeakerOut]:
        """The sitting's list (default: the sitting under way): who speaks, the queue in
        order, the requests, then who spoke or withdrew."""
        await get_congress(congress_id)
        found = await services.sitting_of(congress_id, sitting)
        now = services.utc_now()
        return [
            services.speaker_out(s, now)
            for s in await services.list_speakers(congress_id, found["id"])
        ]

    @post("/", guards=[require(Permission.ADD_SPEAKERS)])
    async def add(
        self, request: Request[Any, Any, Any], congress_id: CongressId, data: JSONBody[SpeakerIn]
    ) -> Created:
        await get_congress(congress_id)
        return Created(await services.add_speaker(congress_id, data, who(request).actor))

    @get("/{speaker_id:int}", guards=[require(Permission.ADD_SPEAKERS)])
    async def get_speaker(self, congress_id: CongressId, speaker_id: ItemId) -> SpeakerOut:
        return await self._out(congress_id, speaker_id)

    @put("/order", guards=RUN)
    async def reorder(
        self, request: Request[Any, Any, Any], congress_id: CongressId, data: JSONBody[OrderIn]
    ) -> list[SpeakerOut]:
        await services.reorder_speakers(congress_id, data.ids, who(request).actor)
        return [await self._out(congress_id, i) for i in data.ids]

    @post("/call-next", guards=RUN, status_code=200)
    async def call_next(
        self, request: Request[Any, Any, Any], congress_id: CongressId, data: JSONBody[CallIn]
    ) -> SpeakerOut:
        """The first of the queue to the rostrum; whoever spoke before is done."""
        speaker_id = await services.call_speaker(
            congress_id, who(request).actor, sitting_id=data.sitting_id
        )
        return await self._out(congress_id, speaker_id)

    @post("/{speaker_id:int}/queue", guards=RUN, status_code=200)
    async def queue(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> SpeakerOut:
        await services.queue_speaker(congress_id, speaker_id, who(request).actor)
        return await self._out(congress_id, speaker_id)

    @post("/{speaker_id:int}/call", guards=RUN, status_code=200)
    async def call(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> SpeakerOut:
        await services.call_speaker(congress_id, who(request).actor, speaker_id=speaker_id)
        return await self._out(congress_id, speaker_id)

    @post("/{speaker_id:int}/start", guards=RUN, status_code=200)
    async def start(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> SpeakerOut:
        """Starts the time, or resumes it after a pause."""
        await services.start_timer(congress_id, speaker_id, who(request).actor)
        return await self._out(congress_id, speaker_id)

    @post("/{speaker_id:int}/pause", guards=RUN, status_code=200)
    async def pause(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> SpeakerOut:
        await services.pause_timer(congress_id, speaker_id, who(request).actor)
        return await self._out(congress_id, speaker_id)

    @post("/{speaker_id:int}/stop", guards=RUN, status_code=200)
    async def stop(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> SpeakerOut:
        """Ends the turn: the speaker is done."""
        await services.stop_speaker(congress_id, speaker_id, who(request).actor)
        return await self._out(congress_id, speaker_id)

    @post("/{speaker_id:int}/extend", guards=RUN, status_code=200)
    async def extend(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        speaker_id: ItemId,
        data: JSONBody[ExtendIn],
    ) -> SpeakerOut:
        await services.extend_time(congress_id, speaker_id, data.seconds, who(request).actor)
        return await self._out(congress_id, speaker_id)

    @post("/{speaker_id:int}/withdraw", guards=RUN, status_code=200)
    async def withdraw(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> SpeakerOut:
        await services.withdraw_speaker(congress_id, speaker_id, who(request).actor)
        return await self._out(congress_id, speaker_id)


@declares_errors
class DelegateSpeakers(Controller):
    """The delegate's phone: ask to speak in the sitting under way, see the place in the
    queue, withdraw the request."""

    path = "/delegate/speakers"
    include_in_schema = False
    guards = [delegate_guard]

    @get("/")
    async def mine(self, request: Request[Any, Any, Any]) -> PhoneSpeakers:
        delegate = me(request)
        return await services.phone_view(delegate.congress_id, delegate.delegate_id)

    @post("/", status_code=200)
    async def ask(
        self, request: Request[Any, Any, Any], data: JSONBody[RequestIn]
    ) -> PhoneSpeakers:
        delegate = me(request)
        await services.request_to_speak(delegate.congress_id, delegate.delegate_id, data)
        return await services.phone_view(delegate.congress_id, delegate.delegate_id)

    @post("/{speaker_id:int}/withdraw", status_code=200)
    async def withdraw(self, request: Request[Any, Any, Any], speaker_id: ItemId) -> PhoneSpeakers:
        delegate = me(request)
        await services.withdraw_request(delegate.congress_id, delegate.delegate_id, speaker_id)
        return await services.phone_view(delegate.congress_id, delegate.delegate_id)
