"""Review decisions on candidates. Every action is a conditional UPDATE on the expected status and
row version (no lost updates while the daemon runs) plus one append-only audit row."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedback import Conflict, NotFound
from feedback.db import affected
from feedback.fingerprint import fingerprint
from feedback.models import Candidate, Review

REVIEWABLE = ("pending", "filtered", "duplicate")


@dataclass(frozen=True)
class Decision:
    candidate_id: int
    action: str
    before_status: str
    after_status: str


def _transition(session: Session, candidate_id: int, *, allowed_from: tuple[str, ...], to: str,
                action: str, actor: str, now: datetime, reason: str | None = None,
                new_text: str | None = None, expected_version: int | None = None) -> Decision:
    row = session.get(Candidate, candidate_id)
    if row is None:
        raise NotFound(f"candidate {candidate_id} does not exist")
    session.refresh(row)
    if expected_version is not None and row.version != expected_version:
        raise Conflict(f"candidate {candidate_id} was changed by someone else; look again and retry")
    if row.status not in allowed_from:
        raise Conflict(f"candidate {candidate_id} is {row.status}; cannot {action} "
                       f"(only from {', '.join(allowed_from)})")
    values: dict = {"status": to, "status_reason": reason, "updated_at": now, "version": row.version + 1}
    if new_text is not None:
        values["text"] = new_text
        values["text_norm"], values["text_tokens"] = fingerprint(new_text)  # the duplicate guard's, in step
    result = session.execute(
        update(Candidate)
        .where(Candidate.id == candidate_id, Candidate.status == row.status, Candidate.version == row.version)
        .values(**values)
        .execution_options(synchronize_session=False)
    )
    if affected(result) != 1:
        raise Conflict(f"candidate {candidate_id} was changed by someone else; look again and retry")
    session.add(Review(candidate_id=candidate_id, action=action, actor=actor, before_text=row.text,
                       after_text=new_text if new_text is not None else row.text, reason=reason,
                       created_at=now))
    before = row.status
    session.flush()
    session.expire(row)
    return Decision(candidate_id, action, before, to)


def record(session: Session, candidate_id: int, *, expected_status: str, expected_version: int, to: str,
           action: str, actor: str, now: datetime, reason: str | None = None,
           new_text: str | None = None) -> Decision:
    """The service's transition (decided by feedback.lifecycle): conditional on the status and row
    version the caller read, so a concurrent change is a Conflict, never a lost update."""
    return _transition(session, candidate_id, allowed_from=(expected_status,), to=to, action=action, actor=actor,
                       now=now, reason=reason, new_text=new_text, expected_version=expected_version)


def record_added(session: Session, candidate_id: int, *, actor: str, now: datetime) -> None:
    """The audit row of a candidate a person added by hand."""
    row = session.get(Candidate, candidate_id)
    if row is None:
        raise NotFound(f"candidate {candidate_id} does not exist")
    session.add(Review(candidate_id=candidate_id, action="add", actor=actor, before_text=None,
                       after_text=row.text, reason=None, created_at=now))
    session.flush()


def note(session: Session, candidate_id: int, *, action: str, actor: str, now: datetime, reason: str | None
         ) -> None:
    """An audit row that changes nothing (a review link's holder approving a post as it is scheduled)."""
    row = session.get(Candidate, candidate_id)
    if row is None:
        raise NotFound(f"candidate {candidate_id} does not exist")
    session.add(Review(candidate_id=candidate_id, action=action, actor=actor, before_text=row.text,
                       after_text=row.text, reason=reason, created_at=now))
    session.flush()


def approve(session: Session, candidate_id: int, *, actor: str, now: datetime, reason: str | None = None,
            allowed_from: tuple[str, ...] = REVIEWABLE) -> Decision:
    return _transition(session, candidate_id, allowed_from=allowed_from, to="approved",
                       action="approve", actor=actor, now=now, reason=reason)


def reject(session: Session, candidate_id: int, *, actor: str, now: datetime, reason: str) -> Decision:
    return _transition(session, candidate_id, allowed_from=(*REVIEWABLE, "approved"), to="rejected",
                       action="reject", actor=actor, now=now, reason=reason)


def edit(session: Session, candidate_id: int, *, actor: str, now: datetime, text: str,
         reason: str | None = None) -> Decision:
    """Change the text; the candidate stays (or goes back to) pending so it is reviewed as edited."""
    return _transition(session, candidate_id, allowed_from=(*REVIEWABLE, "approved"), to="pending",
                       action="edit", actor=actor, now=now, reason=reason, new_text=text)


def mark(session: Session, candidate_id: int, *, status: str, actor: str, now: datetime, reason: str,
         allowed_from: tuple[str, ...] = ("pending",)) -> Decision:
    """System transitions (filtered, duplicate, posted) with the same audit trail."""
    return _transition(session, candidate_id, allowed_from=allowed_from, to=status, action=status,
                       actor=actor, now=now, reason=reason)


def history(session: Session, candidate_id: int) -> list[Review]:
    return list(session.scalars(select(Review).where(Review.candidate_id == candidate_id)
                                .order_by(Review.created_at, Review.id)))
