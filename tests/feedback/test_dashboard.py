"""Dashboard queries over the SQL views (SQLite always, PostgreSQL where a server answers)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedback import NotFound, migrate
from feedback.dashboard import bar, rate, sparkline
from feedback.db import make_engine, make_session_factory, transaction
from feedback.polling import Counts
from feedback.repository import metrics, reviews, stats
from tests.feedback import feedback_rows as rows

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)


def test_sparkline_and_bar():
    assert sparkline([1, 2, None, 8]) == "▁▂ █"
    assert sparkline([3, 3]) == "▁▁" and sparkline([None]) == ""
    assert bar(5, 10, width=4) == "██" and bar(1, 8, width=1) == "▏" and bar(None, 3) == ""
    assert rate(1, 4) == 0.25 and rate(1, 0) is None


def seed(session) -> None:
    """Two accounts, two templates, posts with several snapshots (the newest counts), reviews."""
    demo, other = rows.account(session, now=T0), rows.account(session, "other", now=T0)
    cat, dog = rows.template(session, now=T0), rows.template(session, "dog", now=T0)
    plan = [  # account, template, beam rank, tone, day offset, hour, newest likes, reposts
        (demo, cat, 0, "dry", 0, 9, 10, 1), (demo, cat, 1, "dry", 0, 13, 4, 0),
        (demo, dog, 0, "funny", 1, 9, 30, 5), (other, dog, 2, "funny", 1, 19, 2, None),
    ]
    for acc, tpl, rank, tone, day, hour, likes, reposts in plan:
        at = T0.replace(hour=hour) + timedelta(days=day)
        c = rows.candidate(session, now=at, account_id=acc.id, template_id=tpl.id, beam_rank=rank, tone=tone,
                           status="posted", text=f"{tpl.slug} {rank} {tone}")
        p = rows.post(session, candidate_id=c.id, account_id=acc.id, at=at)
        metrics.add_snapshots(session, [
            metrics.NewSnapshot(p.id, at + timedelta(hours=1), 3600, Counts(likes=1)),
            metrics.NewSnapshot(p.id, at + timedelta(hours=24), 86400, Counts(likes=likes, reposts=reposts))])
    unpolled = rows.candidate(session, now=T0, account_id=demo.id, status="posted", text="unpolled")
    rows.post(session, candidate_id=unpolled.id, account_id=demo.id, at=T0 + timedelta(days=2))
    rows.candidate(session, now=T0, account_id=demo.id, status="rejected", text="no", model_version="v2")
    rows.candidate(session, now=T0, account_id=demo.id, status="filtered", text="bad", model_version="v2")
    edited = rows.candidate(session, now=T0, account_id=demo.id, model_version="v2").id
    reviews.edit(session, edited, actor="ann", now=T0, text="edited words")
    reviews.approve(session, edited, actor="ann", now=T0)


def _check(sessions) -> None:
    with transaction(sessions) as s:
        by_template = stats.by_dimension(s, "template")
        by_hour = stats.by_dimension(s, "hour", account="demo")
        daily = stats.over_time(s)
        since = stats.over_time(s, since="2026-01-06")
        best, worst = stats.top_posts(s, limit=2), stats.top_posts(s, limit=1, bottom=True)
        approval = stats.approval(s, by="model_version", account="demo")
        daily_approval = stats.approval(s, by="day")
        versions = stats.model_versions(s)
        accounts = stats.by_dimension(s, "account")
    assert [(r["template"], r["posts"], r["mean_engagement"]) for r in by_template] == [
        ("dog", 2, 21.0), ("cat", 2, 8.0), (None, 1, None)]
    assert [(r["hour"], r["posts"]) for r in by_hour] == [(9, 3), (13, 1)]
    assert [(r["day"], r["posts"], r["measured"], r["total_engagement"]) for r in daily] == [
        ("2026-01-05", 2, 2, 16), ("2026-01-06", 2, 2, 42), ("2026-01-07", 1, 0, None)]
    assert [r["day"] for r in since] == ["2026-01-06", "2026-01-07"]
    assert [(r["engagement"], r["template"]) for r in best] == [(40, "dog"), (12, "cat")]
    assert worst[0]["engagement"] == 2 and worst[0]["account"] == "other"
    assert [(r["model_version"], r["approved"], r["rejected"], r["filtered"], r["edited"], r["approval_rate"])
            for r in approval] == [("v1", 4, 0, 0, 0, 1.0), ("v2", 1, 1, 1, 1, 0.5)]
    assert [(r["day"], r["candidates"], r["approved"]) for r in daily_approval] == [
        ("2026-01-05", 6, 4), ("2026-01-06", 2, 2)]
    assert [(r["model_version"], r["posts"], r["mean_engagement"]) for r in versions] == [
        ("v1", 5, 14.5), ("v2", 0, None)]
    assert {r["account"]: r["posts"] for r in accounts} == {"demo": 4, "other": 1}


def test_queries_on_sqlite(sessions):
    with transaction(sessions) as s:
        seed(s)
    _check(sessions)


@pytest.mark.postgres
def test_queries_on_postgres(pg_url):
    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    with transaction(sessions) as s:
        seed(s)
    _check(sessions)
    engine.dispose()


def test_unknown_breakdowns_are_named(sessions):
    with transaction(sessions) as s, pytest.raises(NotFound, match="unknown breakdown 'colour'"):
        stats.by_dimension(s, "colour")
    with transaction(sessions) as s, pytest.raises(NotFound, match="cannot group approvals by 'x'"):
        stats.approval(s, by="x")


def test_upgrading_a_database_with_snapshots_backfills_the_latest_table(fresh_db):
    from sqlalchemy import text

    from tests.feedback.test_migrations import SEEDERS

    migrate.upgrade(fresh_db, "0001")
    with fresh_db.begin() as conn:
        SEEDERS["0001"](conn)
        conn.execute(text("INSERT INTO metric_snapshots (post_id, taken_at, age_s, likes) "
                          "VALUES (1, '2026-01-01 11:00:00', 60, 99)"))  # older than the seeded one
    migrate.upgrade(fresh_db)
    with fresh_db.begin() as conn:
        assert conn.execute(text("SELECT likes FROM post_metrics_latest")).all() == [(4,)]
        conn.execute(text("INSERT INTO metric_snapshots (post_id, taken_at, age_s, likes) "
                          "VALUES (1, '2026-01-02 12:00:00', 86400, 7)"))
        conn.execute(text("INSERT INTO metric_snapshots (post_id, taken_at, age_s, likes) "
                          "VALUES (1, '2026-01-01 13:00:00', 3600, 1)"))  # late arrival of an older reading
        assert conn.execute(text("SELECT engagement FROM v_post_engagement")).all() == [(7,)]
