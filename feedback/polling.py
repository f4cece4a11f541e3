"""Engagement polling: which posts are due on the thinning schedule, and engagement scores.

Pure functions over values; the repository (feedback.repository.metrics) reads and writes the rows
and bot.service.polling asks the platforms.
"""
from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TypeVar

COUNT_FIELDS = ("likes", "reposts", "replies", "quotes", "impressions", "bookmarks", "comments", "views")
T = TypeVar("T")


@dataclass(frozen=True)
class PollTarget:
    """A published post and how far its polling got."""

    post_id: int
    account: str
    remote_id: str
    published_at: datetime
    last_age_s: int | None  # age of the newest snapshot; None = never polled


@dataclass(frozen=True)
class Counts:
    """One reading of a post's counters; None = unknown or hidden by the platform."""

    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    impressions: int | None = None
    bookmarks: int | None = None
    comments: int | None = None
    views: int | None = None

    @classmethod
    def of(cls, reading: object) -> Counts:
        """From any object with count attributes (a publisher's MetricsReading, a snapshot row)."""
        return cls(**{name: _count(getattr(reading, name, None)) for name in COUNT_FIELDS})


def _count(value: object) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)  # type: ignore[call-overload]  # platforms sometimes send counts as strings
    except (TypeError, ValueError):
        return None
    return number if number >= 0 else None


def due_age(target: PollTarget, now: datetime, ages: Sequence[timedelta]) -> timedelta | None:
    """The schedule age this post is due for now, or None.

    A post is due when it has passed a schedule age that no snapshot covers yet. After downtime
    several ages may have passed; one snapshot covers them all (no catch-up burst).
    """
    age = now - target.published_at
    passed = [a for a in ages if a <= age]
    if not passed:
        return None
    latest = max(passed)
    if target.last_age_s is not None and target.last_age_s >= latest.total_seconds():
        return None
    return latest


def select_due(targets: Iterable[PollTarget], now: datetime,
               ages: Sequence[timedelta]) -> list[PollTarget]:
    return [t for t in targets if due_age(t, now, ages) is not None]


def batches(items: Sequence[T], size: int) -> Iterator[list[T]]:
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    for start in range(0, len(items), size):
        yield list(items[start:start + size])


def engagement_score(counts: Counts, weights: Mapping[str, float]) -> float | None:
    """Weighted sum of the known counts; None when none of the weighted counts is known."""
    known = [(getattr(counts, name), w) for name, w in weights.items() if getattr(counts, name) is not None]
    if not known:
        return None
    return float(sum(value * w for value, w in known))


def baseline(previous: Sequence[float]) -> float | None:
    """An account's recent typical engagement: the median (robust to one viral post)."""
    return statistics.median(previous) if previous else None


def normalise(score: float, base: float | None) -> float:
    """Log ratio to the baseline: 0 = a typical post for this account, +0.69 = twice as good."""
    if base is None:
        return 0.0
    return math.log1p(score) - math.log1p(base)
