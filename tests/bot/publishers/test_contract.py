"""ONE contract suite run against every publisher: outbox (real files), X (HTTP-level fakes with
responses; tweepy and requests run for real), Instagram (the real instagrapi Client over
HTTP-level fakes), Mastodon (Mastodon.py and requests over responses fakes) and Bluesky (the atproto
SDK and httpx over a MockTransport fake of the PDS). Answers are recorded shapes from fixtures/. Each backend says how to provoke a
scenario on its platform; a scenario a platform cannot produce is skipped with the reason."""
from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
import requests
import responses

from bot.publishers.base import (
    AuthError,
    ChallengeRequired,
    DuplicatePost,
    Publisher,
    RateLimited,
    TransientPublishError,
)
from bot.publishers.matching import normalise
from bot.publishers.outbox import OutboxPublisher
from bot.publishers.x import XPublisher
from tests.bot.publishers import bsky_http as bs
from tests.bot.publishers import fakes, ig_http
from tests.bot.publishers import mastodon_http as md
from tests.bot.publishers.prepared import prepared

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TEXT = "when the build is green on friday #devlife"
RESET = int((NOW + timedelta(minutes=7)).timestamp())


class _Crash(BaseException):
    """Stands for the process dying right after the post went out."""


class OutboxBackend:
    name = "outbox"

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.sleeps = 0
        self.crash_after_send = False

    def _sleep(self, _seconds: float) -> None:
        self.sleeps += 1
        if self.crash_after_send and self.sleeps == 2:  # the second half of the latency: record written
            raise _Crash()

    def publisher(self) -> Publisher:
        return OutboxPublisher(account="demo", path=self.tmp_path / "outbox", latency_ms=10, audience_seed=7,
                               clock=lambda: NOW, sleep=self._sleep)

    def arrange(self, scenario: str):
        if scenario == "success":
            return None, {}
        if scenario == "server_error":
            (self.tmp_path / "outbox").mkdir()
            (self.tmp_path / "outbox" / "posts").write_text("not a folder")  # storage broken before the write
            return TransientPublishError, {"maybe_sent": False}
        if scenario == "timeout_after_send":
            self.crash_after_send = True
            return _Crash, {}
        if scenario == "duplicate":
            self.publisher().publish(prepared(TEXT), marker="ml-dup")
            return DuplicatePost, {}
        pytest.skip(f"the outbox has no {scenario.replace('_', ' ')}")


class XBackend:
    name = "x"
    post_endpoint = "POST /2/tweets"

    def __init__(self, tmp_path: Path, rsps: responses.RequestsMock) -> None:
        self.rsps = rsps

    def publisher(self) -> Publisher:
        return XPublisher(account="xacct", credentials=fakes.x_credentials(), handle="memebot", clock=lambda: NOW)

    def arrange(self, scenario: str):
        fakes.x_upload_ok(self.rsps)
        if scenario == "success":
            fakes.x_tweet(self.rsps, text=TEXT)
            fakes.x_timeline(self.rsps, [{"id": "1900000000000000001", "text": f"{TEXT} https://t.co/AbC123",
                                          "created_at": "2026-01-05T12:00:01.000Z"}])
            fakes.x_metrics(self.rsps, "1900000000000000001")
            return None, {}
        if scenario == "rate_limited":
            fakes.x_tweet(self.rsps, status=429, headers=fakes.rate_headers(100, 0, RESET),
                          json={"title": "Too Many Requests", "detail": "Too Many Requests", "status": 429})
            return RateLimited, {"retry_at": datetime.fromtimestamp(RESET, UTC)}
        if scenario == "server_error":
            fakes.x_tweet(self.rsps, status=503, json={"title": "Service Unavailable", "status": 503})
            return TransientPublishError, {"maybe_sent": True}
        if scenario == "timeout_after_send":
            fakes.x_tweet(self.rsps, body=requests.ReadTimeout("read timed out"))
            return TransientPublishError, {"maybe_sent": True}
        if scenario == "unauthorized":
            fakes.x_tweet(self.rsps, status=401, json={"title": "Unauthorized", "detail": "Unauthorized",
                                                       "status": 401})
            return AuthError, {}
        if scenario == "duplicate":
            fakes.x_tweet(self.rsps, status=403, json={
                "detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403,
                "title": "Forbidden", "type": "about:blank"})
            return DuplicatePost, {}
        pytest.skip("X has no login challenge flow")


