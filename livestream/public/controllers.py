"""The stream links' JSON API, and the public feeds of a congress: the timeline as JSON and
as Atom, the live socket of the public page, and the papers released to the public."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, WebSocket, delete, get, put, websocket
from litestar.exceptions import WebSocketDisconnect, WebSocketException
from litestar.params import JSONBody, QueryParameter

from congress import database
from congress import services as congress_services
from congress.accounts import Permission
from congress.auth import origin_allowed, require
from congress.controllers import CongressId, ItemId, who
from congress.errors import declares_errors
from congress.eventlog import RecordedEvent
from congress.i18n import current_language
from documents import services as document_services
from documents.controllers import file_response
from livestream.public import services
from livestream.public.fanout import Missed, Reader, fan_out_of
from livestream.public.pages import LivePage, StreamPages
from livestream.public.schemas import (
    FeedMessage,
    StreamLinkIn,
    StreamLinkOut,
    Timeline,
    TimelineEntry,
)

# The app registers the pages with the API from here: one import for the whole public part.
__all__ = ["LiveFeeds", "LivePage", "StreamController", "StreamPages"]

log = logging.getLogger(__name__)

After = Annotated[int, QueryParameter(ge=0, le=2**31 - 1)]
Limit = Annotated[int, QueryParameter(ge=1, le=200)]
ATOM = "http://www.w3.org/2005/Atom"
# Events that change what is on now, and the public papers, besides the timeline's own.
NOW_TYPES = {
    "CurrentItemSet",
    "StreamLinkSet",
    "StreamLinkRemoved",
    "SittingUpdated",
    "SittingRemoved",
    "AgendaItemUpdated",
    "AgendaItemRemoved",
}
DOCUMENT_TYPES = {"DocumentReleased", "DocumentWithdrawn", "DocumentUpdated"}


@declares_errors
class StreamController(Controller):
    """Each sitting's stream: a YouTube or Facebook video, or an HLS playlist."""

    path = "/api/congresses/{congress_id:int}/streams"
    tags = ["streams"]
    guards = [require(Permission.MANAGE_STREAMS)]

    @get("/")
    async def list_streams(self, congress_id: CongressId) -> list[StreamLinkOut]:
        await congress_services.get_congress(congress_id)
        return [services.stream_out(row) for row in await services.stream_links(congress_id)]

    @put("/{sitting_id:int}")
    async def set_stream(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        sitting_id: ItemId,
        data: JSONBody[StreamLinkIn],
    ) -> StreamLinkOut:
        await congress_services.get_congress(congress_id)
        return await services.set_stream_link(congress_id, sitting_id, data, who(request).actor)

    @delete("/{sitting_id:int}")
    async def remove_stream(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting_id: ItemId
    ) -> None:
        await congress_services.get_congress(congress_id)
        await services.remove_stream_link(congress_id, sitting_id, who(request).actor)


def atom_feed(public_url: str, congress: dict[str, Any], entries: Sequence[TimelineEntry]) -> bytes:
    """The timeline as an Atom 1.0 feed (RFC 4287); ElementTree does the escaping."""
    base = public_url.rstrip("/")
    page_url = f"{base}/live/{congress['id']}"

    def add(parent: ET.Element, tag: str, text: str | None = None, **attributes: str) -> None:
        element = ET.SubElement(parent, f"{{{ATOM}}}{tag}", attributes)
        element.text = text

    ET.register_namespace("", ATOM)
    feed = ET.Element(f"{{{ATOM}}}feed")
    add(feed, "id", page_url)
    add(feed, "title", congress["title"])
    add(feed, "updated", _when(services.newest_at(entries, congress["created_at"])))
    add(feed, "link", rel="alternate", type="text/html", href=page_url)
    add(feed, "link", rel="self", type="application/atom+xml", href=f"{page_url}/feed.atom")
    author = ET.SubElement(feed, f"{{{ATOM}}}author")
    add(author, "name", congress["organizing_union"] or congress["title"])
    for entry in entries:
        element = ET.SubElement(feed, f"{{{ATOM}}}entry")
        add(element, "id", f"{page_url}#event-{entry.seq}")
        add(element, "title", f"{entry.label}: {entry.title}")
        add(element, "updated", _when(entry.at))
        add(element, "link", rel="alternate", href=base + entry.url if entry.url else page_url)
        if entry.summary:
            add(element, "summary", entry.summary)
    return ET.tostring(feed, encoding="utf-8", xml_declaration=True)


