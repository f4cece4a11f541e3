"""Metric snapshots: what polling stores (append-only) and what learning reads back."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from feedback.models import Account, Candidate, MetricSnapshot, Post, Review, Template
from feedback.polling import COUNT_FIELDS, Counts, PollTarget


@dataclass(frozen=True)
class NewSnapshot:
    post_id: int
    taken_at: datetime
    age_s: int
    counts: Counts
    raw: dict[str, Any] | None = None


@dataclass(frozen=True)
class CandidateFacts:
    """What the ranker needs to know about a candidate, as stored."""

    candidate_id: int
    generator: str
    template: str | None
    beam_rank: int | None
    beam_score: float | None
    tone: str | None
    audience: str | None
    account: str | None
    text: str


@dataclass(frozen=True)
class PostEngagement:
    facts: CandidateFacts
    post_id: int
    published_at: datetime
    counts: Counts | None  # the first snapshot at or after the engagement age; None = too young


@dataclass(frozen=True)
class ReviewFacts:
    facts: CandidateFacts
    action: str
    before_text: str | None
    after_text: str | None
    created_at: datetime
    review_id: int = 0


def posts_to_poll(session: Session, *, now: datetime, horizon: timedelta) -> list[PollTarget]:
    """Published posts younger than ``horizon`` with a remote id, and the age of their last snapshot.

    Reads only the young posts (ix_posts_published_at) and one index entry per post for its last
    age (ix_metric_snapshots_post_age), so the cost follows the horizon, not the history."""
    last_age = (select(func.max(MetricSnapshot.age_s)).where(MetricSnapshot.post_id == Post.id)
                .correlate(Post).scalar_subquery())
    query = (
        select(Post.id, Account.name, Post.remote_id, Post.published_at, last_age)
        .join(Account, Post.account_id == Account.id)
        .where(Post.published_at >= now - horizon, Post.state == "published", Post.remote_id.is_not(None))
        .order_by(Post.published_at, Post.id)
    )
    return [PollTarget(post_id=pid, account=name, remote_id=rid, published_at=at,
                       last_age_s=None if age is None else int(age))
            for pid, name, rid, at, age in session.execute(query)]


def add_snapshots(session: Session, snapshots: Sequence[NewSnapshot]) -> int:
    """Insert snapshots (never update one: every poll is kept)."""
    if not snapshots:
        return 0
    rows = [{"post_id": s.post_id, "taken_at": s.taken_at, "age_s": s.age_s, "raw": s.raw,
             **{name: getattr(s.counts, name) for name in COUNT_FIELDS}} for s in snapshots]
    session.execute(insert(MetricSnapshot), rows)
    return len(rows)


def snapshots_of(session: Session, post_id: int) -> list[MetricSnapshot]:
    return list(session.scalars(select(MetricSnapshot).where(MetricSnapshot.post_id == post_id)
                                .order_by(MetricSnapshot.taken_at, MetricSnapshot.id)))


def facts_columns() -> tuple:
    """The columns a CandidateFacts is read from (the first nine of a row; see facts_of)."""
    return (Candidate.id, Candidate.generator, Template.slug, Candidate.beam_rank, Candidate.beam_score,
            Candidate.tone, Candidate.audience, Account.name, Candidate.text)


def facts_of(row: Sequence[Any]) -> CandidateFacts:
    return CandidateFacts(*row[:9])


def review_decisions(session: Session, *, now: datetime, after_id: int = 0,
                     actions: Sequence[str] = ("approve", "reject", "edit")) -> list[ReviewFacts]:
    """Review decisions up to ``now`` with an id above ``after_id`` (the ones not learned from yet)."""
    query = (
        select(*facts_columns(), Review.action, Review.before_text, Review.after_text, Review.created_at,
               Review.id)
        .select_from(Review)
        .join(Candidate, Review.candidate_id == Candidate.id)
        .outerjoin(Account, Candidate.account_id == Account.id)
        .outerjoin(Template, Candidate.template_id == Template.id)
        .where(Review.action.in_(actions), Review.created_at <= now, Review.id > after_id)
        .order_by(Review.created_at, Review.id)
    )
    return [ReviewFacts(facts_of(r), r[9], r[10], r[11], r[12], r[13]) for r in session.execute(query)]


def publish_hours(session: Session, candidate_ids: Sequence[int]) -> dict[int, datetime]:
    """When each candidate is (or was) planned to go out, for those that have a post."""
    if not candidate_ids:
        return {}
    query = select(Post.candidate_id, Post.scheduled_at).where(Post.candidate_id.in_(candidate_ids))
    return dict(session.execute(query).all())
