"""BlueskyPublisher beyond the shared contract: the session (saved 0600, re-used, refreshed when the
server says the token expired, a fresh login only when the refresh token is dead too), facets,
reply refs of a thread, what a failure after createRecord means, deleted posts, history pages and
the factory. The atproto SDK and httpx run for real over bsky_http.FakePDS."""
from __future__ import annotations

import json
import stat
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from bot.config import load_config
from bot.errors import ConfigError
from bot.publishers.base import AuthError, PermanentPublishError, TransientPublishError
from bot.publishers.bluesky import BlueskyPublisher
from bot.publishers.factory import build_publisher
from tests.bot.publishers import bsky_http as bs
from tests.bot.publishers.prepared import prepared

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
CREATE = "com.atproto.repo.createRecord"
LOGIN = "com.atproto.server.createSession"
REFRESH = "com.atproto.server.refreshSession"


@pytest.fixture
def pds():
    return bs.FakePDS()


def _record(pds: bs.FakePDS, index: int = -1) -> dict:
    return json.loads(pds.calls(CREATE)[index].content)["record"]


def test_session_is_saved_0600_and_reused_without_a_new_login(pds, tmp_path):
    bs.publisher(pds, tmp_path, lambda: NOW).publish(prepared("one"), marker="m1")
    session_file = tmp_path / "bsky" / "session.txt"
    assert stat.S_IMODE(session_file.stat().st_mode) == 0o600
    assert bs.PASSWORD not in session_file.read_text()
    again = bs.publisher(pds, tmp_path, lambda: NOW)  # a restart
    again.publish(prepared("two"), marker="m2")
    again.publish(prepared("three"), marker="m3")
    assert len(pds.calls(LOGIN)) == 1 and len(pds.calls(CREATE)) == 3


def test_expired_token_is_refreshed_once_and_the_refused_post_sent_again(pds, tmp_path):
    pub = bs.publisher(pds, tmp_path, lambda: NOW)
    pub.publish(prepared("one"), marker="m1")
    pds.add(CREATE, bs.error(400, "ExpiredToken", "Token has expired"))
    result = pub.publish(prepared("two"), marker="m2")
    assert len(pds.calls(REFRESH)) == 1 and len(pds.calls(LOGIN)) == 1
    assert [p["uri"] for p in pds.posts].count(result.remote_id) == 1 and len(pds.posts) == 2
    assert pds.calls(CREATE)[-1].headers["authorization"].endswith("a2")  # the refreshed access token
    assert (tmp_path / "bsky" / "session.txt").read_text().split("::")[2].endswith("a2")


def test_read_endpoint_401_refreshes_too(pds, tmp_path):
    pub = bs.publisher(pds, tmp_path, lambda: NOW)
    pub.publish(prepared("one"), marker="m1")
    pds.add("app.bsky.feed.getPosts", bs.error(401, "ExpiredToken", "Token has expired"))
    assert len(pub.fetch_metrics([pds.posts[0]["uri"]], now=NOW)) == 1
    assert len(pds.calls(REFRESH)) == 1


def test_dead_refresh_token_means_one_fresh_login(pds, tmp_path):
    pub = bs.publisher(pds, tmp_path, lambda: NOW)
    pub.publish(prepared("one"), marker="m1")
    pds.add(CREATE, bs.error(400, "ExpiredToken", "Token has expired"))
    pds.add(REFRESH, bs.error(400, "ExpiredToken", "Token has been revoked"))
    pub.publish(prepared("two"), marker="m2")
    assert len(pds.calls(LOGIN)) == 2 and len(pds.posts) == 2


def test_refused_login_is_an_auth_error_naming_the_fix(pds, tmp_path):
    pds.add(LOGIN, bs.error(401, "AuthenticationRequired", "Invalid identifier or password"))
    with pytest.raises(AuthError, match="MEMELOOP_BLUESKY_APP_PASSWORD") as info:
        bs.publisher(pds, tmp_path, lambda: NOW).publish(prepared("one"), marker="m1")
    assert bs.PASSWORD not in str(info.value) and "memeloop accounts resume bsky" in str(info.value)
    assert pds.calls(CREATE) == []


@pytest.mark.parametrize(("answer", "maybe_sent"), [
    (httpx.ConnectError("connection refused"), False),
    (httpx.ReadTimeout("timed out"), True),
    (bs.error(500, "InternalServerError", "Internal Server Error"), True),
])
def test_failures_of_the_create(pds, tmp_path, answer, maybe_sent):
    pds.add(CREATE, answer)
    with pytest.raises(TransientPublishError) as info:
        bs.publisher(pds, tmp_path, lambda: NOW).publish(prepared("one"), marker="m1")
    assert info.value.maybe_sent is maybe_sent


def test_invalid_record_is_permanent(pds, tmp_path):
    pds.add(CREATE, bs.error(400, "InvalidRequest", "Invalid app.bsky.feed.post record: text too long"))
    with pytest.raises(PermanentPublishError, match="text too long"):
        bs.publisher(pds, tmp_path, lambda: NOW).publish(prepared("one"), marker="m1")


