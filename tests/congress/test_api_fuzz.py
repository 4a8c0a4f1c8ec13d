"""The whole HTTP API fuzzed from its own OpenAPI document with schemathesis: no response is a
500, every status code is one the operation declares, every body matches its schema.

The schema is loaded from the app itself (``/schema/openapi.json``) and every operation runs
a bounded, derandomized number of examples, positive and negative, signed in as an
administrator of its own (the fuzzer changes and deletes things: not the shared test
accounts) and as a paired tablet for the tablets' routes. Path ids are either what the
fuzzer made up or, half of the time, an object seeded here, so that the handlers behind the
404 are reached too.
"""

from __future__ import annotations

import io
import secrets
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from litestar import Litestar
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from checkin import credentials, devices
from checkin.controllers import DEVICE_COOKIE
from congress import accounts
from congress.app import create_app
from congress.auth import SESSION_COOKIE
from congress.delegates import services as delegate_services
from congress.delegates.schemas import DelegateIn, DelegationIn
from congress.eventlog import SYSTEM
from congress.schemas import AgendaItemIn, CongressIn, SittingIn
from congress.services import add_agenda_item, add_sitting, create_congress
from congress.voting import services as voting_services
from congress.voting.schemas import PollIn
from documents import services as document_services
from documents.schemas import DocumentIn
from livestream.speakers import services as speaker_services
from livestream.speakers.schemas import SpeakerIn
from tests.conftest import CSRF_COOKIE, ENGINE
from tests.documents.conftest import PNG_1PX

# A bounded run, in CI on both engines: a PostgreSQL round trip costs more than SQLite's.
EXAMPLES_PER_OPERATION = 12 if ENGINE == "postgresql" else 20
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]
# An id no row has: what a made-up congress or account id becomes, so that the fuzzer never
# changes the congresses and accounts of the other tests, nor its own administrator (ids of
# rows inside a congress stay as made up: the services must scope them by congress).
ABSENT = 2**31 - 2
SHEET = "Họ và tên,Loại đại biểu\nNguyễn Văn An,Chính thức\n".encode()


@pytest.fixture(scope="module")
async def seeded() -> dict[str, Any]:
    """A congress with sittings, an agenda, delegates with cards, a document, a poll, a
    speaker, a staged import and a paired tablet; an administrator and an account to edit."""
    congress_id = await create_congress(CongressIn(name="Đại hội thử nghiệm API", number="XIX"))
    sitting_id = await add_sitting(
        congress_id, SittingIn(title="Phiên chính thức", kind="plenary"), SYSTEM
    )
    await add_sitting(congress_id, SittingIn(title="Phiên bế mạc", kind="closing"), SYSTEM)
    item_id = await add_agenda_item(
        congress_id, sitting_id, AgendaItemIn(title="Khai mạc Đại hội"), SYSTEM
    )
    delegation_id = await delegate_services.add_delegation(
        congress_id, DelegationIn(code="GD", name="Công đoàn ngành Giáo dục"), SYSTEM
    )
    delegate_ids = [
        await delegate_services.add_delegate(
            congress_id,
            DelegateIn(
                full_name=name, kind="official", delegation_id=delegation_id, card_number=number
            ),
            SYSTEM,
        )
        for name, number in (("Nguyễn Thị Hạnh", "0001"), ("Trần Văn Đức", "0002"))
    ]
    await credentials.issue_cards(congress_id, delegate_ids, SYSTEM, replace=False)
    prepared = await document_services.prepare_upload(io.BytesIO(PNG_1PX), "anh.png")
    document_id = await document_services.upload_document(
        congress_id,
        DocumentIn(title="Ảnh hoạt động", access="delegates"),
        prepared,
        SYSTEM,
        document_services.Viewer("organizer", can_see_confidential=True),
    )
    poll_id = await voting_services.create_poll(
        congress_id,
        PollIn(kind="motion", title="Thông qua chương trình", sitting_id=sitting_id),
        SYSTEM,
    )
    speaker_id = await speaker_services.add_speaker(
        congress_id, SpeakerIn(name="Bà Lê Thị Thu Hà", sitting_id=sitting_id), SYSTEM
    )
    token = await delegate_services.stage_import(congress_id, "dai-bieu.csv", SHEET, SYSTEM)
    _, code = await devices.register_device(congress_id, "Cửa chính 1", SYSTEM)
    paired = await devices.pair(code)
    assert paired is not None
    admin_id = await accounts.create_account(
        f"fuzz.admin.{secrets.token_hex(3)}", "Quản trị thử", "x" * 12, ["admin"]
    )
    target_id = await accounts.create_account(
        f"fuzz.target.{secrets.token_hex(3)}", "Tài khoản thử", "y" * 12, ["checkin"]
    )
    return {
        "session": await accounts.open_session(admin_id),
        "device": paired[1],
        "ids": {
            "congress_id": congress_id,
            "sitting_id": sitting_id,
            "item_id": item_id,
            "delegation_id": delegation_id,
            "delegate_id": delegate_ids[0],
            "document_id": document_id,
            "number": 1,
            "page": 1,
            "poll_id": poll_id,
            "entry": 1,
            "speaker_id": speaker_id,
            "token": token,
            "account_id": target_id,
        },
    }


