"""The public live page, which a newspaper may frame, and the console's stream links page."""

from __future__ import annotations

import re
from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from congress import services as congress_services
from congress.accounts import Permission
from congress.auth import require, signed_in
from congress.controllers import CongressId, ItemId
from congress.errors import CongressError
from congress.forms import parse_form, read_form
from congress.pages import NOTICES, error_context
from congress.templating import page
from livestream.public import services
from livestream.public.schemas import StreamLinkIn

# Any site may frame the live page (a newspaper embeds it); nothing else of ours is framed.
# The rest is as tight as the page allows: our own scripts and styles, the two players it
# frames, and for HLS the stream's host over https (hls.js fetches it, plays it from blob:).
LIVE_PAGE_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' https: blob:; connect-src 'self' https:{sockets}; "
    "frame-src https://www.youtube-nocookie.com https://www.facebook.com; "
    "frame-ancestors *; base-uri 'none'; form-action 'none'; object-src 'none'"
)
_HOST = re.compile(r"^[A-Za-z0-9.\-]+(:\d{1,5})?$|^\[[0-9A-Fa-f:.]+\](:\d{1,5})?$")


def live_page_headers(request: Request[Any, Any, Any]) -> dict[str, str]:
    """The live page's own headers: framing allowed, the socket to our host allowed (some
    browsers do not count ws: as 'self')."""
    host = request.headers.get("host", "")
    sockets = f" ws://{host} wss://{host}" if _HOST.match(host) else ""
    return {
        "Content-Security-Policy": LIVE_PAGE_POLICY.format(sockets=sockets),
        "Referrer-Policy": "strict-origin-when-cross-origin",
        "Cache-Control": "no-cache",
    }


class LivePage(Controller):
    """``/live/<congress>``: the stream, what is on, the results, the papers, the timeline."""

    path = "/live/{congress_id:int}"
    include_in_schema = False

    @get("/")
    async def live(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        embed: FromQuery[bool] = False,
    ) -> Template:
        now = await services.now_of(congress_id)
        entries = await services.timeline(congress_id, limit=30)
        response = page(
            request,
            "live.html",
            embed=embed,
            congress=now["congress"],
            now=now,
            results=[
                (result, services.result_summary(result))
                for result in await services.published_results(congress_id)
            ],
            documents=await services.public_documents(congress_id),
            entries=entries,
            last_seq=now["congress"]["last_event_seq"],
        )
        response.headers.update(live_page_headers(request))
        return response


class StreamPages(Controller):
    """The console's list of sittings, each with its stream link to set or remove."""

    path = "/console/congresses/{congress_id:int}/streams"
    include_in_schema = False
    guards = [require(Permission.MANAGE_STREAMS)]

    async def _page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        return page(
            request,
            "streams.html",
            status_code=status_code,
            congress=await congress_services.titled_congress(congress_id),
            sittings=await services.sittings_with_streams(congress_id),
            **extra,
        )

    @get("/")
    async def list_streams(
        self, request: Request[Any, Any, Any], congress_id: CongressId, notice: FromQuery[str] = ""
    ) -> Template:
        return await self._page(request, congress_id, notice=NOTICES.get(notice))

    @post("/{sitting_id:int}")
    async def set_stream(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            data = parse_form(
                StreamLinkIn, {"url": form.get("url", ""), "public": "public" in form}
            )
            await services.set_stream_link(congress_id, sitting_id, data, signed_in(request).actor)
        except CongressError as exc:
            return await self._page(
                request,
                congress_id,
                exc.status_code,
                failed_sitting=sitting_id,
                failed_url=str(form.get("url", ""))[:1000],
                **error_context(exc),
            )
        return Redirect(f"/console/congresses/{congress_id}/streams?notice=saved")

    @post("/{sitting_id:int}/remove")
    async def remove_stream(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting_id: ItemId
    ) -> Redirect:
        await services.remove_stream_link(congress_id, sitting_id, signed_in(request).actor)
        return Redirect(f"/console/congresses/{congress_id}/streams?notice=removed")
