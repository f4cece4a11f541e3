"""The scheduler's memory across restarts: per periodic job, its trigger's signature and its last
and next run (our own table; nothing pickled)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from feedback.db import affected
from feedback.models import JobState


def load(session: Session) -> list[JobState]:
    return list(session.scalars(select(JobState).order_by(JobState.id)))


def save(session: Session, job_id: str, *, signature: str, next_run_at: datetime | None,
         last_run_at: datetime | None, now: datetime) -> None:
    row = session.get(JobState, job_id)
    if row is None:
        session.add(JobState(id=job_id, signature=signature, next_run_at=next_run_at, last_run_at=last_run_at,
                             updated_at=now))
    else:
        row.signature, row.next_run_at, row.updated_at = signature, next_run_at, now
        if last_run_at is not None:
            row.last_run_at = last_run_at
    session.flush()


def forget_others(session: Session, *, keep: Sequence[str]) -> int:
    """Jobs no longer configured lose their rows."""
    result = session.execute(delete(JobState).where(JobState.id.not_in(list(keep)))
                             .execution_options(synchronize_session=False))
    return affected(result)
