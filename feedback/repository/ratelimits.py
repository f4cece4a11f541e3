"""Rate limits as the platforms last reported them (x-rate-limit-* headers), one row per endpoint."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback.models import RateLimit


def record(session: Session, *, account_id: int, endpoint: str, limit: int | None, remaining: int | None,
           reset_at: datetime | None, now: datetime) -> RateLimit:
    row = session.scalar(select(RateLimit).where(RateLimit.account_id == account_id,
                                                 RateLimit.endpoint == endpoint))
    if row is None:
        row = RateLimit(account_id=account_id, endpoint=endpoint)
        session.add(row)
    row.limit, row.remaining, row.reset_at, row.updated_at = limit, remaining, reset_at, now
    session.flush()
    return row


def list_rate_limits(session: Session, *, account_id: int | None = None) -> list[RateLimit]:
    query = select(RateLimit).order_by(RateLimit.account_id, RateLimit.endpoint)
    if account_id is not None:
        query = query.where(RateLimit.account_id == account_id)
    return list(session.scalars(query))

