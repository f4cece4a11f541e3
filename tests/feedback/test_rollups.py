"""The dashboard's pre-aggregates (migration 0008) against a from-scratch fold of the raw rows,
after every kind of change the triggers must follow (SQLite always, PostgreSQL where it answers)."""
from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text

from feedback import migrate
from feedback.db import make_engine, make_session_factory, transaction
from feedback.polling import Counts
from feedback.repository import metrics, reviews
from feedback.repository.weights import sync_weights
from tests.feedback import feedback_rows as rows

T0 = datetime(2026, 2, 1, 8, 0, tzinfo=UTC)
COUNTERS = ("likes", "reposts", "replies", "quotes", "bookmarks", "comments")
KEYS = {"generator": "c.generator", "template": "t.slug", "beam_rank": "c.beam_rank", "tone": "c.tone",
        "audience": "c.audience", "hour": "v.hour"}


def _reference(session, dimension: str | None) -> list[tuple]:
    """What the views of migration 0003 computed: every published post folded on each query."""
    weight = {n: w for n, w in session.execute(text("SELECT name, weight FROM engagement_weights"))}
    eng = ("CASE WHEN m.post_id IS NULL THEN NULL ELSE "
           + " + ".join(f"COALESCE(m.{n}, 0) * {weight.get(n, 0.0)}" for n in COUNTERS) + " END")
    key = KEYS.get(dimension, "v.day") if dimension else None
    cols = f"a.name, {key}" if key else "a.name"
    sql = (f"SELECT {cols}, COUNT(*), COUNT({eng}), SUM({eng}), MAX({eng}) FROM posts p "
           "JOIN accounts a ON a.id = p.account_id JOIN candidates c ON c.id = p.candidate_id "
           "LEFT JOIN templates t ON t.id = c.template_id LEFT JOIN post_metrics_latest m ON m.post_id = p.id "
           "JOIN v_post_engagement v ON v.post_id = p.id "
           f"WHERE p.state = 'published' GROUP BY {cols}")
    return _rounded(session.execute(text(sql)))


def _view(session, dimension: str | None) -> list[tuple]:
    name = {None: "v_engagement_by_account", "day": "v_engagement_daily"}.get(dimension,
                                                                              f"v_engagement_by_{dimension}")
    key = f", {dimension}" if dimension else ""
    return _rounded(session.execute(text(f"SELECT account{key}, posts, measured, total_engagement, best "
                                         f"FROM {name}")))


def _rounded(result) -> list[tuple]:
    out = [tuple(round(float(v), 6) if isinstance(v, float) or type(v).__name__ == "Decimal" else v for v in r)
           for r in result]
    return sorted(out, key=repr)


def _approval_reference(session) -> list[tuple]:
    sql = ("SELECT a.name, c.generator, c.model_version, COUNT(*), "
           "SUM(CASE WHEN c.status IN ('approved', 'posted') THEN 1 ELSE 0 END), "
           "SUM(CASE WHEN c.status = 'rejected' THEN 1 ELSE 0 END), "
           "SUM(CASE WHEN EXISTS (SELECT 1 FROM reviews r WHERE r.candidate_id = c.id AND r.action = 'edit') "
           "THEN 1 ELSE 0 END) FROM candidates c LEFT JOIN accounts a ON a.id = c.account_id "
           "GROUP BY a.name, c.generator, c.model_version")
    return _rounded(session.execute(text(sql)))


def _approval_view(session) -> list[tuple]:
    return _rounded(session.execute(text("SELECT account, generator, model_version, candidates, approved, "
                                         "rejected, edited FROM v_approval")))


def _history(session, rng: random.Random) -> None:
    accounts = [rows.account(session, name, now=T0) for name in ("demo", "other")]
    templates = [rows.template(session, slug, now=T0) for slug in ("cat", "dog")]
    for i in range(40):
        at = T0 + timedelta(hours=7 * i)
        acc = rng.choice(accounts)
        c = rows.candidate(session, now=at, account_id=acc.id, text=f"c{i}",
                           template_id=rng.choice([None, *(t.id for t in templates)]),
                           beam_rank=rng.choice([None, 0, 1]), tone=rng.choice([None, "dry", "funny"]),
                           audience=rng.choice([None, "devs"]), model_version=rng.choice(["v1", "v2"]),
                           generator=rng.choice(["meme", "post"]),
                           status=rng.choice(["posted", "posted", "pending", "rejected", "filtered"]))
        if c.status != "posted":
            continue
        p = rows.post(session, candidate_id=c.id, account_id=acc.id, at=at,
                      state=rng.choice(["published", "published", "scheduled"]))
        for k in range(rng.randint(0, 3)):
            counts = Counts(likes=rng.choice([None, rng.randint(0, 40)]), reposts=rng.randint(0, 5),
                            bookmarks=rng.choice([None, 3]))
            metrics.add_snapshots(session, [metrics.NewSnapshot(p.id, at + timedelta(hours=k + 1),
                                                                3600 * (k + 1), counts)])


def _change(session, rng: random.Random) -> None:
    """Each kind of write the triggers follow, a few times."""
    posts = session.execute(text("SELECT id, state FROM posts ORDER BY id")).all()
    for pid, state in rng.sample(posts, 6):
        new = "scheduled" if state == "published" else "published"
        session.execute(text("UPDATE posts SET state = :s, published_at = :t WHERE id = :i"),
                        {"s": new, "t": T0 + timedelta(days=9, hours=pid), "i": pid})
    for pid, _ in rng.sample(posts, 6):  # newer readings, some lower than before (an unlike)
        metrics.add_snapshots(session, [metrics.NewSnapshot(pid, T0 + timedelta(days=30), 99_000,
                                                            Counts(likes=rng.randint(0, 3), comments=1))])
    cands = [r[0] for r in session.execute(text("SELECT id FROM candidates ORDER BY id"))]
    for cid in rng.sample(cands, 5):
        session.execute(text("UPDATE candidates SET tone = 'odd', model_version = 'v3', status = 'rejected' "
                             "WHERE id = :i"), {"i": cid})
    editable = [r[0] for r in session.execute(text("SELECT id FROM candidates WHERE status = 'pending'"))]
    for cid in editable[:4]:
        reviews.edit(session, cid, actor="ann", now=T0 + timedelta(days=31), text="edited")
    sync_weights(session, {"likes": 2.0, "reposts": 0.5, "bookmarks": 3.0})
    session.flush()


def _compare(sessions) -> None:
    with transaction(sessions) as s:
        for dimension in (None, *KEYS, "day"):
            assert _view(s, dimension) == _reference(s, dimension), dimension
        assert _approval_view(s) == _approval_reference(s)


def _exercise(sessions) -> None:
    rng = random.Random(7)
    with transaction(sessions) as s:
        _history(s, rng)
    _compare(sessions)
    with transaction(sessions) as s:
        _change(s, rng)
    _compare(sessions)


def test_rollups_follow_every_change_sqlite(sessions):
    _exercise(sessions)


@pytest.mark.postgres
def test_rollups_follow_every_change_postgres(pg_url):
    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    _exercise(make_session_factory(engine))
    engine.dispose()
