"""Bad input is refused with a machine-readable code and a message in the reader's language,
never a 500, and a refused request changes nothing.

Four ways in, each tried with what does not fit:

- **The JSON API**: every operation of the OpenAPI document that takes a JSON body (read from
  the app, so a new route is covered as soon as it exists): a body too large (413
  ``too_large``), of the wrong media type (415 ``unsupported_media_type``), not a JSON object,
  a value of the wrong type in each field (a string for a number, a number for a date, a
  list for an object, garbage nested inside), an unknown field (400 ``invalid_input``, the
  field named in ``field`` and in the message).
- **The console's HTML forms**, posted as a browser does with the CSRF token: too large,
  values that are not what the field takes, garbage in every field of every form.
- **Uploads** (documents, the delegates' spreadsheet, photos): too large, announced or
  streamed; metadata of the wrong type; a file that is not what the route takes.
- **Websockets**: none takes messages from its clients (the feeds only send); what a client
  sends anyway, garbage or large, is ignored, and a message above the server's limit closes
  that socket alone.

Unknown fields: the JSON API refuses them, since a client that misspells a field would
otherwise believe it was saved. HTML forms ignore them: a browser sends more than the fields
the handler reads (the button pressed, the CSRF token), and a person cannot type a field
name; what is checked is every field the page has.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import httpx
import msgspec
import pytest
import websockets
from litestar import Litestar
from litestar.testing import AsyncTestClient

from checkin import credentials, devices
from checkin.controllers import DEVICE_COOKIE
from congress import i18n
from congress.app import create_app
from congress.auth import LANGUAGE_COOKIE, SESSION_COOKIE
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM
from congress.schemas import AgendaItemIn, CongressIn, SittingIn
from congress.services import add_agenda_item, add_sitting, create_congress, get_congress
from congress.voting import services as voting_services
from congress.voting.schemas import PollIn
from documents import services as document_services
from documents.portal import DELEGATE_COOKIE
from documents.schemas import DocumentIn
from livestream.screens import services as screen_services
from livestream.speakers import services as speaker_services
from livestream.speakers.schemas import SpeakerIn
from tests.conftest import CSRF_COOKIE, Client, LiveServer, Session
from tests.documents.conftest import PNG_1PX

ROOT = Path(__file__).resolve().parents[2]
MAX_BODY = 20 * 1024 * 1024  # congress.app: every route but the uploads
MAX_UPLOAD = 101 * 1024 * 1024  # documents.controllers: a 100 MB file and its form
ABSENT = 2**31 - 2  # an id no row has
TOO_LARGE_VI = "Dữ liệu gửi lên quá lớn."


def in_language(language: str, msgid: str, **params: Any) -> str:
    """The catalog's text for ``msgid`` in ``language``, as the app would answer it."""
    token = i18n.current_language.set(language)
    try:
        return i18n.translate(msgid, **params)
    finally:
        i18n.current_language.reset(token)


