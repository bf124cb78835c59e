"""Domain exceptions: services raise these, the web layer maps them to status codes."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every error a service reports to its caller."""

    status = 400

    def __init__(self, message: str, fields: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.fields = dict(fields or {})


class InvalidInput(DomainError):
    """A value failed validation; `fields` names each bad field."""

    status = 422


class NotFound(DomainError):
    status = 404


class Conflict(DomainError):
    status = 409


class Gone(DomainError):
    status = 410


class Forbidden(DomainError):
    status = 403


class TooLarge(DomainError):
    status = 413
