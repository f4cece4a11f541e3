"""X specifics the contract suite does not pin: request shapes, which failures count as "maybe
sent", metric batching."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses

from bot.publishers.base import AuthError, PermanentPublishError, TransientPublishError
from bot.publishers.x import XPublisher
from tests.bot.publishers import fakes
from tests.bot.publishers.prepared import prepared

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        yield mock


def _pub() -> XPublisher:
    return XPublisher(account="xacct", credentials=fakes.x_credentials(), handle="@memebot", clock=lambda: NOW)


def _auth(request) -> str:
    value = request.headers["Authorization"]
    return value.decode() if isinstance(value, bytes) else value


def test_publish_uploads_media_sets_alt_text_and_attaches_it(rsps):
    fakes.x_upload_ok(rsps, media_id="77")
    fakes.x_tweet(rsps, tweet_id="901", text="hi")
    result = _pub().publish(prepared("hi there"), marker="ml-1")
    upload, metadata, tweet = rsps.calls[0].request, rsps.calls[1].request, rsps.calls[2].request
    assert upload.url == f"{fakes.X_API}/2/media/upload"
    assert b'name="media_category"' in upload.body and b"tweet_image" in upload.body
    assert _auth(upload).startswith("OAuth ")  # OAuth 1.0a user context
    assert json.loads(metadata.body) == {"id": "77", "metadata": {"alt_text": {"text": "meme: hi there"}}}
    assert json.loads(tweet.body) == {"text": "hi there", "media": {"media_ids": ["77"]}}
    assert _auth(tweet).startswith("OAuth ")
    assert (result.remote_id, result.url) == ("901", "https://x.com/memebot/status/901")


def test_upload_failure_is_never_maybe_sent(rsps):
    rsps.add(responses.POST, f"{fakes.X_API}/2/media/upload", status=503, json={"title": "down"})
    with pytest.raises(TransientPublishError) as info:
        _pub().publish(prepared(), marker="ml-1")
    assert info.value.maybe_sent is False
    assert not any(c.request.url.endswith("/2/tweets") for c in rsps.calls)


def test_connect_timeout_on_create_is_not_sent(rsps):
    import requests

    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, body=requests.ConnectTimeout("connect timed out"))
    with pytest.raises(TransientPublishError) as info:
        _pub().publish(prepared(), marker="ml-1")
    assert info.value.maybe_sent is False


def test_forbidden_without_write_permission_pauses_the_account(rsps):
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, status=403, json={"title": "Forbidden", "status": 403, "detail":
                  "You are not permitted to perform this action.", "type": "about:blank"})
    with pytest.raises(AuthError, match="access level"):
        _pub().publish(prepared(), marker="ml-1")


def test_bad_request_is_permanent(rsps):
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, status=400, json={"errors": [{"message": "text is too long"}], "title": "Invalid Request"})
    with pytest.raises(PermanentPublishError, match="text is too long"):
        _pub().publish(prepared(), marker="ml-1")


def test_metrics_are_read_in_batches_of_100(rsps):
    ids = [str(1000 + i) for i in range(150)]

    def answer(request):
        asked = request.params["ids"].split(",")
        assert request.params["tweet.fields"] == "public_metrics"
        data = [{"id": i, "text": "t", "public_metrics": {"like_count": 1, "retweet_count": 0, "reply_count": 0,
                                                          "quote_count": 0, "impression_count": 9}}
                for i in asked if i != "1003"]  # 1003 was deleted
        return 200, fakes.rate_headers(900, 899), json.dumps({"data": data})

    rsps.add_callback(responses.GET, f"{fakes.TWEEPY_API}/2/tweets", callback=answer)
    pub = _pub()
    readings = pub.fetch_metrics(ids, now=NOW)
    assert len(rsps.calls) == 2 and len(readings) == 149
    first = readings[0]
    assert (first.likes, first.impressions, first.bookmarks, first.comments) == (1, 9, None, None)
    assert {r.endpoint for r in pub.drain_rate_limits()} == {"GET /2/tweets"}
