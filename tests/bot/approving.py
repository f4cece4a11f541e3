"""Tests approve through the service, as the CLI does, and look at the posts it scheduled."""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from feedback.models import Post
from feedback.repository import posts as posts_repo


def approve_and_schedule(app, ids: Iterable[int], *, actor: str, at: datetime | None = None,
                         account: str | None = None) -> list[Post]:
    out = []
    for candidate_id in ids:
        result = app.approve(candidate_id, actor=actor, at=at, account=account)
        with app.tx() as session:
            out.append(posts_repo.get_post(session, result.post_id))
    return out
