"""Story threads: each part's lineage (thread_parts) and each post's per-part publishing state
(post_parts). A part goes pending -> sending (committed before the platform is called) ->
published (with its remote id); a part left 'sending' by a crash is looked up, never blindly re-sent."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from feedback.db import affected
from feedback.models import PostPart, ThreadPart


def set_lineage(session: Session, candidate_id: int, first_position: int, parts: Sequence[tuple[str, dict[str, Any]]],
                now: datetime) -> None:
    """Record the writer's parts from ``first_position`` on (replacing lineage rows at those positions)."""
    positions = list(range(first_position, first_position + len(parts)))
    session.execute(delete(ThreadPart).where(ThreadPart.candidate_id == candidate_id,
                                             ThreadPart.position.in_(positions)))
    for position, (text, params) in zip(positions, parts):
        session.add(ThreadPart(candidate_id=candidate_id, position=position, original_text=text, params=params,
                               created_at=now, updated_at=now))
    session.flush()


def lineage(session: Session, candidate_id: int) -> list[ThreadPart]:
    return list(session.scalars(select(ThreadPart).where(ThreadPart.candidate_id == candidate_id)
                                .order_by(ThreadPart.position)))


def post_parts(session: Session, post_id: int, count: int, marker: str, now: datetime) -> list[PostPart]:
    """The post's part rows, created on its first attempt (one per part, markers <marker>-p<i>)."""
    rows = list(session.scalars(select(PostPart).where(PostPart.post_id == post_id).order_by(PostPart.position)))
    for position in range(len(rows), count):
        row = PostPart(post_id=post_id, position=position, state="pending", marker=f"{marker}-p{position}",
                       updated_at=now)
        session.add(row)
        rows.append(row)
    session.flush()
    return rows


def parts_of(session: Session, post_id: int) -> list[PostPart]:
    return list(session.scalars(select(PostPart).where(PostPart.post_id == post_id).order_by(PostPart.position)))


def mark_sending(session: Session, part_id: int, now: datetime) -> bool:
    return _move(session, part_id, ("pending", "sending"), "sending", now)


def mark_pending(session: Session, part_id: int, now: datetime) -> bool:
    """Back to pending: only when the platform's answer proves nothing was posted."""
    return _move(session, part_id, ("sending",), "pending", now)


def mark_published(session: Session, part_id: int, *, remote_id: str, url: str | None, published_at: datetime,
                   now: datetime) -> bool:
    return _move(session, part_id, ("pending", "sending"), "published", now, remote_id=remote_id, remote_url=url,
                 published_at=published_at)


def _move(session: Session, part_id: int, from_states: tuple[str, ...], to: str, now: datetime, **values: Any) -> bool:
    result = session.execute(update(PostPart).where(PostPart.id == part_id, PostPart.state.in_(from_states))
                             .values(state=to, updated_at=now, **values))
    return affected(result) == 1
