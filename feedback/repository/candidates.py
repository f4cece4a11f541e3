"""Candidates: what generators made, waiting for (or past) human review."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from feedback import NotFound
from feedback.models import CANDIDATE_STATUSES, Account, Candidate, Generation, Template


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


@dataclass(frozen=True)
class QueueRow:
    """One line of `memeloop queue list`."""

    rank: int
    id: int
    status: str
    predicted_score: float | None
    text: str
    generator: str
    account: str | None
    template: str | None
    beam_rank: int | None
    beam_score: float | None
    created_at: datetime
    age_s: int
    status_reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {**self.__dict__, "created_at": self.created_at.isoformat()}


def add_candidate(session: Session, new: NewCandidate, now: datetime) -> Candidate:
    row = Candidate(**new.__dict__, original_text=new.text, created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    return row


def get_candidate(session: Session, candidate_id: int) -> Candidate:
    row = session.get(Candidate, candidate_id)
    if row is None:
        raise NotFound(f"candidate {candidate_id} does not exist")
    return row


def _check_statuses(statuses: Sequence[str]) -> None:
    unknown = [s for s in statuses if s not in CANDIDATE_STATUSES]
    if unknown:
        raise NotFound(f"unknown status {unknown[0]!r} (use one of: {', '.join(CANDIDATE_STATUSES)})")


def list_queue(session: Session, now: datetime, *, statuses: Sequence[str] = ("pending",),
               account: str | None = None, limit: int | None = 50) -> list[QueueRow]:
    """Candidates in the review order: predicted score first, then beam score, oldest first."""
    _check_statuses(statuses)
    query = (
        select(Candidate, Account.name, Template.slug)
        .outerjoin(Account, Candidate.account_id == Account.id)
        .outerjoin(Template, Candidate.template_id == Template.id)
        .where(Candidate.status.in_(statuses))
        .order_by(Candidate.predicted_score.desc().nulls_last(), Candidate.beam_score.desc().nulls_last(),
                  Candidate.created_at, Candidate.id)
    )
    if account:
        query = query.where(Account.name == account)
    if limit:
        query = query.limit(limit)
    rows = []
    for rank, (cand, account_name, slug) in enumerate(session.execute(query), start=1):
        rows.append(QueueRow(
            rank=rank, id=cand.id, status=cand.status, predicted_score=cand.predicted_score,
            text=cand.text, generator=cand.generator, account=account_name, template=slug,
            beam_rank=cand.beam_rank, beam_score=cand.beam_score, created_at=cand.created_at,
            age_s=max(0, int((now - cand.created_at).total_seconds())), status_reason=cand.status_reason,
        ))
    return rows


def count_by_status(session: Session) -> dict[str, int]:
    return dict(session.execute(select(Candidate.status, func.count()).group_by(Candidate.status)).all())


def start_generation(session: Session, *, generator: str, account_id: int | None, model_version: str,
                     params: dict[str, Any], seed: int | None, now: datetime) -> Generation:
    row = Generation(generator=generator, account_id=account_id, model_version=model_version,
                     params=params, seed=seed, status="running", started_at=now)
    session.add(row)
    session.flush()
    return row