def refused(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The JSON error body, after checking its status, code and a message."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["code"] == code, body
    assert isinstance(body["message"], str), body
    assert body["message"].strip(), body
    return dict(body)


# --- the JSON API, from its OpenAPI document -----------------------------------------------

APP: Litestar = create_app()  # a client of its own, held by the module (see `api`)
OPENAPI: dict[str, Any] = APP.openapi_schema.to_schema()


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = OPENAPI["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def json_operations() -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in OPENAPI["paths"].items():
        for method in ("post", "put", "patch"):
            content = item.get(method, {}).get("requestBody", {}).get("content", {})
            if "application/json" in content:
                yield method.upper(), path, resolve(content["application/json"]["schema"])


OPERATIONS = sorted(json_operations(), key=lambda op: (op[1], op[0]))
OPERATION_IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]


def json_types(schema: dict[str, Any]) -> set[str]:
    """The JSON types a property takes: "integer" counts as a "number" too."""
    schema = resolve(schema)
    found = {schema["type"]} if isinstance(schema.get("type"), str) else set(schema.get("type", []))
    for choice in schema.get("oneOf", []) + schema.get("anyOf", []):
        found |= json_types(choice)
    if "integer" in found:
        found.add("number")
    if "properties" in schema:
        found.add("object")
    return found


WRONG_VALUES: list[tuple[str, Any]] = [
    ("string", "12"),  # a number written as text
    ("number", 1_700_000_000),  # for a text, or a date and time as seconds
    ("boolean", "true"),
    ("object", [1]),
    ("array", {"x": 1}),
]


def wrong_value(schema: dict[str, Any]) -> Any:
    """A value of a JSON type the property does not take, the likeliest mistake first."""
    takes = json_types(schema)
    order = WRONG_VALUES if "number" in takes or "boolean" in takes else WRONG_VALUES[1:]
    for json_type, value in order:
        if json_type not in takes:
            return value
    raise AssertionError(f"a property that takes any JSON: {schema}")


@pytest.fixture(scope="module")
async def seeded() -> dict[str, Any]:
    """A congress with one of everything the API's routes name, and a paired tablet."""
    congress_id = await create_congress(CongressIn(name="Đại hội thử dữ liệu sai", number="XX"))
    sitting_id = await add_sitting(congress_id, SittingIn(title="Phiên chính thức"), SYSTEM)
    item_id = await add_agenda_item(congress_id, sitting_id, AgendaItemIn(title="Khai mạc"), SYSTEM)
    delegation_id = await delegate_services.add_delegation(
        congress_id, DelegationIn(code="GD", name="Công đoàn ngành Giáo dục"), SYSTEM
    )
    delegate_id = await delegate_services.add_delegate(
        congress_id,
        DelegateIn(
            full_name="Nguyễn Thị Hạnh",
            kind="official",
            delegation_id=delegation_id,
            card_number="0001",
            birth_year=1975,
        ),
        SYSTEM,
    )
    tokens = await credentials.issue_cards(congress_id, [delegate_id], SYSTEM, replace=False)
    poll_id = await voting_services.create_poll(
        congress_id, PollIn(kind="motion", title="Thông qua chương trình"), SYSTEM
    )
    speaker_id = await speaker_services.add_speaker(
        congress_id, SpeakerIn(name="Bà Lê Thị Thu Hà", sitting_id=sitting_id), SYSTEM
    )
    _, code = await devices.register_device(congress_id, "Cửa chính 1", SYSTEM)
    paired = await devices.pair(code)
    assert paired is not None
    return {
        "device": paired[1],
        "card": tokens[delegate_id],
        "ids": {
            "congress_id": congress_id,
            "sitting_id": sitting_id,
            "item_id": item_id,
            "delegation_id": delegation_id,
            "delegate_id": delegate_id,
            "poll_id": poll_id,
            "speaker_id": speaker_id,
            "entry": 1,
        },
    }


@pytest.fixture(scope="module")
async def api(seeded: dict[str, Any], role_tokens: dict[str, str]) -> AsyncIterator[Client]:
    """An administrator's client that is also a paired tablet: every API route lets it in."""
    async with AsyncTestClient(app=APP) as client:
        client.cookies.set(SESSION_COOKIE, role_tokens["admin"])
        client.cookies.set(DEVICE_COOKIE, seeded["device"])
        await client.get("/login")
        client.headers["x-csrf-token"] = str(client.cookies[CSRF_COOKIE])
        client.headers["x-congress-device"] = "1"
        yield client


def url_of(path: str, ids: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: str(ids.get(m.group(1), ABSENT)), path)


async def event_count(congress_id: int) -> int:
    return int((await get_congress(congress_id))["last_event_seq"])


async def send_json(
    client: Client, method: str, url: str, body: bytes, media_type: str | None = "application/json"
) -> httpx.Response:
    headers = {"content-type": media_type} if media_type else {}
    return await client.request(method, url, content=body, headers=headers)


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS, ids=OPERATION_IDS)
async def test_an_oversized_json_body_is_refused(
    api: Client, seeded: dict[str, Any], method: str, path: str, schema: dict[str, Any]
) -> None:
    congress_id = seeded["ids"]["congress_id"]
    before = await event_count(congress_id)
    body = b'{"name": "' + b"x" * MAX_BODY + b'"}'
    response = await send_json(api, method, url_of(path, seeded["ids"]), body)
    assert refused(response, 413, "too_large")["message"] == TOO_LARGE_VI
    assert await event_count(congress_id) == before


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS, ids=OPERATION_IDS)
async def test_a_body_that_is_not_json_is_refused(
    api: Client, seeded: dict[str, Any], method: str, path: str, schema: dict[str, Any]
) -> None:
    congress_id = seeded["ids"]["congress_id"]
    before = await event_count(congress_id)
    url = url_of(path, seeded["ids"])
    expected = in_language(
        "vi", "Send this as JSON, with the header “Content-Type: application/json”."
    )
    for media_type in ("text/plain", "application/x-www-form-urlencoded", "text/html", None):
        response = await send_json(api, method, url, b"{}", media_type)
        assert refused(response, 415, "unsupported_media_type")["message"] == expected
    assert await event_count(congress_id) == before


