"""Story threads go out part by part, exactly once each and in order: the outbox and X (a reply
chain over X's HTTP fakes), with a crash between parts resuming at the next part."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import responses

from bot.service import publishing
from feedback.repository import candidates as cand_repo
from feedback.repository import posts as posts_repo
from feedback.repository import threads
from generator.story import join_parts
from tests.bot.approving import approve_and_schedule
from tests.bot.publishers import fakes
from tests.bot.publishers.apps import X, make_app
from tests.bot.publishers.prepared import image_bytes

PARTS = ["The rocket waited on the pad all night.", "Nobody told it the launch was cancelled.",
         "So it went anyway. #space #rocket"]


class Crash(BaseException):
    """The process dies here (nothing of ours catches a BaseException)."""


class CrashingPublisher:
    """The real publisher, killed on its ``at``-th publish call, before or after the send."""

    def __init__(self, real, at: int, after_send: bool) -> None:
        self.real, self.at, self.after_send, self.calls = real, at, after_send, 0
        self.platform = real.platform

    def publish(self, post, **kwargs):
        self.calls += 1
        if self.calls == self.at and not self.after_send:
            raise Crash
        result = self.real.publish(post, **kwargs)
        if self.calls == self.at:
            raise Crash
        return result

    def __getattr__(self, name):
        return getattr(self.real, name)


def add_thread(app, parts=PARTS, account: str = "demo") -> int:
    path = Path(app.config.storage.media_dir) / "story.png"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(image_bytes(480, 400, color=(20, 60, 140)))
    with app.tx() as session:
        row = cand_repo.add_candidate(session, cand_repo.NewCandidate(
            generator="story", text=join_parts(parts), account_id=app.account_ids[account], image_path=str(path),
            status="pending"), app.clock())
        return row.id


def _records(tmp_path: Path) -> list[dict]:
    return sorted((json.loads(p.read_text()) for p in (tmp_path / "outbox" / "posts").glob("*.json")),
                  key=lambda r: r["marker"])


def _parts(app, post_id: int):
    with app.tx() as session:
        return [(r.position, r.state, r.remote_id) for r in threads.parts_of(session, post_id)]


@pytest.fixture
def app(tmp_path, clock):
    app = make_app(tmp_path, clock)
    yield app
    app.close()


def test_outbox_thread_goes_out_in_order_as_a_chain(app, clock, tmp_path):
    post = approve_and_schedule(app, [add_thread(app)], actor="ann", at=clock())[0]
    assert publishing.publish_due(app.deps, owner="w").published == 1
    records = _records(tmp_path)
    assert [r["text"] for r in records] == [f"{p} ({i}/3)" for i, p in enumerate(PARTS, start=1)]
    assert [r.get("in_reply_to") for r in records] == [None, records[0]["remote_id"], records[1]["remote_id"]]
    assert records[0]["media"] and records[1]["media"] is None  # the image goes with the first part
    with app.tx() as session:
        row = posts_repo.get_post(session, post.id)
        assert (row.state, row.remote_id) == ("published", records[0]["remote_id"])
        assert cand_repo.get_candidate(session, row.candidate_id).status == "posted"
    assert [s for _, s, _ in _parts(app, post.id)] == ["published"] * 3


@pytest.mark.parametrize("after_send", [False, True], ids=["crash-before-part-2", "crash-after-part-2"])
def test_a_crash_between_parts_resumes_at_the_next_part_and_never_resends(app, clock, tmp_path, after_send):
    post = approve_and_schedule(app, [add_thread(app)], actor="ann", at=clock())[0]
    app.publishers["demo"] = CrashingPublisher(app.publisher("demo"), at=2, after_send=after_send)
    with pytest.raises(Crash):
        publishing.publish_due(app.deps, owner="w1")
    assert len(_records(tmp_path)) == (2 if after_send else 1)
    assert [s for _, s, _ in _parts(app, post.id)] == ["published", "sending", "pending"]
    app.publishers["demo"] = app.publishers["demo"].real  # the next process
    assert publishing.publish_due(app.deps, owner="w2").claimed == 0  # the dead worker's lease still holds
    clock.advance(minutes=6)
    assert publishing.reconcile_unconfirmed(app.deps) == 1  # lease expired -> unconfirmed -> resume
    assert publishing.publish_due(app.deps, owner="w2").published == 1
    records = _records(tmp_path)
    assert [r["text"] for r in records] == [f"{p} ({i}/3)" for i, p in enumerate(PARTS, start=1)]
    assert [r.get("in_reply_to") for r in records[1:]] == [records[0]["remote_id"], records[1]["remote_id"]]
    with app.tx() as session:
        assert posts_repo.get_post(session, post.id).state == "published"


def test_every_part_out_before_the_crash_is_settled_by_reconciliation(app, clock, tmp_path):
    post = approve_and_schedule(app, [add_thread(app)], actor="ann", at=clock())[0]
    app.publishers["demo"] = CrashingPublisher(app.publisher("demo"), at=3, after_send=True)
    with pytest.raises(Crash):
        publishing.publish_due(app.deps, owner="w1")
    app.publishers["demo"] = app.publishers["demo"].real
    clock.advance(minutes=6)
    assert publishing.reconcile_unconfirmed(app.deps) == 1
    with app.tx() as session:
        row = posts_repo.get_post(session, post.id)
    assert row.state == "published" and len(_records(tmp_path)) == 3
    assert publishing.publish_due(app.deps, owner="w2").claimed == 0


# -- X: a reply chain over the HTTP fakes ---------------------------------------------------------

@pytest.fixture
def xapp(tmp_path, clock, monkeypatch):
    for key, value in fakes.X_SENTINELS.items():
        monkeypatch.setenv(f"MEMELOOP_X_{key.upper()}", value)
    app = make_app(tmp_path, clock, X)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield app, rsps
    app.close()


def _tweets(rsps) -> list[dict]:
    return [json.loads(c.request.body) for c in rsps.calls if c.request.url.endswith("/2/tweets")
            and c.request.method == "POST"]


def test_x_thread_is_a_reply_chain_with_the_image_on_the_first_tweet(xapp, clock):
    app, rsps = xapp
    post = approve_and_schedule(app, [add_thread(app, account="xacct")], actor="ann", at=clock())[0]
    fakes.x_upload_ok(rsps)
    for tweet_id in ("101", "102", "103"):
        fakes.x_tweet(rsps, tweet_id=tweet_id)
    assert publishing.publish_due(app.deps, owner="w").published == 1
    sent = _tweets(rsps)
    assert [t["text"] for t in sent] == [f"{p} ({i}/3)" for i, p in enumerate(PARTS, start=1)]
    assert "media" in sent[0] and "media" not in sent[1] and "reply" not in sent[0]
    assert [t["reply"]["in_reply_to_tweet_id"] for t in sent[1:]] == ["101", "102"]
    with app.tx() as session:
        assert posts_repo.get_post(session, post.id).remote_id == "101"
    assert _parts(app, post.id) == [(0, "published", "101"), (1, "published", "102"), (2, "published", "103")]


@pytest.mark.parametrize("on_timeline", [False, True], ids=["part-2-not-there", "part-2-went-out"])
def test_x_thread_server_error_mid_chain_resumes_without_reposting(xapp, clock, on_timeline):
    app, rsps = xapp
    post = approve_and_schedule(app, [add_thread(app, account="xacct")], actor="ann", at=clock())[0]
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, tweet_id="201")
    fakes.x_tweet(rsps, body=requests.ReadTimeout("slow"))  # part 2: fate unknown
    assert publishing.publish_due(app.deps, owner="w").unconfirmed == 1
    assert [s for _, s, _ in _parts(app, post.id)] == ["published", "sending", "pending"]
    stamp = clock().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    timeline = [{"id": "201", "text": f"{PARTS[0]} (1/3)", "created_at": stamp}]
    if on_timeline:
        timeline.insert(0, {"id": "202", "text": f"{PARTS[1]} (2/3)", "created_at": stamp})
    rsps.remove(responses.POST, f"{fakes.TWEEPY_API}/2/tweets")  # the answers used up so far
    fakes.x_timeline(rsps, timeline)
    clock.advance(minutes=6)
    assert publishing.reconcile_unconfirmed(app.deps) == 1
    before = len(_tweets(rsps))
    for tweet_id in (("203",) if on_timeline else ("202", "203")):
        fakes.x_tweet(rsps, tweet_id=tweet_id)
    assert publishing.publish_due(app.deps, owner="w").published == 1
    resent = _tweets(rsps)[before:]
    expected = PARTS[2:] if on_timeline else PARTS[1:]
    assert [t["text"].rsplit(" (", 1)[0] for t in resent] == expected
    assert resent[0]["reply"]["in_reply_to_tweet_id"] == ("202" if on_timeline else "201")
    assert [r for _, _, r in _parts(app, post.id)] == ["201", "202", "203"]


def test_x_part_that_shows_up_after_reconciliation_is_found_on_resume_not_resent(xapp, clock):
    app, rsps = xapp
    post = approve_and_schedule(app, [add_thread(app, account="xacct")], actor="ann", at=clock())[0]
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, tweet_id="301")
    fakes.x_tweet(rsps, body=requests.ReadTimeout("slow"))
    assert publishing.publish_due(app.deps, owner="w").unconfirmed == 1
    stamp = clock().strftime("%Y-%m-%dT%H:%M:%S.000Z")
    fakes.x_timeline(rsps, [{"id": "301", "text": f"{PARTS[0]} (1/3)", "created_at": stamp}])  # X lags behind
    clock.advance(minutes=6)
    assert publishing.reconcile_unconfirmed(app.deps) == 1
    assert [s for _, s, _ in _parts(app, post.id)] == ["published", "sending", "pending"]
    rsps.remove(responses.GET, f"{fakes.TWEEPY_API}/2/users/4242/tweets")
    rsps.remove(responses.POST, f"{fakes.TWEEPY_API}/2/tweets")
    fakes.x_timeline(rsps, [{"id": "302", "text": f"{PARTS[1]} (2/3)", "created_at": stamp},
                            {"id": "301", "text": f"{PARTS[0]} (1/3)", "created_at": stamp}])
    before = len(_tweets(rsps))
    fakes.x_tweet(rsps, tweet_id="303")
    assert publishing.publish_due(app.deps, owner="w").published == 1
    resent = _tweets(rsps)[before:]
    assert len(resent) == 1 and resent[0]["reply"]["in_reply_to_tweet_id"] == "302"
    assert [r for _, _, r in _parts(app, post.id)] == ["301", "302", "303"]


def test_thread_engagement_is_polled_per_part_and_rolled_up(app, clock, tmp_path):
    from feedback.models import MetricSnapshot

    post = approve_and_schedule(app, [add_thread(app)], actor="ann", at=clock())[0]
    publishing.publish_due(app.deps, owner="w")
    ids = [r for _, _, r in _parts(app, post.id)]
    clock.advance(hours=1, minutes=1)
    assert app.poll() == 1
    per_part = app.publisher("demo").fetch_metrics(ids, now=clock())
    with app.tx() as session:
        snap = session.query(MetricSnapshot).filter_by(post_id=post.id).one()
        assert snap.likes == sum(m.likes or 0 for m in per_part) and snap.likes > 0
        assert [p["remote_id"] for p in snap.raw["thread_parts"]] == ids
        assert [p["likes"] for p in snap.raw["thread_parts"]] == [m.likes for m in per_part]


def test_instagram_gets_the_thread_as_one_numbered_caption(tmp_path, clock, monkeypatch):
    from urllib.parse import parse_qs

    from tests.bot.publishers import ig_http
    from tests.bot.publishers.apps import INSTAGRAM

    monkeypatch.setenv("MEMELOOP_IG_PASSWORD", "pw-123456")
    app = make_app(tmp_path, clock, INSTAGRAM)
    app.publishers["igacct"] = ig_http.publisher(tmp_path, clock)
    post = approve_and_schedule(app, [add_thread(app, account="igacct")], actor="ann", at=clock())[0]
    with ig_http.no_sleep(), ig_http.instagram_http() as rsps:
        ig_http.session_ok(rsps)
        ig_http.feed(rsps, [])
        ig_http.upload_ok(rsps, ig_http.media_item("3300000000000000011", "thread", clock()))
        assert publishing.publish_due(app.deps, owner="w").published == 1
        (configure,) = [c for c in rsps.calls if "media/configure" in (c.request.url or "")]
    body = configure.request.body
    text = body.decode() if isinstance(body, bytes) else str(body)
    caption = json.loads(parse_qs(text)["signed_body"][0].split(".", 1)[1])["caption"]
    assert "(1/3)" in caption and "(3/3)" in caption and PARTS[1] in caption
    assert _parts(app, post.id) == []  # one post, no chain
    app.close()
