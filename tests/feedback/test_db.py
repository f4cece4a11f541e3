from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, StatementError

from feedback import FeedbackError
from feedback.db import make_engine, transaction
from feedback.models import Account, Candidate, Post
from feedback.repository import accounts as account_repo
from feedback.repository import candidates as cand_repo


@pytest.mark.sqlite_only
def test_sqlite_pragmas(migrated_db):
    with migrated_db.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30000


def test_times_round_trip_as_aware_utc(sessions, clock):
    berlin = timezone(timedelta(hours=1))
    with transaction(sessions) as s:
        s.add(Account(name="a", platform="outbox", created_at=datetime(2026, 1, 1, 13, 0, tzinfo=berlin)))
    with transaction(sessions) as s:
        row = account_repo.get_by_name(s, "a")
        assert row.created_at == datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
        assert row.created_at.tzinfo is UTC


def test_naive_datetimes_are_refused(sessions):
    with pytest.raises(StatementError, match="naive datetime"), transaction(sessions) as s:
        s.add(Account(name="a", platform="outbox", created_at=datetime(2026, 1, 1)))
        s.flush()


def test_one_post_per_candidate_and_account(sessions, clock):
    with transaction(sessions) as s:
        ids = account_repo.sync_accounts(s, [account_repo.AccountSpec("a", "outbox")], clock())
        cand = cand_repo.add_candidate(s, cand_repo.NewCandidate(generator="manual", text="x",
                                                                 account_id=ids["a"]), clock())
        cand_id = cand.id
    post = {"candidate_id": cand_id, "account_id": ids["a"], "scheduled_at": clock(),
            "next_attempt_at": clock(), "created_at": clock(), "updated_at": clock()}
    with transaction(sessions) as s:
        s.add(Post(marker="m1", **post))
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        s.add(Post(marker="m2", **post))
        s.flush()


def test_foreign_keys_are_enforced(sessions, clock):
    with pytest.raises(IntegrityError), transaction(sessions) as s:
        s.add(Candidate(generator="manual", text="t", original_text="t", account_id=999,
                        created_at=clock(), updated_at=clock()))
        s.flush()


def test_check_constraints_reject_unknown_states(migrated_db):
    with pytest.raises(IntegrityError), migrated_db.begin() as conn:
        conn.execute(text("INSERT INTO accounts (name, platform, hashtag_cap, created_at) "
                          "VALUES ('z', 'myspace', 5, '2026-01-01')"))


def test_sync_accounts_is_idempotent_and_keeps_ids(sessions, clock):
    specs = [account_repo.AccountSpec("a", "outbox"), account_repo.AccountSpec("b", "x", handle="bb")]
    with transaction(sessions) as s:
        first = account_repo.sync_accounts(s, specs, clock())
    with transaction(sessions) as s:
        second = account_repo.sync_accounts(s, [account_repo.AccountSpec("b", "x", handle="new")], clock())
        assert account_repo.get_by_name(s, "b").handle == "new"
        assert [a.name for a in account_repo.list_accounts(s)] == ["a", "b"]
    assert second["b"] == first["b"]


def test_queue_orders_by_predicted_score_then_beam_score(sessions, clock):
    with transaction(sessions) as s:
        for text_, pred, beam in [("low", 0.1, -1.0), ("none", None, -0.5), ("high", 0.9, -3.0),
                                  ("none-better-beam", None, -0.1)]:
            cand_repo.add_candidate(s, cand_repo.NewCandidate(generator="meme", text=text_,
                                                              predicted_score=pred, beam_score=beam), clock())
    clock.advance(minutes=5)
    with transaction(sessions) as s:
        rows = cand_repo.list_queue(s, clock())
    assert [r.text for r in rows] == ["high", "low", "none-better-beam", "none"]
    assert [r.rank for r in rows] == [1, 2, 3, 4] and rows[0].age_s == 300


def test_bad_url_is_a_clear_error():
    with pytest.raises(FeedbackError, match="storage.url is not a database URL"):
        make_engine("nonsense")
