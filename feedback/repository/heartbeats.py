"""Heartbeats: one row per long-running process, so `memeloop status` can tell whether it lives."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from feedback.models import Heartbeat
from feedback.repository.leadership import LEASE_ROLE


@dataclass(frozen=True)
class Beat:
    process: str
    role: str
    pid: int
    host: str
    started_at: datetime
    beat_at: datetime
    jobs: dict[str, Any]


def beat(session: Session, *, process: str, role: str, pid: int, host: str, started_at: datetime,
         now: datetime, jobs: dict[str, Any]) -> None:
    """Insert or refresh the row of ``process`` (its jobs' next run times travel in ``jobs``)."""
    row = session.get(Heartbeat, process)
    if row is None:
        session.add(Heartbeat(process=process, role=role, pid=pid, host=host, started_at=started_at,
                              beat_at=now, jobs=jobs))
    else:
        row.role, row.pid, row.host, row.started_at, row.beat_at, row.jobs = role, pid, host, started_at, now, jobs
    session.flush()


def remove(session: Session, process: str) -> None:
    """A process that stops cleanly takes its row with it (a stale row then means a crash)."""
    session.execute(delete(Heartbeat).where(Heartbeat.process == process))


def list_beats(session: Session) -> list[Beat]:
    """Every process's row (not the leader lease row of feedback.repository.leadership)."""
    rows = session.scalars(select(Heartbeat).where(Heartbeat.role != LEASE_ROLE).order_by(Heartbeat.process))
    return [Beat(r.process, r.role, r.pid, r.host, r.started_at, r.beat_at, dict(r.jobs or {})) for r in rows]
