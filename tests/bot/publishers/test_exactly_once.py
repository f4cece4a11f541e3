"""Exactly once under faults: the upload's answer is lost, then every read of the feed fails for a
while during reconciliation. The real instagrapi Client, our publisher and bot.service.publishing's claim /
reconcile machinery run for real over HTTP fakes; the post must reach Instagram once."""
from __future__ import annotations

import re

import requests
import responses

from bot.service import publishing
from feedback.repository import posts as posts_repo
from tests.bot.approving import approve_and_schedule
from tests.bot.publishers import ig_http
from tests.bot.publishers.apps import INSTAGRAM, add_candidates, make_app

RUPLOAD = re.compile(r"https://i\.instagram\.com/rupload_igphoto/.+")


def _state(app, post_id: int):
    with app.tx() as session:
        row = posts_repo.get_post(session, post_id)
        return row.state, row.remote_id


def test_failing_feed_reads_during_reconciliation_never_cause_a_second_post(tmp_path, clock, monkeypatch):
    monkeypatch.setenv("MEMELOOP_IG_PASSWORD", "pw-123456")
    app = make_app(tmp_path, clock, INSTAGRAM)
    app.publishers["igacct"] = ig_http.publisher(tmp_path, clock)
    (cand,) = add_candidates(app, ["when the build is green on friday"], account="igacct")
    (post,) = approve_and_schedule(app, [cand], actor="ann", at=clock())
    with ig_http.no_sleep(), ig_http.instagram_http() as rsps:
        ig_http.session_ok(rsps)
        ig_http.feed(rsps, [])  # the duplicate guard before the upload
        rsps.add(responses.POST, RUPLOAD, json={"status": "ok"})
        rsps.add(responses.POST, f"{ig_http.API}/media/configure/", body=requests.ConnectionError("reset"))
        assert publishing.publish_due(app, owner="w").unconfirmed == 1
        rsps.replace(responses.GET, f"{ig_http.API}/feed/user/{ig_http.USER_ID}/", status=500,
                     json=ig_http.load("instagram/server_error.json"))
        for _ in range(4):  # every feed read fails for a while: nothing is concluded, nothing re-sent
            clock.advance(minutes=10)
            assert publishing.reconcile_unconfirmed(app) == 0
            assert publishing.publish_due(app, owner="w").claimed == 0
            assert _state(app, post.id) == ("unconfirmed", None)
        item = ig_http.media_item("3300000000000000077", "when the build is green on friday", clock())
        rsps.replace(responses.GET, f"{ig_http.API}/feed/user/{ig_http.USER_ID}/",
                     json={"items": [item], "status": "ok"})
        clock.advance(minutes=10)
        assert publishing.reconcile_unconfirmed(app) == 1
        assert publishing.publish_due(app, owner="w").claimed == 0
        assert ig_http.calls(rsps, "media/configure") == 1 and ig_http.calls(rsps, "rupload") == 1
        assert ig_http.calls(rsps, "/feed/user/") >= 6
    assert _state(app, post.id) == ("published", "3300000000000000077")
    app.close()
