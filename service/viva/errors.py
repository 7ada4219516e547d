"""Domain exceptions. The edges (HTTP, CLI) translate them; the core only raises them."""

from __future__ import annotations


class VivaError(Exception):
    """Base class: a problem a user can act on, with a message that says what and where."""

    title = "Viva error"


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
