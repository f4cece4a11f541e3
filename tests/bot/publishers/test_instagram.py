"""Instagram as it really behaves: the real instagrapi 3.2.2 Client over HTTP-level fakes. A failed
read is never "absent", challenges are never answered, the password is sent at most once, every
request has a timeout, counters are read fresh, and every instagrapi exception is mapped on purpose."""
from __future__ import annotations

import inspect
import stat
from datetime import UTC, datetime, timedelta

import pytest
import responses
from instagrapi import exceptions as ig

from bot.publishers.base import ChallengeRequired, TransientPublishError
from bot.publishers.ig_errors import FATES
from tests.bot.publishers import ig_http
from tests.bot.publishers.ig_http import API
from tests.bot.publishers.prepared import prepared

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def rsps():
    with ig_http.no_sleep(), ig_http.instagram_http() as mock:
        yield mock


def test_every_instagrapi_exception_is_mapped_on_purpose():
    classes = {name for name, obj in vars(ig).items()
               if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == ig.__name__}
    assert len(classes) >= 92
    assert sorted(classes - set(FATES)) == []  # decide what a new class means before it lands in a bucket
    assert sorted(set(FATES) - classes) == []  # no stale names


def test_saved_session_is_checked_once_and_rewritten_0600(tmp_path, rsps):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.session_ok(rsps)
    ig_http.feed(rsps, [])
    pub.find_recent(since=NOW - timedelta(hours=1), limit=5)
    assert ig_http.calls(rsps, "current_user") == 1 and ig_http.calls(rsps, "login") == 0
    assert stat.S_IMODE(pub.session_file.stat().st_mode) == 0o600
    assert "SENTINEL" not in pub.session_file.read_text()


def test_every_request_has_a_timeout(tmp_path, rsps):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.session_ok(rsps)
    ig_http.feed(rsps, [])
    ig_http.upload_ok(rsps, ig_http.media_item("3300000000000000009", "hello", NOW))
    pub.publish(prepared("hello"), marker="ml-1")
    assert len(rsps.calls) >= 4
    assert {c.request.req_kwargs["timeout"] for c in rsps.calls} == {12.5}


@pytest.mark.parametrize("status", [500, 429])
def test_a_failed_feed_read_raises_instead_of_reading_as_empty(tmp_path, rsps, status):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.session_ok(rsps)
    ig_http.feed(rsps, status=status)
    with pytest.raises((TransientPublishError, ChallengeRequired)):
        pub.find_recent(since=NOW - timedelta(hours=1), limit=5)


def test_an_answer_without_items_is_a_failed_read_and_blocks_the_upload(tmp_path, rsps):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.session_ok(rsps)
    ig_http.feed(rsps, body={"status": "ok"})
    with pytest.raises(TransientPublishError) as info:
        pub.publish(prepared("hello"), marker="ml-1")
    assert info.value.maybe_sent is False
    assert ig_http.calls(rsps, "rupload") == 0 and ig_http.calls(rsps, "configure") == 0


def test_a_challenge_is_never_answered_and_the_account_stays_paused(tmp_path, rsps):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.error(rsps, responses.GET, "accounts/current_user/", "challenge_required")
    with pytest.raises(ChallengeRequired) as info:
        pub.find_recent(since=NOW, limit=5)
    assert info.value.pause_until is None
    assert "memeloop accounts login igacct" in str(info.value)
    assert ig_http.calls(rsps, "/challenge/") == 0  # no birthday, no "send me a code"
    before = len(rsps.calls)
    for _ in range(3):  # later ticks: no request at all until the admin acts
        with pytest.raises(ChallengeRequired):
            pub.find_recent(since=NOW, limit=5)
    assert len(rsps.calls) == before


def test_a_rejected_session_gets_one_password_login_then_a_pause(tmp_path, rsps):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.error(rsps, responses.GET, "accounts/current_user/", "login_required", status=403)
    login_flow = ig_http.re.compile(r"https://[a-z.]*instagram\.com/(graphql_www|api/v1/bloks/).*")
    rsps.add(responses.POST, login_flow, status=400, json={"message": "Sorry, there was a problem with your "
                                                                     "request.", "status": "fail"})
    for _ in range(3):  # three ticks
        with pytest.raises(ChallengeRequired) as info:
            pub.find_recent(since=NOW, limit=5)
    assert info.value.pause_until is None and "memeloop accounts login igacct" in str(info.value)
    assert ig_http.calls(rsps, "current_user") == 1
    assert sum(1 for c in rsps.calls if login_flow.match(c.request.url)) == 1  # the password flow: once


