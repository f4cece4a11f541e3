"""Generations: one row per generator run (what ran, with which model/seed/params, and how it ended)."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedback import Conflict, NotFound
from feedback.db import affected
from feedback.models import Generation


def get_generation(session: Session, generation_id: int) -> Generation:
    row = session.get(Generation, generation_id)
    if row is None:
        raise NotFound(f"generation {generation_id} does not exist")
    return row


def finish_generation(session: Session, generation_id: int, *, model_version: str, params: dict[str, Any],
                      timings: dict[str, Any], now: datetime) -> None:
    """running -> ok, recording what the run actually used. Conflict when the row is no longer running
    (the daemon that started this run gave it up), so the caller's transaction stores nothing."""
    result = session.execute(update(Generation)
                             .where(Generation.id == generation_id, Generation.status == "running")
                             .values(status="ok", model_version=model_version[:64], params=params,
                                     timings=timings, finished_at=now, error=None)
                             .execution_options(synchronize_session=False))
    if affected(result) != 1:
        raise Conflict(f"generation {generation_id} is no longer running (its daemon gave it up); "
                       "nothing was stored")


def running(session: Session) -> list[Generation]:
    return list(session.scalars(select(Generation).where(Generation.status == "running").order_by(Generation.id)))


def fail_generation(session: Session, generation_id: int, *, error: str, now: datetime) -> bool:
    """running -> failed. Conditional: a row the child already settled keeps its own outcome.
    Returns whether this call changed the row."""
    result = session.execute(update(Generation)
                             .where(Generation.id == generation_id, Generation.status == "running")
                             .values(status="failed", error=error, finished_at=now)
                             .execution_options(synchronize_session=False))
    return affected(result) == 1


def recent_generations(session: Session, *, account_id: int | None = None, limit: int = 20) -> list[Generation]:
    query = select(Generation).order_by(Generation.started_at.desc(), Generation.id.desc()).limit(limit)
    if account_id is not None:
        query = query.where(Generation.account_id == account_id)
    return list(session.scalars(query))
