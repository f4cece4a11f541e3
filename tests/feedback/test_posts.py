"""The posts state machine at the repository level (SQLite here; PostgreSQL's SKIP LOCKED below)."""
from __future__ import annotations

from datetime import timedelta

import pytest

from feedback import Conflict, NotFound
from feedback.db import make_engine, make_session_factory, transaction
from feedback.repository import accounts as account_repo
from feedback.repository import candidates as cand_repo
from feedback.repository import posts


def _seed(sessions, clock, n: int = 3, *, accounts: tuple[str, ...] = ("a",)) -> tuple[dict[str, int], list[int]]:
    with transaction(sessions) as s:
        ids = account_repo.sync_accounts(s, [account_repo.AccountSpec(name, "outbox") for name in accounts], clock())
        cands = [cand_repo.add_candidate(s, cand_repo.NewCandidate(generator="manual", text=f"t{i}",
                                                                   status="approved"), clock()).id
                 for i in range(n)]
    return ids, cands


def test_schedule_is_unique_per_candidate_and_account(sessions, clock):
    ids, cands = _seed(sessions, clock, 1)
    with transaction(sessions) as s:
        post = posts.schedule_post(s, candidate_id=cands[0], account_id=ids["a"], at=clock(), now=clock())
        assert post.state == "scheduled" and post.marker.startswith("ml-")
    with pytest.raises(Conflict, match="already has post"), transaction(sessions) as s:
        posts.schedule_post(s, candidate_id=cands[0], account_id=ids["a"], at=clock(), now=clock())


def test_claim_takes_due_posts_of_unpaused_accounts_once(sessions, clock):
    ids, cands = _seed(sessions, clock, 4, accounts=("a", "b"))
    with transaction(sessions) as s:
        due = posts.schedule_post(s, candidate_id=cands[0], account_id=ids["a"], at=clock(), now=clock()).id
        posts.schedule_post(s, candidate_id=cands[1], account_id=ids["a"], at=clock() + timedelta(hours=1),
                            now=clock())
        paused = posts.schedule_post(s, candidate_id=cands[2], account_id=ids["b"], at=clock(), now=clock()).id
        account_repo.pause(s, ids["b"], clock() + timedelta(hours=2), "please wait")
    with transaction(sessions) as s:
        claimed = posts.claim_due(s, owner="w1", now=clock(), lease=timedelta(minutes=5), limit=10)
        assert [(p.id, p.state, p.lease_owner, p.attempts) for p in claimed] == [(due, "publishing", "w1", 1)]
        assert claimed[0].lease_expires_at == clock() + timedelta(minutes=5)
    with transaction(sessions) as s:
        assert posts.claim_due(s, owner="w2", now=clock(), lease=timedelta(minutes=5), limit=10) == []
    clock.advance(hours=3)  # the pause ran out
    with transaction(sessions) as s:
        got = posts.claim_due(s, owner="w2", now=clock(), lease=timedelta(minutes=5), limit=10,
                              account_ids=[ids["b"]])
        assert [p.id for p in got] == [paused]


def test_transitions_are_conditional_on_state_and_owner(sessions, clock):
    ids, cands = _seed(sessions, clock, 1)
    with transaction(sessions) as s:
        pid = posts.schedule_post(s, candidate_id=cands[0], account_id=ids["a"], at=clock(), now=clock()).id
        posts.claim_due(s, owner="w1", now=clock(), lease=timedelta(minutes=5))
    with transaction(sessions) as s:
        assert not posts.mark_retry(s, pid, owner="intruder", at=clock(), error_class="x", error="e", now=clock())
        assert posts.mark_retry(s, pid, owner="w1", at=clock(), error_class="rate_limited", error="e", now=clock(),
                                refund_attempt=True)
        assert posts.get_post(s, pid).attempts == 0
        assert not posts.mark_published(s, pid, owner="w1", remote_id="r", url=None, published_at=clock(),
                                        now=clock())  # scheduled: nothing to publish


def test_expired_lease_becomes_unconfirmed_and_can_still_be_proved_published(sessions, clock):
    ids, cands = _seed(sessions, clock, 1)
    with transaction(sessions) as s:
        pid = posts.schedule_post(s, candidate_id=cands[0], account_id=ids["a"], at=clock(), now=clock()).id
        posts.claim_due(s, owner="w1", now=clock(), lease=timedelta(minutes=5))
    with transaction(sessions) as s:
        assert posts.expire_leases(s, now=clock() + timedelta(minutes=4)) == 0
        assert posts.expire_leases(s, now=clock() + timedelta(minutes=6)) == 1
        assert [p.id for p in posts.unconfirmed(s)] == [pid]
    with transaction(sessions) as s:  # the slow worker comes back with proof
        assert posts.mark_published(s, pid, owner="w1", remote_id="r1", url="u", published_at=clock(), now=clock())
        assert posts.get_post(s, pid).state == "published"


def test_admin_retry_only_from_failed_or_unconfirmed(sessions, clock):
    ids, cands = _seed(sessions, clock, 1)
    with transaction(sessions) as s:
        pid = posts.schedule_post(s, candidate_id=cands[0], account_id=ids["a"], at=clock(), now=clock()).id
    with pytest.raises(Conflict, match="is scheduled; only failed or unconfirmed"), transaction(sessions) as s:
        posts.reset_to_scheduled(s, pid, at=clock(), now=clock(), reason="r")
    with transaction(sessions) as s:
        posts.claim_due(s, owner="w", now=clock(), lease=timedelta(minutes=5))
        posts.mark_failed(s, pid, owner="w", error_class="permanent", error="no", now=clock())
        row = posts.reset_to_scheduled(s, pid, at=clock(), now=clock(), reason="admin")
        assert (row.state, row.attempts, row.error_class) == ("scheduled", 0, "admin_retry")


def test_list_posts_filters_and_names_bad_states(sessions, clock):
    ids, cands = _seed(sessions, clock, 2)
    with transaction(sessions) as s:
        for c in cands:
            posts.schedule_post(s, candidate_id=c, account_id=ids["a"], at=clock(), now=clock())
        posts.claim_due(s, owner="w", now=clock(), lease=timedelta(minutes=5))
        rows = posts.list_posts(s, states=["scheduled"], account="a")
        assert [r.text for r in rows] == ["t1"]
        with pytest.raises(NotFound, match="unknown post state 'bogus'"):
            posts.list_posts(s, states=["bogus"])


@pytest.mark.postgres
def test_postgres_concurrent_claims_skip_locked_rows(pg_url, clock):
    from feedback import migrate

    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    sessions = make_session_factory(engine)
    ids, cands = _seed(sessions, clock, 3)
    with transaction(sessions) as s:
        for c in cands:
            posts.schedule_post(s, candidate_id=c, account_id=ids["a"], at=clock(), now=clock())
    first = sessions()
    first.begin()
    try:
        held = posts.claim_due(first, owner="w1", now=clock(), lease=timedelta(minutes=5), limit=2)
        with transaction(sessions) as s:  # does not wait for w1's open transaction, takes the rest
            other = posts.claim_due(s, owner="w2", now=clock(), lease=timedelta(minutes=5), limit=3)
        assert len(held) == 2 and len(other) == 1
        assert not {p.id for p in held} & {p.id for p in other}
        first.commit()
    finally:
        first.close()
        engine.dispose()
