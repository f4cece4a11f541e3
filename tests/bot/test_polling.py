"""bot.service.polling.poll_due against a fake platform edge (the publisher), real database and ranker."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from bot.app import build_app
from bot.config import load_config
from bot.publishers.base import AuthError
from bot.service.polling import poll_due
from feedback.polling import Counts
from feedback.repository import metrics
from tests.feedback import feedback_rows as rows


@dataclass(frozen=True)
class Reading(Counts):
    """Shaped like the publishers' MetricsReading."""

    remote_id: str = ""
    raw: dict = field(default_factory=dict)


class FakePlatform:
    """Answers like a platform: unknown ids are simply absent; hidden counts are None."""

    def __init__(self, likes: dict[str, int | None], fail: bool = False) -> None:
        self.likes, self.fail = likes, fail
        self.calls: list[list[str]] = []

    def fetch_metrics(self, remote_ids, *, now):
        self.calls.append(list(remote_ids))
        if self.fail:
            raise AuthError("token revoked")
        return [Reading(remote_id=r, likes=self.likes[r], raw={"id": r, "at": now}) for r in remote_ids if r in self.likes]


@pytest.fixture
def app(write_config, clock):
    cfg = write_config(
        '[storage]\nurl = "sqlite:///memeloop.db"\n[polling]\nbatch_size = 3\n'
        '[[accounts]]\nname = "demo"\nplatform = "outbox"\n[[accounts]]\nname = "other"\nplatform = "outbox"\n')
    app = build_app(load_config(cfg), clock=clock)
    yield app
    app.close()


def _publish(app, clock, n: int, account: str = "demo") -> list[str]:
    ids = []
    with app.tx() as s:
        for i in range(n):
            cand = rows.candidate(s, now=clock(), text=f"caption {account} {i}", account_id=app.account_ids[account])
            ids.append(f"{account}-{i}")
            rows.post(s, candidate_id=cand.id, account_id=app.account_ids[account], at=clock(), remote_id=ids[-1])
    return ids


def test_due_posts_are_polled_in_batches_and_every_snapshot_is_kept(app, clock):
    ids = _publish(app, clock, 7)
    platform = FakePlatform({r: i for i, r in enumerate(ids)} | {ids[6]: None})
    platform.likes.pop(ids[5])  # deleted on the platform
    app.publishers["demo"] = platform
    assert poll_due(app.deps, now=clock() + timedelta(minutes=30)) == 0
    assert poll_due(app.deps, now=clock.advance(hours=1)) == 6
    assert [len(c) for c in platform.calls] == [3, 3, 1]
    assert poll_due(app.deps, now=clock.advance(minutes=10)) == 0  # 1h already covered
    assert poll_due(app.deps, now=clock.advance(hours=6)) == 6
    with app.tx() as s:
        snaps = metrics.snapshots_of(s, 1)
        hidden = metrics.snapshots_of(s, 7)
    assert [x.age_s for x in snaps] == [3600, 3600 * 7 + 600]
    assert snaps[0].raw is not None and snaps[0].raw["id"] == "demo-0"
    assert [x.likes for x in hidden] == [None, None]


def test_one_failing_account_does_not_stop_the_others(app, clock):
    demo, other = _publish(app, clock, 2), _publish(app, clock, 1, account="other")
    platforms = {"demo": FakePlatform({}, fail=True), "other": FakePlatform({other[0]: 4})}
    app.publishers.update(platforms)
    stored = poll_due(app.deps, now=clock.advance(hours=2))
    assert stored == 1 and platforms["demo"].calls == [demo]


def test_new_snapshots_rescore_the_pending_queue(app, clock):
    _publish(app, clock, 3)
    with app.tx() as s:
        waiting = rows.candidate(s, now=clock(), text="fresh one", account_id=app.account_ids["demo"])
    app.publishers["demo"] = FakePlatform({"demo-0": 1, "demo-1": 10, "demo-2": 3})
    poll_due(app.deps, now=clock.advance(hours=25))
    with app.tx() as s:
        from feedback.repository.candidates import get_candidate

        row = get_candidate(s, waiting.id)
        assert row.predicted_score is not None
        assert row.predicted_explain is not None and row.predicted_explain["observations"] == 2  # first post of an account has no baseline
