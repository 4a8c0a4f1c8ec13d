"""The speakers' list in the organizers' console: the current speaker with the time left,
the queue, the requests from the phones, and the secretariat's form to add a speaker.

The page counts the time down in the browser from the server's numbers (time left and
whether it runs, at the moment of the answer) and fetches its live part again on each
event of the list, so every console in the hall shows the same clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, WebSocket, get, post, websocket
from litestar.channels import ChannelsPlugin
from litestar.exceptions import WebSocketDisconnect
from litestar.params import FromQuery, QueryParameter
from litestar.response import Redirect, Template

from congress import services as congress_services
from congress.accounts import Permission
from congress.auth import refuse, require, require_same_origin, signed_in
from congress.controllers import CongressId, ItemId
from congress.delegates.services import search_delegates
from congress.errors import CongressError, InvalidInput
from congress.eventlog import Actor, RecordedEvent, congress_channel
from congress.forms import read_form
from congress.i18n import N_, gettext
from congress.pages import NOTICES, error_context
from congress.templating import page
from livestream.speakers import events, services
from livestream.speakers.schemas import SpeakerIn

SittingQuery = Annotated[int | None, QueryParameter(name="sitting", ge=1, le=2**31 - 1)]
RUN = [require(Permission.RUN_SPEAKERS)]
STATUS_LABELS = {
    "requested": N_("Asked to speak"),
    "queued": N_("In the queue"),
    "speaking": N_("Speaking"),
    "done": N_("Spoke"),
    "withdrawn": N_("Withdrawn"),
}
SOURCE_LABELS = {"phone": N_("from the phone"), "secretariat": N_("by the secretariat")}
SPEAKER_NOTICES = {
    **NOTICES,
    "added": N_("The speaker is added to the queue."),
    "queued": N_("The request is in the queue."),
    "moved": N_("The queue is reordered."),
    "called": N_("The speaker is called to the rostrum."),
    "started": N_("The time is running."),
    "paused": N_("The time is paused."),
    "stopped": N_("The speaker has finished."),
    "extended": N_("The speaker has more time."),
    "withdrawn": N_("Taken off the list."),
}
LIVE_EVENTS = {
    event.__name__
    for event in (
        events.SpeakerRequested,
        events.SpeakerAdded,
        events.SpeakerQueued,
        events.SpeakersReordered,
        events.SpeakerCalled,
        events.SpeakerTimerStarted,
        events.SpeakerTimerPaused,
        events.SpeakerTimerStopped,
        events.SpeakerTimeExtended,
        events.SpeakerWithdrawn,
    )
}
DEFAULT_MINUTES = 5
MAX_MINUTES = 60
MATCHES_SHOWN = 20


FIELD_LABELS = {
    "minutes": N_("Minutes"),
    "position": N_("Position"),
    "name": N_("Name"),
    "delegation": N_("Delegation"),
    "topic": N_("Topic"),
}


def _invalid(field: str) -> InvalidInput:
    label = gettext(FIELD_LABELS.get(field, N_("Name")))
    return InvalidInput(
        "invalid_field", N_("The field “{label}” is not valid."), field=field, label=label
    )


def _number(form: dict[str, Any], field: str, low: int, high: int) -> int:
    text = str(form.get(field, "")).strip()
    if not (text.isascii() and text.isdigit()) or not low <= int(text) <= high:
        raise _invalid(field)
    return int(text)


def _optional_id(form: dict[str, Any], field: str) -> int | None:
    text = str(form.get(field, "")).strip()
    return int(text) if text.isascii() and text.isdigit() and 0 < int(text) < 2**31 else None


def speaker_in(form: dict[str, Any], delegate_id: int | None) -> SpeakerIn:
    """The add form as the schema the API takes; the delegate found by the page."""
    minutes = _number(form, "minutes", 1, MAX_MINUTES)
    values = {
        "delegate_id": delegate_id,
        "name": "" if delegate_id else str(form.get("name", "")).strip(),
        "delegation": str(form.get("delegation", "")).strip(),
        "topic": str(form.get("topic", "")).strip(),
        "document_id": _optional_id(form, "document_id"),
        "allotted_seconds": minutes * 60,
        "sitting_id": _optional_id(form, "sitting_id"),
    }
    try:
        return msgspec.convert(values, SpeakerIn)
    except msgspec.ValidationError as exc:
        path = str(exc).rsplit("$.", 1)[-1]
        raise _invalid(next((f for f in FIELD_LABELS if path.startswith(f)), "name")) from None


def view(speaker: dict[str, Any], now: Any) -> dict[str, Any]:
    """A row as the page shows it, with the clock's numbers at `now`."""
    return {
        **speaker,
        "left_ms": services.time_left_ms(speaker, now),
        "used_ms": services.elapsed_ms(speaker, now),
        "running": speaker["timer_started_at"] is not None,
    }


