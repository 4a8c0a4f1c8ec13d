"""Domain errors: a machine-readable code and a message translated for the person asking.

Services raise these; one exception handler (congress.app) turns them into a response in
the user's language, JSON for the API and a page for the browser. Messages are msgids,
marked with N_ so Babel extracts them, and translated only when the response is made.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any, TypeVar

import msgspec
from litestar import Controller
from litestar.handlers import HTTPRouteHandler
from litestar.openapi.datastructures import ResponseSpec


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


ERROR_RESPONSES = {
    status: ResponseSpec(ErrorOut, description=HTTPStatus(status).phrase, generate_examples=False)
    for status in (400, 401, 403, 404, 409, 422)
}

AnyController = TypeVar("AnyController", bound=type[Controller])


def declares_errors(controller: AnyController) -> AnyController:
    """Puts the errors of the API in the OpenAPI document of each of the controller's routes,
    in place of Litestar's own error body, which our exception handlers never send."""
    for value in vars(controller).values():
        if isinstance(value, HTTPRouteHandler):
            value.responses = {**ERROR_RESPONSES, **(value.responses or {})}
    return controller
