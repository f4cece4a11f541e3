"""The thinning schedule, engagement scores and snapshot storage (append-only)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from feedback.db import transaction
from feedback.polling import Counts, PollTarget, baseline, batches, due_age, engagement_score, normalise
from feedback.repository import metrics
from tests.feedback import feedback_rows as rows

AGES = [timedelta(hours=h) for h in (1, 6, 24, 72, 168)]
T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def _target(last_age_h: float | None) -> PollTarget:
    last = None if last_age_h is None else int(last_age_h * 3600)
    return PollTarget(post_id=1, account="demo", remote_id="r1", published_at=T0, last_age_s=last)


@pytest.mark.parametrize(("age_h", "last_h", "expected_h"), [
    (0.5, None, None),      # too young
    (1.0, None, 1),         # first age reached
    (2.0, 1.0, None),       # 1h covered, 6h not reached
    (6.5, 1.0, 6),
    (30, None, 24),         # downtime: one snapshot covers the passed ages
    (30, 24.2, None),
    (200, 72.1, 168),
    (400, 168.3, None),     # schedule finished
])
def test_due_age_follows_the_thinning_schedule(age_h, last_h, expected_h):
    got = due_age(_target(last_h), T0 + timedelta(hours=age_h), AGES)
    assert got == (None if expected_h is None else timedelta(hours=expected_h))


def test_batches_cap_the_request_size():
    assert [len(b) for b in batches(list(range(250)), 100)] == [100, 100, 50]
    with pytest.raises(ValueError):
        next(batches([1], 0))


def test_engagement_score_tolerates_unknown_counts():
    weights = {"likes": 1.0, "reposts": 2.0, "replies": 1.0}
    assert engagement_score(Counts(likes=3, reposts=2, replies=None), weights) == 7.0
    assert engagement_score(Counts(views=100), weights) is None
    assert Counts.of(type("R", (), {"likes": "5", "reposts": -1, "replies": True})()) == Counts(likes=5)


def test_normalise_against_the_baseline():
    assert baseline([1.0, 9.0, 3.0]) == 3.0
    assert normalise(3.0, 3.0) == 0.0
    assert normalise(7.0, 3.0) == pytest.approx(0.693, abs=1e-3)
    assert normalise(5.0, None) == 0.0


def test_snapshots_are_appended_and_due_selection_reads_the_last_age(sessions):
    with transaction(sessions) as s:
        acc = rows.account(s, now=T0)
        cand = rows.candidate(s, now=T0, account_id=acc.id)
        post = rows.post(s, candidate_id=cand.id, account_id=acc.id, at=T0)
        other = rows.post(s, candidate_id=rows.candidate(s, now=T0).id, account_id=acc.id, at=T0,
                          state="scheduled")
        for hours, likes in ((1, 2), (6, 5)):
            metrics.add_snapshots(s, [metrics.NewSnapshot(post.id, T0 + timedelta(hours=hours), hours * 3600,
                                                          Counts(likes=likes), {"n": hours})])
    with transaction(sessions) as s:
        targets = metrics.posts_to_poll(s, now=T0 + timedelta(hours=30), horizon=timedelta(days=14))
        snaps = metrics.snapshots_of(s, post.id)
    assert [(t.post_id, t.last_age_s) for t in targets] == [(post.id, 6 * 3600)]
    assert other.id not in [t.post_id for t in targets]
    assert [(x.age_s, x.likes, x.raw) for x in snaps] == [(3600, 2, {"n": 1}), (21600, 5, {"n": 6})]
    with transaction(sessions) as s:
        assert metrics.posts_to_poll(s, now=T0 + timedelta(days=15), horizon=timedelta(days=14)) == []
