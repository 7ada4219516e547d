"""Domain exceptions. The edges (HTTP, CLI) translate them; the core only raises them."""

from __future__ import annotations

from typing import Any

FieldPath = tuple[str | int, ...]


class VivaError(Exception):
    """Base class: a problem a user can act on, with a message that says what and where.

    `field` names the offending input, relative to the use case's arguments (`("answer",)`,
    `("question", "reference_answer")`; `()` is the whole input), so the HTTP API can point at
    it without the use case knowing about bodies and headers. `context` adds facts a client can
    act on, e.g. `limit=8000`.
    """

    title = "Viva error"

    def __init__(self, message: str = "", *, field: FieldPath | None = None, **context: Any):
        super().__init__(message)
        self.field = field
        self.context = context


class NotFoundError(VivaError):
    title = "Not found"


class BankNotFoundError(NotFoundError):
    title = "Question bank not found"


class QuestionNotFoundError(NotFoundError):
    title = "Question not found"


class InterviewNotFoundError(NotFoundError):
    title = "Interview not found"


class ConflictError(VivaError):
    """The request is valid but the resource is in the wrong state for it."""

    title = "Conflict"


class InvalidInputError(VivaError):
    """Input data (a file, a row, a field) is malformed."""

    title = "Invalid input"


class BankValidationError(InvalidInputError):
    title = "Invalid question bank"


class ConfigError(VivaError):
    title = "Invalid configuration"


class StorageError(VivaError):
    """The database cannot store data right now (disk full, read-only, locked too long).

    The request was valid and may succeed later: the HTTP API answers 503 with Retry-After.
    """

    title = "Storage unavailable"


class AuthenticationError(VivaError):
    """No credentials, or ones that are unknown or revoked (HTTP 401)."""

    title = "Authentication required"


class PermissionDeniedError(VivaError):
    """Known caller, not allowed to do this (HTTP 403). For someone else's interview the
    edges answer 404 instead, so its existence does not leak."""

    title = "Forbidden"


class QuotaExceededError(PermissionDeniedError):
    """An owner holds as much as the server allows (HTTP 403); the message names the limit
    and the setting that raises it."""

    title = "Quota exceeded"


class RateLimitedError(VivaError):
    """Too many requests from one key or address (HTTP 429, with Retry-After)."""

    title = "Too many requests"

    def __init__(self, message: str, *, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
