"""Review actions are safe while the daemon runs: two claim workers and 1,000 review actions through
the service object (approve, reject, edit, as the CLI calls them) in parallel threads, each in its own
transaction: not one update is lost, and no rejected candidate is ever published.

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

from feedback import Conflict
from feedback.db import transaction
from feedback.models import Account, Candidate, Post, Review
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


def _seed(sessions, account_id: int) -> tuple[list[int], dict[int, int]]:
    with transaction(sessions) as s:
        acc = s.get(Account, account_id)
        assert acc is not None
        cands = [rows.candidate(s, now=T0, text=f"caption {i}", account_id=acc.id,
                                status="approved" if i < POSTS else "pending") for i in range(CANDIDATES)]
        post_of = {}
        for c in cands[:POSTS]:
            post_of[rows.post(s, candidate_id=c.id, account_id=acc.id, at=T0, state="scheduled").id] = c.id
        return [c.id for c in cands], post_of


def _daemon(sessions, owner: str, claims: dict, stop: threading.Event) -> None:
    idle = 0
    while not stop.is_set() and idle < 50:
        with transaction(sessions) as s:
            ids = _claim(s, owner=owner, now=T0 + timedelta(days=30))
            post_of = {p.id: p.candidate_id for p in s.scalars(select(Post).where(Post.id.in_(ids)))}
        idle = 0 if ids else idle + 1
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


def _reviewer(app, seed: int, candidate_ids: list[int], done: Counter, lock: threading.Lock) -> None:
    rng = random.Random(seed)
    for n in range(ACTIONS // CLI_THREADS):
        cid = rng.choice(candidate_ids)
        action = rng.choice(("approve", "reject", "edit", "edit"))
        try:
            if action == "approve":
                app.approve(cid, actor=f"r{seed}", at=T0)
            elif action == "reject":
                app.reject(cid, actor=f"r{seed}", reason="no")
            else:
                app.edit(cid, actor=f"r{seed}", text=f"edit {seed}-{n}")
            outcome = action
        except Conflict:
            outcome = "conflict"
        with lock:
            done[outcome] += 1


def _run(app) -> None:
    sessions = app.sessions
    candidate_ids, _ = _seed(sessions, app.account_ids["demo"])
    claims: dict[str, list[int]] = defaultdict(list)
    done: Counter = Counter()
    lock, stop = threading.Lock(), threading.Event()
    threads = [threading.Thread(target=_daemon, args=(sessions, f"daemon-{i}", claims, stop))
               for i in range(2)]
    threads += [threading.Thread(target=_reviewer, args=(app, i, candidate_ids, done, lock))
                for i in range(CLI_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    stop.set()
    assert not any(t.is_alive() for t in threads)
    assert sum(done.values()) == ACTIONS

    claimed = claims["daemon-0"] + claims["daemon-1"]
    assert len(claimed) == len(set(claimed))  # no post claimed twice
    with transaction(sessions) as s:
        posts = s.scalars(select(Post)).all()
        audit = s.scalars(select(Review).order_by(Review.id)).all()
        cands = {c.id: c for c in s.scalars(select(Candidate))}
    published = [p for p in posts if p.state == "published"]
    assert {p.id for p in published} == set(claimed) and {p.attempts for p in published} <= {1}
    assert {p.state for p in posts} <= {"published", "cancelled", "scheduled"}
    for p in published:  # a reject never loses to an earlier approve
        assert cands[p.candidate_id].status == "posted", p.candidate_id
    for p in posts:
        if cands[p.candidate_id].status == "rejected":
            assert p.state == "cancelled", p.id
    assert done["reject"] and done["conflict"] and any(p.state == "cancelled" for p in posts)
    by_action = Counter(r.action for r in audit)
    for action in ("approve", "reject", "edit"):
        assert by_action[action] == done[action], action  # every success left exactly one audit row
    assert by_action["posted"] == len(claimed) - len(claims["conflicts"])
    trail = defaultdict(list)
    for r in audit:
        trail[r.candidate_id].append(r)
    for cid, c in cands.items():
        assert c.version == 1 + len(trail[cid]), cid  # no transition lost or applied twice
        texts = [c.original_text] + [r.after_text for r in trail[cid]]
        assert [r.before_text for r in trail[cid]] == texts[:-1], cid  # each change saw the one before
        assert c.text == texts[-1]


def _app(url: str, tmp_path):
    from bot.app import build_app
    from bot.config import parse_config

    config = f'[storage]\nurl = "{url}"\n[[accounts]]\nname = "demo"\nplatform = "outbox"\n'
    return build_app(parse_config(config, source="t.toml", base=tmp_path), clock=lambda: T0)


def test_claims_and_1000_review_actions_in_parallel_sqlite(sqlite_url, tmp_path):
    app = _app(sqlite_url, tmp_path)
    try:
        _run(app)
    finally:
        app.close()


@pytest.mark.postgres
def test_claims_and_1000_review_actions_in_parallel_postgres(pg_url, tmp_path):
    app = _app(pg_url, tmp_path)
    try:
        _run(app)
    finally:
        app.close()
