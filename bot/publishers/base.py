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
from typing import TYPE_CHECKING, Any, Protocol, TypeGuard, runtime_checkable

from bot.publishers.errors import (
    AuthError,
    ChallengeRequired,
    CreditsDepleted,
    DuplicatePost,
    PermanentPublishError,
    PublishError,
    RateLimited,
    TransientPublishError,
)
from feedback.polling import Counts

if TYPE_CHECKING:
    from generator.platforms import PreparedPost

# The error classes live in bot.publishers.errors (light); publishers import them from here.
__all__ = [
    "AuthError",
    "ChallengeRequired",
    "CreditsDepleted",
    "DuplicatePost",
    "MetricsReading",
    "PermanentPublishError",
    "PublishError",
    "Published",
    "Publisher",
    "RateLimitLog",
    "RateLimitReading",
    "RateLimited",
    "RemotePost",
    "ThreadPublisher",
    "TransientPublishError",
    "backoff_delay",
    "takes_threads",
]


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
    # capability: takes reply-chain threads (``ThreadPublisher``): a story's parts go out one by one,
    # each answering the one before (X, Mastodon, Bluesky, the outbox); False: a thread goes out as
    # one post holding every numbered part (Instagram). bot.core.kinds.platform_texts is the rule.
    threads: bool

    def publish(self, post: PreparedPost, *, marker: str,
                meta: Mapping[str, Any] | None = None) -> Published:
        """Post once. ``marker`` is unique per post row; ``meta`` (post/candidate ids, template) is
        for records and logs only; platforms ignore it."""

    def fetch_metrics(self, remote_ids: Sequence[str], *, now: datetime) -> list[MetricsReading]:
        """Engagement of already-published posts (missing/deleted ids are left out)."""

    def find_recent(self, *, since: datetime, limit: int) -> list[RemotePost]:
        """The account's own posts created at or after ``since``, newest first."""

    def drain_rate_limits(self) -> list[RateLimitReading]:
        """The rate-limit readings of the calls since the last drain (the caller stores them)."""


class ThreadPublisher(Publisher, Protocol):
    """A publisher with ``threads = True``: it can post in answer to an earlier post of the account."""

    def publish(self, post: PreparedPost, *, marker: str, meta: Mapping[str, Any] | None = None,
                reply_to: str | None = None) -> Published:
        """As Publisher.publish; ``reply_to=REMOTE_ID``: the post this one answers (a thread's
        previous part)."""


def takes_threads(publisher: Publisher) -> TypeGuard[ThreadPublisher]:
    """Whether the publisher takes reply-chain threads (its declared capability)."""
    return publisher.threads


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
