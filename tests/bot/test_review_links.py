"""Review links over plain HTTP and the `memeloop links` commands: an editor makes a link for a
candidate, thread or post; its holder, without an account, sees the preview and approves or rejects
once with a comment, through the same use cases and audit log; a used, revoked, expired or unknown
link says so. Real App, real SQLite, real rows."""
from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from starlette.testclient import TestClient

from bot.web.auth import LoginLimiter, OneTimeToken
from bot.web.server import create_web
from feedback.models import Review, ReviewLink
from tests.bot.web_helpers import PASSWORD, TOKEN, found, login, make_site
from tests.conftest import FakeClock
from tests.feedback import feedback_rows as rows


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(datetime(2026, 12, 6, 8, 0, tzinfo=UTC))


@pytest.fixture
def site(write_config, tmp_path, clock, wall):
    s = make_site(write_config, tmp_path, clock, ("first beam", "second beam", "the client's meme"))
    s.client = TestClient(create_web(s.app, token=OneTimeToken(TOKEN), limiter=LoginLimiter(clock=lambda: 0.0),
                                     wall=wall))
    s.app.add_web_user("eve", PASSWORD, role="editor")
    assert login(s.client, "eve").status_code == 303
    yield s
    s.app.close()


def csrf(client: TestClient) -> str:
    return found(r'name="csrf-token" content="([^"]+)"', client.get("/board").text)


def make_link(site, kind: str, target: int, label: str = "client Ann", days: int = 7) -> str:
    page = site.client.post("/links", data={"csrf": csrf(site.client), "kind": kind, "target": str(target),
                                            "label": label, "days": str(days)})
    assert page.status_code == 201, page.text
    assert re.search(r"it expires \d{4}-\d\d-\d\dT\d\d:\d\d\+00:00\. Copy it now", page.text)  # the one format
    return found(r'value="(http://testserver/r/[^"]+)"', page.text).removeprefix("http://testserver")


def audit(site, candidate_id: int) -> list[tuple[str, str, str | None]]:
    with site.app.tx() as s:
        return [(r.action, r.actor, r.reason) for r in
                s.scalars(select(Review).where(Review.candidate_id == candidate_id).order_by(Review.id))]


def test_a_client_approves_a_candidate_once_with_a_comment(site):
    url = make_link(site, "candidate", site.ids[2])
    token = url.removeprefix("/r/")
    with site.app.tx() as s:  # only the hash is stored
        stored = s.scalars(select(ReviewLink.token_hash)).all()
    assert stored == [hashlib.sha256(token.encode()).hexdigest()] and len(token) >= 40
    holder = TestClient(site.client.app)  # no account, no session
    page = holder.get(url)
    assert page.status_code == 200 and "the client&#39;s meme" in page.text and "client Ann" in page.text
    assert page.headers["x-robots-tag"].startswith("noindex")
    assert holder.get(f"{url}/image").headers["content-type"] == "image/png"
    version = found(r'name="version" value="(\d+)"', page.text)
    done = holder.post(url, data={"decision": "approve", "comment": "love it", "version": version})
    assert done.status_code == 200 and re.search(r"Approved; it is scheduled for \d{4}-\d\d-\d\dT\d\d:\d\d\+00:00\.",
                                                  done.text)
    assert site.app.candidate(site.ids[2]).status == "approved"
    assert audit(site, site.ids[2]) == [("approve", "link:client Ann", 'approved by review link "client Ann": love it')]
    for again in (holder.get(url), holder.post(url, data={"decision": "reject"}), holder.get(f"{url}/image")):
        assert again.status_code == 410 and "already used: it was approved" in again.text
    assert site.app.candidate(site.ids[2]).status == "approved"
    listed = site.client.get("/links").text
    assert "used" in listed and "love it" in listed and token not in listed


def test_a_client_rejects_a_scheduled_post_and_it_is_cancelled(site):
    post_id = site.app.approve(site.ids[0], actor="eve").post_id
    url = make_link(site, "post", post_id, label="manager")
    holder = TestClient(site.client.app)
    page = holder.get(url)
    assert page.status_code == 200 and f"post {post_id} on demo" in page.text
    done = holder.post(url, data={"decision": "reject", "comment": "not on a monday"})
    assert done.status_code == 200 and "Rejected" in done.text
    assert site.app.post_detail(post_id).state == "cancelled"
    assert audit(site, site.ids[0])[-1][:2] == ("cancel", "link:manager")
    assert "not on a monday" in (audit(site, site.ids[0])[-1][2] or "")


def test_approving_a_post_keeps_it_scheduled_and_records_who(site):
    post_id = site.app.approve(site.ids[0], actor="eve").post_id
    url = make_link(site, "post", post_id, label="manager")
    done = TestClient(site.client.app).post(url, data={"decision": "approve"})
    assert done.status_code == 200 and "Approved" in done.text
    assert site.app.post_detail(post_id).state == "scheduled"
    assert audit(site, site.ids[0])[-1][:2] == ("approve", "link:manager")


def test_a_thread_link_shows_each_part_and_approves_the_thread(site):
    with site.app.tx() as s:
        story = rows.candidate(s, now=site.app.clock(), text="part one\n\npart two\n\npart three",
                               account_id=site.app.account_ids["demo"], generator="story").id
    url = make_link(site, "thread", story)
    page = TestClient(site.client.app).get(url)
    assert page.status_code == 200 and page.text.count('<li class="text">') == 3
    assert TestClient(site.client.app).post(url, data={"decision": "approve"}).status_code == 200
    assert site.app.candidate(story).status == "approved"
    refused = site.client.post("/links", data={"csrf": csrf(site.client), "kind": "thread",
                                               "target": str(site.ids[0]), "label": "x"})
    assert refused.status_code == 400 and "not a story thread" in refused.text