def _when(at: Any) -> str:
    return str(at.isoformat(timespec="seconds"))


async def feed_message(congress_id: int, event: RecordedEvent) -> str | None:
    """The socket's message for one event: a timeline entry, what is on now, the public
    papers; None when the event changes nothing the public sees."""
    message = FeedMessage(seq=event.seq)
    if services.on_timeline(event):
        entries = await services.entries_for(congress_id, [event])
        message.entry = entries[0] if entries else None
    if event.type in NOW_TYPES:
        message.now = services.public_now(await services.now_of(congress_id))
    if event.type in DOCUMENT_TYPES and event.payload.get("access", "public") == "public":
        message.documents = await services.public_documents(congress_id)
    if message.entry is None and message.now is None and message.documents is None:
        return None
    return msgspec.json.encode(message).decode()


async def missed_since(congress_id: int, after: int) -> Missed:
    """What a reader coming back with ``after`` is sent: what is on now and the public
    papers, then the entries it missed, in order. The entries are read first, so what is on
    now is at least as new as the last of them."""
    missed = await services.timeline(congress_id, after=after, limit=200, newest_first=False)
    snapshot = FeedMessage(
        seq=after,
        now=services.public_now(await services.now_of(congress_id)),
        documents=await services.public_documents(congress_id),
    )
    messages = [snapshot, *(FeedMessage(seq=entry.seq, entry=entry) for entry in missed)]
    return Missed(
        [msgspec.json.encode(message).decode() for message in messages],
        max((entry.seq for entry in missed), default=after),
    )


_known_congresses: set[int] = set()


async def _exists(congress_id: int) -> bool:
    """Whether the congress exists; remembered once seen, so that thousands of readers
    opening the page at once cost one query, not one each."""
    if congress_id in _known_congresses:
        return True
    if await database.query("SELECT 1 AS ok FROM congress WHERE id = {}", congress_id):
        _known_congresses.add(congress_id)
        return True
    return False


class LiveFeeds(Controller):
    """The public congress, for anyone: no sign-in, only what is public."""

    path = "/live/{congress_id:int}"
    include_in_schema = False

    @get("/timeline.json")
    async def timeline_json(
        self, congress_id: CongressId, after: After = 0, limit: Limit = 50
    ) -> Timeline:
        """The latest entries, newest first; ``after`` leaves out what a reader has."""
        congress = await congress_services.titled_congress(congress_id)
        entries = await services.timeline(congress_id, after=after, limit=limit)
        return Timeline(congress_id=congress_id, title=congress["title"], entries=entries)

    @get("/feed.atom")
    async def atom(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[bytes]:
        congress = await congress_services.titled_congress(congress_id)
        entries = await services.timeline(congress_id, limit=50)
        body = atom_feed(request.app.state.settings.public_url, congress, entries)
        return Response(body, media_type="application/atom+xml; charset=utf-8")

    @get("/documents/{document_id:int}")
    async def document(self, congress_id: CongressId, document_id: ItemId) -> Response[Any]:
        """A paper released to the public: its released version, opened in the browser."""
        _, version = await document_services.get_version(
            congress_id, document_id, None, document_services.PUBLIC
        )
        return await file_response(version, inline=True)

    @websocket("/feed")
    async def feed(
        self, socket: WebSocket[Any, Any, Any], congress_id: CongressId, after: After = 0
    ) -> None:
        """What changes on the public page, as it happens; first what came after ``after``.

        A browser's socket must come from our own pages. An embedded page is still ours:
        the newspaper frames our document, so its socket's Origin is our address.
        """
        if not origin_allowed(socket, socket.app.state.settings.public_url):
            raise WebSocketException(detail="bad_origin", code=4403)
        if not await _exists(congress_id):
            raise WebSocketException(detail="congress_not_found", code=4404)
        await socket.accept()
        fan_out = fan_out_of(socket.app, feed_message, missed_since)
        reader = Reader(socket, current_language.get(), after)
        try:
            # First joined, then caught up (a reader coming back): nothing committed in
            # between is lost.
            await fan_out.join(congress_id, reader)
            # The reader sends nothing; waiting here notices when it goes away.
            with contextlib.suppress(WebSocketDisconnect, asyncio.CancelledError):
                while True:
                    await socket.receive_data(mode="text")
        finally:
            fan_out.leave(congress_id, reader)
