"""Learning state: each post's engagement reading at the learning age (post_outcomes) and the
ranker's persisted sufficient statistics (learning_state). Every query touches the rows of the
posts at hand, one account's recent rows, or one state row; only ``rebuild_readings`` (a settings
change) reads all snapshots."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, case, delete, func, insert, select, update
from sqlalchemy.orm import InstrumentedAttribute, Session

from feedback.db import affected
from feedback.models import Account, Candidate, LearningState, MetricSnapshot, Post, PostOutcome, Template
from feedback.polling import COUNT_FIELDS, Counts
from feedback.repository.metrics import CandidateFacts, facts_columns, facts_of

FAR = 2_000_000_000  # ages sort after every mature one: the youngest mature, else the newest reading


@dataclass(frozen=True)
class Reading:
    """A post's reading at the learning age and how it was folded into the state (if it was)."""

    post_id: int
    account_id: int
    published_at: datetime
    age_s: int
    final: bool
    counts: Counts
    features: dict[str, Any] | None = None
    target: float | None = None
    weight: float | None = None
    applied_step: float | None = None


_READING_COLS = ("post_id", "account_id", "published_at", "age_s", "final", *COUNT_FIELDS, "features", "target",
                 "weight", "applied_step")


def _reading(row: Any) -> Reading:
    """From a PostOutcome, or a row/mapping with the columns of _READING_COLS."""
    get = row.__getitem__ if isinstance(row, dict) else (lambda k: getattr(row, k))
    return Reading(get("post_id"), get("account_id"), get("published_at"), get("age_s"), bool(get("final")),
                   Counts(**{f: get(f) for f in COUNT_FIELDS}), get("features"), get("target"), get("weight"),
                   get("applied_step"))


def _order(age_s: int) -> tuple[ColumnElement[int], InstrumentedAttribute[int]]:
    snap = MetricSnapshot
    return case((snap.age_s >= age_s, snap.age_s), else_=FAR - snap.age_s), snap.id


def refresh_readings(session: Session, post_ids: Sequence[int], *, age_s: int) -> list[tuple[Reading | None, Reading]]:
    """Bring these posts' readings up to date with their snapshots; (before, after) of each changed one."""
    if not post_ids:
        return []
    ids = sorted(set(post_ids))
    snap = MetricSnapshot
    rows = session.execute(
        select(snap.id, snap.post_id, snap.age_s, *(getattr(snap, f) for f in COUNT_FIELDS), Post.account_id,
               Post.published_at)
        .join(Post, Post.id == snap.post_id)
        .where(snap.post_id.in_(ids), Post.state == "published", Post.published_at.is_not(None))
        .order_by(snap.post_id, *_order(age_s))).all()
    best: dict[int, Any] = {}
    for row in rows:
        best.setdefault(row[1], row)  # ordered: the first row of a post is its reading
    cols = [getattr(PostOutcome, c) for c in _READING_COLS]
    existing = {r["post_id"]: dict(r) for r in session.execute(
        select(*cols, PostOutcome.snapshot_id).where(PostOutcome.post_id.in_(ids))).mappings()}
    changed: list[tuple[Reading | None, Reading]] = []
    inserts: list[dict] = []
    updates: list[dict] = []
    for post_id, row in best.items():
        old = existing.get(post_id)
        if old is not None and old["snapshot_id"] == row[0]:
            continue
        values = {"post_id": post_id, "snapshot_id": row[0], "age_s": row[2], "final": row[2] >= age_s,
                  **dict(zip(COUNT_FIELDS, row[3:3 + len(COUNT_FIELDS)]))}
        if old is None:
            new = {**values, "account_id": row[-2], "published_at": row[-1], "features": None, "target": None,
                   "weight": None, "applied_step": None}
            inserts.append({k: v for k, v in new.items() if k in values or k in ("account_id", "published_at")})
            changed.append((None, _reading(new)))
        else:
            updates.append(values)
            changed.append((_reading(old), _reading({**old, **values})))
    if inserts:
        session.execute(insert(PostOutcome), inserts)
    if updates:
        session.execute(update(PostOutcome), updates)  # bulk UPDATE by primary key
    return changed


def mark_applied(session: Session, marks: Sequence[dict[str, Any]]) -> None:
    """Record how readings were folded in: dicts of post_id, features, target, weight, applied_step."""
    if marks:
        session.execute(update(PostOutcome), list(marks))  # bulk UPDATE by primary key