NOT_AN_OBJECT = [
    b'{"name": ',  # cut off
    b"{'name': 'single quotes'}",
    b'{"name": "x"} trailing',
    b"\xff\xfe\x00garbage",
    b"[1, 2]",
    b"null",
    b'"text"',
    b"42",
]


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS, ids=OPERATION_IDS)
async def test_a_body_that_is_not_a_json_object_is_refused(
    api: Client, seeded: dict[str, Any], method: str, path: str, schema: dict[str, Any]
) -> None:
    congress_id = seeded["ids"]["congress_id"]
    before = await event_count(congress_id)
    url = url_of(path, seeded["ids"])
    for body in NOT_AN_OBJECT:
        refused(await send_json(api, method, url, body), 400, "invalid_input")
    assert await event_count(congress_id) == before


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS, ids=OPERATION_IDS)
async def test_an_unknown_field_is_refused_by_name(
    api: Client, seeded: dict[str, Any], method: str, path: str, schema: dict[str, Any]
) -> None:
    congress_id = seeded["ids"]["congress_id"]
    before = await event_count(congress_id)
    url = url_of(path, seeded["ids"])
    for language in ("vi", "en"):
        api.cookies.set(LANGUAGE_COOKIE, language)
        response = await api.request(method, url, json={"colour_of_the_hall": "đỏ"})
        body = refused(response, 400, "invalid_input")
        assert body["field"] == "colour_of_the_hall"
        assert body["message"] == in_language(
            language, "“{name}” is not a field of this request.", name="colour_of_the_hall"
        )
    api.cookies.delete(LANGUAGE_COOKIE)
    assert await event_count(congress_id) == before


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS, ids=OPERATION_IDS)
async def test_a_value_of_the_wrong_type_is_refused_naming_the_field(
    api: Client, seeded: dict[str, Any], method: str, path: str, schema: dict[str, Any]
) -> None:
    congress_id = seeded["ids"]["congress_id"]
    before = await event_count(congress_id)
    url = url_of(path, seeded["ids"])
    for name, property_schema in schema.get("properties", {}).items():
        for value in (wrong_value(property_schema), {"a": [1, {"b": None}], "c": "\x00"}, None):
            if value is None and "null" in json_types(property_schema):
                continue
            response = await api.request(method, url, json={name: value})
            body = refused(response, 400, "invalid_input")
            assert body.get("field", "").split(".")[0].split("[")[0] == name, (value, body)
            assert name in body["message"], body
    assert await event_count(congress_id) == before


def integer_paths(schema: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, Any]]:
    """Every integer a body holds, as (field, a body with that integer far out of range)."""
    for name, property_schema in schema.get("properties", {}).items():
        choices = [resolve(property_schema)]
        choices += [
            resolve(c) for c in property_schema.get("oneOf", []) + property_schema.get("anyOf", [])
        ]
        for choice in choices:
            if choice.get("type") == "integer":
                yield prefix + name, {name: 2**70}
            elif (
                choice.get("type") == "array"
                and resolve(choice.get("items", {})).get("type") == "integer"
            ):
                yield prefix + name, {name: [2**70]}
            elif choice.get("type") == "array" and "properties" in resolve(choice.get("items", {})):
                for inner, body in integer_paths(resolve(choice["items"]), f"{name}[0]."):
                    yield inner, {name: [body]}


@pytest.mark.parametrize(("method", "path", "schema"), OPERATIONS, ids=OPERATION_IDS)
async def test_an_integer_out_of_range_is_refused_naming_the_field(
    api: Client, seeded: dict[str, Any], method: str, path: str, schema: dict[str, Any]
) -> None:
    """A number beyond the database's integers must be refused by the schema: let through,
    it reaches the database as an overflow, a 500 (SQLite above 2**63, PostgreSQL above
    2**31 - 1)."""
    congress_id = seeded["ids"]["congress_id"]
    before = await event_count(congress_id)
    url = url_of(path, seeded["ids"])
    for field, body in integer_paths(schema):
        response = await api.request(method, url, json=body)
        refused_body = refused(response, 400, "invalid_input")
        assert refused_body.get("field", "").startswith(field), (field, refused_body)
    assert await event_count(congress_id) == before