def test_facets_use_utf8_byte_offsets_and_resolved_mentions(pds, tmp_path):
    text = "😂 ask @alice.bsky.social or @nobody.example about https://example.com/a. #devlife"
    bs.publisher(pds, tmp_path, lambda: NOW).publish(prepared(text), marker="m1")
    record = _record(pds)
    raw = record["text"].encode()
    found = {(f["features"][0]["$type"].rsplit("#", 1)[-1],
              raw[f["index"]["byteStart"]:f["index"]["byteEnd"]].decode()) for f in record["facets"]}
    assert found == {("mention", "@alice.bsky.social"), ("link", "https://example.com/a"), ("tag", "#devlife")}
    image = record["embed"]["images"][0]
    assert image["alt"] == f"meme: {text}" and image["aspectRatio"] == {
        "width": 64, "height": 48, "$type": "app.bsky.embed.defs#aspectRatio"}


def test_thread_parts_reply_with_root_and_parent_and_a_failed_third_part_may_be_out(pds, tmp_path):
    pub = bs.publisher(pds, tmp_path, lambda: NOW)
    first = pub.publish(prepared("part 1"), marker="m1")
    second = pub.publish(prepared("part 2"), marker="m2", reply_to=first.remote_id)
    assert _record(pds)["reply"]["root"]["uri"] == first.remote_id
    assert _record(pds)["reply"]["parent"]["uri"] == first.remote_id
    pds.add(CREATE, bs.error(502, "UpstreamFailure", "Bad Gateway"))
    with pytest.raises(TransientPublishError) as info:
        pub.publish(prepared("part 3"), marker="m3", reply_to=second.remote_id)
    assert info.value.maybe_sent is True
    third = json.loads(pds.calls(CREATE)[-1].content)["record"]
    assert third["reply"]["root"]["uri"] == first.remote_id and third["reply"]["parent"]["uri"] == second.remote_id


def test_deleted_posts_are_left_out_of_metrics_and_quotes_are_read(pds, tmp_path):
    pub = bs.publisher(pds, tmp_path, lambda: NOW)
    alive = pub.publish(prepared("one"), marker="m1")
    readings = pub.fetch_metrics([bs.uri("3lbdgone00000"), alive.remote_id], now=NOW)
    assert [(r.remote_id, r.likes, r.reposts, r.replies, r.quotes, r.impressions) for r in readings] == [
        (alive.remote_id, 4, 1, 0, 0, None)]
    json.dumps(readings[0].raw)


def test_fetch_history_follows_the_cursor_and_stops_at_since(pds, tmp_path):
    posts = [bs.post_view(bs.uri(f"3lbd{i:09d}"), f"post {i}", NOW - timedelta(hours=i)) for i in range(3)]
    pds.add("app.bsky.feed.getAuthorFeed", httpx.Response(200, json={"feed": [{"post": p} for p in posts[:2]],
                                                                      "cursor": "2026-01-05T11:00:00Z"}))
    pds.add("app.bsky.feed.getAuthorFeed", httpx.Response(200, json={"feed": [{"post": posts[2]}]}))
    pub = bs.publisher(pds, tmp_path, lambda: NOW)
    first = pub.fetch_history(since=None, cursor=None, limit=2)
    assert [i.text for i in first.items] == ["post 0", "post 1"] and first.next_cursor == "2026-01-05T11:00:00Z"
    assert first.items[0].likes == 4 and first.items[0].quotes == 0
    last = pub.fetch_history(since=None, cursor=first.next_cursor, limit=2)
    assert [i.text for i in last.items] == ["post 2"] and last.next_cursor is None
    assert pds.calls("app.bsky.feed.getAuthorFeed")[-1].url.params["cursor"] == "2026-01-05T11:00:00Z"
    pds.posts = posts
    assert pub.fetch_history(since=NOW - timedelta(minutes=90), cursor=None, limit=10).next_cursor is None


def test_factory_builds_it_from_config_and_secrets(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(f"""
[storage]
url = "sqlite:///{tmp_path}/db.sqlite"
[[accounts]]
name = "bsky"
platform = "bluesky"
[accounts.bluesky]
handle = "memebot.bsky.social"
session_file = "state/bsky-session.txt"
""")
    cfg = load_config(path)
    account = cfg.accounts[0]
    assert account.bluesky is not None
    assert account.bluesky.session_file == tmp_path / "state" / "bsky-session.txt"
    pub = build_publisher(cfg, account, clock=lambda: NOW, environ={"MEMELOOP_BLUESKY_APP_PASSWORD": "pw-123456"})
    assert isinstance(pub, BlueskyPublisher)
    with pytest.raises(ConfigError, match="MEMELOOP_BLUESKY_APP_PASSWORD"):
        build_publisher(cfg, account, clock=lambda: NOW, environ={})
