"""The publisher contract and the error classes every implementation maps its SDK's errors to.

A publisher turns one prepared post into one remote post, reads engagement back, and lists recent
posts so a post whose fate is unknown ("unconfirmed") can be looked up instead of re-sent. It never
touches the database: rate-limit readings are collected with ``RateLimitLog`` and stored by the
caller.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from feedback.polling import Counts

if TYPE_CHECKING:
    from generator.platforms import PreparedPost


class PublishError(Exception):
    """Base class of every publishing error."""

    error_class = "publish_error"


class AuthError(PublishError):
    """Credentials rejected: pause the account and tell the admin."""

    error_class = "auth"


class CreditsDepleted(AuthError):
    """The platform account has no paid credits left (X: HTTP 402): pause until the admin tops up."""

    error_class = "credits"


class RateLimited(PublishError):
    """The platform said "not now": nothing was posted; try again at ``retry_at``."""

    error_class = "rate_limited"

    def __init__(self, message: str, retry_at: datetime) -> None:
        super().__init__(message)
        self.retry_at = retry_at


class TransientPublishError(PublishError):
    """A temporary failure. ``maybe_sent`` says whether the request may have reached the platform."""

    error_class = "transient"

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class DuplicatePost(PublishError):
    """The platform refused the post as a duplicate of one already there."""

    error_class = "duplicate"


class PermanentPublishError(PublishError):
    """The platform will never accept this post as it is."""

    error_class = "permanent"


class ChallengeRequired(PublishError):
    """Instagram wants a human (challenge, feedback_required, please wait): pause, never loop.

    ``pause_until`` is None when only an admin can lift the pause (`memeloop accounts resume`).
    """

    error_class = "challenge"

    def __init__(self, message: str, *, pause_until: datetime | None = None) -> None:
        super().__init__(message)
        self.pause_until = pause_until


@dataclass(frozen=True)
class Published:
    """One post out. ``notes``: what was given up on the way (e.g. the alt text X refused); the post
    is out either way, the caller records them with it."""

    remote_id: str
    url: str | None
    published_at: datetime
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class MetricsReading(Counts):
    """One reading of one remote post: the counters (None = unknown or hidden, never -1), which
    post, and the platform's raw answer."""

    remote_id: str
    raw: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RemotePost:
    """A post found on the platform; ``marker`` only where the platform keeps one (the outbox)."""

    remote_id: str
    text: str
    created_at: datetime
    url: str | None = None
    marker: str | None = None


@dataclass(frozen=True)
class RateLimitReading:
    endpoint: str
    limit: int | None
    remaining: int | None
    reset_at: datetime | None


@runtime_checkable
class Publisher(Protocol):
    platform: str

    def publish(self, post: PreparedPost, *, marker: str,
                meta: Mapping[str, Any] | None = None) -> Published:
        """Post once. ``marker`` is unique per post row; ``meta`` (post/candidate ids, template) is
        for records and logs only; platforms ignore it. Publishers that can chain posts (X, the
        outbox) also take ``reply_to=REMOTE_ID``: a story thread's later parts answer the one before."""

    def fetch_metrics(self, remote_ids: Sequence[str], *, now: datetime) -> list[MetricsReading]:
        """Engagement of already-published posts (missing/deleted ids are left out)."""

    def find_recent(self, *, since: datetime, limit: int) -> list[RemotePost]:
        """The account's own posts created at or after ``since``, newest first."""


class RateLimitLog:
    """Mixin: remembers the rate-limit headers of every response until the caller drains them."""

    def __init__(self) -> None:
        self._rate_limits: dict[str, RateLimitReading] = {}

    def note_rate_limit(self, reading: RateLimitReading) -> None:
        self._rate_limits[reading.endpoint] = reading

    def drain_rate_limits(self) -> list[RateLimitReading]:
        readings, self._rate_limits = list(self._rate_limits.values()), {}
        return readings


def backoff_delay(attempt: int, base: timedelta, cap: timedelta) -> timedelta:
    """Exponential backoff: base, 2*base, 4*base, ... never above cap (attempt counts from 1)."""
    return min(cap, base * (2 ** max(0, attempt - 1)))
