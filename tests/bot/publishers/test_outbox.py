"""Outbox specifics: what a record holds, the gallery, and the simulated audience."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.publishers.outbox import OutboxPublisher, simulated_engagement
from tests.bot.publishers.prepared import prepared

NOW = datetime(2026, 1, 5, 19, 0, tzinfo=UTC)


def test_record_media_and_gallery(tmp_path):
    pub = OutboxPublisher(account="demo", path=tmp_path / "out", clock=lambda: NOW)
    result = pub.publish(prepared("cats <3 & dogs"), marker="ml-abc",
                         meta={"post_id": 7, "candidate_id": 3, "template": "drake"})
    record = json.loads((tmp_path / "out" / "posts" / "ml-abc.json").read_text())
    assert {k: record[k] for k in ("post_id", "candidate_id", "account", "text", "marker", "template")} == {
        "post_id": 7, "candidate_id": 3, "account": "demo", "text": "cats <3 & dogs", "marker": "ml-abc",
        "template": "drake"}
    assert datetime.fromisoformat(record["published_at"]) == NOW == result.published_at
    assert (tmp_path / "out" / record["media"]).read_bytes()[:4] == b"\x89PNG"
    index = (tmp_path / "out" / "index.html").read_text()
    assert "cats &lt;3 &amp; dogs" in index and 'src="posts/ml-abc.png"' in index
    assert not [p for p in (tmp_path / "out").rglob("*.tmp")]


def _record(text: str, hour: int = 19, template: str = "drake", marker: str = "ml-1") -> dict:
    return {"marker": marker, "text": text, "template": template,
            "published_at": NOW.replace(hour=hour).isoformat()}


def test_simulated_engagement_is_deterministic_and_grows_with_age():
    rec = _record("when the coffee kicks in #monday")
    at = datetime.fromisoformat(rec["published_at"])
    series = [simulated_engagement(rec, now=at + timedelta(hours=h), seed=7) for h in (0, 1, 6, 24, 72)]
    assert series[0].likes == 0
    likes = [r.likes for r in series]
    assert None not in likes
    counted = [n for n in likes if n is not None]
    assert counted == sorted(counted) and counted[-1] > 0
    again = simulated_engagement(rec, now=at + timedelta(hours=24), seed=7)
    assert again == series[3]
    assert simulated_engagement(rec, now=at, seed=None).likes is None


def test_simulated_audience_prefers_some_features():
    def mean_impressions(**kwargs) -> float:
        recs = [_record(marker=f"ml-{i}", **kwargs) for i in range(200)]
        later = NOW + timedelta(days=3)
        seen = [simulated_engagement(r, now=later, seed=7).impressions for r in recs]
        assert None not in seen
        return sum(n or 0 for n in seen) / len(recs)

    short = mean_impressions(text="monday again #work")
    wall = mean_impressions(text=" ".join(["word"] * 40))
    evening = mean_impressions(text="monday again #work", hour=19)
    morning = mean_impressions(text="monday again #work", hour=4)
    assert short > 1.5 * wall and evening > 1.3 * morning


def test_find_recent_returns_every_post_since_even_past_the_limit(tmp_path):
    """Reconciliation must find an older post of ours behind many newer ones (the crash test found
    posts marked failed that were in the outbox because a cut-off list hid them)."""
    times = iter(NOW + timedelta(seconds=i) for i in range(30))
    pub = OutboxPublisher(account="demo", path=tmp_path / "out", clock=lambda: next(times))
    for i in range(30):
        pub.publish(prepared(f"post {i}"), marker=f"ml-{i}")
    recent = pub.find_recent(since=NOW, limit=5)
    assert {r.marker for r in recent} == {f"ml-{i}" for i in range(30)}
    assert recent[0].marker == "ml-29"  # newest first, like the platforms
