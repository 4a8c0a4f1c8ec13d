"""Domain errors: a machine-readable code and a message translated for the person asking.

Services raise these; one exception handler (congress.app) turns them into a response in
the user's language, JSON for the API and a page for the browser. Messages are msgids,
marked with N_ so Babel extracts them, and translated only when the response is made.
"""

from __future__ import annotations

import functools
import inspect
import re
from http import HTTPStatus
from typing import Any, TypeVar

import msgspec
from litestar import Controller, Request
from litestar.enums import RequestEncodingType
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec

from congress.i18n import N_


class CongressError(Exception):
    status_code = 400

    def __init__(self, code: str, message: str, **params: Any) -> None:
        super().__init__(code)
        self.code = code
        self.message = message
        self.params = params

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r})"


class InvalidInput(CongressError):
    status_code = 422

    def __init__(self, code: str, message: str, *, field: str | None = None, **params: Any) -> None:
        super().__init__(code, message, **params)
        self.field = field


class NotFound(CongressError):
    status_code = 404


class Conflict(CongressError):
    status_code = 409


class NotSignedIn(CongressError):
    status_code = 401


class PermissionDenied(CongressError):
    status_code = 403


class BadBody(InvalidInput):
    """A JSON body that does not fit its schema: Litestar's own status and code for it."""

    status_code = 400


class UnsupportedMediaType(CongressError):
    status_code = 415


class FieldErrorOut(msgspec.Struct):
    field: str
    message: str


class ErrorOut(msgspec.Struct, omit_defaults=True):
    """What every error of the API answers (congress.app writes it): the machine-readable
    code, the message in the asker's language, and what the input's problem was."""

    code: str
    message: str
    field: str | None = None
    errors: list[FieldErrorOut] | None = None


def _responses(*statuses: int) -> dict[int, ResponseSpec]:
    return {
        status: ResponseSpec(
            ErrorOut, description=HTTPStatus(status).phrase, generate_examples=False
        )
        for status in statuses
    }


ERROR_RESPONSES = _responses(400, 401, 403, 404, 409, 422)
# A route that takes a body may also answer: too large, or not JSON.
BODY_ERROR_RESPONSES = _responses(413, 415)

AnyController = TypeVar("AnyController", bound=type[Controller])


def declares_errors(controller: AnyController) -> AnyController:
    """The API's error contract on each of the controller's routes: its errors in the OpenAPI
    document, in place of Litestar's own error body, which our exception handlers never send;
    and a JSON body read strictly (see ``check_json_body``)."""
    for value in vars(controller).values():
        if isinstance(value, HTTPRouteHandler):
            responses = dict(ERROR_RESPONSES)
            if "data" in inspect.signature(value.fn).parameters:
                responses.update(BODY_ERROR_RESPONSES)
                value.before_request = value.before_request or check_json_body
            value.responses = {**responses, **(value.responses or {})}
    return controller


# --- a JSON body, read strictly -------------------------------------------------------------

JSON_MEDIA_TYPE = "application/json"
# msgspec's messages: "Object contains unknown field `x` - at `$.candidates[0]`",
# "Expected `int`, got `str` - at `$.seats`", "Expected `int` >= 1 - at `$.seats`".
_AT = re.compile(r" - at (?:`key` in )?`\$\.?(?P<path>[^`]*)`$")
_FIELD_NAMED = re.compile(
    r"^Object (?P<problem>contains unknown|missing required) field `(?P<name>[^`]*)`"
)
_TYPES = re.compile(r"^Expected `(?P<expected>[^`]*)`, got `(?P<got>[^`]*)`$")
_BOUND = re.compile(r"^Expected `\w+` (?P<length>of length )?(?P<op>>=|<=|>|<) (?P<bound>[\d.]+)$")
_ENUM = re.compile(r"^Invalid enum value (?P<value>.*)$")
_NAMED_IN_TEXT = re.compile(r"^`(?P<name>\w+)` ")  # a ValueError of a schema's __post_init__
_VALUE_BOUNDS = {
    ">=": N_("The field “{name}” must be at least {bound}."),
    ">": N_("The field “{name}” must be more than {bound}."),
    "<=": N_("The field “{name}” must be at most {bound}."),
    "<": N_("The field “{name}” must be less than {bound}."),
}
_LENGTH_BOUNDS = {
    ">=": N_("The field “{name}” must hold at least {bound} characters or items."),
    "<=": N_("The field “{name}” may hold at most {bound} characters or items."),
}


