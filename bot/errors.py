"""The service's own error classes and the ONE classification of every error the library raises.

bot/, feedback/ and generator/ raise typed errors (this module's, feedback.FeedbackError and its
NotFound/Conflict/Refused, generator.GeneratorError, PublishError and its subclasses in
bot/publishers/errors.py). ``classify`` sorts them into kinds; the CLI turns a kind into an exit
code (``ErrorKind.exit_code``: 2 usage/config, 1 an operation failed) and the web admin into an
HTTP status (``ErrorKind.http_status``).
"""
from __future__ import annotations

from enum import StrEnum


class ConfigError(Exception):
    """A configuration problem; the message names the file and key (bot.config raises it)."""


class UsageError(Exception):
    """The caller gave something the service cannot take (empty text, unreadable image, bad time)."""


class PublishError(Exception):
    """Base class of every publishing error (the subclasses: bot/publishers/errors.py)."""

    error_class = "publish_error"


class ErrorKind(StrEnum):
    USAGE = "usage"  # the input or the configuration was wrong
    NOT_FOUND = "not_found"  # no such candidate, post, account, ...
    CONFLICT = "conflict"  # the state moved on (stale version, a refused transition)
    FAILED = "failed"  # the operation failed (storage, generation, a platform)

    @property
    def exit_code(self) -> int:
        return 2 if self is ErrorKind.USAGE else 1

    @property
    def http_status(self) -> int:
        return _HTTP_STATUS[self]


_HTTP_STATUS = {ErrorKind.USAGE: 400, ErrorKind.NOT_FOUND: 404, ErrorKind.CONFLICT: 409, ErrorKind.FAILED: 502}


def service_errors() -> tuple[type[Exception], ...]:
    """Every error class the library raises on purpose (what ``classify`` knows)."""
    from feedback import FeedbackError
    from generator import GeneratorError

    return FeedbackError, UsageError, ConfigError, PublishError, GeneratorError


def classify(exc: BaseException) -> ErrorKind | None:
    """The kind of a library error; None: not one of ours (a bug or the environment)."""
    from feedback import Conflict, NotFound

    if isinstance(exc, UsageError | ConfigError):
        return ErrorKind.USAGE
    if isinstance(exc, NotFound):
        return ErrorKind.NOT_FOUND
    if isinstance(exc, Conflict):  # feedback.lifecycle.Refused is a Conflict
        return ErrorKind.CONFLICT
    if isinstance(exc, service_errors()):
        return ErrorKind.FAILED
    return None
