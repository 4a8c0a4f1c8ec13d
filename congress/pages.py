"""The organizer console: signing in, congresses, sittings and agendas, the log, accounts."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlsplit

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.params import FromQuery, PathParameter, QueryParameter
from litestar.response import Redirect, Template

from congress import accounts, i18n, services
from congress.accounts import ROLE_LABELS, Permission, Role
from congress.auth import LANGUAGE_COOKIE, SESSION_COOKIE, require, require_signed_in, signed_in
from congress.controllers import CongressId, ItemId
from congress.errors import CongressError
from congress.eventlog import Event, events_of
from congress.forms import parse_form, read_form
from congress.i18n import N_
from congress.ratelimit import address_key, client_address, rate_limits, retry_after
from congress.schemas import AgendaItemIn, CongressIn, SittingIn
from congress.templating import page

NOTICES = {
    "saved": N_("Saved."),
    "created": N_("Created."),
    "removed": N_("Removed."),
    "imported": N_("The delegates were imported."),
    "signed_out": N_("You are signed out."),
}
Step = Annotated[int, QueryParameter(ge=-1, le=1)]


def safe_next(target: str | None) -> str:
    """Only a path on this site: never an open redirect to somewhere else."""
    if not target or not target.startswith("/") or target.startswith("//"):
        return "/console"
    parts = urlsplit(target)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def error_context(exc: CongressError) -> dict[str, Any]:
    return {
        "error": i18n.translate(exc.message, **exc.params),
        "error_code": exc.code,
        "error_field": getattr(exc, "field", None),
    }


class SignInPages(Controller):
    include_in_schema = False

    @get("/")
    async def home(self) -> Redirect:
        return Redirect("/console")

    @get("/login")
    async def login_form(
        self,
        request: Request[Any, Any, Any],
        next: FromQuery[str] = "",
        notice: FromQuery[str] = "",
    ) -> Template:
        return page(request, "login.html", next=safe_next(next), notice=NOTICES.get(notice))

    @post("/login")
    async def login(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await request.form()
        username = str(form.get("username", ""))[:64]
        password = str(form.get("password", ""))[:200]
        # Counted before the password is checked: while either limit holds, even the right
        # password is refused, and parallel guesses cannot slip in before the count.
        attempt = await rate_limits(request).attempt(
            ("sign_in_address", address_key(client_address(request))),
            ("sign_in_username", username.strip().lower()),
        )
        if attempt is None:
            response = page(
                request,
                "login.html",
                status_code=429,
                next=safe_next(str(form.get("next", ""))),
                username=username,
                error=i18n.gettext(N_("Too many failed sign-ins; wait a minute and try again.")),
                error_code="too_many_attempts",
            )
            response.headers.update(retry_after("sign_in_address", request))
            return response
        account_id = await accounts.authenticate(username, password)
        if account_id is None:
            return page(
                request,
                "login.html",
                status_code=401,
                next=safe_next(str(form.get("next", ""))),
                username=username,
                error=i18n.gettext(N_("Wrong user name or password.")),
                error_code="wrong_credentials",
            )
        await attempt.went_well()
        token = await accounts.open_session(account_id)
        settings = request.app.state.settings
        return Redirect(
            safe_next(str(form.get("next", ""))),
            cookies=[
                Cookie(
                    key=SESSION_COOKIE,
                    value=token,
                    httponly=True,
                    secure=settings.secure_cookies,
                    samesite="lax",
                    max_age=int(accounts.SESSION_LIFETIME.total_seconds()),
                )
            ],
        )

    @post("/logout")
    async def logout(self, request: Request[Any, Any, Any]) -> Redirect:
        token = request.cookies.get(SESSION_COOKIE)
        if token:
            await accounts.close_session(token)
        response = Redirect("/login?notice=signed_out")
        response.delete_cookie(SESSION_COOKIE)
        return response

    @get("/language/{language:str}")
    async def set_language(
        self,
        request: Request[Any, Any, Any],
        language: Annotated[str, PathParameter(max_length=8)],
        next: FromQuery[str] = "",
    ) -> Redirect:
        # No script reads the choice: the server renders every page in it.
        chosen = i18n.pick_language(language)
        return Redirect(
            safe_next(next),
            cookies=[
                Cookie(
                    key=LANGUAGE_COOKIE,
                    value=chosen,
                    max_age=365 * 86400,
                    httponly=True,
                    secure=request.app.state.settings.secure_cookies,
                    samesite="lax",
                )
            ],
        )


class ConsolePages(Controller):
    path = "/console"
    include_in_schema = False
    guards = [require_signed_in]

    @get("/")
    async def congresses(
        self, request: Request[Any, Any, Any], notice: FromQuery[str] = ""
    ) -> Template:
        return await self._congresses_page(request, notice=notice)

    async def _congresses_page(
        self, request: Request[Any, Any, Any], status_code: int = 200, **extra: Any
    ) -> Template:
        rows = await services.list_congresses()
        for row in rows:
            row["title"] = services.congress_title(row)
        return page(
            request,
            "congresses.html",
            status_code=status_code,
            congresses=rows,
            notice=NOTICES.get(extra.pop("notice", "") or ""),
            **extra,
        )

    @post("/congresses", guards=[require(Permission.MANAGE_CONGRESS)])
    async def create_congress(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        try:
            congress_id = await services.create_congress(
                parse_form(CongressIn, form), signed_in(request).actor
            )
        except CongressError as exc:
            return await self._congresses_page(request, 422, form=form, **error_context(exc))
        return Redirect(f"/console/congresses/{congress_id}?notice=created")

    @get("/congresses/{congress_id:int}", guards=[require(Permission.VIEW_CONGRESS)])
    async def congress(
        self, request: Request[Any, Any, Any], congress_id: CongressId, notice: FromQuery[str] = ""
    ) -> Template:
        return await self._congress_page(request, congress_id, notice=notice)

    async def _congress_page(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        status_code: int = 200,
        **extra: Any,
    ) -> Template:
        congress = await services.titled_congress(congress_id)
        return page(
            request,
            "congress.html",
            status_code=status_code,
            congress=congress,
            sittings=await services.sittings_of(congress_id),
            notice=NOTICES.get(extra.pop("notice", "") or ""),
            **extra,
        )

    async def _act(
        self,
        request: Request[Any, Any, Any],
        congress_id: int,
        action: Any,
        notice: str = "saved",
        anchor: str = "",
    ) -> Response[Any]:
        try:
            await action()
        except CongressError as exc:
            return await self._congress_page(
                request, congress_id, exc.status_code, **error_context(exc)
            )
        return Redirect(f"/console/congresses/{congress_id}?notice={notice}{anchor}")

    @post("/congresses/{congress_id:int}", guards=[require(Permission.MANAGE_CONGRESS)])
    async def update_congress(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await read_form(request)
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            lambda: services.update_congress(congress_id, parse_form(CongressIn, form), actor),
        )

    @post("/congresses/{congress_id:int}/sittings", guards=[require(Permission.MANAGE_CONGRESS)])
    async def add_sitting(
        self, request: Request[Any, Any, Any], congress_id: CongressId
    ) -> Response[Any]:
        form = await read_form(request)
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            lambda: services.add_sitting(congress_id, parse_form(SittingIn, form), actor),
            "created",
        )

    @post(
        "/congresses/{congress_id:int}/sittings/{sitting_id:int}",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def update_sitting(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            lambda: services.update_sitting(
                congress_id, sitting_id, parse_form(SittingIn, form), actor
            ),
            anchor=f"#sitting-{sitting_id}",
        )

    @post(
        "/congresses/{congress_id:int}/sittings/{sitting_id:int}/delete",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def remove_sitting(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting_id: ItemId
    ) -> Response[Any]:
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            lambda: services.remove_sitting(congress_id, sitting_id, actor),
            "removed",
        )

    @post(
        "/congresses/{congress_id:int}/sittings/{sitting_id:int}/move",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def move_sitting(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        sitting_id: ItemId,
        step: Step,
    ) -> Response[Any]:
        actor = signed_in(request).actor

        async def move() -> None:
            ids = [s["id"] for s in await services.sittings_of(congress_id)]
            await services.reorder_sittings(
                congress_id, services.moved(ids, sitting_id, step), actor
            )

        return await self._act(request, congress_id, move, anchor=f"#sitting-{sitting_id}")

    @post(
        "/congresses/{congress_id:int}/sittings/{sitting_id:int}/agenda",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def add_agenda_item(
        self, request: Request[Any, Any, Any], congress_id: CongressId, sitting_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            lambda: services.add_agenda_item(
                congress_id, sitting_id, parse_form(AgendaItemIn, form), actor
            ),
            "created",
            anchor=f"#sitting-{sitting_id}",
        )

    @post(
        "/congresses/{congress_id:int}/agenda/{item_id:int}",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def update_agenda_item(
        self, request: Request[Any, Any, Any], congress_id: CongressId, item_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            lambda: services.update_agenda_item(
                congress_id, item_id, parse_form(AgendaItemIn, form), actor
            ),
            anchor=f"#item-{item_id}",
        )

    @post(
        "/congresses/{congress_id:int}/agenda/{item_id:int}/delete",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def remove_agenda_item(
        self, request: Request[Any, Any, Any], congress_id: CongressId, item_id: ItemId
    ) -> Response[Any]:
        actor = signed_in(request).actor
        return await self._act(
            request,
            congress_id,
            lambda: services.remove_agenda_item(congress_id, item_id, actor),
            "removed",
        )

    @post(
        "/congresses/{congress_id:int}/agenda/{item_id:int}/move",
        guards=[require(Permission.MANAGE_CONGRESS)],
    )
    async def move_agenda_item(
        self, request: Request[Any, Any, Any], congress_id: CongressId, item_id: ItemId, step: Step
    ) -> Response[Any]:
        actor = signed_in(request).actor

        async def move() -> None:
            for sitting in await services.sittings_of(congress_id):
                ids = [i["id"] for i in sitting["agenda"]]
                if item_id in ids:
                    await services.reorder_agenda(
                        congress_id, sitting["id"], services.moved(ids, item_id, step), actor
                    )
                    return
            services.moved([], item_id, step)  # raises "not found"

        return await self._act(request, congress_id, move, anchor=f"#item-{item_id}")

    @get("/congresses/{congress_id:int}/events", guards=[require(Permission.READ_EVENT_LOG)])
    async def event_log(
        self,
        request: Request[Any, Any, Any],
        congress_id: CongressId,
        event_type: Annotated[str, QueryParameter(name="type", max_length=64)] = "",
    ) -> Template:
        congress = await services.titled_congress(congress_id)
        found = await events_of(
            congress_id, types=[event_type] if event_type else (), limit=500, newest_first=True
        )
        return page(
            request,
            "events.html",
            congress=congress,
            events=found,
            event_type=event_type,
            event_types=sorted(Event.registry),
        )


class AccountPages(Controller):
    path = "/console/accounts"
    include_in_schema = False
    guards = [require(Permission.MANAGE_ACCOUNTS)]

    async def _page(
        self, request: Request[Any, Any, Any], status_code: int = 200, **extra: Any
    ) -> Template:
        rows = await accounts.list_accounts()
        for row in rows:
            row["role_list"] = row["roles"].split()
        return page(
            request,
            "accounts.html",
            status_code=status_code,
            accounts=rows,
            roles=list(Role),
            role_labels=ROLE_LABELS,
            notice=NOTICES.get(extra.pop("notice", "") or ""),
            **extra,
        )

    @get("/")
    async def list_accounts(
        self, request: Request[Any, Any, Any], notice: FromQuery[str] = ""
    ) -> Template:
        return await self._page(request, notice=notice)

    @post("/")
    async def create_account(self, request: Request[Any, Any, Any]) -> Response[Any]:
        form = await read_form(request)
        try:
            await accounts.create_account(
                str(form.get("username", "")),
                str(form.get("full_name", "")),
                str(form.get("password", "")),
                list(form.get("roles", [])),
                signed_in(request).actor,
            )
        except CongressError as exc:
            form.pop("password", None)
            return await self._page(request, 422, form=form, **error_context(exc))
        return Redirect("/console/accounts?notice=created")

    @post("/{account_id:int}")
    async def update_account(
        self, request: Request[Any, Any, Any], account_id: ItemId
    ) -> Response[Any]:
        form = await read_form(request)
        try:
            await accounts.update_account(
                account_id,
                full_name=str(form.get("full_name", "")),
                roles=list(form.get("roles", [])),
                active=form.get("active") == "true",
                actor=signed_in(request).actor,
            )
            if form.get("password"):
                await accounts.set_password(
                    account_id, str(form["password"]), signed_in(request).actor
                )
        except CongressError as exc:
            return await self._page(request, 422, **error_context(exc))
        return Redirect("/console/accounts?notice=saved")