def test_expired_revoked_and_unknown_links_say_so(site, wall):
    expiring = make_link(site, "candidate", site.ids[0], days=1)
    revoked = make_link(site, "candidate", site.ids[1])
    holder = TestClient(site.client.app)
    link_id = max(r.id for r in site.app.review_links())
    assert site.client.post(f"/links/{link_id}/revoke", data={"csrf": csrf(site.client)}).status_code == 200
    wall.advance(days=1, seconds=1)
    got = holder.get(expiring)
    assert got.status_code == 410 and "This review link has expired" in got.text
    assert holder.post(expiring, data={"decision": "approve"}).status_code == 410
    assert login(site.client, "eve").status_code == 303  # a day later: the editor's session was idle
    got = holder.get(revoked)
    assert got.status_code == 410 and "withdrawn" in got.text
    assert site.client.post(f"/links/{link_id}/revoke", data={"csrf": csrf(site.client)}).status_code == 409
    unknown = holder.get("/r/" + "x" * 43)
    assert unknown.status_code == 404 and "not valid" in unknown.text
    assert [site.app.candidate(i).status for i in site.ids[:2]] == ["pending", "pending"]


def test_a_decision_the_lifecycle_refuses_leaves_the_link_usable(site):
    url = make_link(site, "candidate", site.ids[2])
    holder = TestClient(site.client.app)
    version = found(r'name="version" value="(\d+)"', holder.get(url).text)
    site.app.edit(site.ids[2], actor="eve", text="edited meanwhile")  # the holder saw the old text
    stale = holder.post(url, data={"decision": "approve", "version": version})
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    site.app.reject(site.ids[2], actor="eve", reason="no")
    refused = holder.post(url, data={"decision": "approve"})
    assert refused.status_code == 409 and "rejected" in refused.text
    assert [r.state(datetime.now(UTC)) for r in site.app.review_links()] == ["open"]
    long = holder.post(url, data={"decision": "reject", "comment": "x" * 501})
    assert long.status_code == 400 and "limit is 500" in long.text
    bad = holder.post(url, data={"decision": "maybe"})
    assert bad.status_code == 400 and "approve or reject" in bad.text


def test_a_link_from_another_site_is_refused(site):
    url = make_link(site, "candidate", site.ids[2])
    holder = TestClient(site.client.app)
    got = holder.post(url, data={"decision": "approve"}, headers={"Origin": "https://evil.example"})
    assert got.status_code == 403 and site.app.candidate(site.ids[2]).status == "pending"


def test_bad_link_requests_name_the_problem(site):
    token = csrf(site.client)
    for data, words in (({"kind": "album", "target": "1", "label": "x"}, "album"),
                        ({"kind": "candidate", "target": "9999", "label": "x"}, "9999"),
                        ({"kind": "candidate", "target": "1", "label": ""}, "label is empty"),
                        ({"kind": "candidate", "target": "1", "label": "x", "days": "365"}, "out of range")):
        got = site.client.post("/links", data={"csrf": token, **data})
        assert got.status_code in (400, 404) and words in got.text, (data, got.text[-400:])


def test_links_commands(site, run_cli, wall):
    config = str(site.tmp / "config.toml")
    made = run_cli("--config", config, "links", "create", "candidate", str(site.ids[1]), "--label", "boss",
                   "--base-url", "https://memes.example")
    assert made.code == 0 and "shown only this once" in made.err
    url = made.out.strip()
    assert re.fullmatch(r"https://memes\.example/r/[A-Za-z0-9_-]{40,}", url)
    listed = run_cli("--config", config, "links", "list", "--json")
    assert listed.code == 0 and '"label": "boss"' in listed.out and '"state": "open"' in listed.out
    assert url.rsplit("/", 1)[1] not in listed.out
    link_id = site.app.review_links()[0].id
    assert run_cli("--config", config, "links", "revoke", str(link_id)).code == 0
    again = run_cli("--config", config, "links", "revoke", str(link_id))
    assert again.code == 1 and "revoked already" in again.err
    bad = run_cli("--config", config, "links", "create", "post", "999", "--label", "x")
    assert bad.code == 1 and "post 999 does not exist" in bad.err and "Traceback" not in bad.err
    wall.advance(days=1)
    token = url.rsplit("/", 1)[1]
    got = TestClient(site.client.app).get(f"/r/{token}")
    assert got.status_code == 410 and "withdrawn" in got.text


def test_viewers_cannot_make_links(site):
    site.app.add_web_user("vic", PASSWORD, role="viewer")
    viewer = TestClient(site.client.app)
    assert login(viewer, "vic").status_code == 303
    got = viewer.post("/links", data={"csrf": csrf(viewer), "kind": "candidate", "target": str(site.ids[0]),
                                      "label": "x"})
    assert got.status_code == 403 and not site.app.review_links()
    assert viewer.get("/links").status_code == 403


def test_two_holders_pressing_at_once_decide_once(site, wall):
    from concurrent.futures import ThreadPoolExecutor

    from bot.service.review_links import LinkGone

    made = site.app.create_review_link("candidate", site.ids[2], label="two phones", actor="eve", now=wall())

    def press(decision: str) -> str:
        try:
            site.app.decide_review_link(made.token, decision, comment=None, now=wall())
            return decision
        except LinkGone as exc:
            return exc.state

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(press, ["approve", "reject"] * 4))
    decided = [o for o in outcomes if o in ("approve", "reject")]
    assert len(decided) == 1 and outcomes.count("used") == 7
    assert site.app.candidate(site.ids[2]).status == {"approve": "approved", "reject": "rejected"}[decided[0]]
    assert len([a for a in audit(site, site.ids[2]) if a[1] == "link:two phones"]) == 1
