"""Candidates: what generators made, waiting for (or past) human review."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import column, func, select, text, update
from sqlalchemy.orm import Session

from feedback import NotFound
from feedback.db import UTCDateTime, affected
from feedback.models import CANDIDATE_STATUSES, Account, Candidate, Generation, Post, Template
from feedback.queue_sql import COLUMNS, QueueRow, queue_sql, rows_of
from feedback.repository.metrics import CandidateFacts, facts_columns, facts_of


@dataclass(frozen=True)
class NewCandidate:
    generator: str
    text: str
    account_id: int | None = None
    generation_id: int | None = None
    template_id: int | None = None
    model_version: str = ""
    group_key: str | None = None
    beam_rank: int | None = None
    beam_score: float | None = None
    tone: str | None = None
    audience: str | None = None
    gan_seed: int | None = None
    params: dict[str, Any] = field(default_factory=dict)
    image_path: str | None = None
    source_image_path: str | None = None
    image_sha256: str | None = None
    image_phash: str | None = None
    status: str = "pending"
    status_reason: str | None = None
    predicted_score: float | None = None
    predicted_explain: dict[str, Any] | None = None
    filter_gate: str | None = None
    offers_used: list[str] | None = None
    read_as: str | None = None
    read_confidence: float | None = None


def add_candidate(session: Session, new: NewCandidate, now: datetime) -> Candidate:
    row = Candidate(**new.__dict__, original_text=new.text, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    return row


def get_candidate(session: Session, candidate_id: int, *, fresh: bool = False) -> Candidate:
    """The row; ``fresh`` re-reads it from the database (a decision must see the current status)."""
    row = session.get(Candidate, candidate_id, populate_existing=fresh)
    if row is None:
        raise NotFound(f"candidate {candidate_id} does not exist")
    return row


def _check_statuses(statuses: Sequence[str]) -> None:
    unknown = [s for s in statuses if s not in CANDIDATE_STATUSES]
    if unknown:
        raise NotFound(f"unknown status {unknown[0]!r} (use one of: {', '.join(CANDIDATE_STATUSES)})")


def _review_order() -> tuple:
    return (Candidate.predicted_score.desc().nulls_last(), Candidate.beam_score.desc().nulls_last(),
            Candidate.created_at, Candidate.id)


def list_queue(session: Session, now: datetime, *, statuses: Sequence[str] = ("pending",),
               account: str | None = None, limit: int | None = 50, offset: int = 0) -> list[QueueRow]:
    """Candidates in the review order (feedback.queue_sql: the same statement the CLI's fast path runs)."""
    _check_statuses(statuses)
    sql, params = queue_sql(statuses, account=account, limit=limit, offset=offset)
    query = text(sql).columns(*(column(c) for c in COLUMNS[:9]), column("created_at", UTCDateTime()),
                              column("status_reason"))
    return rows_of(session.execute(query, params).all(), now, offset=offset)


def count_by_status(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Candidate.status, func.count()).group_by(Candidate.status)).all())


def start_generation(session: Session, *, generator: str, account_id: int | None, model_version: str,
                     params: dict[str, Any], seed: int | None, now: datetime) -> Generation:
    row = Generation(generator=generator, account_id=account_id, model_version=model_version,
                     params=params, seed=seed, status="running", started_at=now)
    session.add(row)
    session.flush()
    return row


@dataclass(frozen=True)
class PendingFacts:
    facts: CandidateFacts
    version: int


def pending_facts(session: Session) -> list[PendingFacts]:
    """Ranker inputs of every pending candidate, with the row version they were read at."""
    query = (
        select(*facts_columns(), Candidate.version)
        .outerjoin(Account, Candidate.account_id == Account.id)
        .outerjoin(Template, Candidate.template_id == Template.id)
        .where(Candidate.status == "pending")
        .order_by(Candidate.id)
    )
    return [PendingFacts(facts_of(row), row[9]) for row in session.execute(query)]


def set_prediction(session: Session, candidate_id: int, *, version: int, score: float,
                   explain: dict[str, Any]) -> int:
    """Store a new predicted score unless a reviewer changed the row since it was read (returns 0 then).

    The row version is not bumped: a score is not a decision, and must not make a reviewer's
    concurrent action fail."""
    result = session.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id, Candidate.version == version, Candidate.status == "pending")
        .values(predicted_score=score, predicted_explain=explain)
        .execution_options(synchronize_session=False)
    )
    return affected(result)


def siblings(session: Session, candidate: Candidate) -> list[Candidate]:
    """The other beams of the same image (same group key), best beam first."""
    if not candidate.group_key:
        return []
    return list(session.scalars(
        select(Candidate).where(Candidate.group_key == candidate.group_key, Candidate.id != candidate.id)
        .order_by(Candidate.beam_rank.nulls_last(), Candidate.id)))


def queue_position(session: Session, candidate: Candidate) -> int | None:
    """1-based rank of a pending candidate in the review order (None when it is not pending, also when
    a reviewer took it out of the queue after ``candidate`` was read: PostgreSQL's read committed lets
    this statement see that change)."""
    if candidate.status != "pending":
        return None
    ids = session.scalars(
        select(Candidate.id).where(Candidate.status == "pending")
        .order_by(*_review_order())).all()
    try:
        return ids.index(candidate.id) + 1
    except ValueError:
        return None


def set_image(session: Session, candidate_id: int, *, path: str, sha256: str, phash: str | None) -> None:
    """Point a candidate at a re-rendered image (inside the transaction that recorded the edit)."""
    session.execute(update(Candidate).where(Candidate.id == candidate_id)
                    .values(image_path=path, image_sha256=sha256, image_phash=phash)
                    .execution_options(synchronize_session=False))


def posts_of(session: Session, candidate_id: int) -> list[Post]:
    return list(session.scalars(select(Post).where(Post.candidate_id == candidate_id).order_by(Post.id)))


def sheet_rows(session: Session, now: datetime, *, statuses: Sequence[str], account: str | None,
               limit: int | None) -> list[tuple[QueueRow, str | None]]:
    """Queue rows with their image paths, for the contact sheet."""
    rows = list_queue(session, now, statuses=statuses, account=account, limit=limit)
    paths = dict(session.execute(select(Candidate.id, Candidate.image_path)
                                 .where(Candidate.id.in_([r.id for r in rows]))).all())
    return [(r, paths.get(r.id)) for r in rows]


def of_generation(session: Session, generation_id: int) -> list[Candidate]:
    """A run's candidates in the order they were stored."""
    return list(session.scalars(select(Candidate).where(Candidate.generation_id == generation_id)
                                .order_by(Candidate.id)))


def approved_groups(session: Session, group_keys: Sequence[str]) -> set[str]:
    """Of ``group_keys``, those with a candidate approved (scheduled or published) already."""
    keys = [k for k in set(group_keys) if k]
    if not keys:
        return set()
    rows = session.execute(select(Candidate.group_key).where(Candidate.group_key.in_(keys),
                                                             Candidate.status.in_(("approved", "posted")))).scalars()
    return {key for key in rows if key}


def image_keys(session: Session, ids: Sequence[int]) -> dict[int, tuple[str, ...]]:
    """Per candidate, what names its picture: its group (siblings of one run's image), its template
    and its source image (a template or a user's photo captioned again in another run)."""
    rows = session.execute(select(Candidate.id, Candidate.group_key, Candidate.template_id,
                                  Candidate.source_image_path).where(Candidate.id.in_(list(ids)))).all()
    return {cid: tuple(k for k in (group and f"group:{group}", template is not None and f"template:{template}",
                                   source and f"source:{source}") if k)
            for cid, group, template, source in rows}