def clock(ms: int) -> str:
    """m:ss, with a minus sign when over time."""
    sign = "−" if ms < 0 else ""
    seconds = (abs(ms) + 999) // 1000 if ms >= 0 else abs(ms) // 1000
    return f"{sign}{seconds // 60}:{seconds % 60:02d}"


class SpeakerPages(Controller):
    path = "/console/congresses/{congress_id:int}/speakers"
    include_in_schema = False
    guards = [require(Permission.ADD_SPEAKERS)]

    async def _context(self, congress_id: int, sitting_id: int | None) -> dict[str, Any]:
        congress = await congress_services.titled_congress(congress_id)
        sitting = await services.sitting_of(congress_id, sitting_id)
        now = services.utc_now()
        rows = [view(s, now) for s in await services.list_speakers(congress_id, sitting["id"])]
        speeches = await services.speeches_to_attach(congress_id)
        return {
            "congress": congress,
            "sittings": await congress_services.sittings_of(congress_id),
            "sitting": sitting,
            "speaking": next((r for r in rows if r["status"] == "speaking"), None),
            "queue": [r for r in rows if r["status"] == "queued"],
            "requests": [r for r in rows if r["status"] == "requested"],
            "finished": [r for r in rows if r["status"] in {"done", "withdrawn"}],
            "speeches": speeches,
            "speech_titles": {d["id"]: d["title"] for d in speeches},
            "status_labels": STATUS_LABELS,
            "source_labels": SOURCE_LABELS,
            "clock": clock,
            "base_url": _speakers(congress_id),
        }

    async def _page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        sitting_id: int | None,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        context = await self._context(congress_id, sitting_id)
        extra.setdefault("form", {"minutes": str(DEFAULT_MINUTES)})
        return page(request, "speakers.html", status_code=status_code, **context, **extra)

    @get("/")
    async def overview(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        sitting: SittingQuery = None,
        notice: FromQuery[str] = "",
    ) -> Template:
        return await self._page(request, congress_id, sitting, notice=SPEAKER_NOTICES.get(notice))

    @get("/part")
    async def part(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting: SittingQuery = None
    ) -> Template:
        """The current speaker, the queue and the requests: fetched again on each event."""
        return page(request, "_speakers_live.html", **await self._context(congress_id, sitting))

    @post("/", status_code=200)
    async def add(self, request: Request[Any, Any, Any], congress_id: CongressId) -> Response[Any]:
        """Adds a speaker: a delegate found by name or card number (several found: the page
        asks which), or a free name and delegation."""
        form = await read_form(request)
        sitting_id = _optional_id(form, "sitting_id")
        try:
            delegate_id = _optional_id(form, "delegate_id")
            query = str(form.get("who", "")).strip()[:100]
            if delegate_id is None and query:
                total, found = await search_delegates(congress_id, query, limit=MATCHES_SHOWN)
                if total != 1:
                    return await self._page(
                        request, congress_id, sitting_id, form=form, matches=found, total=total
                    )
                delegate_id = found[0]["id"]
            await services.add_speaker(
                congress_id, speaker_in(form, delegate_id), signed_in(request).actor
            )
        except CongressError as exc:
            return await self._page(
                request, congress_id, sitting_id, exc.status_code, form=form, **error_context(exc)
            )
        return Redirect(_back(congress_id, sitting_id, "added"))

    async def _act(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        action: Callable[[Actor], Awaitable[Any]],
        notice: str,
    ) -> Response[Any]:
        """Runs a change; its error on the page, else back to the page with a notice."""
        form = await read_form(request)
        sitting_id = _optional_id(form, "sitting_id")
        try:
            await action(signed_in(request).actor)
        except CongressError as exc:
            return await self._page(
                request, congress_id, sitting_id, exc.status_code, **error_context(exc)
            )
        return Redirect(_back(congress_id, sitting_id, notice))

    @post("/call-next", guards=RUN)
    async def call_next(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await read_form(request)
        sitting_id = _optional_id(form, "sitting_id")
        return await self._act(
            request,
            congress_id,
            lambda actor: services.call_speaker(congress_id, actor, sitting_id=sitting_id),
            "called",
        )

    @post("/{speaker_id:int}/queue", guards=RUN)
    async def queue(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> Response[Any]:
        return await self._act(
            request,
            congress_id,
            lambda actor: services.queue_speaker(congress_id, speaker_id, actor),
            "queued",
        )

    @post("/{speaker_id:int}/move", guards=RUN)
    async def move(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> Response[Any]:
        """Up or down one place (step -1 or 1), or to a position (1 = next)."""
        form = await read_form(request)

        async def action(actor: Actor) -> None:
            speaker = await services.get_speaker(congress_id, speaker_id)
            step = str(form.get("step", ""))
            if step in {"-1", "1"}:
                position = speaker["position"] + int(step)
            else:
                position = _number(form, "position", 1, 10_000)
            await services.move_speaker(congress_id, speaker_id, position, actor)

        return await self._act(request, congress_id, action, "moved")

    @post("/{speaker_id:int}/call", guards=RUN)
    async def call(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> Response[Any]:
        return await self._act(
            request,
            congress_id,
            lambda actor: services.call_speaker(congress_id, actor, speaker_id=speaker_id),
            "called",
        )

    @post("/{speaker_id:int}/start", guards=RUN)
    async def start(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> Response[Any]:
        return await self._act(
            request,
            congress_id,
            lambda actor: services.start_timer(congress_id, speaker_id, actor),
            "started",
        )

    @post("/{speaker_id:int}/pause", guards=RUN)
    async def pause(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> Response[Any]:
        return await self._act(
            request,
            congress_id,
            lambda actor: services.pause_timer(congress_id, speaker_id, actor),
            "paused",
        )

    @post("/{speaker_id:int}/stop", guards=RUN)
    async def stop(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> Response[Any]:
        return await self._act(
            request,
            congress_id,
            lambda actor: services.stop_speaker(congress_id, speaker_id, actor),
            "stopped",
        )

    @post("/{speaker_id:int}/extend", guards=RUN)
    async def extend(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)

        async def action(actor: Actor) -> None:
            minutes = _number(form, "minutes", 1, MAX_MINUTES)
            await services.extend_time(congress_id, speaker_id, minutes * 60, actor)

        return await self._act(request, congress_id, action, "extended")

    @post("/{speaker_id:int}/withdraw", guards=RUN)
    async def withdraw(
        self, request: Request[Any, Any, Any], congress_id: CongressId, speaker_id: ItemId
    ) -> Response[Any]:
        return await self._act(
            request,
            congress_id,
            lambda actor: services.withdraw_speaker(congress_id, speaker_id, actor),
            "withdrawn",
        )

    @websocket("/live", guards=[require_same_origin])
    async def live(self, socket: WebSocket[Any, Any, Any], congress_id: CongressId) -> None:
        """Says "the list changed" (the event's type and ids); the page fetches its part."""
        try:
            await congress_services.get_congress(congress_id)
        except CongressError as error:  # no such congress: closed with 4404
            refuse(socket, error)
        channels = socket.app.plugins.get(ChannelsPlugin)
        await socket.accept()

        async def forward(message: bytes) -> None:
            event = msgspec.json.decode(message, type=RecordedEvent)
            if event.type in LIVE_EVENTS:
                data = {"type": event.type, **event.payload}
                await socket.send_text(msgspec.json.encode(data).decode())

        subscription = channels.start_subscription([congress_channel(congress_id)])
        async with subscription as subscriber, subscriber.run_in_background(forward):
            with contextlib.suppress(WebSocketDisconnect, asyncio.CancelledError):
                while True:
                    await socket.receive_data(mode="text")


def _speakers(congress_id: int) -> str:
    return f"/console/congresses/{congress_id}/speakers"


def _back(congress_id: int, sitting_id: int | None, notice: str) -> str:
    sitting = f"sitting={sitting_id}&" if sitting_id else ""
    return f"{_speakers(congress_id)}?{sitting}notice={notice}"