async def test_a_refused_update_leaves_the_record_as_it_was(
    api: Client, seeded: dict[str, Any]
) -> None:
    ids = seeded["ids"]
    congress_url = f"/api/congresses/{ids['congress_id']}"
    delegate_url = f"{congress_url}/delegates/{ids['delegate_id']}"
    congress = await get_congress(ids["congress_id"])
    delegate = (await api.get(delegate_url)).json()
    attempts = [
        (congress_url, {"name": "Tên mới", "number": "XXI", "venue": "Hà Nội", "color": "đỏ"}),
        (congress_url, {"name": "Tên mới", "starts_on": 20260301}),
        (congress_url, {"name": "Tên mới", "number": 21}),
        (congress_url, {"name": "Tên mới\x00"}),
        (delegate_url, {"full_name": "Tên mới", "kind": "official", "birth_year": "1970"}),
        (delegate_url, {"full_name": "Tên mới", "kind": "official", "delegation_id": 2**70}),
        (delegate_url, {"full_name": "Tên mới", "kind": "chairman"}),
    ]
    for url, body in attempts:
        assert (await api.put(url, json=body)).status_code == 400, body
    oversized = {"name": "Tên mới", "venue": "x" * MAX_BODY}
    assert (await api.put(congress_url, json=oversized)).status_code == 413
    assert await get_congress(ids["congress_id"]) == congress
    assert (await api.get(delegate_url)).json() == delegate


async def test_the_nul_character_is_refused_in_vietnamese(
    api: Client, seeded: dict[str, Any]
) -> None:
    response = await api.put(
        f"/api/congresses/{seeded['ids']['congress_id']}", json={"name": "Đại hội\x00"}
    )
    body = refused(response, 400, "invalid_input")
    assert body == {
        "code": "invalid_input",
        "message": "Trường “name” không hợp lệ.",
        "field": "name",
    }


def test_every_json_body_refuses_unknown_fields_at_every_depth() -> None:
    """Every object a JSON body holds, on every route (the phone's too): a schema that lost
    ``forbid_unknown_fields`` would show here before a client's typo went unnoticed."""

    def structs(info: msgspec.inspect.Type) -> Iterator[msgspec.inspect.StructType]:
        if isinstance(info, msgspec.inspect.StructType):
            yield info
            for field in info.fields:
                yield from structs(field.type)
        elif isinstance(info, msgspec.inspect.UnionType):
            for choice in info.types:
                yield from structs(choice)
        elif isinstance(info, msgspec.inspect.CollectionType | msgspec.inspect.DictType):
            yield from structs(
                info.value_type if isinstance(info, msgspec.inspect.DictType) else info.item_type
            )

    bodies = {
        handler.parsed_fn_signature.parameters["data"].annotation
        for route in APP.routes
        for handler in getattr(route, "route_handlers", [])
        if "data"
        in getattr(handler, "parsed_fn_signature", SimpleNamespace(parameters={})).parameters
    }
    json_bodies = [body for body in bodies if msgspec.inspect.type_info(body) is not None]
    checked = [
        found
        for body in json_bodies
        if isinstance(msgspec.inspect.type_info(body), msgspec.inspect.StructType)
        for found in structs(msgspec.inspect.type_info(body))
    ]
    assert len(checked) > 20
    assert [s.cls.__name__ for s in checked if not s.forbid_unknown_fields] == []


# --- the delegate's phone: not in the OpenAPI document -------------------------------------


