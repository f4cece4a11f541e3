"""Review actions are safe while the daemon runs: two claim workers and 1,000 review actions in
parallel threads, each in its own transaction, and not one update is lost.

The daemons claim with the real feedback.repository.posts.claim_due (one conditional UPDATE; SKIP
LOCKED on PostgreSQL).
"""
from __future__ import annotations

import random
import threading
from collections import Counter, defaultdict
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from feedback import Conflict, migrate
from feedback.db import make_engine, make_session_factory, transaction
from feedback.models import Candidate, Post, Review
from feedback.repository import reviews
from feedback.repository.posts import claim_due
from tests.feedback import feedback_rows as rows

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
ACTIONS = 1_000
CLI_THREADS = 4
POSTS = 120
CANDIDATES = 200


def _claim(session, *, owner: str, now: datetime) -> list[int]:
    return [p.id for p in claim_due(session, owner=owner, now=now, lease=timedelta(minutes=5))]


def _seed(sessions) -> tuple[list[int], dict[int, int]]:
    with transaction(sessions) as s:
        acc = rows.account(s, now=T0)
        cands = [rows.candidate(s, now=T0, text=f"caption {i}", account_id=acc.id,
                                status="approved" if i < POSTS else "pending") for i in range(CANDIDATES)]
        post_of = {}
        for c in cands[:POSTS]:
            post_of[rows.post(s, candidate_id=c.id, account_id=acc.id, at=T0, state="scheduled").id] = c.id
        return [c.id for c in cands], post_of


def _daemon(sessions, owner: str, post_of: dict[int, int], claims: dict, stop: threading.Event) -> None:
    while not stop.is_set():
        with transaction(sessions) as s:
            ids = _claim(s, owner=owner, now=T0)
        if not ids:
            return
        for pid in ids:
            claims[owner].append(pid)
            try:
                with transaction(sessions) as s:
                    reviews.mark(s, post_of[pid], status="posted", actor=owner, now=T0, reason=f"post {pid}",
                                 allowed_from=("approved",))
            except Conflict:
                claims["conflicts"].append(pid)  # a reviewer moved the candidate first: reported, not overwritten
            with transaction(sessions) as s:
                s.execute(update(Post).where(Post.id == pid, Post.state == "publishing", Post.lease_owner == owner)
                          .values(state="published", published_at=T0, remote_id=f"r{pid}"))


def _reviewer(sessions, seed: int, candidate_ids: list[int], done: Counter, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    for n in range(ACTIONS // CLI_THREADS):
        cid = rng.choice(candidate_ids)
        action = rng.choice(("approve", "reject", "edit", "edit"))
        try:
            with transaction(sessions) as s:
                if action == "approve":
                    reviews.approve(s, cid, actor=f"r{seed}", now=T0)
                elif action == "reject":
                    reviews.reject(s, cid, actor=f"r{seed}", now=T0, reason="no")
                else:
                    reviews.edit(s, cid, actor=f"r{seed}", now=T0, text=f"edit {seed}-{n}")
            outcome = action
        except Conflict:
            outcome = "conflict"
        with lock:
            done[outcome] += 1


def _run(sessions) -> None:
    candidate_ids, post_of = _seed(sessions)
    claims: dict[str, list[int]] = defaultdict(list)
    done: Counter = Counter()
    lock, stop = threading.Lock(), threading.Event()
    threads = [threading.Thread(target=_daemon, args=(sessions, f"daemon-{i}", post_of, claims, stop))
               for i in range(2)]
    threads += [threading.Thread(target=_reviewer, args=(sessions, i, candidate_ids, done, lock))
                for i in range(CLI_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    stop.set()
    assert not any(t.is_alive() for t in threads)
    assert sum(done.values()) == ACTIONS

    claimed = claims["daemon-0"] + claims["daemon-1"]
    assert sorted(claimed) == sorted(post_of)  # every post claimed exactly once, by one owner
    with transaction(sessions) as s:
        posts = s.scalars(select(Post)).all()
        assert {p.state for p in posts} == {"published"} and {p.attempts for p in posts} == {1}
        audit = s.scalars(select(Review).order_by(Review.id)).all()
        cands = {c.id: c for c in s.scalars(select(Candidate))}
    by_action = Counter(r.action for r in audit)
    for action in ("approve", "reject", "edit"):
        assert by_action[action] == done[action], action  # every success left exactly one audit row
    assert by_action["posted"] == len(post_of) - len(claims["conflicts"])
    trail = defaultdict(list)
    for r in audit:
        trail[r.candidate_id].append(r)
    for cid, c in cands.items():
        assert c.version == 1 + len(trail[cid]), cid  # no transition lost or applied twice
        texts = [c.original_text] + [r.after_text for r in trail[cid]]
        assert [r.before_text for r in trail[cid]] == texts[:-1], cid  # each change saw the one before
        assert c.text == texts[-1]


def test_claims_and_1000_review_actions_in_parallel_sqlite(sessions):
    _run(sessions)


@pytest.mark.postgres
def test_claims_and_1000_review_actions_in_parallel_postgres(pg_url):
    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    try:
        _run(make_session_factory(engine))
    finally:
        engine.dispose()