class MastodonBackend:
    name = "mastodon"
    post_endpoint = "POST /api/v1/statuses"

    def __init__(self, tmp_path: Path, rsps: responses.RequestsMock) -> None:
        self.rsps = rsps
        self.item = md.status("113000000000000001", TEXT, NOW + timedelta(seconds=1))

    def publisher(self) -> Publisher:
        return md.publisher(lambda: NOW)

    def arrange(self, scenario: str):
        r = self.rsps
        if scenario in ("duplicate", "challenge"):
            pytest.skip("Mastodon has no login challenge" if scenario == "challenge" else
                        "Mastodon refuses no duplicates: the Idempotency-Key (the marker) makes a retried "
                        "creation return the first status (tests/bot/publishers/test_mastodon.py)")
        md.instance(r)
        md.upload(r)
        md.me(r)
        if scenario == "success":
            md.create(r, text=TEXT)
            md.timeline(r, [self.item])
            md.get_status(r, self.item)
            return None, {}
        if scenario == "rate_limited":
            reset = datetime.fromtimestamp(RESET, UTC)
            md.create(r, code=429, headers=md.rate_headers(300, 0, reset), json=md.error("Too many requests"))
            return RateLimited, {"retry_at": reset}
        if scenario == "server_error":
            md.create(r, code=503, json=md.error("Service Unavailable"))
            return TransientPublishError, {"maybe_sent": True}
        if scenario == "timeout_after_send":
            md.create(r, body=requests.ReadTimeout("read timed out"))
            md.timeline(r, [self.item])  # it went out; the account's statuses list it afterwards
            return TransientPublishError, {"maybe_sent": True}
        if scenario == "unauthorized":
            r.replace(responses.GET, f"{md.INSTANCE}/api/v2/instance/", status=401,
                      json=md.error("The access token is invalid"))
            return AuthError, {}
        raise AssertionError(scenario)


class BlueskyBackend:
    name = "bluesky"
    post_endpoint = "com.atproto.repo.createRecord"

    def __init__(self, tmp_path: Path) -> None:
        self.tmp_path = tmp_path
        self.pds = bs.FakePDS()

    def publisher(self) -> Publisher:
        return bs.publisher(self.pds, self.tmp_path, lambda: NOW)

    def arrange(self, scenario: str):
        pds, create = self.pds, "com.atproto.repo.createRecord"
        if scenario in ("duplicate", "challenge"):
            pytest.skip("Bluesky has no login challenge" if scenario == "challenge" else
                        "Bluesky refuses no duplicate posts")
        if scenario == "success":
            return None, {}
        if scenario == "rate_limited":
            pds.add(create, bs.error(429, "RateLimitExceeded", "Rate Limit Exceeded",
                                     headers=bs.rate_headers(5000, 0, RESET)))
            return RateLimited, {"retry_at": datetime.fromtimestamp(RESET, UTC)}
        if scenario == "server_error":
            pds.add(create, bs.error(502, "UpstreamFailure", "Bad Gateway"))
            return TransientPublishError, {"maybe_sent": True}
        if scenario == "timeout_after_send":
            def cut(request: httpx.Request) -> httpx.Response:
                pds.default(create, request)  # the PDS wrote the record, then the connection dropped
                raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
            pds.add(create, cut)
            return TransientPublishError, {"maybe_sent": True}
        if scenario == "unauthorized":
            pds.add("com.atproto.server.createSession",
                    bs.error(401, "AuthenticationRequired", "Invalid identifier or password"))
            return AuthError, {}
        raise AssertionError(scenario)


class InstagramBackend:
    name = "instagram"

    def __init__(self, tmp_path: Path, rsps: responses.RequestsMock) -> None:
        self.tmp_path = tmp_path
        self.rsps = rsps
        ig_http.write_session(tmp_path / "ig" / "session.json")
        self.item = ig_http.media_item("3300000000000000042", TEXT, NOW)

    def publisher(self) -> Publisher:
        return ig_http.publisher(self.tmp_path, lambda: NOW, session=False)

    def arrange(self, scenario: str):
        r, api = self.rsps, ig_http.API
        if scenario != "unauthorized":
            ig_http.session_ok(r)
        if scenario == "duplicate":
            ig_http.feed(r, [ig_http.media_item("3300000000000000001", TEXT, NOW - timedelta(hours=2))])
            return DuplicatePost, {}
        ig_http.feed(r, [])
        r.add(responses.POST, re.compile(r"https://i\.instagram\.com/rupload_igphoto/.+"), json={"status": "ok"})
        configure = f"{api}/media/configure/"
        if scenario == "success":
            r.add(responses.POST, configure, json={"media": self.item, "status": "ok"})
            ig_http.feed(r, [self.item])
            r.add(responses.GET, f"{api}/media/{self.item['pk']}/info/", json={"items": [self.item], "status": "ok"})
            return None, {}
        if scenario == "rate_limited":
            r.add(responses.POST, configure, status=429, json={"message": "Too many requests", "status": "fail"})
            return ChallengeRequired, {"pause_until": NOW + timedelta(hours=1)}
        if scenario == "server_error":
            ig_http.error(r, responses.POST, "media/configure/", "server_error", status=500)
            return TransientPublishError, {"maybe_sent": True}
        if scenario == "timeout_after_send":
            r.add(responses.POST, configure, body=requests.ConnectionError("Connection aborted."))
            ig_http.feed(r, [self.item])  # it went out; the feed lists it afterwards
            return TransientPublishError, {"maybe_sent": True}
        if scenario == "unauthorized":
            ig_http.error(r, responses.GET, "accounts/current_user/", "bad_password")
            return AuthError, {}
        if scenario == "challenge":
            ig_http.error(r, responses.POST, "media/configure/", "challenge_required")
            return ChallengeRequired, {"pause_until": None}
        raise AssertionError(scenario)


