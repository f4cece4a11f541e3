"""X specifics the contract suite does not pin: request shapes, which failures count as "maybe
sent", metric batching."""
from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
import responses

from bot.publishers.base import (
    AuthError,
    CreditsDepleted,
    PermanentPublishError,
    RateLimited,
    TransientPublishError,
)
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


@pytest.mark.parametrize("fixture", ["problem_oauth1_permissions", "problem_client_not_enrolled"])
def test_app_permission_problems_pause_the_account(rsps, fixture):
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, status=403, json=fakes.load(f"x/{fixture}.json"))
    with pytest.raises(AuthError, match="memeloop accounts resume xacct"):
        _pub().publish(prepared(), marker="ml-1")


def test_credits_depleted_pauses_the_account(rsps):
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, status=402, json=fakes.load("x/problem_credits_depleted.json"))
    with pytest.raises(CreditsDepleted, match="no API credits left"):
        _pub().publish(prepared(), marker="ml-1")


def test_a_spent_daily_quota_reschedules_at_the_24_hour_reset(rsps):
    fakes.x_upload_ok(rsps)
    window, day = 1767620700, 1767690000
    headers = fakes.rate_headers(100, 42, window) | {"x-user-limit-24hour-limit": "17",
                                                     "x-user-limit-24hour-remaining": "0",
                                                     "x-user-limit-24hour-reset": str(day)}
    fakes.x_tweet(rsps, status=429, headers=headers, json=fakes.load("x/problem_too_many_requests.json"))
    with pytest.raises(RateLimited) as info:
        _pub().publish(prepared(), marker="ml-1")
    assert info.value.retry_at == datetime.fromtimestamp(day, UTC)


def test_an_answer_cut_off_is_maybe_sent(rsps):
    import requests

    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps, body=requests.exceptions.ChunkedEncodingError("Connection broken: IncompleteRead"))
    with pytest.raises(TransientPublishError) as info:
        _pub().publish(prepared(), marker="ml-1")
    assert info.value.maybe_sent is True


def test_api_base_reaches_every_call(rsps):
    base = "https://x-proxy.example.net"
    rsps.add(responses.POST, f"{base}/2/media/upload", json=fakes.load("x/media_upload_v2.json"))
    rsps.add(responses.POST, f"{base}/2/media/metadata", json={})
    rsps.add(responses.POST, f"{base}/2/tweets", status=201, json=fakes.load("x/tweet_created.json", TEXT="hi"))
    rsps.add(responses.GET, f"{base}/2/users/me", json={"data": {"id": "4242"}})
    rsps.add(responses.GET, f"{base}/2/users/4242/tweets", json={"data": []})
    rsps.add(responses.GET, f"{base}/2/tweets", json={"data": []})
    pub = XPublisher(account="xacct", credentials=fakes.x_credentials(), api_base=base, clock=lambda: NOW)
    pub.publish(prepared("hi"), marker="ml-1")
    pub.find_recent(since=NOW, limit=5)
    pub.fetch_metrics(["1"], now=NOW)
    assert len(rsps.calls) == 6 and all(c.request.url.startswith(base) for c in rsps.calls)


def test_a_refused_alt_text_is_dropped_and_noted(rsps):
    rsps.add(responses.POST, f"{fakes.X_API}/2/media/upload", json=fakes.load("x/media_upload_v2.json"))
    rsps.add(responses.POST, f"{fakes.X_API}/2/media/metadata", status=400,
             json=fakes.load("x/problem_alt_text_invalid.json"))
    fakes.x_tweet(rsps, tweet_id="901")
    result = _pub().publish(prepared("hi"), marker="ml-1")
    assert result.remote_id == "901"
    assert len(result.notes) == 1 and "alt text dropped" in result.notes[0] and "1000 characters" in result.notes[0]


def test_a_v11_upload_answer_is_understood(rsps):
    rsps.add(responses.POST, f"{fakes.X_API}/2/media/upload", json=fakes.load("x/media_upload_v11.json"))
    rsps.add(responses.POST, f"{fakes.X_API}/2/media/metadata", json={})
    fakes.x_tweet(rsps)
    _pub().publish(prepared(), marker="ml-1")
    assert json.loads(rsps.calls[-1].request.body)["media"] == {"media_ids": ["1880028106020515841"]}


def test_urls_are_refused_unless_allowed(rsps):
    with pytest.raises(PermanentPublishError, match="allow_urls"):
        _pub().publish(prepared("see https://example.com"), marker="ml-1")
    assert len(rsps.calls) == 0  # nothing uploaded or paid for
    fakes.x_upload_ok(rsps)
    fakes.x_tweet(rsps)
    XPublisher(account="xacct", credentials=fakes.x_credentials(), allow_urls=True,
               clock=lambda: NOW).publish(prepared("see https://example.com"), marker="ml-1")


def test_reconciliation_finds_a_caption_whose_url_x_rewrote():
    from bot.publishers.base import RemotePost
    from bot.publishers.matching import find_match, normalise

    ours = "read this https://example.com/a?b=1 then laugh"
    remote = [RemotePost(remote_id="7", text="read this https://t.co/Ab12Cd then laugh https://t.co/MeDiA",
                         created_at=NOW)]
    assert find_match(remote, marker="ml-1", texts={normalise(ours)}, since=NOW, taken=set()) is remote[0]


def test_a_timeline_tweet_without_created_at_uses_its_snowflake_time(rsps):
    fakes.x_timeline(rsps, [{"id": "1877780000000000000", "text": "no time"}])
    found = _pub().find_recent(since=datetime(2025, 1, 1, tzinfo=UTC), limit=5)
    assert [p.remote_id for p in found] == ["1877780000000000000"]
    assert found[0].created_at.year == 2025
