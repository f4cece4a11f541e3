"""The publishing service end to end in-process: approve -> schedule -> claim -> publish -> record,
with the real repository and SQLite, the real outbox, and X/Instagram behind their edge fakes."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
import responses

from bot.publishers.instagram import InstagramPublisher
from bot.service import publishing
from feedback.repository import accounts as account_repo
from feedback.repository import candidates as cand_repo
from feedback.repository import posts as posts_repo
from feedback.repository import ratelimits
from tests.bot.approving import approve_and_schedule
from tests.bot.publishers import fakes
from tests.bot.publishers.apps import INSTAGRAM, OUTBOX, X, add_candidates, make_app


@pytest.fixture
def app(tmp_path, clock):
    app = make_app(tmp_path, clock)
    yield app
    app.close()


def _states(app) -> dict[int, str]:
    with app.tx() as s:
        return {r.id: r.state for r in posts_repo.list_posts(s)}


def _post(app, post_id: int):
    with app.tx() as s:
        return posts_repo.get_post(s, post_id)


def test_approve_schedules_into_successive_slots(app, clock):
    ids = add_candidates(app, ["one", "two", "three"])
    posts = approve_and_schedule(app, ids, actor="ann")
    assert [p.scheduled_at.hour for p in posts] == [13, 19, 9]  # clock is 12:00 UTC
    assert posts[2].scheduled_at.date() == (clock() + timedelta(days=1)).date()
    at = clock() + timedelta(minutes=5)
    (extra,) = approve_and_schedule(app, add_candidates(app, ["four"]), actor="ann", at=at)
    assert extra.scheduled_at == at
    with app.tx() as s:
        assert cand_repo.get_candidate(s, ids[0]).status == "approved"


def test_publish_due_posts_each_due_post_once(app, clock):
    ids = add_candidates(app, ["first post #a", "second post"])
    now = clock()
    approve_and_schedule(app, ids[:1], actor="ann", at=now)
    later = approve_and_schedule(app, ids[1:], actor="ann", at=now + timedelta(hours=3))[0]
    summary = publishing.publish_due(app.deps, owner="w1")
    assert (summary.published, summary.claimed) == (1, 1)
    assert publishing.publish_due(app.deps, owner="w1").claimed == 0
    records = list((app.config.account("demo").outbox.path / "posts").glob("*.json"))
    assert [json.loads(r.read_text())["text"] for r in records] == ["first post #a"]
    assert _states(app)[later.id] == "scheduled"
    with app.tx() as s:
        assert cand_repo.get_candidate(s, ids[0]).status == "posted"
    clock.advance(hours=3)
    assert publishing.publish_due(app.deps, owner="w1").published == 1


def test_stop_event_and_limit_end_the_loop_between_claims(app, clock):
    import threading

    approve_and_schedule(app, add_candidates(app, ["a", "b", "c"]), actor="ann", at=clock())
    stop = threading.Event()
    stop.set()
    assert publishing.publish_due(app.deps, owner="w", stop=stop).claimed == 0
    assert publishing.publish_due(app.deps, owner="w", limit=2).published == 2


def test_crash_after_send_is_settled_by_reconciliation_not_resent(app, clock):
    (post,) = approve_and_schedule(app, add_candidates(app, ["lost answer"]), actor="ann", at=clock())
    # a worker claims, publishes ... and dies before recording the outcome
    job = publishing._claim_one(app.deps, "dead", clock(), [app.account_ids["demo"]])
    assert job is not None
    publisher = app.publisher("demo")
    publisher.publish(publishing.prepare_post(app.config.account("demo"), job), marker=job.marker)
    assert publishing.reconcile_unconfirmed(app.deps) == 0  # lease still running: nobody touches it
    clock.advance(minutes=6)
    assert publishing.reconcile_unconfirmed(app.deps) == 1
    row = _post(app, post.id)
    assert (row.state, row.remote_id) == ("published", post.marker)
    assert publishing.publish_due(app.deps, owner="w").claimed == 0


def test_crash_before_send_goes_back_to_scheduled_and_out_once(app, clock):
    (post,) = approve_and_schedule(app, add_candidates(app, ["never sent"]), actor="ann", at=clock())
    with app.tx() as s:
        posts_repo.claim_due(s, owner="dead", now=clock(), lease=app.config.publishing.lease)
    clock.advance(minutes=6)
    assert publishing.reconcile_unconfirmed(app.deps) == 1
    assert _post(app, post.id).state == "scheduled"
    assert publishing.publish_due(app.deps, owner="w").published == 1
    assert len(list((app.config.account("demo").outbox.path / "posts").glob("*.json"))) == 1


def test_sweep_moves_long_missed_slots_and_keeps_recent_ones(app, clock):
    ids = add_candidates(app, ["old", "recent"])
    old = approve_and_schedule(app, ids[:1], actor="a", at=clock())[0]  # a past time is refused: wait instead
    recent = approve_and_schedule(app, ids[1:], actor="a", at=clock() + timedelta(hours=4, minutes=30))[0]
    clock.advance(hours=5)  # the service was down: one slot is 5 h late, the other 30 min
    assert publishing.sweep_missed(app.deps) == 1
    assert _post(app, old.id).scheduled_at == datetime(2026, 1, 5, 19, 0, tzinfo=UTC)
    assert _post(app, recent.id).scheduled_at == clock() - timedelta(minutes=30)


# -- X behind responses ------------------------------------------------------------------------

@pytest.fixture
def xapp(tmp_path, clock, monkeypatch):
    for key, value in fakes.X_SENTINELS.items():
        monkeypatch.setenv(f"MEMELOOP_X_{key.upper()}", value)
    app = make_app(tmp_path, clock, X)
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield app, rsps
    app.close()


def _schedule_x(app, clock, text="tweet me"):
    ids = add_candidates(app, [text], account="xacct")
    return approve_and_schedule(app, ids, actor="ann", at=clock())[0]


def test_x_rate_limit_postpones_to_reset_without_using_an_attempt(xapp, clock):
    app, rsps = xapp
    post = _schedule_x(app, clock)
    reset = int((clock() + timedelta(minutes=9)).timestamp())
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, status=429, headers=fakes.rate_headers(100, 0, reset), json={"title": "Too Many Requests"})
    summary = publishing.publish_due(app.deps, owner="w")
    assert (summary.retried, summary.retry_at) == (1, datetime.fromtimestamp(reset, UTC))
    row = _post(app, post.id)
    assert (row.state, row.attempts, row.error_class) == ("scheduled", 0, "rate_limited")
    assert row.next_attempt_at == datetime.fromtimestamp(reset, UTC)
    with app.tx() as s:
        stored = {r.endpoint: r for r in ratelimits.list_rate_limits(s)}
    assert stored["POST /2/tweets"].remaining == 0 and stored["POST /2/media/upload"].remaining == 499


def test_x_server_error_after_send_then_reconciled_as_published(xapp, clock):
    app, rsps = xapp
    post = _schedule_x(app, clock, "is this thing on")
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, status=503, json={"title": "Service Unavailable"})
    assert publishing.publish_due(app.deps, owner="w").unconfirmed == 1
    fakes.x_timeline(rsps, [{"id": "1955", "text": "is this thing on https://t.co/q1",
                             "created_at": clock().strftime("%Y-%m-%dT%H:%M:%S.000Z")}])
    clock.advance(minutes=6)
    assert publishing.reconcile_unconfirmed(app.deps) == 1
    row = _post(app, post.id)
    assert (row.state, row.remote_id, row.remote_url) == ("published", "1955", "https://x.com/memebot/status/1955")


def test_x_timeout_then_not_on_timeline_is_rescheduled_once_settled(xapp, clock):
    app, rsps = xapp
    post = _schedule_x(app, clock)
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, body=requests.ReadTimeout("slow"))
    assert publishing.publish_due(app.deps, owner="w").unconfirmed == 1
    fakes.x_timeline(rsps, [])
    assert publishing.reconcile_unconfirmed(app.deps) == 0  # X may still be catching up
    clock.advance(minutes=6)
    assert publishing.reconcile_unconfirmed(app.deps) == 1
    assert _post(app, post.id).state == "scheduled"


def test_x_transient_not_sent_backs_off_then_fails_at_the_cap(xapp, clock):
    app, rsps = xapp
    post = _schedule_x(app, clock)
    rsps.add(responses.POST, f"{fakes.X_API}/2/media/upload", status=502, json={"title": "Bad Gateway"})
    waits = []
    for _ in range(3):
        publishing.publish_due(app.deps, owner="w")
        row = _post(app, post.id)
        waits.append((row.state, row.next_attempt_at - clock()))
        clock.now = row.next_attempt_at
    assert waits[:2] == [("scheduled", timedelta(minutes=1)), ("scheduled", timedelta(minutes=2))]
    assert waits[2][0] == "failed" and "gave up after 3 attempts" in _post(app, post.id).last_error


def test_x_auth_error_pauses_account_until_resumed(xapp, clock):
    app, rsps = xapp
    post = _schedule_x(app, clock)
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, status=401, json={"title": "Unauthorized"})
    assert publishing.publish_due(app.deps, owner="w").paused == 1
    assert _post(app, post.id).state == "scheduled"
    assert publishing.publish_due(app.deps, owner="w").claimed == 0
    with app.tx() as s:
        acc = account_repo.get_by_name(s, "xacct")
        assert "credentials rejected" in (acc.pause_reason or "")
        account_repo.resume(s, acc.id)
    rsps.replace(responses.POST, f"{fakes.TWEEPY_API}/2/tweets", status=201, json={"data": {"id": "5", "text": "t"}})
    assert publishing.publish_due(app.deps, owner="w").published == 1


def test_x_duplicate_not_ours_fails_with_reason(xapp, clock):
    app, rsps = xapp
    post = _schedule_x(app, clock)
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, status=403, json={"detail": "You are not allowed to create a Tweet with duplicate content."})
    fakes.x_timeline(rsps, [])
    assert publishing.publish_due(app.deps, owner="w").unconfirmed == 1
    assert publishing.reconcile_unconfirmed(app.deps) == 1
    row = _post(app, post.id)
    assert row.state == "failed" and "duplicate" in row.last_error


def test_sentinel_secrets_never_reach_logs_or_database(xapp, clock, tmp_path, caplog):
    import logging
    import sqlite3

    from bot.core.logs import configure_logging

    app, rsps = xapp
    configure_logging(level="DEBUG", file=tmp_path / "memeloop.log")
    try:
        ids = add_candidates(app, ["ok post", "rejected post", "timeout post"], account="xacct")
        approve_and_schedule(app, ids, actor="ann", at=clock())
        fakes.x_upload_ok(rsps)
        rsps.add(responses.POST, f"{fakes.TWEEPY_API}/2/tweets", json={"data": {"id": "1", "text": "ok post"}},
                 status=201)
        rsps.add(responses.POST, f"{fakes.TWEEPY_API}/2/tweets", status=401, json={"title": "Unauthorized"})
        publishing.publish_due(app.deps, owner="w")
        with app.tx() as s:
            account_repo.resume(s, app.account_ids["xacct"])
        rsps.add(responses.POST, f"{fakes.TWEEPY_API}/2/tweets", body=requests.ReadTimeout("t"))
        fakes.x_timeline(rsps, [])
        publishing.publish_due(app.deps, owner="w")
        clock.advance(minutes=10)
        publishing.reconcile_unconfirmed(app.deps)
        fakes.x_metrics(rsps, "1")
        app.publisher("xacct").fetch_metrics(["1"], now=clock())
    finally:
        from bot.core.logs import OURS

        logging.getLogger().handlers[:] = [h for h in logging.getLogger().handlers if not isinstance(h, OURS)]
    log_text = (tmp_path / "memeloop.log").read_text()
    assert "event=post_published" in log_text and "tweets" in log_text  # DEBUG really was on
    db = sqlite3.connect(app.config.storage.url.removeprefix("sqlite:///"))
    dump = "\n".join(db.iterdump())
    for value in fakes.X_SENTINELS.values():
        assert value not in log_text and value not in dump and value not in caplog.text


# -- Instagram ---------------------------------------------------------------------------------

def test_instagram_challenge_pauses_with_admin_message(tmp_path, clock, monkeypatch):
    import re

    from tests.bot.publishers import ig_http

    monkeypatch.setenv("MEMELOOP_IG_PASSWORD", "pw-123456")
    app = make_app(tmp_path, clock, INSTAGRAM, OUTBOX)
    app.publishers["igacct"] = ig_http.publisher(tmp_path, clock)
    ig_ids = add_candidates(app, ["insta post"], account="igacct")
    demo_ids = add_candidates(app, ["outbox post"], account="demo")
    approve_and_schedule(app, ig_ids + demo_ids, actor="ann", at=clock())
    with ig_http.no_sleep(), ig_http.instagram_http() as rsps:
        ig_http.session_ok(rsps)
        ig_http.feed(rsps, [])
        rsps.add(responses.POST, re.compile(r"https://i\.instagram\.com/rupload_igphoto/.+"), json={})
        ig_http.error(rsps, responses.POST, "media/configure/", "challenge_required")
        summary = publishing.publish_due(app.deps, owner="w")
        assert ig_http.calls(rsps, "media/configure") == 1 and ig_http.calls(rsps, "/challenge/") == 0
    assert (summary.paused, summary.published) == (1, 1)  # the other account carries on
    with app.tx() as s:
        acc = account_repo.get_by_name(s, "igacct")
    assert acc.paused_until is not None
    assert acc.paused_until.year == 9999 and "memeloop accounts resume igacct" in (acc.pause_reason or "")
    assert publishing.publish_due(app.deps, owner="w").claimed == 0
    app.close()


def test_missing_x_secrets_pause_the_account_with_the_variable_name(tmp_path, clock, monkeypatch):
    for key in fakes.X_SENTINELS:
        monkeypatch.delenv(f"MEMELOOP_X_{key.upper()}", raising=False)
    app = make_app(tmp_path, clock, X)
    _schedule_x(app, clock)
    assert publishing.publish_due(app.deps, owner="w").paused == 1
    with app.tx() as s:
        assert "MEMELOOP_X_API_KEY" in (account_repo.get_by_name(s, "xacct").pause_reason or "")
    app.close()


def test_instagram_publisher_is_built_from_config_and_secrets(tmp_path, clock, monkeypatch):
    monkeypatch.setenv("MEMELOOP_IG_PASSWORD", "pw-abcdef")
    app = make_app(tmp_path, clock, INSTAGRAM)
    pub = app.publisher("igacct")
    assert pub is app.publisher("igacct")  # cached per App
    assert isinstance(pub, InstagramPublisher)
    assert (pub.username, pub.session_file, pub.delay_range) == ("memebot", tmp_path / "ig-session.json", (0.0, 0.0))
    app.close()


def test_two_workers_at_once_publish_each_post_once(app, clock):
    import threading

    approve_and_schedule(app, add_candidates(app, [f"p{i}" for i in range(12)]), actor="a", at=clock())
    results: list[publishing.PublishSummary] = []
    workers = [threading.Thread(target=lambda n=n: results.append(publishing.publish_due(app.deps, owner=f"w{n}")))
               for n in range(2)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    claimed = [pid for r in results for pid in r.post_ids]
    assert sorted(claimed) == sorted(set(claimed)) and len(claimed) == 12
    records = list((app.config.account("demo").outbox.path / "posts").glob("*.json"))
    assert len(records) == 12


def test_published_outbox_posts_are_polled_with_simulated_engagement(app, clock):
    from bot.service.polling import poll_due
    from feedback.models import MetricSnapshot

    approve_and_schedule(app, add_candidates(app, ["short and sweet #a", "b"]), actor="a", at=clock())
    assert publishing.publish_due(app.deps, owner="w").published == 2
    assert poll_due(app.deps, now=clock.advance(hours=7)) == 2
    with app.tx() as s:
        snaps = list(s.query(MetricSnapshot))
    assert len(snaps) == 2 and all(x.likes is not None and x.impressions > 0 for x in snaps)


def test_image_the_platform_cannot_take_fails_at_preflight_without_calling_it(tmp_path, clock, monkeypatch):
    from tests.bot.publishers import ig_http
    from tests.bot.publishers.prepared import image_bytes

    monkeypatch.setenv("MEMELOOP_IG_PASSWORD", "pw-123456")
    app = make_app(tmp_path, clock, INSTAGRAM)
    app.publishers["igacct"] = ig_http.publisher(tmp_path, clock)
    (cand,) = add_candidates(app, ["tiny"], account="igacct")
    with app.tx() as s:
        image_path = cand_repo.get_candidate(s, cand).image_path
        assert image_path is not None
        Path(image_path).write_bytes(image_bytes(40, 30))
    (post,) = approve_and_schedule(app, [cand], actor="a", at=clock())
    with ig_http.no_sleep(), ig_http.instagram_http() as rsps:
        assert publishing.publish_due(app.deps, owner="w").failed == 1
        assert len(rsps.calls) == 0  # Instagram was never asked
    row = _post(app, post.id)
    assert (row.state, row.error_class) == ("failed", "permanent") and row.last_error.startswith("preflight:")
    app.close()


def test_a_photo_read_unsure_is_published_with_alt_text_that_claims_only_what_is_certain(app, clock, tmp_path):
    """issue 23 item 7: the horse read as dog breeds is not "a photo of Chihuahua, Golden Retriever ..."."""
    from PIL import Image

    from bot.service.web_queries import alt_of

    path = tmp_path / "horse.png"
    Image.new("RGB", (480, 400), (240, 140, 30)).save(path)
    reading = {"sure": False, "topic": "neutral", "topic_source": "neutral", "labels": [
        {"name": "Chihuahua", "index": 151, "prob": 0.18}, {"name": "Golden Retriever", "index": 207, "prob": 0.12},
        {"name": "common sorrel horse", "index": 339, "prob": 0.1}]}
    with app.tx() as s:
        row = cand_repo.add_candidate(s, cand_repo.NewCandidate(
            generator="photo", text="What a day #horses", account_id=app.account_ids["demo"], image_path=str(path),
            status="pending", params=reading), clock())
        assert alt_of(row, None) == "A photo."  # the web admin's preview: no image read, no colours
    approve_and_schedule(app, [row.id], actor="ann", at=clock())
    assert publishing.publish_due(app.deps, owner="w").published == 1
    (record,) = [json.loads(p.read_text()) for p in (tmp_path / "outbox").rglob("*.json") if p.parent.name == "posts"]
    assert record["alt_text"] == "A photo in orange."