async def test_the_phone_refuses_bad_ballots_and_requests(
    lender: Any, seeded: dict[str, Any]
) -> None:
    async with AsyncTestClient(app=lender.next_app()) as phone:
        address = credentials.card_address(seeded["card"]).rsplit("/", 1)[-1]
        assert (await phone.get(f"/D/{address}", follow_redirects=False)).status_code == 303
        assert phone.cookies.get(DELEGATE_COOKIE)
        await phone.get("/delegate")
        phone.headers["x-csrf-token"] = str(phone.cookies[CSRF_COOKIE])
        phone.headers["accept"] = "application/json"  # as the page's script asks
        ballot = f"/delegate/polls/{seeded['ids']['poll_id']}/ballot"
        for url, body in [
            (ballot, {"choices": ["agree"], "secret_note": "x"}),
            (ballot, {"choices": "agree"}),
            (ballot, {"choices": [{"a": [None]}]}),
            ("/delegate/speakers", {"topic": "Tiền lương", "priority": 1}),
            ("/delegate/speakers", {"topic": ["Tiền lương"]}),
        ]:
            response = await phone.post(url, json=body)
            refused(response, 400, "invalid_input")
        for url in (ballot, "/delegate/speakers"):
            malformed = await send_json(phone, "POST", url, b'{"choices": [')
            assert malformed.status_code == 400
            large = await send_json(phone, "POST", url, b'{"topic": "' + b"x" * MAX_BODY + b'"}')
            assert refused(large, 413, "too_large")["message"] == TOO_LARGE_VI


# --- the console's HTML forms --------------------------------------------------------------


def form_fields() -> list[str]:
    """Every field name of every page's forms, and the ones the pages name from data."""
    names: set[str] = set()
    for package in ("congress", "checkin", "documents", "livestream"):
        for template in (ROOT / package).rglob("*.html"):
            names |= set(
                re.findall(
                    r'<(?:input|select|textarea|button)[^>]*\bname="(\w+)"',
                    template.read_text(encoding="utf-8"),
                )
            )
    return sorted(names | {"vote_agree", "vote_disagree", "vote_abstain", "vote_1", "pages_1"})


def console_form_routes() -> list[str]:
    return sorted(
        {
            route.path
            for route in APP.routes
            for handler in getattr(route, "route_handlers", [])
            if "POST" in getattr(handler, "http_methods", ())
            and route.path.startswith("/console/")
            and "data" not in handler.parsed_fn_signature.parameters  # the uploads: below
        }
    )


GARBAGE = {
    "text": "abc",
    "superscript": "²",  # a digit to str.isdigit, not to int()
    "huge": "9" * 25,
    "negative": "-1",
    "zero": "0",
    "empty": "",
    "nul": "Đại hội\x00",
    "long": "x" * 5000,
    "quote": "' OR 1=1 --",
}


@pytest.fixture
async def fresh_congress(make_congress: Any) -> dict[str, Any]:
    """A congress of the test's own, with one of everything the console's forms name."""
    congress_id = await make_congress()
    sitting_id = await add_sitting(congress_id, SittingIn(title="Phiên trù bị"), SYSTEM)
    item_id = await add_agenda_item(congress_id, sitting_id, AgendaItemIn(title="Bầu"), SYSTEM)
    delegation_id = await delegate_services.add_delegation(
        congress_id, DelegationIn(code="YT", name="Công đoàn ngành Y tế"), SYSTEM
    )
    delegate_id = await delegate_services.add_delegate(
        congress_id,
        DelegateIn(full_name="Trần Văn Đức", kind="official", delegation_id=delegation_id),
        SYSTEM,
    )
    poll_id = await voting_services.create_poll(
        congress_id,
        PollIn(kind="motion", title="Biểu quyết", sitting_id=sitting_id, method="paper"),
        SYSTEM,
    )
    speaker_id = await speaker_services.add_speaker(
        congress_id, SpeakerIn(name="Ông Phạm Quốc Bảo", sitting_id=sitting_id), SYSTEM
    )
    screen_id, _ = await screen_services.register_screen(congress_id, "Màn hình LED", SYSTEM)
    device_id, _ = await devices.register_device(congress_id, "Cửa phụ", SYSTEM)
    prepared = await document_services.prepare_upload(io.BytesIO(PNG_1PX), "anh.png")
    document_id = await document_services.upload_document(
        congress_id,
        DocumentIn(title="Ảnh hoạt động", access="delegates"),
        prepared,
        SYSTEM,
        document_services.Viewer("organizer", can_see_confidential=True),
    )
    return {
        "congress_id": congress_id,
        "sitting_id": sitting_id,
        "item_id": item_id,
        "delegation_id": delegation_id,
        "delegate_id": delegate_id,
        "poll_id": poll_id,
        "speaker_id": speaker_id,
        "screen_id": screen_id,
        "device_id": device_id,
        "document_id": document_id,
    }


