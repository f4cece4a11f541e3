"""Dashboard queries. Each reads one of the SQL views (migration 0008: they read the pre-aggregated
rows, so each query touches a few rows per group, not every post); the functions only filter and
fold accounts together."""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.orm import Session

from feedback import NotFound
from feedback.dashboard import APPROVAL_GROUPS, DIMENSIONS

SUMMARY = ("SUM(posts) AS posts, SUM(measured) AS measured, SUM(total_engagement) AS total_engagement, "
           "SUM(total_engagement) * 1.0 / NULLIF(SUM(measured), 0) AS mean_engagement, MAX(best) AS best")


def _rows(session: Session, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    return [{k: _plain(v) for k, v in r._mapping.items()} for r in session.execute(text(sql), params)]


def _plain(value: Any) -> Any:
    """PostgreSQL sums are NUMERIC; hand back ints and floats like SQLite does."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _where(account: str | None, extra: str | None = None) -> str:
    parts = [p for p in ("account = :account" if account else None, extra) if p]
    return f"WHERE {' AND '.join(parts)}" if parts else ""


def by_dimension(session: Session, dimension: str, *, account: str | None = None) -> list[dict[str, Any]]:
    """Engagement per value of one feature (best mean first)."""
    column = DIMENSIONS.get(dimension)
    if column is None:
        raise NotFound(f"unknown breakdown {dimension!r} (use one of: {', '.join(DIMENSIONS)})")
    order = column if column == "hour" else f"mean_engagement DESC NULLS LAST, {column}"
    sql = (f"SELECT {column}, {SUMMARY} FROM v_engagement_by_{column} {_where(account)} "
           f"GROUP BY {column} ORDER BY {order}")
    return _rows(session, sql, {"account": account})


def over_time(session: Session, *, account: str | None = None, since: str | None = None) -> list[dict[str, Any]]:
    """Engagement per publishing day (oldest first); ``since`` is an ISO date."""
    sql = (f"SELECT day, {SUMMARY} FROM v_engagement_daily "
           f"{_where(account, 'day >= :since' if since else None)} GROUP BY day ORDER BY day")
    return _rows(session, sql, {"account": account, "since": since})


def top_posts(session: Session, *, limit: int = 10, bottom: bool = False,
              account: str | None = None) -> list[dict[str, Any]]:
    # Ties: oldest post first at the bottom, newest first at the top; both are one walk of the
    # engagement index of post_facts (migration 0008), whatever the history size.
    direction = "ASC" if bottom else "DESC"
    sql = ("SELECT post_id, account, published_at, engagement, likes, reposts, replies, generator, template, "
           "beam_rank, tone, text, remote_url FROM v_post_engagement "
           f"{_where(account, 'engagement IS NOT NULL')} ORDER BY engagement {direction}, post_id {direction} "
           "LIMIT :limit")
    return _rows(session, sql, {"account": account, "limit": limit})


def approval(session: Session, *, by: str = "generator", account: str | None = None) -> list[dict[str, Any]]:
    """Reviewer decisions: approved / (approved + rejected), plus what the filters held back.

    Edits are counted per generator/model/account (the audit log knows them, not the day view)."""
    if by not in APPROVAL_GROUPS:
        raise NotFound(f"cannot group approvals by {by!r} (use one of: {', '.join(APPROVAL_GROUPS)})")
    view, edited = ("v_approval_daily", "") if by == "day" else ("v_approval", "SUM(edited) AS edited, ")
    sql = (f"SELECT {by}, SUM(candidates) AS candidates, SUM(approved) AS approved, SUM(rejected) AS rejected, "
           f"{edited}SUM(pending) AS pending, SUM(filtered) AS filtered, SUM(duplicate) AS duplicate, "
           "SUM(approved) * 1.0 / NULLIF(SUM(approved) + SUM(rejected), 0) AS approval_rate "
           f"FROM {view} {_where(account)} GROUP BY {by} ORDER BY {by}")
    return _rows(session, sql, {"account": account})


def model_versions(session: Session, *, account: str | None = None) -> list[dict[str, Any]]:
    """Each generator's model versions side by side: approval and engagement."""
    sql = ("SELECT generator, model_version, SUM(candidates) AS candidates, SUM(approved) AS approved, "
           "SUM(rejected) AS rejected, SUM(edited) AS edited, "
           "SUM(approved) * 1.0 / NULLIF(SUM(approved) + SUM(rejected), 0) AS approval_rate, "
           "SUM(posts) AS posts, SUM(total_engagement) * 1.0 / NULLIF(SUM(measured), 0) AS mean_engagement "
           f"FROM v_model_versions {_where(account)} GROUP BY generator, model_version "
           "ORDER BY generator, model_version")
    return _rows(session, sql, {"account": account})