def real_or_made_up(name: str, made_up: Any, real: dict[str, Any]) -> st.SearchStrategy[Any]:
    if name not in real:
        return st.just(made_up)
    return st.sampled_from([real[name], made_up])


def keep_to_own(case: schemathesis.Case, real: dict[str, Any]) -> None:
    """A made-up congress or account id that may be another test's row becomes ABSENT (the
    coverage phase makes its ids, as strings too, without the hook: so on every case)."""
    for name, value in (case.path_parameters or {}).items():
        others = str(value) != str(real[name]) and str(value).isdigit()
        if name in ("congress_id", "account_id") and others and 0 < int(value) < 2**31:
            case.path_parameters[name] = ABSENT


# The document the app serves at /schema/openapi.json (test_the_fuzzed_schema_is_served
# checks it), taken from the app object: loading it through the app would start the app's
# lifespan at collection time, in every test run. Schemathesis starts it at the first call.
APP: Litestar = create_app()
schema = schemathesis.openapi.from_dict(APP.openapi_schema.to_schema())
schema.app = APP
schema.config.generation.update(max_examples=EXAMPLES_PER_OPERATION, deterministic=True)
SEEDED: dict[str, Any] = {}


@schema.hook
def flatmap_path_parameters(context: Any, path_parameters: dict[str, Any]) -> Any:
    if not path_parameters:
        return st.just(path_parameters)
    ids = SEEDED["ids"]
    return st.fixed_dictionaries(
        {name: real_or_made_up(name, value, ids) for name, value in path_parameters.items()}
    )


@pytest.fixture(scope="module")
def signed_in(seeded: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The administrator's and the tablet's cookies and headers; the app's lifespan, which
    schemathesis keeps open, is ended with the module."""
    SEEDED.update(seeded)
    with asgi.get_client(APP) as client:
        client.get("/login")
        csrf = client.cookies[CSRF_COOKIE]
    yield {
        "headers": {"x-csrf-token": csrf, "x-congress-device": "1"},
        "cookies": {
            SESSION_COOKIE: seeded["session"],
            CSRF_COOKIE: csrf,
            DEVICE_COOKIE: seeded["device"],
        },
    }
    asgi.shutdown_lifespans()


def test_the_fuzzed_schema_is_served(signed_in: dict[str, Any]) -> None:
    with asgi.get_client(APP) as client:
        served = client.get("/schema/openapi.json")
    assert served.status_code == 200
    assert served.json() == schema.raw_schema


@schema.parametrize()
@settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=list(HealthCheck),
)
def test_api(case: schemathesis.Case, signed_in: dict[str, Any]) -> None:
    keep_to_own(case, SEEDED["ids"])
    case.call_and_validate(
        headers=signed_in["headers"], cookies=signed_in["cookies"], checks=CHECKS
    )
