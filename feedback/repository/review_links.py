"""Review links: one candidate, thread or post, approved or rejected once by whoever holds the link.
Only the SHA-256 of a link's token is stored. Using a link is a conditional UPDATE (unused, not
revoked, not expired): two holders pressing at once decide once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedback import NotFound
from feedback.db import affected
from feedback.models import ReviewLink

KINDS = ("candidate", "thread", "post")


@dataclass(frozen=True)
class LinkRow:
    id: int
    label: str
    kind: str
    candidate_id: int
    post_id: int | None
    created_by: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None
    used_at: datetime | None
    decision: str | None
    comment: str | None

    def state(self, now: datetime) -> str:
        """open, used, revoked or expired (in that order of precedence after use)."""
        if self.used_at is not None:
            return "used"
        if self.revoked_at is not None:
            return "revoked"
        return "expired" if self.expires_at <= now else "open"


def _row(link: ReviewLink) -> LinkRow:
    return LinkRow(link.id, link.label, link.kind, link.candidate_id, link.post_id, link.created_by, link.created_at,
                   link.expires_at, link.revoked_at, link.used_at, link.decision, link.comment)


def add(session: Session, *, token_hash: str, label: str, kind: str, candidate_id: int, post_id: int | None,
        created_by: str, now: datetime, expires_at: datetime) -> LinkRow:
    link = ReviewLink(token_hash=token_hash, label=label, kind=kind, candidate_id=candidate_id, post_id=post_id,
                      created_by=created_by, created_at=now, expires_at=expires_at)
    session.add(link)
    session.flush()
    return _row(link)


def by_hash(session: Session, token_hash: str) -> LinkRow | None:
    link = session.scalars(select(ReviewLink).where(ReviewLink.token_hash == token_hash)
                           .execution_options(populate_existing=True)).one_or_none()
    return _row(link) if link is not None else None


def get(session: Session, link_id: int) -> LinkRow:
    link = session.get(ReviewLink, link_id, populate_existing=True)
    if link is None:
        raise NotFound(f"review link {link_id} does not exist (see `memeloop links list`)")
    return _row(link)


def listing(session: Session, *, limit: int = 200) -> list[LinkRow]:
    return [_row(r) for r in session.scalars(select(ReviewLink).order_by(ReviewLink.id.desc()).limit(limit))]


def revoke(session: Session, link_id: int, *, now: datetime) -> bool:
    """False: it was already used or revoked."""
    return affected(session.execute(update(ReviewLink).where(
        ReviewLink.id == link_id, ReviewLink.used_at.is_(None), ReviewLink.revoked_at.is_(None))
        .values(revoked_at=now))) == 1


def claim(session: Session, link_id: int, *, now: datetime, decision: str, comment: str | None) -> bool:
    """Mark the link used for ``decision``; False if it is used, revoked or expired by now."""
    return affected(session.execute(update(ReviewLink).where(
        ReviewLink.id == link_id, ReviewLink.used_at.is_(None), ReviewLink.revoked_at.is_(None),
        ReviewLink.expires_at > now).values(used_at=now, decision=decision, comment=comment))) == 1


def release(session: Session, link_id: int, *, used_at: datetime) -> None:
    """Undo a claim whose decision the lifecycle refused: the link stays usable."""
    session.execute(update(ReviewLink).where(ReviewLink.id == link_id, ReviewLink.used_at == used_at)
                    .values(used_at=None, decision=None, comment=None))