def console_url(path: str, ids: dict[str, Any]) -> str:
    return re.sub(r"\{(\w+):\w+\}", lambda m: str(ids.get(m.group(1), ABSENT)), path)


FORM_ROUTES = console_form_routes()
FORM_FIELDS = form_fields()


def test_the_form_sweep_reaches_every_form() -> None:
    assert len(FORM_ROUTES) > 40
    assert {"sitting_id", "delegate_id", "starts_at", "step", "current"} <= set(FORM_FIELDS)


@pytest.mark.parametrize("path", FORM_ROUTES)
async def test_garbage_in_a_console_form_is_never_a_server_error(
    admin: Session, fresh_congress: dict[str, Any], path: str
) -> None:
    """Every field any page has, filled with each kind of garbage: the form is refused with
    a message, or done, never a 500."""
    url = console_url(path, fresh_congress)
    failures = []
    for kind, garbage in GARBAGE.items():
        response = await admin.submit(url, {name: garbage for name in FORM_FIELDS})
        if response.status_code >= 500:
            failures.append(kind)
    assert failures == []


async def test_a_form_value_of_the_wrong_kind_is_refused_and_nothing_changes(
    admin: Session, fresh_congress: dict[str, Any]
) -> None:
    congress_id = fresh_congress["congress_id"]
    before = await get_congress(congress_id)
    url = f"/console/congresses/{congress_id}"
    response = await admin.submit(url, {"name": "Tên mới", "starts_on": "31/02/2026"})
    assert response.status_code == 422
    assert "Trường “Ngày bắt đầu” không hợp lệ." in response.text
    admin.client.cookies.set(LANGUAGE_COOKIE, "en")
    response = await admin.submit(url, {"name": "Tên mới", "starts_on": "31/02/2026"})
    assert "The field “Starts on” is not valid." in response.text
    admin.client.cookies.delete(LANGUAGE_COOKIE)
    delegate_url = f"{url}/delegates/{fresh_congress['delegate_id']}"
    response = await admin.submit(
        delegate_url, {"full_name": "Tên mới", "kind": "official", "birth_year": "mười chín"}
    )
    assert response.status_code == 422
    assert "Trường “Năm sinh” không hợp lệ." in response.text
    assert await get_congress(congress_id) == before
    delegate = await delegate_services.get_delegate(congress_id, fresh_congress["delegate_id"])
    assert delegate["full_name"] == "Trần Văn Đức"


async def test_a_form_with_fields_it_does_not_know_is_saved_without_them(
    admin: Session, fresh_congress: dict[str, Any]
) -> None:
    congress_id = fresh_congress["congress_id"]
    before = await get_congress(congress_id)
    response = await admin.submit(
        f"/console/congresses/{congress_id}",
        {
            "name": "Đại hội Công đoàn tỉnh Hà Tĩnh",
            "number": before["number"],
            "venue": "Hội trường lớn",
            "save": "Lưu",
            "last_event_seq": "9999",
            "id": "1",
        },
        follow_redirects=True,
    )
    assert response.status_code == 200
    after = await get_congress(congress_id)
    assert after["name"] == "Đại hội Công đoàn tỉnh Hà Tĩnh"
    assert after["venue"] == "Hội trường lớn"
    assert after["id"] == congress_id
    assert after["last_event_seq"] == before["last_event_seq"] + 1


async def test_an_oversized_form_is_refused_and_nothing_changes(
    admin: Session, fresh_congress: dict[str, Any]
) -> None:
    congress_id = fresh_congress["congress_id"]
    before = await get_congress(congress_id)
    response = await admin.submit(
        f"/console/congresses/{congress_id}", {"name": "Tên mới", "venue": "x" * MAX_BODY}
    )
    assert response.status_code == 413
    assert response.headers["content-type"].startswith("text/html")
    assert TOO_LARGE_VI in response.text
    assert await get_congress(congress_id) == before


# --- uploads -------------------------------------------------------------------------------


def multipart(
    fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]
) -> tuple[bytes, str]:
    """A multipart body as a browser builds it, and its Content-Type."""
    request = httpx.Request("POST", "http://x/", data=fields, files=files)
    return request.read(), request.headers["content-type"]


async def chunks(total: int, size: int = 1024 * 1024) -> AsyncIterator[bytes]:
    sent = 0
    while sent < total:
        piece = min(size, total - sent)
        sent += piece
        yield b"\x00" * piece


