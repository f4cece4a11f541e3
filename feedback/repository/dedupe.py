"""What the near-duplicate guard compares a new candidate with: recent candidates and posts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from feedback.models import Candidate, Post

# Candidates that never reach an audience or a reviewer's approval are not "already made":
# a filtered caption is unsafe, a duplicate is a copy of something that is itself in this list.
IGNORED_STATUSES = ("filtered", "duplicate")


@dataclass(frozen=True)
class Fingerprint:
    candidate_id: int
    status: str
    text: str
    image_phash: str | None
    group_key: str | None
    posted: bool


def recent_fingerprints(session: Session, *, since: datetime) -> list[Fingerprint]:
    """Candidates made since ``since`` plus older ones posted (or due to post) since then, newest first."""
    posted_recently = (select(Post.candidate_id)
                       .where(or_(Post.published_at >= since, Post.scheduled_at >= since)))
    query = (
        select(Candidate.id, Candidate.status, Candidate.text, Candidate.image_phash, Candidate.group_key)
        .where(Candidate.status.not_in(IGNORED_STATUSES),
               or_(Candidate.created_at >= since, Candidate.id.in_(posted_recently)))
        .order_by(Candidate.created_at.desc(), Candidate.id.desc())
    )
    return [Fingerprint(cid, status, text, phash, group, status == "posted")
            for cid, status, text, phash, group in session.execute(query)]
