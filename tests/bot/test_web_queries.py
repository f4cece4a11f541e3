"""bot.service.web_queries: the dashboard's datasets are the CLI's stats queries (over the rollups, which
tests/feedback/test_rollups.py pins to a from-scratch fold), in the page's order; the board's
filters and pages; the ranker's effects."""
from __future__ import annotations

from datetime import timedelta

import pytest

from bot.service import web_queries
from feedback.polling import Counts
from feedback.repository import stats as stats_repo
from feedback.repository.metrics import NewSnapshot, add_snapshots
from tests.feedback import feedback_rows as rows


@pytest.fixture
def history(sessions, clock):
    return _fill(sessions, clock)


def _fill(sessions, clock):
    now = clock()
    with sessions.begin() as s:
        accounts = [rows.account(s, "demo", now=now), rows.account(s, "x-main", "x", now=now)]
        templates = [rows.template(s, slug, now=now) for slug in ("cat", "dog", "owl")]
        for i in range(40):
            acc = accounts[i % 2]
            c = rows.candidate(s, now=now, account_id=acc.id, text=f"meme {i}",
                               template_id=templates[i % 3].id if i % 5 else None,
                               generator="meme" if i % 4 else "post", tone=(None, "funny", "dry")[i % 3])
            p = rows.post(s, candidate_id=c.id, account_id=acc.id, at=now - timedelta(days=i % 6, hours=i % 7))
            if i % 9:  # some published posts were never measured
                add_snapshots(s, [NewSnapshot(p.id, now, 3600, Counts(likes=(i * 7) % 13, reposts=i % 3))])
        rows.candidate(s, now=now, account_id=accounts[0].id, status="rejected")
    return sessions


def _by_key(rows_: list[dict], key: str) -> dict:
    return {r[key]: {k: (round(v, 9) if isinstance(v, float) else v) for k, v in r.items()} for r in rows_}


@pytest.mark.parametrize("account", [None, "demo", "x-main"])
def test_dashboard_fold_equals_the_reference_queries(history, account):
    with history.begin() as s:
        fast = web_queries.dashboard(s, account=account, top=5)
        assert _by_key(fast["time"], "day") == _by_key(stats_repo.over_time(s, account=account), "day")
        assert [r["day"] for r in fast["time"]] == sorted(r["day"] for r in fast["time"])
        for dim in web_queries.DASHBOARD_DIMENSIONS:
            reference = stats_repo.by_dimension(s, dim, account=account)
            assert _by_key(fast[dim], dim) == _by_key(reference, dim), dim
        assert [r["hour"] for r in fast["hour"]] == [r["hour"] for r in stats_repo.by_dimension(s, "hour",
                                                                                              account=account)]
        top, bottom = (stats_repo.top_posts(s, limit=5, bottom=b, account=account) for b in (False, True))
        assert [r["engagement"] for r in fast["top"]] == [r["engagement"] for r in top]
        assert [r["engagement"] for r in fast["bottom"]] == [r["engagement"] for r in bottom]
        assert fast["approval"] == stats_repo.approval(s, by="generator", account=account)


@pytest.mark.postgres
def test_dashboard_fold_equals_the_reference_queries_on_postgres(pg_url, clock):
    from feedback import migrate
    from feedback.db import make_engine, make_session_factory

    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    sessions = _fill(make_session_factory(engine), clock)
    try:
        for account in (None, "demo"):
            test_dashboard_fold_equals_the_reference_queries(sessions, account)
    finally:
        engine.dispose()


def test_dashboard_signature_moves_with_new_data(history, clock):
    with history.begin() as s:
        before = web_queries.dashboard_signature(s)
    with history.begin() as s:
        add_snapshots(s, [NewSnapshot(1, clock(), 7200, Counts(likes=99))])
    with history.begin() as s:
        assert web_queries.dashboard_signature(s) != before


def test_ranker_effects_average_the_latest_explanations(sessions, clock):
    with sessions.begin() as s:
        for i, (a, b) in enumerate(((0.4, -0.1), (0.2, -0.3))):
            rows.candidate(s, now=clock(), text=f"c{i}", predicted_explain={
                "explain": [["template=cat", a], ["hour=09h", b]]})
        rows.candidate(s, now=clock(), text="old", status="rejected",
                       predicted_explain={"explain": [["template=dog", 5.0]]})
    with sessions.begin() as s:
        effects = web_queries.ranker_effects(s)
    assert [(e.feature, round(e.weight, 3), e.candidates) for e in effects] == [
        ("template=cat", 0.3, 2), ("hour=09h", -0.2, 2)]


def test_ranker_effects_carry_uncertainty_evidence_and_a_sentence(sessions, clock):
    with sessions.begin() as s:
        for i, (a, sd) in enumerate(((0.5, 0.1), (0.7, 0.3))):
            rows.candidate(s, now=clock(), text=f"c{i}", predicted_explain={
                "explain": [["word=monday", a]], "effects": [["word=monday", a, sd, 10.0 + i]]})
        rows.candidate(s, now=clock(), text="old", predicted_explain={"explain": [["template=dog", -0.1]]})
    with sessions.begin() as s:
        effects = web_queries.ranker_effects(s)
    monday, dog = effects
    assert monday.weight is not None and monday.sd is not None
    assert (monday.feature, round(monday.weight, 3), round(monday.sd, 3), monday.evidence) == (
        "word=monday", 0.6, 0.2, 11.0)  # the newest scoring's evidence
    assert monday.sentence == 'captions about "monday" do 1.8x baseline (likely 1.3x-2.5x, from 11 posts)'
    assert (dog.feature, dog.sd, dog.sentence) == ("template=dog", None, None)  # stored without effects


def test_board_filters_count_and_page(sessions, clock):
    with sessions.begin() as s:
        acc = rows.account(s, now=clock())
        cat = rows.template(s, "cat", now=clock())
        for i in range(7):
            rows.candidate(s, now=clock(), text=f"t{i}", account_id=acc.id, template_id=cat.id if i < 4 else None,
                           generator="meme" if i % 2 else "post", predicted_score=i / 10, group_key=f"g{i // 2}")
    with sessions.begin() as s:
        page = web_queries.board(s, web_queries.BoardFilter(), limit=3, offset=0)
        assert page.total == 7 and [c.text for c in page.cards] == ["t6", "t5", "t4"]
        assert [sib.text for sib in page.cards[1].siblings] == ["t4"]  # t4 and t5 share an image
        assert web_queries.board(s, web_queries.BoardFilter(template="cat"), limit=10).total == 4
        assert web_queries.board(s, web_queries.BoardFilter(template="cat", generator="meme"), limit=10).total == 2
        assert web_queries.board(s, web_queries.BoardFilter(account="nobody"), limit=10).total == 0
        assert [c.rank for c in web_queries.board(s, web_queries.BoardFilter(), limit=3, offset=6).cards] == [7]