async def documents_of(congress_id: int) -> int:
    viewer = document_services.Viewer("organizer", can_see_confidential=True)
    return len(await document_services.list_documents(congress_id, viewer))


async def test_an_oversized_upload_is_refused(
    admin: Session, fresh_congress: dict[str, Any]
) -> None:
    """Each upload route with a body one byte over its limit (the test client sends it with
    its length; a body streamed without one is tried over a real socket, below)."""
    congress_id = fresh_congress["congress_id"]
    documents = await documents_of(congress_id)
    csrf = await admin.csrf()
    _, content_type = multipart({}, {"file": ("bao-cao.pdf", b"", "application/pdf")})
    targets = [
        (f"/api/congresses/{congress_id}/documents", MAX_UPLOAD, "json"),
        (f"/console/congresses/{congress_id}/documents", MAX_UPLOAD, "html"),
        (f"/api/congresses/{congress_id}/delegate-imports", MAX_BODY, "json"),
        (f"/console/congresses/{congress_id}/import", MAX_BODY, "html"),
        (f"/console/congresses/{congress_id}/cards/photos", MAX_BODY, "html"),
        (f"/console/congresses/{congress_id}/cards/logo", MAX_BODY, "html"),
    ]
    for url, limit, answer in targets:
        response = await admin.client.post(
            url,
            content=bytes(limit + 1),
            headers={"content-type": content_type, "x-csrf-token": csrf},
        )
        assert response.status_code == 413, (url, response.text[:300])
        if answer == "json":
            assert response.json() == {"code": "too_large", "message": TOO_LARGE_VI}
        else:
            assert TOO_LARGE_VI in response.text
    assert await documents_of(congress_id) == documents
    assert (await admin.get("/login")).status_code == 200


async def test_upload_metadata_of_the_wrong_type_is_refused_and_nothing_is_stored(
    admin: Session, fresh_congress: dict[str, Any]
) -> None:
    congress_id = fresh_congress["congress_id"]
    documents = await documents_of(congress_id)
    url = f"/api/congresses/{congress_id}/documents"
    png = {"file": ("anh.png", PNG_1PX, "image/png")}
    for fields, field in [
        ({"title": "Ảnh", "sitting_id": "phiên một"}, "sitting_id"),
        ({"title": "Ảnh", "sitting_id": str(2**40)}, "sitting_id"),
        ({"title": "Ảnh", "access": "everyone"}, "access"),
        ({"title": "Ảnh", "category": "secret"}, "category"),
    ]:
        response = await admin.post(url, data=fields, files=png)
        body = refused(response, 422, "invalid_field")
        assert body["field"] == field
    not_a_file = await admin.post(
        url,
        data={"title": "Không có tệp", "file": "chữ"},
        files={"other": ("ghi-chu.txt", b"", "text/plain")},
    )
    refused(not_a_file, 400, "invalid_input")
    not_a_document = await admin.post(
        url,
        data={"title": "Chương trình"},
        files={"file": ("setup.pdf", b"MZ\x90\x00" * 64, "application/pdf")},
    )
    assert not_a_document.status_code in (415, 422), not_a_document.text
    assert not_a_document.json()["code"] == "unsupported_type"
    assert await documents_of(congress_id) == documents
    # Fields the form does not have are ignored, as in the console's forms.
    extra = await admin.post(url, data={"title": "Ảnh hội trường", "colour": "đỏ"}, files=png)
    assert extra.status_code == 201, extra.text
    assert await documents_of(congress_id) == documents + 1


async def test_a_refused_new_version_leaves_the_document_as_it_was(
    admin: Session, fresh_congress: dict[str, Any]
) -> None:
    congress_id = fresh_congress["congress_id"]
    created = await admin.post(
        f"/api/congresses/{congress_id}/documents",
        data={"title": "Báo cáo chính trị"},
        files={"file": ("anh.png", PNG_1PX, "image/png")},
    )
    document_url = f"/api/congresses/{congress_id}/documents/{created.json()['document_id']}"
    before = (await admin.get(document_url)).json()
    csrf = await admin.csrf()
    _, content_type = multipart({}, {"file": ("b.png", b"", "image/png")})
    too_large = await admin.client.post(
        f"{document_url}/versions",
        content=bytes(MAX_UPLOAD + 1),
        headers={"content-type": content_type, "x-csrf-token": csrf},
    )
    assert too_large.status_code == 413
    wrong = await admin.post(
        f"{document_url}/versions", files={"file": ("b.exe", b"MZ\x90\x00" * 64, "image/png")}
    )
    assert 400 <= wrong.status_code < 500
    assert (await admin.get(document_url)).json() == before


