"""What the near-duplicate guard compares a new candidate with: recent candidates and posts."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, union
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
    created_at: datetime | None = None  # not read by the guard (parsing it costs per row)


def _ids_since(since: datetime):
    """Ids made since ``since`` or posted (due) since then: each arm is an index range, not a scan."""
    made = select(Candidate.id).where(Candidate.created_at >= since)
    published = select(Post.candidate_id).where(Post.published_at >= since)
    scheduled = select(Post.candidate_id).where(Post.scheduled_at >= since)
    return union(made, published, scheduled).subquery()


def recent_fingerprints(session: Session, *, since: datetime, after_id: int | None = None) -> list[Fingerprint]:
    """Candidates made since ``since`` plus older ones posted (or due to post) since then, newest first.

    ``after_id``: only candidates with a larger id (the ones added since an earlier call)."""
    query = (
        select(Candidate.id, Candidate.status, Candidate.text, Candidate.image_phash, Candidate.group_key)
        .where(Candidate.status.not_in(IGNORED_STATUSES))
        .order_by(Candidate.created_at.desc(), Candidate.id.desc())
    )
    if after_id is None:
        ids = _ids_since(since)
        query = query.join(ids, ids.c.id == Candidate.id)
    else:  # rows added since the first call are new candidates: made now, never posted yet
        query = query.where(Candidate.id > after_id, Candidate.created_at >= since)
    return [Fingerprint(cid, status, text, phash, group, status == "posted")
            for cid, status, text, phash, group in session.execute(query)]
