"""The web admin over plain HTTP (Starlette's TestClient): every route, every error page, and the
obvious attacks. Real App, real SQLite, real rows; nothing of ours is faked."""
from __future__ import annotations

import io
import json
import re
from datetime import timedelta

import pytest
from PIL import Image
from starlette.testclient import TestClient

from bot.web.auth import LoginLimiter, OneTimeToken, hash_password, verify_password
from bot.web.server import create_web
from feedback.repository import accounts as account_repo
from feedback.repository import posts as posts_repo
from tests.bot.web_helpers import PASSWORD, TOKEN, found, login, make_site
from tests.feedback import feedback_rows as rows

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


@pytest.fixture
def site(write_config, tmp_path, clock):
    s = make_site(write_config, tmp_path, clock, ("first beam", "second beam", f"caption {XSS}", "plain one"))
    yield s
    s.app.close()


def messages(html: str) -> list[str]:
    return re.findall(r'class="message [^"]*"[^>]*>([^<]*)<', html)


# -- login, sessions, CSRF ------------------------------------------------------------------------------

def test_login_sets_a_strict_httponly_cookie_and_a_fresh_session_id(site):
    client = TestClient(site.client.app)
    first = client.get("/login")
    assert first.status_code == 200
    before = client.cookies.get("memeloop_session")
    done = login(client)
    assert done.status_code == 303 and done.headers["location"] == "/board"
    cookie = done.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.cookies.get("memeloop_session") != before  # no session fixation
    assert client.get("/board").status_code == 200


def test_wrong_password_unknown_user_and_rate_limit(site):
    times = [0.0]
    client = TestClient(create_web(site.app, limiter=LoginLimiter(attempts=3, window_s=60, clock=lambda: times[0])))
    assert login(client, password="nope nope").status_code == 401
    assert login(client, name="mallory").status_code == 401
    assert login(client, password="still wrong").status_code == 401
    blocked = login(client)  # even the right password waits now
    assert blocked.status_code == 429 and "too many failed logins" in blocked.text
    times[0] = 61.0
    assert login(client).status_code == 303


def test_one_time_token_works_once_and_is_never_rendered(site):
    client = TestClient(create_web(site.app, token=OneTimeToken(TOKEN)))
    ok = login(client, name="", password="", token=TOKEN)
    assert ok.status_code == 303
    page = client.get("/board")
    assert page.status_code == 200 and "web-token" in page.text and TOKEN not in page.text
    again = TestClient(create_web(site.app, token=OneTimeToken(TOKEN)))
    assert login(again, name="", password="", token="wrong").status_code == 401
    reused = TestClient(client.app)
    assert login(reused, name="", password="", token=TOKEN).status_code == 401