@functools.cache
def _strict_decoder(schema: Any) -> msgspec.json.Decoder[Any]:
    return msgspec.json.Decoder(schema, strict=True)


async def check_json_body(request: Request[Any, Any, Any]) -> None:
    """Before a route that takes a JSON body: the body must be sent as JSON, and must fit the
    schema without coercion. Litestar converts leniently (``"5"`` for 5, a number of seconds
    for a date and time); an API client that sends the wrong type should hear so, with the
    field named, rather than have its value guessed at. Litestar then decodes the body again
    (from its cache) into the handler's argument."""
    field = request.route_handler.parsed_fn_signature.parameters.get("data")
    if field is None or getattr(field.kwarg_definition, "media_type", None) not in (
        RequestEncodingType.JSON,
        None,
    ):
        return
    body = await request.body()
    if not body:
        if field.has_default:
            return
        raise BadBody("invalid_input", N_("Nothing was sent: this request takes a JSON object."))
    media_type, _ = request.content_type
    if media_type != JSON_MEDIA_TYPE and not media_type.endswith("+json"):
        raise UnsupportedMediaType(
            "unsupported_media_type",
            N_("Send this as JSON, with the header “Content-Type: application/json”."),
        )
    try:
        _strict_decoder(field.annotation).decode(body)
    except msgspec.ValidationError as exc:
        raise body_problem(str(exc)) from None
    except msgspec.DecodeError:
        raise BadBody("invalid_input", N_("What was sent is not valid JSON.")) from None


def body_problem(text: str) -> BadBody:
    """msgspec's validation message as an error naming the field, in the reader's language."""
    at = _AT.search(text)
    path = at.group("path") if at else ""
    text = text[: at.start()] if at else text
    if named := _FIELD_NAMED.match(text):
        field = ".".join(p for p in (path, named.group("name")) if p)
        message = (
            N_("The field “{name}” is missing.")
            if named.group("problem") == "missing required"
            else N_("“{name}” is not a field of this request.")
        )
        return BadBody("invalid_input", message, field=field, name=field)
    if types := _TYPES.match(text):
        expected, got = _json_type(types.group("expected")), _json_type(types.group("got"))
        if not path:
            message = N_("What was sent must be {expected}, not {got}.")
            return BadBody("invalid_input", message, expected=expected, got=got)
        message = N_("The field “{name}” must be {expected}, not {got}.")
        return BadBody("invalid_input", message, field=path, name=path, expected=expected, got=got)
    if not path and (named := _NAMED_IN_TEXT.match(text)):
        path = named.group("name")
    if (bound := _BOUND.match(text)) and bound.group("length") and text.endswith(">= 1"):
        message = N_("The field “{name}” may not be empty.")
        return BadBody("invalid_input", message, field=path, name=path)
    if bound:
        bounds = _LENGTH_BOUNDS if bound.group("length") else _VALUE_BOUNDS
        if bounded := bounds.get(bound.group("op")):
            return BadBody(
                "invalid_input", bounded, field=path, name=path, bound=bound.group("bound")
            )
    if enum := _ENUM.match(text):
        message = N_("The field “{name}” does not take the value {value}.")
        return BadBody("invalid_input", message, field=path, name=path, value=enum.group("value"))
    message = N_("The field “{label}” is not valid.")
    return BadBody("invalid_input", message, field=path or None, label=path or "?")


def _json_type(name: str) -> str:
    """msgspec's names of types, as an API client knows them from JSON."""
    words = {"str": "string", "int": "integer", "float": "number", "bool": "boolean"}
    return " | ".join(words.get(part, part) for part in name.split(" | "))
