"""Read use cases: the queue, the sheet, one candidate, posts and accounts, each in its own
transaction. The CLI and the web admin reach them through bot.app.App; jobs call them directly."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from feedback.repository import accounts as account_repo

if TYPE_CHECKING:
    from bot.core.deps import Deps
    from bot.service.read_models import (
        AccountSummary,
        BoardPage,
        CandidateDetail,
        Card,
        HourCell,
        PostDetail,
        RankerEffect,
        ScheduledPost,
        SlotChoice,
    )
    from bot.service.web_queries import BoardFilter
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


def candidate(deps: Deps, candidate_id: int) -> CandidateDetail:
    from bot.service.review_view import candidate_detail

    with deps.tx() as session:
        return candidate_detail(session, candidate_id, now=deps.clock())


def posts(deps: Deps, *, states: tuple[str, ...] | None = None, account: str | None = None,
          limit: int | None = 50) -> list[PostRow]:
    from feedback.repository import posts as posts_repo

    with deps.tx() as session:
        return posts_repo.list_posts(session, states=states or None, account=account, limit=limit)


def accounts(deps: Deps) -> list[AccountSummary]:
    from bot.service.read_models import AccountSummary
    from feedback.repository import history as history_repo
    from feedback.repository import posts as posts_repo

    enabled = {a.name: a.enabled for a in deps.config.accounts}
    with deps.tx() as session:
        counts = posts_repo.count_by_account_state(session)
        imported = {r["account"]: r["imported"] for r in history_repo.summary(session)}
        return [AccountSummary(name=a.name, platform=a.platform, handle=a.handle, enabled=enabled.get(a.name, False),
                               paused_until=a.paused_until, pause_reason=a.pause_reason,
                               scheduled=counts.get((a.id, "scheduled"), 0),
                               published=counts.get((a.id, "published"), 0),
                               unconfirmed=counts.get((a.id, "unconfirmed"), 0),
                               failed=counts.get((a.id, "failed"), 0), imported=imported.get(a.name, 0))
                for a in account_repo.list_accounts(session)]


def hours(deps: Deps, account: str) -> list[HourCell]:
    """The account's learned weekday x hour effects with the evidence behind each (the heatmap of
    `stats hours` and the dashboard)."""
    import numpy as np

    from bot.service.read_models import HourCell
    from feedback.learning import timing_observations
    from feedback.ranking.timing import WEEKDAYS, Timing

    acc = deps.config.account(account)
    with deps.tx() as session:
        timing = Timing(timing_observations(session, account, deps.learning()))
    return [HourCell(account=account, weekday=WEEKDAYS[c.weekday], hour=c.hour, ratio=round(c.ratio, 3),
                     low=round(float(np.exp(c.mean - c.sd)), 3), high=round(float(np.exp(c.mean + c.sd)), 3),
                     posts=round(c.evidence, 1), allowed=c.allowed)
            for c in timing.cells(acc.best_hours)]


# -- stats (feedback.repository.stats: the SQL views of migration 0002) -----------------------------------
def stats_over_time(deps: Deps, *, account: str | None = None, since: str | None = None) -> list[dict[str, Any]]:
    from feedback.repository import stats

    with deps.tx() as session:
        return stats.over_time(session, account=account, since=since)


def stats_by(deps: Deps, dimension: str, *, account: str | None = None) -> list[dict[str, Any]]:
    from feedback.repository import stats

    with deps.tx() as session:
        return stats.by_dimension(session, dimension, account=account)


def stats_top_posts(deps: Deps, *, limit: int = 10, bottom: bool = False, account: str | None = None
                    ) -> list[dict[str, Any]]:
    from feedback.repository import stats

    with deps.tx() as session:
        return stats.top_posts(session, limit=limit, bottom=bottom, account=account)


def stats_approval(deps: Deps, *, by: str = "generator", account: str | None = None) -> list[dict[str, Any]]:
    from feedback.repository import stats

    with deps.tx() as session:
        return stats.approval(session, by=by, account=account)


def stats_models(deps: Deps, *, account: str | None = None) -> list[dict[str, Any]]:
    from feedback.repository import stats

    with deps.tx() as session:
        return stats.model_versions(session, account=account)


def stats_imported(deps: Deps, *, account: str | None = None) -> list[dict[str, Any]]:
    """Per account: imported posts, their time span and where the import stands."""
    from feedback.repository import history as history_repo

    with deps.tx() as session:
        return history_repo.summary(session, account=account)


def counts(deps: Deps) -> tuple[dict[str, int], dict[str, int]]:
    """(candidates by status, posts by state)."""
    from feedback.repository import candidates as cand_repo
    from feedback.repository import posts as posts_repo

    with deps.tx() as session:
        return cand_repo.count_by_status(session), posts_repo.count_by_state(session)


# -- the web admin's reads (bot/service/web_queries.py) ---------------------------------------------------
def board(deps: Deps, flt: BoardFilter, *, limit: int = 24, offset: int = 0) -> BoardPage:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.board(session, flt, limit=limit, offset=offset)


def card(deps: Deps, candidate_id: int) -> Card:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.card(session, candidate_id)


def image_path(deps: Deps, candidate_id: int) -> str | None:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.image_path(session, candidate_id)


def free_slots(deps: Deps, account: str, *, n: int = 4) -> list[datetime]:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.free_slots(session, deps.config.account(account), deps.account_ids[account],
                                      now=deps.clock(), n=n)


def slot_candidates(deps: Deps, account: str, *, limit: int = 12) -> list[SlotChoice]:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.slot_candidates(session, deps.account_ids[account], limit=limit)


def schedule(deps: Deps, *, start: datetime, end: datetime, account: str | None = None) -> list[ScheduledPost]:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.schedule(session, start=start, end=end, account=account)


def post_detail(deps: Deps, post_id: int) -> PostDetail:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.post_detail(session, post_id)


def dashboard(deps: Deps, *, account: str | None = None) -> dict[str, list[dict[str, Any]]]:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.dashboard(session, account=account)


def dashboard_signature(deps: Deps) -> tuple:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.dashboard_signature(session)


def ranker_effects(deps: Deps, *, limit: int = 12) -> list[RankerEffect]:
    from bot.service import web_queries

    with deps.tx() as session:
        return web_queries.ranker_effects(session, limit=limit)
