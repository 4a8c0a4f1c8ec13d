"""Domain errors: a machine-readable code and a message translated for the person asking.

Services raise these; one exception handler (congress.app) turns them into a response in
the user's language, JSON for the API and a page for the browser. Messages are msgids,
marked with N_ so Babel extracts them, and translated only when the response is made.
"""

from __future__ import annotations

from typing import Any


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
