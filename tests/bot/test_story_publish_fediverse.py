"""Story threads on Bluesky and Mastodon through the real publishing service: a reply chain, and a
thread whose third part fails after it may have gone out (a cut connection on Bluesky): the part is
found by reconciliation and never sent twice. The platforms are HTTP-level fakes."""
from __future__ import annotations

import json

import httpx
import pytest
import responses

from bot.service import publishing
from tests.bot.approving import approve_and_schedule
from tests.bot.publishers import bsky_http as bs
from tests.bot.publishers import mastodon_http as md
from tests.bot.publishers.apps import make_app
from tests.bot.test_story_publish import PARTS, _parts, add_thread

BLUESKY = """
[[accounts]]
name = "bsky"
platform = "bluesky"
[accounts.bluesky]
handle = "memebot.bsky.social"
"""
MASTODON = """
[[accounts]]
name = "md"
platform = "mastodon"
[accounts.mastodon]
instance_url = "https://social.example"
"""
CREATE = "com.atproto.repo.createRecord"


@pytest.fixture
def bsky(tmp_path, clock):
    app = make_app(tmp_path, clock, BLUESKY)
    pds = bs.FakePDS()
    app.publishers["bsky"] = bs.publisher(pds, tmp_path, clock)  # the real publisher over the fake PDS
    yield app, pds
    app.close()


def _texts(pds) -> list[dict]:
    return [json.loads(r.content)["record"] for r in pds.calls(CREATE)]


def test_bluesky_thread_third_part_cut_off_is_reconciled_not_resent(bsky, clock):
    app, pds = bsky
    post = approve_and_schedule(app, [add_thread(app, account="bsky")], actor="ann", at=clock())[0]

    def cut(request: httpx.Request) -> httpx.Response:
        pds.default(CREATE, request)  # the PDS wrote part 3, then the connection dropped
        raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)

    pds.queues[CREATE].extend([lambda r: pds.default(CREATE, r)] * 2 + [cut])
    assert publishing.publish_due(app.deps, owner="w").unconfirmed == 1
    assert [s for _, s, _ in _parts(app, post.id)] == ["published", "published", "sending"]
    records = _texts(pds)
    assert [r["text"] for r in records] == [f"{p} ({i}/3)" for i, p in enumerate(PARTS, start=1)]
    assert "embed" in records[0] and records[1].get("embed") is None
    first, second = (pds.posts[-1]["uri"], pds.posts[-2]["uri"])
    assert records[2]["reply"]["root"]["uri"] == first and records[2]["reply"]["parent"]["uri"] == second
    clock.advance(minutes=6)
    assert publishing.reconcile_unconfirmed(app.deps) == 1
    assert publishing.publish_due(app.deps, owner="w").claimed == 0  # nothing left to send
    assert len(pds.calls(CREATE)) == 3  # part 3 was found on the account, never sent again
    assert [r for _, _, r in _parts(app, post.id)] == [p["uri"] for p in reversed(pds.posts)]
    assert len(pds.calls("com.atproto.server.createSession")) == 1  # one login for the whole thread


def test_mastodon_thread_is_a_reply_chain(tmp_path, clock, monkeypatch):
    monkeypatch.setenv("MEMELOOP_MASTODON_ACCESS_TOKEN", md.TOKEN)
    app = make_app(tmp_path, clock, MASTODON)
    try:
        with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
            post = approve_and_schedule(app, [add_thread(app, account="md")], actor="ann", at=clock())[0]
            md.instance(rsps)
            md.upload(rsps)
            for status_id in ("501", "502", "503"):
                md.create(rsps, status_id=status_id)
            assert publishing.publish_due(app.deps, owner="w").published == 1
            creates = [c.request for c in rsps.calls if (c.request.url or "").endswith("/api/v1/statuses")]
            forms = [md_form(c) for c in creates]
            assert [f["status"][0] for f in forms] == [f"{p} ({i}/3)" for i, p in enumerate(PARTS, start=1)]
            assert [f.get("in_reply_to_id", [None])[0] for f in forms] == [None, "501", "502"]
            assert "media_ids[]" in forms[0] and "media_ids[]" not in forms[1]
            keys = [c.headers["Idempotency-Key"] for c in creates]
            assert len(set(keys)) == 3  # one marker per part
            assert [r for _, _, r in _parts(app, post.id)] == ["501", "502", "503"]
    finally:
        app.close()


def md_form(request) -> dict[str, list[str]]:
    from urllib.parse import parse_qs

    return parse_qs(request.body if isinstance(request.body, str) else request.body.decode())