async def test_a_spreadsheet_that_is_not_one_is_refused_with_a_message(
    admin: Session, fresh_congress: dict[str, Any]
) -> None:
    congress_id = fresh_congress["congress_id"]
    response = await admin.post(
        f"/api/congresses/{congress_id}/delegate-imports",
        files={"data": ("dai-bieu.xlsx", secrets.token_bytes(4096), "application/vnd.ms-excel")},
    )
    assert response.status_code < 500, response.text
    preview = response.json()
    if response.status_code < 400:
        assert preview["can_apply"] is False
        assert preview["file_problems"][0]["message"]
    else:
        assert preview["message"]
    listed = (await admin.get(f"/api/congresses/{congress_id}/delegates")).json()
    assert [d["full_name"] for d in listed["delegates"]] == ["Trần Văn Đức"]


# --- over a real socket: the server stays up; websockets ignore what clients send ----------


async def test_the_server_stays_up_after_oversized_bodies(
    live_server: LiveServer, role_tokens: dict[str, str], make_congress: Any
) -> None:
    congress_id = await make_congress()
    cookies = {SESSION_COOKIE: role_tokens["admin"]}
    async with httpx.AsyncClient(base_url=live_server.url, cookies=cookies) as http:
        await http.get("/login")
        headers = {"x-csrf-token": http.cookies[CSRF_COOKIE], "content-type": "application/json"}
        url = f"/api/congresses/{congress_id}"
        for body in (b'{"name": "' + b"x" * (MAX_BODY + 1) + b'"}', chunks(MAX_BODY + 1)):
            response = await http.put(url, content=body, headers=headers)
            assert response.status_code == 413
            assert response.json()["code"] == "too_large"
        _, content_type = multipart({}, {"file": ("bao-cao.pdf", b"", "application/pdf")})
        upload = await http.post(
            f"/api/congresses/{congress_id}/documents",
            content=chunks(MAX_UPLOAD + 1),
            headers={**headers, "content-type": content_type},
        )
        assert upload.status_code == 413
        assert upload.json()["code"] == "too_large"
        assert (await http.get("/login")).status_code == 200
        ok = await http.put(url, json={"name": "Đại hội vẫn chạy"}, headers=headers)
        assert ok.status_code == 200, ok.text


async def drain(socket: websockets.ClientConnection) -> None:
    while True:
        await socket.recv()


async def test_a_feed_ignores_what_its_clients_send(
    live_server: LiveServer, role_tokens: dict[str, str], make_congress: Any
) -> None:
    congress_id = await make_congress()
    feed = live_server.url.replace("http", "ws") + f"/api/congresses/{congress_id}/events/live"
    headers = {"Cookie": f"{SESSION_COOKIE}={role_tokens['admin']}", "Origin": live_server.url}
    cookies = {SESSION_COOKIE: role_tokens["admin"]}
    async with websockets.connect(feed + "?after=1", additional_headers=headers) as socket:
        for message in (
            "garbage",
            '{"type": "PollOpened", "poll_id": 1}',
            b"\x00\xff" * 10,
            "x" * 1_000_000,
        ):
            await socket.send(message)
        async with httpx.AsyncClient(base_url=live_server.url, cookies=cookies) as http:
            await http.get("/login")
            added = await http.post(
                f"/api/congresses/{congress_id}/sittings",
                json={"title": "Phiên bế mạc", "kind": "closing"},
                headers={"x-csrf-token": http.cookies[CSRF_COOKIE]},
            )
            assert added.status_code == 201, added.text
        event = json.loads(await asyncio.wait_for(socket.recv(), timeout=5))
        assert event["type"] == "SittingAdded"
    # Above the server's limit for one message (16 MiB), that socket alone is closed.
    async with websockets.connect(feed, additional_headers=headers, max_size=None) as socket:
        await socket.send("x" * (17 * 1024 * 1024))
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(drain(socket), timeout=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1009
    async with websockets.connect(feed + "?after=0", additional_headers=headers) as socket:
        assert json.loads(await asyncio.wait_for(socket.recv(), timeout=5))["seq"] == 1