def all_readings(session: Session) -> list[Reading]:
    """Every post's reading, oldest post first (one row per post: the rebuild of the state)."""
    return [_reading(r) for r in session.scalars(select(PostOutcome).order_by(PostOutcome.published_at,
                                                                            PostOutcome.post_id))]


def rebuild_readings(session: Session, *, age_s: int) -> int:
    """Recompute every post's reading (after a change of the learning age): reads all snapshots."""
    session.execute(delete(PostOutcome))
    ids = list(session.scalars(select(Post.id).where(Post.state == "published", Post.published_at.is_not(None))))
    for start in range(0, len(ids), 500):
        refresh_readings(session, ids[start:start + 500], age_s=age_s)
    return len(ids)


def anchor_readings(session: Session, account_id: int, limit: int) -> list[tuple[datetime, Counts]]:
    """(published_at, counts) of the account's first ``limit`` mature readings: its anchor."""
    cols = [getattr(PostOutcome, f) for f in COUNT_FIELDS]
    rows = session.execute(select(PostOutcome.published_at, *cols)
                           .where(PostOutcome.account_id == account_id, PostOutcome.final.is_(True))
                           .order_by(PostOutcome.published_at, PostOutcome.post_id).limit(limit))
    return [(r[0], Counts(**dict(zip(COUNT_FIELDS, r[1:])))) for r in rows]


def recent_posts(session: Session, account_id: int, before: datetime, limit: int) -> list[tuple[str | None, str]]:
    """(template slug, text) of the account's last ``limit`` posts before ``before`` that have a
    reading (every polled post; one indexed range of post_outcomes), oldest first."""
    query = (select(Template.slug, Candidate.text).select_from(PostOutcome)
             .join(Post, Post.id == PostOutcome.post_id)
             .join(Candidate, Candidate.id == Post.candidate_id)
             .outerjoin(Template, Template.id == Candidate.template_id)
             .where(PostOutcome.account_id == account_id, PostOutcome.published_at < before)
             .order_by(PostOutcome.published_at.desc()).limit(limit))
    rows: list[tuple[str | None, str]] = [(slug, body) for slug, body in session.execute(query)]
    return rows[::-1]


def post_facts(session: Session, post_ids: Sequence[int]) -> dict[int, tuple[CandidateFacts, str]]:
    """The candidate facts and account name behind each post."""
    if not post_ids:
        return {}
    query = (select(*facts_columns(), Post.id).select_from(Post)
             .join(Candidate, Post.candidate_id == Candidate.id)
             .join(Account, Post.account_id == Account.id)
             .outerjoin(Template, Candidate.template_id == Template.id)
             .where(Post.id.in_(sorted(set(post_ids)))))
    return {row[9]: (facts_of(row), row[7]) for row in session.execute(query)}


def account_ids(session: Session) -> dict[str, int]:
    return {name: id_ for id_, name in session.execute(select(Account.id, Account.name))}


def load_state(session: Session, name: str) -> LearningState | None:
    return session.get(LearningState, name)


def save_state(session: Session, name: str, *, fingerprint: str, state: bytes, last_review_id: int,
               observations: int, now: datetime) -> None:
    values = {"fingerprint": fingerprint, "state": state, "last_review_id": last_review_id,
              "observations": observations, "updated_at": now}
    if affected(session.execute(update(LearningState).where(LearningState.name == name).values(**values))) == 0:
        session.execute(insert(LearningState).values(name=name, **values))


def candidate_texts(session: Session, *, limit: int = 20_000) -> list[str]:
    """The newest candidates' texts (what the generators write: the corpus topics are fitted on)."""
    return list(session.scalars(select(Candidate.text).order_by(Candidate.id.desc()).limit(limit)))


def max_candidate_id(session: Session) -> int:
    return int(session.execute(select(func.max(Candidate.id))).scalar() or 0)


def folded_targets(session: Session, account_id: int) -> list[tuple[datetime, float, float]]:
    """(published_at, target, weight) of the account's readings folded into the ranker, oldest first."""
    rows = session.execute(select(PostOutcome.published_at, PostOutcome.target, PostOutcome.weight)
                           .where(PostOutcome.account_id == account_id, PostOutcome.target.is_not(None),
                                  PostOutcome.weight.is_not(None))
                           .order_by(PostOutcome.published_at, PostOutcome.post_id))
    return [(at, float(target), float(weight)) for at, target, weight in rows
            if target is not None and weight is not None]
