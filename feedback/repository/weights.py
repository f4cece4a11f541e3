"""The configured engagement weights, mirrored into engagement_weights for the SQL views."""
from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from feedback.models import EngagementWeight


def sync_weights(session: Session, weights: Mapping[str, float]) -> None:
    """Make the table say exactly ``weights`` (a counter not configured weighs nothing)."""
    stored = {row.name: row for row in session.scalars(select(EngagementWeight))}
    for name, weight in weights.items():
        row = stored.pop(name, None)
        if row is None:
            session.add(EngagementWeight(name=name, weight=float(weight)))
        elif row.weight != float(weight):
            row.weight = float(weight)
    if stored:
        session.execute(delete(EngagementWeight).where(EngagementWeight.name.in_(list(stored))))
    session.flush()
