"""The web admin's Notifications page over plain HTTP: the outbox as `memeloop notify list` has it, last
errors with secrets scrubbed, a "Send test" button against a local receiver (tests/bot/webhook_server.py),
admins only. Real App, real SQLite, the real outbox and HTTP client."""
from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from starlette.testclient import TestClient

from bot.service import notify
from feedback.repository import notifications as notices
from feedback.repository import posts as posts_repo
from tests.bot.web_helpers import PASSWORD, login, make_site
from tests.bot.webhook_server import receiver

SECRET = "whsec-web-page-secret-456"


def config(url: str) -> str:
    return ('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n\n'
            '[[accounts]]\nname = "demo"\nplatform = "outbox"\n\n'
            f'[notifications]\nbackoff = "30s"\n[[notifications.webhooks]]\nname = "ops"\nformat = "json"\nurl = "{url}"\nevents = ["post_failed"]\n')


def said(html: str) -> str:
    found = re.findall(r'class="message [^"]*"[^>]*>([^<]*)<', html)
    return unescape(found[0] if found else "")


def cells(html: str) -> list[list[str]]:
    body = html.split("<tbody>", 1)[1].split("</tbody>", 1)[0]
    return [[unescape(re.sub(r"<[^>]+>", "", c)) for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.DOTALL)]
            for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.DOTALL)]


@pytest.fixture
def hook():
    with receiver(500, 200) as r:
        yield r


@pytest.fixture
def site(write_config, tmp_path, clock, monkeypatch, hook):
    monkeypatch.setenv("MEMELOOP_WEBHOOK_OPS_SECRET", SECRET)
    s = make_site(lambda: write_config(config(hook.url)), tmp_path, clock, ("first", "second"))
    yield s
    s.app.close()


def _failed_post(site, clock) -> int:
    post_id = site.app.approve(site.ids[0], actor="ann", at=clock()).post_id
    with site.app.tx() as s:
        assert posts_repo.claim_due(s, owner="w", now=clock(), lease=timedelta(minutes=5))
        assert posts_repo.mark_failed(s, post_id, owner="w", error_class="permanent", error="HTTP 403: no",
                                      now=clock())
    return post_id


def test_the_outbox_is_listed_with_its_delivery_state_and_secrets_scrubbed(site, clock):
    _failed_post(site, clock)
    summary = notify.run(site.app.deps)  # the receiver answers 500: retried in 30 s
    assert (summary.stored, summary.retried) == (1, 1)
    page = site.client.get("/notifications")
    assert page.status_code == 200 and '<a href="/notifications" class="active"' in page.text
    (row,) = cells(page.text)
    assert row[1:] == ["post_failed", "ops (json)", "pending", "1", "2026-01-05T12:00+00:00",
                       "2026-01-05T12:00+00:00", "HTTP 500"]  # next try: now + the 30 s backoff, to the minute
    (stored,) = site.app.notices()
    with site.app.tx() as s:  # an error that echoed the signing secret (a receiver's, or from before it was one)
        notices.retry(s, stored.id, at=clock() + timedelta(minutes=5), error=f"refused: bad signature {SECRET}")
    page = site.client.get("/notifications").text
    assert SECRET not in page and "refused: bad signature ***" in cells(page)[0][7]
    assert cells(site.client.get("/notifications?state=sent").text) == [["No notices in state sent."]]
    assert site.client.get("/notifications?state=lost").status_code == 400


def test_send_test_posts_a_test_notice_and_says_what_each_webhook_answered(site, hook):
    first = site.post("/notifications/test", {"webhook": ""}, fragment=False)
    assert first.status_code == 303 and first.headers["location"] == "/notifications"
    page = site.client.get("/notifications").text
    assert said(page) == "test notice: ops: FAILED (HTTP 500)" and 'class="message error"' in page
    again = site.post("/notifications/test", {"webhook": "ops"}, fragment=False)
    assert again.status_code == 303 and said(site.client.get("/notifications").text) == "test notice: ops: ok (HTTP 200)"
    assert [r.json()["event"] for r in hook.received] == ["test", "test"]
    assert site.app.notices() == []  # a test notice skips the outbox
    unknown = site.post("/notifications/test", {"webhook": "nope"}, fragment=False)
    assert unknown.status_code == 400 and "no webhook named 'nope'" in unescape(unknown.text) and len(hook.received) == 2


def test_only_admins_see_the_page_and_its_link(site, hook):
    site.app.add_web_user("eve", PASSWORD, role="editor")
    editor = TestClient(site.client.app)
    assert login(editor, "eve").status_code == 303
    assert 'href="/notifications"' not in editor.get("/board").text
    assert 'href="/notifications"' in site.client.get("/board").text
    assert editor.get("/notifications").status_code == 403
    assert hook.received == []
