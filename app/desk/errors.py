"""One family of domain errors: a machine code, a human message, and the field at fault.

Adapters map these in one place each: HTTP JSON (status), Socket.IO acknowledgements
(``{"ok": False, "error": code, "message": ..., "field": ...}``) and flashed messages.
"""

from __future__ import annotations


class DeskError(Exception):
    status = 400

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field = field

    def to_dict(self) -> dict:
        data = {"ok": False, "error": self.code, "message": self.message}
        if self.field:
            data["field"] = self.field
        return data

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code!r}, {self.message!r}, field={self.field!r})"


class ValidationError(DeskError):
    status = 400


class NotFound(DeskError):
    status = 404


class Forbidden(DeskError):
    status = 403


class Conflict(DeskError):
    """The state changed under the caller: taken chat, stale version, closed chat."""

    status = 409


def unavailable() -> DeskError:
    """The database (or another part the desk needs) cannot be reached: retry later."""
    return DeskError("unavailable", "The service is unavailable right now; try again soon.")


def server_error() -> DeskError:
    """An unexpected fault, logged on the server; the client is told no more."""
    return DeskError("server_error", "Something went wrong on the server.")