def test_the_printed_one_time_link_logs_in_once(site):
    client = TestClient(create_web(site.app, token=OneTimeToken(TOKEN)))
    done = client.get(f"/login?token={TOKEN}", follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/board"
    assert client.get("/board").status_code == 200
    other = TestClient(client.app)
    used = other.get(f"/login?token={TOKEN}", follow_redirects=False)
    assert used.status_code == 401 and TOKEN not in used.text and "was used" in used.text


def test_login_redirects_only_to_local_paths(site):
    client = TestClient(site.client.app)
    assert login(client, nxt="https://evil.example/").headers["location"] == "/board"
    client = TestClient(site.client.app)
    assert login(client, nxt="//evil.example/").headers["location"] == "/board"
    client = TestClient(site.client.app)
    assert login(client, nxt="/schedule").headers["location"] == "/schedule"


def test_login_needs_the_login_forms_csrf_token(site):
    client = TestClient(site.client.app)
    client.get("/login")
    forged = client.post("/login", data={"csrf": "forged", "name": "ann", "password": PASSWORD})
    assert forged.status_code == 403
    fresh = TestClient(site.client.app)  # no session at all
    assert fresh.post("/login", data={"name": "ann", "password": PASSWORD}).status_code == 403


def test_no_session_redirects_pages_and_refuses_actions(site):
    anon = TestClient(site.client.app)
    page = anon.get("/board", follow_redirects=False)
    assert page.status_code == 303 and page.headers["location"] == "/login?next=/board"
    for url in ("/board/1/approve", "/board/1/reject", "/board/1/edit", "/posts/1/cancel", "/accounts/demo/resume"):
        refused = anon.post(url, data={"version": "1", "text": "x", "reason": "x"}, follow_redirects=False)
        assert refused.status_code == 403, url
    assert anon.get("/media/candidate/1", follow_redirects=False).status_code == 303
    assert site.candidate(site.ids[0]).status == "pending"


def test_forged_or_missing_csrf_token_changes_nothing(site):
    cid = site.ids[0]
    forged = site.post(f"/board/{cid}/approve", {"version": "1"}, csrf="forged-token")
    assert forged.status_code == 403 and "security token" in forged.text
    missing = site.client.post(f"/board/{cid}/reject", data={"version": "1", "reason": "x"})
    assert missing.status_code == 403
    assert site.candidate(cid).status == "pending" and site.app.posts() == []


def test_logout_ends_the_session(site):
    assert site.post("/logout", {}, fragment=False).status_code == 303
    assert site.client.get("/board", follow_redirects=False).status_code == 303


def test_sessions_expire_and_anonymous_ones_are_pruned():
    from bot.web.auth import Sessions

    now = [0.0]
    sessions = Sessions(clock=lambda: now[0], idle_s=100, max_sessions=4)
    kept, _ = sessions.new("ann")
    for _ in range(10):  # a flood of login-page visits
        sessions.new()
    still = sessions.get(kept)
    assert still is not None and still.user == "ann" and len(sessions._by_id) <= 4
    now[0] = 201.0
    assert sessions.get(kept) is None


def test_passwords_are_stored_as_salted_scrypt_hashes(site):
    stored = hash_password("hunter22")
    assert stored.startswith("scrypt$") and "hunter22" not in stored and stored != hash_password("hunter22")
    assert verify_password("hunter22", stored) and not verify_password("hunter23", stored)
    assert not verify_password("x", "garbage")
    assert site.app.check_web_login("ann", PASSWORD) and not site.app.check_web_login("ann", "wrong")


# -- the review board -----------------------------------------------------------------------------------

def test_board_lists_cards_with_image_score_explanation_and_siblings(site):
    page = site.client.get("/board")
    assert page.status_code == 200
    assert page.text.count("data-card") == 4 and "4 candidates" in page.text
    assert "template=cat" in page.text and "+0.250" in page.text
    assert f'href="/board/card/{site.ids[1]}" data-fragment' in page.text  # sibling beam of the first
    image = site.client.get(f"/media/candidate/{site.ids[0]}")
    assert image.status_code == 200 and image.headers["content-type"] == "image/png"


def test_board_filters_and_pages(site):
    assert site.client.get("/board?generator=post").text.count("data-card") == 0
    assert site.client.get("/board?template=cat&account=demo").text.count("data-card") == 4
    assert "no such" not in site.client.get("/board?status=rejected").text
    bad = site.client.get("/board?status=nonsense")
    assert bad.status_code == 400 and "unknown status" in bad.text
    assert site.client.get("/board?page=0").status_code == 400
    assert site.client.get("/board?page=abc").status_code == 400
    page = site.app.board(__import__("bot.service.web_queries", fromlist=["BoardFilter"]).BoardFilter(), limit=3, offset=3)
    assert page.total == 4 and [c.id for c in page.cards] == [site.ids[3]]


def test_caption_xss_is_escaped_everywhere(site):
    cid = site.ids[2]
    for url in ("/board", f"/board/card/{cid}", "/schedule/slot?account=demo&at=2026-01-06T09:00"):
        text = site.client.get(url).text
        assert "<script>alert" not in text and "&lt;script&gt;alert" in text
        assert "<img src=x" not in text
    site.app.approve(cid, actor="ann")
    post_id = site.app.posts()[0].id
    for url in ("/schedule?start=2026-01-05", "/schedule?start=2026-01-01&view=month", f"/posts/{post_id}", "/posts"):
        text = site.client.get(url).text
        assert "<script>alert" not in text and "&lt;script&gt;alert" in text, url


def test_the_generator_filter_offers_every_kind_and_filters_by_it(site):
    from bot.core.kinds import KINDS

    with site.app.tx() as s:
        story = rows.candidate(s, now=site.app.clock(), text="part one\n\npart two", generator="story",
                               account_id=site.app.account_ids["demo"]).id
    board = site.client.get("/board").text
    menu = found(r'<select name="generator">(.*?)</select>', board, re.DOTALL)
    assert re.findall(r"<option>(\w+)</option>", menu) == [k.kind.value for k in KINDS]
    assert {"photo", "textmeme", "story"} <= set(re.findall(r"<option>(\w+)</option>", menu))
    only = site.client.get("/board?generator=story").text
    assert f'id="card-{story}"' in only and f'id="card-{site.ids[0]}"' not in only
    assert '<option selected>story</option>' in only


def test_reason_xss_is_escaped(site):
    cid = site.ids[3]
    done = site.post(f"/board/{cid}/reject", {"version": "1", "reason": XSS})
    assert done.status_code == 200 and "<script>alert" not in done.text
    listed = site.client.get("/board?status=rejected").text
    assert "&lt;script&gt;alert" in listed and "<script>alert" not in listed


def test_approve_in_place_schedules_it_and_records_the_user(site):
    cid = site.ids[0]
    done = site.post(f"/board/{cid}/approve", {"version": "1", "at": "2026-01-06T09:30"})
    assert done.status_code == 200 and done.text.startswith("<article")  # a fragment, not a page
    assert "scheduled for 2026-01-06T09:30+00:00" in messages(done.text)[0]
    detail = site.candidate(cid)
    assert detail.status == "approved" and detail.history[-1].actor == "ann"
    schedule = site.client.get("/schedule?start=2026-01-05").text
    assert f'data-post="{detail.posts[0].id}"' in schedule and "09:30" in schedule


def test_approve_without_a_time_takes_the_next_slot_and_plain_form_posts_redirect(site):
    done = site.post(f"/board/{site.ids[3]}/approve", {"version": "1"}, fragment=False)
    assert done.status_code == 303
    assert site.candidate(site.ids[3]).posts[0].state == "scheduled"


def test_approve_into_a_chosen_free_slot(site):
    board = site.client.get("/board").text
    slots = re.findall(r'<option value="(\d{4}-[^"]+)">', board)[:4]  # the first card's choices
    assert len(slots) == 4 and slots == sorted(set(slots))
    done = site.post(f"/board/{site.ids[0]}/approve", {"version": "1", "slot": slots[2]})
    assert done.status_code == 200
    with site.app.tx() as s:
        post = posts_repo.get_post(s, site.candidate(site.ids[0]).posts[0].id)
    assert post.scheduled_at.isoformat() == slots[2]
    after = re.findall(r'<option value="(\d{4}-[^"]+)">', site.client.get("/board").text)
    assert after[0] > slots[2]  # the next free slot is after what is scheduled now


def test_reject_in_place_with_reason(site):
    cid = site.ids[1]
    done = site.post(f"/board/{cid}/reject", {"version": "1", "reason": "not funny"})
    assert done.status_code == 200 and messages(done.text)[0] == "rejected"
    detail = site.candidate(cid)
    assert detail.status == "rejected" and detail.history[-1].reason == "not funny"


def test_edit_rerenders_the_image(site):
    cid = site.ids[0]
    before = site.client.get(f"/media/candidate/{cid}").content
    done = site.post(f"/board/{cid}/edit", {"version": "1", "text": "A BRAND NEW CAPTION"})
    assert done.status_code == 200 and "re-rendered" in messages(done.text)[0]
    assert f"/media/candidate/{cid}?v=2" in done.text and "A BRAND NEW CAPTION" in done.text
    after = site.client.get(f"/media/candidate/{cid}").content
    assert after != before and Image.open(io.BytesIO(after)).size == (240, 180)
    assert site.candidate(cid).history[-1].actor == "ann"


def test_a_stale_page_gets_a_conflict_message_and_changes_nothing(site):
    cid = site.ids[0]
    site.app.edit(cid, actor="bob", text="bob was here")  # another reviewer, meanwhile
    for action, data in (("approve", {}), ("reject", {"reason": "meh"}), ("edit", {"text": "ann's text"})):
        stale = site.post(f"/board/{cid}/{action}", {"version": "1", **data})
        assert stale.status_code == 409, action
        assert "changed by someone else" in messages(stale.text)[0]
        assert 'name="version" value="2"' in stale.text  # the card now shows what is there
    detail = site.candidate(cid)
    assert detail.status == "pending" and detail.text == "bob was here" and detail.posts == []
    plain = site.post(f"/board/{cid}/approve", {"version": "1"}, fragment=False)
    assert plain.status_code == 409 and "changed by someone else" in plain.text


def test_a_refused_action_is_a_message(site):
    cid = site.ids[1]
    site.app.reject(cid, actor="bob", reason="no")
    again = site.post(f"/board/{cid}/approve", {"version": "2"})
    assert again.status_code == 409 and messages(again.text)


def test_unknown_ids_bad_dates_and_oversize_text(site):
    cid = site.ids[0]
    assert site.client.get("/board/card/999").status_code == 404
    assert site.client.get("/board/card/abc").status_code == 400
    assert site.client.get("/media/candidate/999").status_code == 404
    assert site.post("/board/999/approve", {"version": "1"}).status_code == 404
    assert site.post(f"/board/{cid}/approve", {"version": "x"}).status_code == 400
    bad = site.post(f"/board/{cid}/approve", {"version": "1", "at": "next tuesday"})
    assert bad.status_code == 400 and "is not a date and time" in messages(bad.text)[0]
    past = site.post(f"/board/{cid}/approve", {"version": "1", "at": "2020-01-01T10:00"})
    assert past.status_code == 400 and "in the past" in messages(past.text)[0]
    huge = site.post(f"/board/{cid}/edit", {"version": "1", "text": "x" * 5000})
    assert huge.status_code == 400 and "5000 characters long; the limit is 1000" in messages(huge.text)[0]
    empty = site.post(f"/board/{cid}/edit", {"version": "1", "text": "   "})
    assert empty.status_code == 400
    body = site.post(f"/board/{cid}/edit", {"version": "1", "text": "y" * 70_000})
    assert body.status_code == 413
    detail = site.candidate(cid)
    assert detail.status == "pending" and detail.text == "first beam" and detail.version == 1


def test_sibling_swap_returns_the_siblings_card(site):
    card = site.client.get(f"/board/card/{site.ids[1]}", headers={"X-Fragment": "1"})
    assert card.status_code == 200 and card.text.startswith("<article") and "second beam" in card.text
    assert f'href="/board/card/{site.ids[0]}"' in card.text
    whole = site.client.get(f"/board/card/{site.ids[1]}")  # the link followed without JavaScript
    assert whole.status_code == 200 and whole.text.startswith("<!doctype html>") and "<h1>Candidate #" in whole.text
    assert 'data-action="approve"' in whole.text and "second beam" in whole.text


# -- schedule, posts, accounts ------------------------------------------------------------------------

def _scheduled(site, cid: int | None = None) -> int:
    return site.app.approve(cid or site.ids[3], actor="ann", at=site.app.clock() + timedelta(hours=2)).post_id


def test_post_page_previews_x_and_instagram(site):
    post_id = _scheduled(site)
    page = site.client.get(f"/posts/{post_id}")
    assert page.status_code == 200
    assert "weighted length 9 / 280" in page.text and "alt text: Meme on the &#34;" in page.text  # the alt publishing sends (generator.alttext)
    assert "0 hashtags (this account allows 5)" in page.text
    assert "Mastodon: 9 / 500 characters" in page.text and "Bluesky: 9 / 300 graphemes" in page.text
    ig = site.client.get(f"/posts/{post_id}/instagram.jpg")
    assert ig.status_code == 200 and ig.headers["content-type"] == "image/jpeg"
    w, h = Image.open(io.BytesIO(ig.content)).size
    assert 0.8 <= w / h <= 1.91 and w >= 320
    assert site.client.get("/posts/999").status_code == 404
    assert site.client.get("/posts/999/instagram.jpg").status_code == 404


def test_cancel_reschedule_and_retry(site):
    post_id = _scheduled(site)
    moved = site.post(f"/posts/{post_id}/reschedule", {"at": "2026-01-07T08:15"}, fragment=False)
    assert moved.status_code == 303 and "rescheduled" in site.client.get(moved.headers["location"]).text
    with site.app.tx() as s:
        assert posts_repo.get_post(s, post_id).scheduled_at.hour == 8
    bad = site.post(f"/posts/{post_id}/reschedule", {"at": "soon"}, fragment=False)
    assert bad.status_code == 400 and "not a date and time" in bad.text
    assert site.post(f"/posts/{post_id}/reschedule", {"at": ""}, fragment=False).status_code == 400
    cancelled = site.post(f"/posts/{post_id}/cancel", {"reason": "not today"})
    assert cancelled.status_code == 200 and "cancelled" in cancelled.text
    assert site.candidate(site.ids[3]).status == "pending"
    refused = site.post(f"/posts/{post_id}/retry", {})
    assert refused.status_code == 409
    assert site.post("/posts/999/cancel", {}).status_code == 404


def test_failed_post_shows_the_error_in_plain_words_and_retries(site):
    post_id = _scheduled(site)
    with site.app.tx() as s:
        assert posts_repo.mark_failed(s, post_id, owner=None, error_class="PermanentPublishError",
                                      error="403 duplicate content", now=site.app.clock(),
                                      from_states=("scheduled",))
    listed = site.client.get("/posts?state=failed").text
    assert "the platform refused this post" in listed and "403 duplicate content" in listed
    assert site.client.get("/posts?state=bogus").status_code == 400
    retried = site.post(f"/posts/{post_id}/retry", {}, fragment=False)
    assert retried.status_code == 303
    with site.app.tx() as s:
        assert posts_repo.get_post(s, post_id).state == "scheduled"


def test_paused_account_shows_reason_and_resumes(site):
    with site.app.tx() as s:
        account_repo.pause(s, site.app.account_ids["demo"], site.app.clock() + timedelta(days=1), "login refused")
    page = site.client.get("/accounts").text
    assert "login refused" in page and 'action="/accounts/demo/resume"' in page
    done = site.post("/accounts/demo/resume", {}, fragment=False)
    assert done.status_code == 303 and "was paused: login refused" in site.client.get(done.headers["location"]).text
    assert site.app.accounts()[0].paused_until is None
    assert site.post("/accounts/nobody/resume", {}, fragment=False).status_code == 404


def test_schedule_bad_input(site):
    assert site.client.get("/schedule?start=yesterday").status_code == 400
    assert site.client.get("/schedule?view=year").status_code == 400
    assert site.client.get("/schedule?account=nobody").status_code == 404
    assert site.client.get("/schedule").status_code == 200


# -- dashboard ------------------------------------------------------------------------------------------

def _published_with_metrics(site) -> None:
    from feedback.polling import Counts
    from feedback.repository.metrics import NewSnapshot, add_snapshots

    now = site.app.clock()
    with site.app.tx() as s:
        acc = site.app.account_ids["demo"]
        for i, cid in enumerate(site.ids):
            p = rows.post(s, candidate_id=cid, account_id=acc, at=now - timedelta(days=3 - i))
            add_snapshots(s, [NewSnapshot(p.id, now, 3600, Counts(likes=3 * i, reposts=i))])


def test_dashboard_charts_and_downloads(site):
    _published_with_metrics(site)
    page = site.client.get("/dashboard")
    assert page.status_code == 200
    for chart in ("time", "template", "generator", "tone", "hour", "approval", "ranker", "hours"):
        assert f'id="chart-{chart}"' in page.text
    assert page.text.count("<svg") == 8 and "<polyline" in page.text and "<script>alert" not in page.text
    as_json = site.client.get("/dashboard/time.json")
    assert as_json.status_code == 200 and len(json.loads(as_json.text)) == 4
    as_csv = site.client.get("/dashboard/top.csv")
    assert as_csv.status_code == 200 and as_csv.text.splitlines()[0].startswith("post_id,")
    assert "attachment" in as_csv.headers["content-disposition"]
    assert site.client.get("/dashboard/ranker.json").status_code == 200
    from feedback.polling import Counts
    from feedback.repository.metrics import NewSnapshot, add_snapshots

    with site.app.tx() as s:  # a new, measured post: the dashboard recomputes
        c = rows.candidate(s, now=site.app.clock(), text='=HYPERLINK("http://evil")',
                           account_id=site.app.account_ids["demo"])
        p = rows.post(s, candidate_id=c.id, account_id=site.app.account_ids["demo"], at=site.app.clock())
        add_snapshots(s, [NewSnapshot(p.id, site.app.clock(), 3600, Counts(likes=50))])
    top = site.client.get("/dashboard/top.csv").text
    assert "'=HYPERLINK" in top and "\n=HYPERLINK" not in top and ",=HYPERLINK" not in top
    assert site.client.get("/dashboard/secrets.json").status_code == 404
    assert site.client.get("/dashboard/time.xml").status_code == 404


def test_card_and_dashboard_say_what_the_ranker_learned(site):
    said = 'captions about "monday" do 1.8x baseline at 19:00 for demo (likely 1.2x-2.7x, from 14 posts)'
    with site.app.tx() as s:
        told = rows.candidate(s, now=site.app.clock(), text="monday again", account_id=site.app.account_ids["demo"],
                              predicted_score=5.0, predicted_explain={
                                  "explain": [["word=monday", 0.59]], "effects": [["word=monday", 0.59, 0.25, 14.0]],
                                  "sentences": [said]})
        told_id = told.id
    board = site.client.get("/board")
    assert board.status_code == 200 and "What the ranker learned" in board.text
    assert said.replace('"', "&#34;") in board.text  # escaped, whole
    card = site.client.get(f"/board/card/{told_id}", headers={"X-Fragment": "1"})
    assert card.status_code == 200 and said.replace('"', "&#34;") in card.text
    page = site.client.get("/dashboard")
    assert page.status_code == 200
    learned = found(r'id="chart-ranker".*?</figure>', page.text, re.DOTALL, group=0)
    assert "captions about &#34;monday&#34; do 1.8x baseline (likely 1.2x-2.7x, from 14 posts)" in learned
    rows_json = json.loads(site.client.get("/dashboard/ranker.json").text)
    assert rows_json[0]["feature"] == "word=monday" and rows_json[0]["sentence"].startswith("captions about")


# -- error pages and headers --------------------------------------------------------------------------

def test_error_pages_and_security_headers(site):
    missing = site.client.get("/no/such/page")
    assert missing.status_code == 404 and "there is no such page" in missing.text
    wrong_method = site.client.get("/board/1/approve")
    assert wrong_method.status_code == 405
    page = site.client.get("/board")
    assert "script-src 'self'" in page.headers["content-security-policy"]
    assert page.headers["x-frame-options"] == "DENY"
    assert site.client.get("/").headers.get("location") is None  # followed to the board
    assert site.client.get("/static/app.js").status_code == 200
    assert site.client.get("/static/../server.py").status_code == 404


def test_static_files_are_served_under_content_hashed_urls_for_a_year(site, tmp_path):
    import hashlib

    from bot.web.assets import STATIC, static_url

    urls = set()
    for path in ("/board", "/schedule", f"/posts/{_scheduled(site)}"):
        page = site.client.get(path).text
        assert not re.search(r'"/static/[^"?]+"', page), path  # every reference carries its hash
        urls |= set(re.findall(r'(?:href|src)="(/static/[^"]+)"', page))
    assert {u.split("?")[0] for u in urls} == {"/static/app.css", "/static/app.js", "/static/calendar.css",
                                               "/static/calendar.js"}
    for url in urls:
        name, _, v = url.removeprefix("/static/").partition("?v=")
        assert v == hashlib.sha256((STATIC / name).read_bytes()).hexdigest()[:12]
        got = site.client.get(url)
        assert got.status_code == 200 and got.headers["cache-control"] == "public, max-age=31536000, immutable"
    for stale in ("/static/app.css", "/static/app.css?v=0123456789ab"):  # no hash, or an old one: ask again
        assert site.client.get(stale).headers["cache-control"] == "no-cache"
    (tmp_path / "a.css").write_text("a { color: red }")
    before = static_url("a.css", tmp_path)
    (tmp_path / "a.css").write_text("a { color: blue }")
    assert static_url("a.css", tmp_path) != before  # a changed file gets a new URL


def test_no_secret_is_rendered(site):
    from feedback.repository import users

    with site.app.tx() as s:
        stored = users.password_hash(s, "ann")
    for url in ("/board", "/accounts", "/dashboard", "/schedule", "/posts"):
        text = site.client.get(url).text
        assert stored not in text and PASSWORD not in text and TOKEN not in text


def test_users_add_command(write_config, run_cli, monkeypatch):
    config = str(write_config())
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert run_cli("--config", config, "users", "add", "zoe", "--password-stdin").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    short = run_cli("--config", config, "users", "add", "zed", "--password-stdin")
    assert short.code == 2 and "too short" in short.err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    again = run_cli("--config", config, "users", "add", "zoe", "--password-stdin")
    assert again.code == 1 and "already exists" in again.err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert run_cli("--config", config, "users", "add", "bad name!", "--password-stdin").code == 2


def test_web_server_thread_serves_localhost_and_stops(site):
    import socket
    import time

    import httpx

    from bot.web.serve import WebServer

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = WebServer(site.app, port=port)
    assert server.host == "127.0.0.1" and server.token.value is not None
    assert server.token.value in server.banner()[1]
    server.start()
    deadline = time.monotonic() + 10
    while not server.server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    answer = httpx.get(f"http://127.0.0.1:{port}/login")
    assert answer.status_code == 200 and "HttpOnly" in answer.headers["set-cookie"]
    server.stop()
    assert server._thread is not None and not server._thread.is_alive()
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/login", timeout=2)


def test_run_has_a_web_option(run_cli):
    shown = run_cli("run", "--help")
    assert shown.code == 0 and "--web" in shown.out


def test_a_server_fault_is_a_500_page_without_a_traceback(site):
    with site.app.engine.begin() as conn:  # a database that lost a view (a botched manual edit)
        conn.exec_driver_sql("DROP VIEW v_post_engagement")
    client = TestClient(site.client.app, raise_server_exceptions=False, cookies=site.client.cookies)
    broken = client.get("/dashboard")
    assert broken.status_code == 500 and "something went wrong on the server" in broken.text
    assert "Traceback" not in broken.text and "v_post_engagement" not in broken.text


def test_a_platform_refusal_in_a_preview_is_a_message(site):
    from PIL import Image

    tiny = site.tmp / "tiny.png"
    Image.new("RGB", (40, 30), "red").save(tiny)
    with site.app.tx() as s:
        c = rows.candidate(s, now=site.app.clock(), text="tiny", account_id=site.app.account_ids["demo"],
                           image_path=str(tiny))
        p = rows.post(s, candidate_id=c.id, account_id=site.app.account_ids["demo"], at=site.app.clock(),
                      state="scheduled")
    refused = site.client.get(f"/posts/{p.id}/instagram.jpg")
    assert refused.status_code == 502 and "minimum is 320 px" in refused.text


def test_a_photo_cards_says_what_the_photo_was_read_as_and_how_sure(site):
    from feedback.db import transaction
    from feedback.models import Candidate

    cid = site.ids[3]
    with transaction(site.app.sessions) as s:
        row = s.get(Candidate, cid)
        assert row is not None
        row.read_as, row.read_confidence = "bobsleigh", 0.29
        row.params = {**(row.params or {}), "sure": False, "topic": "neutral", "topic_source": "neutral"}
    card = site.client.get(f"/board/card/{cid}").text
    assert "read as bobsleigh (29%, unsure); written for neutral" in card
    assert "read as" not in site.client.get(f"/board/card/{site.ids[0]}").text  # a meme: no photo reading
    shown = site.app.candidate(cid)
    assert shown.read_as == "bobsleigh" and shown.reading.startswith("read as bobsleigh (29%, unsure)")


def test_dashboard_shows_imported_history(site):
    from feedback.polling import Counts
    from feedback.repository import history as history_repo

    now = site.app.clock()
    page = site.client.get("/dashboard")
    assert 'id="imported"' in page.text and ">never<" in page.text
    with site.app.tx() as s:
        acc = site.app.account_ids["demo"]
        history_repo.add(s, acc, [history_repo.NewImport(f"r{i}", now - timedelta(days=40 - i), f"old {i}", None, 0,
                                                         Counts(likes=i)) for i in range(3)], now=now)
        history_repo.save_progress(s, acc, now=now, cursor=None, imported=3)
    page = site.client.get("/dashboard")  # new imports change the signature: recomputed
    row = found(r'id="imported".*?</table>', page.text, re.DOTALL, group=0)
    assert "<td>demo</td>" in row and "<td>3</td>" in row and ">done<" in row
    assert json.loads(site.client.get("/dashboard/imported.json").text)[0]["imported"] == 3
