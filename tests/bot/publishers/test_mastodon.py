"""MastodonPublisher beyond the shared contract: what it sends (Idempotency-Key, visibility,
spoiler text, description, in_reply_to_id), the bounded media wait, the server's limits, deleted
posts, history pages, and the factory. Mastodon.py and requests run for real over responses fakes."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
import responses
from PIL import Image

from bot.config import load_config
from bot.errors import ConfigError
from bot.publishers.base import AuthError, PermanentPublishError, TransientPublishError
from bot.publishers.factory import build_publisher
from bot.publishers.mastodon import MastodonPublisher, html_to_text
from generator.platforms import mastodon_length, prepare
from tests.bot.publishers import mastodon_http as md
from tests.bot.publishers.prepared import prepared

NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
TEXT = "when the build is green on friday #devlife"


@pytest.fixture
def rsps():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as r:
        yield r


def _form(request) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    body = request.body.decode() if isinstance(request.body, bytes) else request.body
    return parse_qs(body or "")


def test_status_carries_marker_as_idempotency_key_and_the_configured_options(rsps):
    md.instance(rsps)
    md.upload(rsps)
    md.create(rsps, text=TEXT)
    pub = md.publisher(lambda: NOW, visibility="unlisted", spoiler_text="meme")
    result = pub.publish(prepared(TEXT, platform="mastodon"), marker="ml-0042", reply_to="113000000000000000")
    assert result.remote_id == "113000000000000001"
    assert result.url == f"{md.INSTANCE}/@memebot/113000000000000001"
    upload = next(c.request for c in rsps.calls if c.request.url.endswith("/api/v2/media"))
    assert b'name="description"' in upload.body and f"meme: {TEXT}".encode() in upload.body
    create = next(c.request for c in rsps.calls if c.request.url.endswith("/api/v1/statuses"))
    assert create.headers["Idempotency-Key"] == "ml-0042"
    assert create.headers["Authorization"] == f"Bearer {md.TOKEN}"
    form = _form(create)
    assert form["status"] == [TEXT] and form["visibility"] == ["unlisted"] and form["spoiler_text"] == ["meme"]
    assert form["in_reply_to_id"] == ["113000000000000000"] and form["media_ids[]"] == ["22348641"]


def test_instance_limits_are_read_once_per_publisher_and_checked_before_upload(rsps):
    md.instance(rsps, max_characters=20)
    pub = md.publisher(lambda: NOW)
    for _ in range(2):
        with pytest.raises(PermanentPublishError, match="allows 20"):
            pub.publish(prepared(TEXT, platform="mastodon"), marker="ml-1")
    assert [c.request.url for c in rsps.calls] == [f"{md.INSTANCE}/api/v2/instance/"]  # once; nothing uploaded


def test_media_still_processing_is_polled_then_posted(rsps):
    md.instance(rsps)
    md.upload(rsps, processed=False)
    rsps.add(responses.GET, f"{md.INSTANCE}/api/v1/media/22348641", status=206, json=md.media(processed=False))
    rsps.add(responses.GET, f"{md.INSTANCE}/api/v1/media/22348641", json=md.media())
    md.create(rsps, text=TEXT)
    sleeps: list[float] = []
    pub = md.publisher(lambda: NOW, sleep=sleeps.append)
    assert pub.publish(prepared(TEXT, platform="mastodon"), marker="ml-2").remote_id
    assert len(sleeps) == 2


def test_media_wait_is_bounded_and_nothing_is_posted(rsps):
    md.instance(rsps)
    md.upload(rsps, processed=False)
    rsps.add(responses.GET, f"{md.INSTANCE}/api/v1/media/22348641", status=206, json=md.media(processed=False))
    pub = md.publisher(lambda: NOW, media_wait=0.0)
    with pytest.raises(TransientPublishError, match="still processing") as info:
        pub.publish(prepared(TEXT, platform="mastodon"), marker="ml-3")
    assert info.value.maybe_sent is False
    assert not any(c.request.url.endswith("/api/v1/statuses") for c in rsps.calls)


@pytest.mark.parametrize(("code", "error", "expected"), [
    (403, "This action is outside the authorized scopes", AuthError),
    (422, "Validation failed: Text character limit of 500 exceeded", PermanentPublishError),
])
def test_refusals_map_to_our_errors(rsps, code, error, expected):
    md.instance(rsps)
    md.upload(rsps)
    md.create(rsps, code=code, json=md.error(error))
    with pytest.raises(expected) as info:
        md.publisher(lambda: NOW).publish(prepared(TEXT, platform="mastodon"), marker="ml-4")
    assert error in str(info.value) and md.TOKEN not in str(info.value)


def test_deleted_status_is_left_out_of_metrics(rsps):
    alive = md.status("113000000000000001", TEXT, NOW, favourites=7, reblogs=2, replies=1)
    md.get_status(rsps, alive)
    md.gone(rsps, "113000000000000002")
    readings = md.publisher(lambda: NOW).fetch_metrics(["113000000000000002", "113000000000000001"], now=NOW)
    assert [(r.remote_id, r.likes, r.reposts, r.replies, r.quotes, r.impressions) for r in readings] == [
        ("113000000000000001", 7, 2, 1, None, None)]
    json.dumps(readings[0].raw)  # stored as JSON


def test_find_recent_stops_at_since_and_reads_html_text(rsps):
    md.me(rsps)
    md.timeline(rsps, [md.status("3", "newest #devlife", NOW), md.status("2", "older & wiser", NOW - timedelta(hours=1)),
                       md.status("1", "too old", NOW - timedelta(days=3))])
    recent = md.publisher(lambda: NOW).find_recent(since=NOW - timedelta(hours=2), limit=10)
    assert [(p.remote_id, p.text) for p in recent] == [("3", "newest #devlife"), ("2", "older & wiser")]


def test_fetch_history_pages_with_max_id(rsps):
    md.me(rsps)
    first = [md.status(str(100 - i), f"post {i}", NOW - timedelta(hours=i)) for i in range(40)]
    md.timeline(rsps, first)
    pub = md.publisher(lambda: NOW)
    page = pub.fetch_history(since=None, cursor=None, limit=40)
    assert len(page.items) == 40 and page.next_cursor == "61"
    assert page.items[0].likes == 3 and page.items[0].media_count == 1 and page.items[0].quotes is None
    rsps.replace(responses.GET, f"{md.INSTANCE}/api/v1/accounts/{md.ACCOUNT_ID}/statuses",
                 json=[md.status("60", "post 40", NOW - timedelta(hours=40))])
    last = pub.fetch_history(since=None, cursor=page.next_cursor, limit=40)
    assert [i.remote_id for i in last.items] == ["60"] and last.next_cursor is None
    assert "max_id=61" in rsps.calls[-1].request.url
    assert pub.fetch_history(since=NOW - timedelta(hours=30), cursor=None, limit=40).next_cursor is None


def test_html_to_text_keeps_paragraphs_links_and_entities():
    html = ('<p>first &amp; line<br />second</p><p>see <a href="https://example.com/a/very/long/path">'
            '<span class="invisible">https://</span><span class="ellipsis">example.com/a/very/lo</span>'
            '<span class="invisible">ng/path</span></a></p>')
    assert html_to_text(html) == "first & line\nsecond\n\nsee https://example.com/a/very/long/path"


def test_preflight_counts_urls_as_23_and_trims_to_the_server_limit():
    assert mastodon_length("look https://example.com/" + "a" * 100) == len("look ") + 23
    assert mastodon_length("hi @bob@mastodon.social") == len("hi @bob")
    post = prepare("mastodon", Image.new("RGB", (640, 480), "white"), "word " * 200, max_characters=100)
    assert mastodon_length(post.text) <= 100 and any("trimmed" in c for c in post.changes)
    assert post.mime == "image/png" and len(post.alt_text) <= 1500
    small = prepare("mastodon", Image.effect_noise((900, 900), 90).convert("RGB"), "x", max_bytes=200_000)
    assert len(small.media) <= 200_000 and small.mime == "image/jpeg"


def _config(tmp_path, section: str):
    path = tmp_path / "config.toml"
    path.write_text(f"""
[storage]
url = "sqlite:///{tmp_path}/db.sqlite"
[[accounts]]
name = "md"
platform = "mastodon"
{section}
""")
    return load_config(path)


def test_factory_builds_it_from_config_and_secrets(tmp_path):
    cfg = _config(tmp_path, '[accounts.mastodon]\ninstance_url = "https://social.example"\nvisibility = "unlisted"')
    account = cfg.accounts[0]
    pub = build_publisher(cfg, account, clock=lambda: NOW, environ={"MEMELOOP_MASTODON_ACCESS_TOKEN": "tok-123456"})
    assert isinstance(pub, MastodonPublisher) and pub.visibility == "unlisted"
    assert "tok-123456" not in repr(vars(pub))
    with pytest.raises(ConfigError, match="MEMELOOP_MASTODON_ACCESS_TOKEN"):
        build_publisher(cfg, account, clock=lambda: NOW, environ={})


def test_config_needs_the_instance_url(tmp_path):
    with pytest.raises(ConfigError, match="instance_url"):
        _config(tmp_path, "")
