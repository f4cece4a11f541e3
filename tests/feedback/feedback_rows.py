"""Small row builders for feedback/bot tests: real rows through the ORM, no fakes of our logic."""
from __future__ import annotations

from datetime import datetime, timedelta
from itertools import count

from sqlalchemy.orm import Session

from feedback.models import Account, Candidate, Post, Template

_markers = count(1)


def account(session: Session, name: str = "demo", platform: str = "outbox", *, now: datetime) -> Account:
    row = Account(name=name, platform=platform, handle=name, hashtag_cap=5, created_at=now)
    session.add(row)
    session.flush()
    return row


def template(session: Session, slug: str = "cat", *, now: datetime) -> Template:
    row = Template(slug=slug, name=slug.title(), image_path=f"{slug}.jpg", image_sha256="0" * 64, boxes=[],
                   created_at=now)
    session.add(row)
    session.flush()
    return row


def candidate(session: Session, *, now: datetime, text: str = "when it rains", status: str = "pending",
              account_id: int | None = None, template_id: int | None = None, **fields) -> Candidate:
    values = {"generator": "meme", "model_version": "v1", "beam_rank": 0, "beam_score": -4.0} | fields
    row = Candidate(text=text, original_text=text, status=status, account_id=account_id,
                    template_id=template_id, created_at=now, updated_at=now, **values)
    session.add(row)
    session.flush()
    return row


def post(session: Session, *, candidate_id: int, account_id: int, at: datetime, state: str = "published",
         remote_id: str | None = None) -> Post:
    """A post scheduled (and, when state is published, published) at ``at``."""
    n = next(_markers)
    published = state == "published"
    row = Post(candidate_id=candidate_id, account_id=account_id, state=state, scheduled_at=at,
               next_attempt_at=at, attempts=1 if published else 0, marker=f"m{n}",
               remote_id=remote_id or (f"r{n}" if published else None),
               published_at=at if published else None, created_at=at - timedelta(hours=1), updated_at=at)
    session.add(row)
    session.flush()
    return row