def test_a_new_session_file_lifts_the_remembered_pause(tmp_path, rsps):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.error(rsps, responses.GET, "accounts/current_user/", "challenge_required")
    ig_http.session_ok(rsps)
    ig_http.feed(rsps, [])
    with pytest.raises(ChallengeRequired):
        pub.find_recent(since=NOW, limit=5)
    ig_http.write_session(pub.session_file)  # what `memeloop accounts login` leaves behind
    import os
    os.utime(pub.session_file, ns=(1, 2))
    assert pub.find_recent(since=NOW, limit=5) == []


def test_metrics_are_read_fresh_per_item_and_unknown_stays_unknown(tmp_path, rsps):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.session_ok(rsps)
    first = ig_http.media_item("3300000000000000001", "a", NOW, like_count=7)
    later = ig_http.media_item("3300000000000000001", "a", NOW, like_count=25)
    no_likes = {k: v for k, v in ig_http.media_item("3300000000000000002", "b", NOW).items() if k != "like_count"}
    hidden = ig_http.media_item("3300000000000000003", "c", NOW, like_count=-1, like_and_view_counts_disabled=True)
    rsps.add(responses.GET, f"{API}/media/3300000000000000001/info/", json={"items": [first]})
    rsps.add(responses.GET, f"{API}/media/3300000000000000001/info/", json={"items": [later]})
    rsps.add(responses.GET, f"{API}/media/3300000000000000002/info/", json={"items": [no_likes]})
    rsps.add(responses.GET, f"{API}/media/3300000000000000003/info/", json={"items": [hidden]})
    rsps.add(responses.GET, f"{API}/media/3300000000000000004/info/", status=400,
             json={"message": "Media not found or unavailable", "status": "fail"})  # deleted
    ids = ["3300000000000000001", "3300000000000000004", "3300000000000000002", "3300000000000000003"]
    readings = pub.fetch_metrics(ids, now=NOW)
    assert [(r.remote_id, r.likes, r.comments) for r in readings] == [
        ("3300000000000000001", 7, 2), ("3300000000000000002", None, 2), ("3300000000000000003", None, 2)]
    again = pub.fetch_metrics(["3300000000000000001"], now=NOW)
    assert again[0].likes == 25  # not instagrapi's cached 7
    assert ig_http.calls(rsps, "graphql") == 0 and ig_http.calls(rsps, "www.instagram.com") == 0


def test_an_unreadable_answer_after_the_upload_is_maybe_sent(tmp_path, rsps):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.session_ok(rsps)
    ig_http.feed(rsps, [])
    broken = {k: v for k, v in ig_http.media_item("3300000000000000009", "hello", NOW).items() if k != "code"}
    ig_http.upload_ok(rsps, broken)
    with pytest.raises(TransientPublishError) as info:
        pub.publish(prepared("hello"), marker="ml-1")
    assert info.value.maybe_sent is True


@pytest.mark.parametrize("fixture, status, paused", [("feedback_required", 400, None),
                                                     ("please_wait", 400, NOW + timedelta(hours=1))])
def test_blocks_and_slow_downs_pause_without_retrying(tmp_path, rsps, fixture, status, paused):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.session_ok(rsps)
    ig_http.feed(rsps, [])
    rsps.add(responses.POST, ig_http.re.compile(r"https://i\.instagram\.com/rupload_igphoto/.+"), json={})
    ig_http.error(rsps, responses.POST, "media/configure/", fixture, status=status)
    with pytest.raises(ChallengeRequired) as info:
        pub.publish(prepared("hello"), marker="ml-1")
    assert info.value.pause_until == paused
    assert ig_http.calls(rsps, "configure") == 1
    if fixture == "feedback_required":
        assert "We restrict certain activity" in str(info.value)


def test_a_404_media_is_left_out_of_metrics(tmp_path, rsps):
    pub = ig_http.publisher(tmp_path, lambda: NOW)
    ig_http.session_ok(rsps)
    rsps.add(responses.GET, f"{API}/media/1/info/", status=404, json={"message": "Not found", "status": "fail"})
    assert pub.fetch_metrics(["1"], now=NOW) == []