@pytest.fixture(params=["outbox", "x", "instagram", "mastodon", "bluesky"])
def backend(request, tmp_path):
    if request.param == "outbox":
        yield OutboxBackend(tmp_path)
    elif request.param == "bluesky":
        yield BlueskyBackend(tmp_path)
    elif request.param == "x":
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            yield XBackend(tmp_path, rsps)
    elif request.param == "mastodon":
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            yield MastodonBackend(tmp_path, rsps)
    else:
        with ig_http.no_sleep(), ig_http.instagram_http() as rsps:
            yield InstagramBackend(tmp_path, rsps)


def test_success_publishes_once_and_is_found_and_measured(backend):
    backend.arrange("success")
    pub = backend.publisher()
    assert isinstance(pub, Publisher)
    result = pub.publish(prepared(TEXT, platform=backend.name), marker="ml-0001")
    assert result.remote_id and result.published_at.tzinfo is not None
    recent = pub.find_recent(since=NOW - timedelta(hours=1), limit=10)
    ours = [p for p in recent if p.remote_id == result.remote_id]
    assert len(ours) == 1 and normalise(ours[0].text) == normalise(TEXT)
    readings = pub.fetch_metrics([result.remote_id], now=NOW + timedelta(hours=6))
    assert [r.remote_id for r in readings] == [result.remote_id]
    counts = [getattr(readings[0], f) for f in ("likes", "reposts", "replies", "comments", "impressions")]
    assert all(c is None or c >= 0 for c in counts) and any(c is not None for c in counts)


@pytest.mark.parametrize("scenario", ["rate_limited", "server_error", "timeout_after_send", "unauthorized",
                                      "duplicate", "challenge"])
def test_failures_map_to_our_errors(backend, scenario):
    expected, attrs = backend.arrange(scenario)
    pub = backend.publisher()
    with pytest.raises(expected) as info:
        pub.publish(prepared(TEXT, platform=backend.name), marker="ml-dup" if scenario == "duplicate" else "ml-0002")
    for name, value in attrs.items():
        assert getattr(info.value, name) == value, name
    message = str(info.value)
    assert "SENTINEL" not in message
    if expected is AuthError or expected is ChallengeRequired and attrs["pause_until"] is None:
        assert "memeloop accounts resume" in message  # the admin is told what to do


def test_timeout_after_send_is_found_by_reconciliation(backend):
    backend.arrange("timeout_after_send")
    pub = backend.publisher()
    if backend.name == "x":  # the tweet did go out; X lists it afterwards
        fakes.x_timeline(backend.rsps, [{"id": "1900000000000000007", "text": f"{TEXT} https://t.co/ZzZ",
                                         "created_at": "2026-01-05T12:00:02.000Z"}])
    with pytest.raises((TransientPublishError, _Crash)):
        pub.publish(prepared(TEXT, platform=backend.name), marker="ml-0003")
    recent = backend.publisher().find_recent(since=NOW - timedelta(minutes=5), limit=10)
    assert [normalise(p.text) for p in recent] == [normalise(TEXT)]
    assert recent[0].marker in (None, "ml-0003")


def test_rate_limit_headers_are_reported(backend):
    if backend.name not in ("x", "mastodon", "bluesky"):
        pytest.skip(f"{backend.name} reports no rate-limit headers")
    backend.arrange("rate_limited")
    pub = backend.publisher()
    with pytest.raises(RateLimited):
        pub.publish(prepared(TEXT, platform=backend.name), marker="ml-0004")
    readings = {r.endpoint: r for r in pub.drain_rate_limits()}
    assert readings[backend.post_endpoint].remaining == 0
    assert readings[backend.post_endpoint].reset_at == datetime.fromtimestamp(RESET, UTC)
    upload = {"x": "POST /2/media/upload", "mastodon": "POST /api/v2/media",
              "bluesky": "com.atproto.repo.uploadBlob"}[backend.name]
    assert readings[upload].remaining == {"x": 499, "mastodon": 29, "bluesky": 4999}[backend.name]
    assert pub.drain_rate_limits() == []


def test_threads_capability_is_declared_and_matches_what_publish_takes(backend):
    """A publisher that says it takes threads accepts ``reply_to``; one that does not never sees it."""
    import inspect

    from bot.publishers.base import takes_threads
    from bot.publishers.factory import platform_takes_threads

    pub = backend.publisher()
    takes_reply = "reply_to" in inspect.signature(pub.publish).parameters
    assert isinstance(pub.threads, bool) and pub.threads == takes_reply == takes_threads(pub)
    assert platform_takes_threads(backend.name) == pub.threads
    assert pub.threads == (backend.name != "instagram")  # the platforms as PLATFORMS.md describes them
