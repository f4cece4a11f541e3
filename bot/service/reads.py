"""Read use cases: the queue, the sheet, one candidate, posts and accounts, each in its own
transaction. The CLI and the web admin reach them through bot.app.App; jobs call them directly."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from feedback.repository import accounts as account_repo

if TYPE_CHECKING:
    from bot.core.deps import Deps
    from feedback.repository.candidates import QueueRow
    from feedback.repository.posts import PostRow


def queue(deps: Deps, *, statuses: tuple[str, ...] = ("pending",), account: str | None = None,
          limit: int | None = 50, offset: int = 0) -> list[QueueRow]:
    from feedback.repository import candidates as cand_repo

    with deps.tx() as session:
        return cand_repo.list_queue(session, deps.clock(), statuses=statuses, account=account, limit=limit,
                                    offset=offset)


def sheet_rows(deps: Deps, *, statuses: tuple[str, ...], account: str | None, limit: int | None
               ) -> list[tuple[QueueRow, str | None]]:
    from feedback.repository import candidates as cand_repo

    with deps.tx() as session:
        return cand_repo.sheet_rows(session, deps.clock(), statuses=statuses, account=account, limit=limit)


def candidate(deps: Deps, candidate_id: int) -> dict[str, Any]:
    from bot.service.review_view import candidate_detail

    with deps.tx() as session:
        return candidate_detail(session, candidate_id, now=deps.clock())


def posts(deps: Deps, *, states: tuple[str, ...] | None = None, account: str | None = None,
          limit: int | None = 50) -> list[PostRow]:
    from feedback.repository import posts as posts_repo

    with deps.tx() as session:
        return posts_repo.list_posts(session, states=states or None, account=account, limit=limit)


def accounts(deps: Deps) -> list[dict[str, Any]]:
    from feedback.repository import posts as posts_repo

    enabled = {a.name: a.enabled for a in deps.config.accounts}
    with deps.tx() as session:
        counts = posts_repo.count_by_account_state(session)
        return [{"name": a.name, "platform": a.platform, "handle": a.handle, "enabled": enabled.get(a.name, False),
                 "paused_until": a.paused_until, "pause_reason": a.pause_reason,
                 **{s: counts.get((a.id, s), 0) for s in ("scheduled", "published", "unconfirmed", "failed")}}
                for a in account_repo.list_accounts(session)]
