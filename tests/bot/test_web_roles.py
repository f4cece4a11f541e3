"""Roles, users and database sessions of the web admin over plain HTTP: the route -> role table covers
every route and is enforced on each (a viewer gets 403 on every POST), the Users page and the
`memeloop users` commands, and sessions that survive a restart, end everywhere and expire. Real App,
real SQLite, real rows."""
from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import pytest
from sqlalchemy import select
from starlette.routing import Route
from starlette.testclient import TestClient

from bot.service.web_users import SESSION_IDLE, SESSION_MAX, Role
from bot.web import access
from bot.web.auth import LoginLimiter, OneTimeToken
from bot.web.server import COOKIE, create_web
from feedback.models import Review, WebSession
from tests.bot.web_helpers import PASSWORD, TOKEN, found, login, make_site
from tests.conftest import FakeClock

ROLE_REFUSED = "may not do this"


@pytest.fixture
def wall() -> FakeClock:
    return FakeClock(datetime(2026, 12, 6, 8, 0, tzinfo=UTC))


@pytest.fixture
def site(write_config, tmp_path, clock, wall):
    s = make_site(write_config, tmp_path, clock, ("first beam", "second beam", "third one"))
    s.client = TestClient(create_web(s.app, token=OneTimeToken(TOKEN), limiter=LoginLimiter(clock=lambda: 0.0),
                                     wall=wall))
    assert login(s.client).status_code == 303
    s.app.add_web_user("eve", PASSWORD, role="editor")
    s.app.add_web_user("vic", PASSWORD, role="viewer")
    s.post_id = s.app.approve(s.ids[2], actor="ann").post_id  # type: ignore[attr-defined]
    yield s
    s.app.close()


def client_for(site, name: str) -> TestClient:
    client = TestClient(site.client.app)
    assert login(client, name).status_code == 303
    return client


def csrf_of(client: TestClient) -> str:
    return found(r'name="csrf-token" content="([^"]+)"', client.get("/board").text)


def registered(site) -> list[tuple[str, str]]:
    return [(m, r.path) for r in site.client.app.routes if isinstance(r, Route) for m in access.methods_of(r)]


def concrete(site, path: str) -> str:
    """A route path with real values for its parameters (a pending candidate, a real post, ...)."""
    values = {"{id}": str(site.post_id if path.startswith("/posts") else site.ids[0]), "{name}.{fmt}": "time.csv",
              "{name}": "demo" if path.startswith("/accounts") else "vic", "{slug}": "cat", "{token}": "nope"}
    for key, value in values.items():
        path = path.replace(key, value)
    return path


# -- the table ------------------------------------------------------------------------------------------

def test_every_route_has_a_role_and_the_table_names_no_route_that_is_gone(site):
    routes = set(registered(site))
    assert routes, "no routes found"
    missing = sorted(routes - set(access.ACCESS))
    assert not missing, f"routes without an entry in bot/web/access.py ACCESS (they need an admin): {missing}"
    assert not sorted(set(access.ACCESS) - routes), "ACCESS names routes that no longer exist"
    assert access.needed("POST", "/a/route/nobody/listed") is Role.ADMIN  # closed by default


def test_every_route_enforces_its_role_for_each_role(site):
    clients = {"viewer": client_for(site, "vic"), "editor": client_for(site, "eve"), "admin": site.client}
    anonymous = TestClient(site.client.app)
    for method, template in registered(site):
        needed = access.ACCESS[(method, template)]
        path = concrete(site, template)
        for role, client in clients.items():
            # a GET for real; a POST without its CSRF token: past the role check it is refused for that
            # token instead, so nothing changes while the role check is still seen to let it through
            got = client.request(method, path, data={}, follow_redirects=False)
            refused = got.status_code == 403 and ROLE_REFUSED in got.text
            allowed = needed is None or Role(role).allows(needed)
            assert refused != allowed, (method, template, role, got.status_code, got.text[:200])
        if needed is not None:  # logged out: never served
            got = anonymous.request(method, path, data={}, follow_redirects=False)
            assert got.status_code in (303, 403), (method, template, got.status_code)


def test_a_viewer_gets_403_on_every_post_even_with_a_valid_csrf_token_and_nothing_changes(site):
    viewer = client_for(site, "vic")
    token = csrf_of(viewer)
    before = [site.app.candidate(i).status for i in site.ids]
    posts = [(m, p) for m, p in registered(site) if m == "POST" and access.ACCESS[(m, p)] is not None
             and p not in ("/logout", "/logout/everywhere")]
    assert len(posts) >= 15
    for _, template in posts:
        got = viewer.post(concrete(site, template), data={"csrf": token, "version": "1", "text": "x", "role": "admin",
                                                          "name": "mallory", "password": "a long password"},
                          follow_redirects=False)
        assert got.status_code == 403 and "your role (viewer) may not do this" in got.text, template
    assert [site.app.candidate(i).status for i in site.ids[:2]] == before[:2]
    assert {u.name for u in site.app.web_users()} == {"ann", "eve", "vic"}
    assert all(u.role != "admin" for u in site.app.web_users() if u.name == "vic")


def test_an_editor_reviews_and_the_audit_log_names_them(site):
    editor = client_for(site, "eve")
    token = csrf_of(editor)
    done = editor.post(f"/board/{site.ids[0]}/approve", data={"csrf": token, "version": "1"},
                       headers={"X-Fragment": "1"})
    assert done.status_code == 200 and "approved" in done.text
    with site.app.tx() as s:
        actors = s.scalars(select(Review.actor).where(Review.candidate_id == site.ids[0])).all()
    assert actors == ["eve"]
    assert editor.get("/users").status_code == 403
    refused = editor.post("/accounts/demo/resume", data={"csrf": token})
    assert refused.status_code == 403 and "needs admin" in refused.text


def test_the_navigation_shows_what_the_role_may_open(site):
    assert 'href="/users"' in site.client.get("/board").text
    editor = client_for(site, "eve").get("/board").text
    assert 'href="/links"' in editor and 'href="/users"' not in editor
    viewer = client_for(site, "vic").get("/board").text
    assert 'href="/links"' not in viewer and 'href="/create"' not in viewer and "vic (viewer)" in viewer


# -- the Users page ---------------------------------------------------------------------------------------

def test_admin_adds_changes_and_removes_users_on_the_users_page(site):
    token = csrf_of(site.client)
    page = site.client.get("/users")
    assert page.status_code == 200 and "eve" in page.text and "viewer" in page.text
    added = site.client.post("/users", data={"csrf": token, "name": "zoe", "password": PASSWORD,
                                             "role": "viewer"})
    assert added.status_code == 200 and "added zoe as viewer" in added.text
    zoe = client_for(site, "zoe")
    assert zoe.post(f"/board/{site.ids[0]}/reject", data={"csrf": csrf_of(zoe), "version": "1"}).status_code == 403
    promoted = site.client.post("/users/zoe/role", data={"csrf": token, "role": "editor"})
    assert "zoe is editor now (was viewer)" in promoted.text
    # the same session, at its next request: the new role applies
    ok = zoe.post(f"/board/{site.ids[0]}/reject", data={"csrf": csrf_of(zoe), "version": "1"},
                  headers={"X-Fragment": "1"})
    assert ok.status_code == 200 and site.app.candidate(site.ids[0]).status == "rejected"
    removed = site.client.post("/users/zoe/remove", data={"csrf": token})
    assert "removed zoe" in removed.text and "zoe" not in {u.name for u in site.app.web_users()}
    assert zoe.get("/board", follow_redirects=False).status_code == 303  # logged out at once
    bad = site.client.post("/users", data={"csrf": token, "name": "x", "password": "a long password",
                                           "role": "owner"})
    assert bad.status_code == 400 and "use one of viewer, editor, admin" in bad.text


def test_the_only_admin_can_be_neither_removed_nor_demoted(site):
    token = csrf_of(site.client)
    for url, data in (("/users/ann/remove", {}), ("/users/ann/role", {"role": "editor"})):
        got = site.client.post(url, data={"csrf": token, **data})
        assert got.status_code == 409 and "the only admin" in got.text
    site.app.set_web_role("eve", "admin", actor="test")
    demoted = site.client.post("/users/ann/role", data={"csrf": token, "role": "editor"}, follow_redirects=False)
    assert demoted.status_code == 303
    assert site.client.get("/users").status_code == 403  # an editor now
    assert {u.name: u.role for u in site.app.web_users()}["ann"] == "editor"


def test_users_commands(run_cli, write_config, monkeypatch):
    config = str(write_config())
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert run_cli("--config", config, "users", "add", "bob", "--password-stdin", "--role", "editor").code == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    assert run_cli("--config", config, "users", "add", "amy", "--password-stdin").code == 0  # admin by default
    listed = run_cli("--config", config, "users", "list", "--json")
    assert listed.code == 0 and '"role": "editor"' in listed.out and '"name": "amy"' in listed.out
    changed = run_cli("--config", config, "users", "role", "bob", "viewer")
    assert changed.code == 0 and "bob is viewer now (was editor)" in changed.out
    bad = run_cli("--config", config, "users", "role", "bob", "owner")
    assert bad.code == 2 and "owner" in bad.err and "Traceback" not in bad.err
    assert run_cli("--config", config, "users", "remove", "bob").code == 0
    gone = run_cli("--config", config, "users", "remove", "bob")
    assert gone.code == 1 and "no web user named 'bob'" in gone.err
    last = run_cli("--config", config, "users", "remove", "amy")
    assert last.code == 1 and "the only admin" in last.err
    monkeypatch.setattr("sys.stdin", io.StringIO("a long password\n"))
    reserved = run_cli("--config", config, "users", "add", "web-token", "--password-stdin")
    assert reserved.code == 2 and "reserved" in reserved.err


# -- sessions in the database ------------------------------------------------------------------------------

def test_a_session_survives_a_restart_and_only_its_hash_is_stored(site, wall):
    cookie = site.client.cookies.get(COOKIE)
    with site.app.tx() as s:
        stored = s.scalars(select(WebSession.token_hash)).all()
    assert hashlib.sha256(cookie.encode()).hexdigest() in stored and cookie not in stored
    restarted = TestClient(create_web(site.app, wall=wall))  # a new server process: empty memory
    restarted.cookies.set(COOKIE, cookie)
    page = restarted.get("/board", follow_redirects=False)
    assert page.status_code == 200 and "ann (admin)" in page.text
    # its CSRF token works too: it is derived from the session's token, not kept in memory
    token = found(r'name="csrf-token" content="([^"]+)"', page.text)
    assert token == csrf_of(site.client)
    assert restarted.post(f"/board/{site.ids[0]}/reject", data={"csrf": token, "version": "1"},
                          headers={"X-Fragment": "1"}).status_code == 200


def test_log_out_everywhere_ends_every_session_of_that_user_only(site):
    phone, laptop, editor = client_for(site, "ann"), client_for(site, "ann"), client_for(site, "eve")
    done = phone.post("/logout/everywhere", data={"csrf": csrf_of(phone)}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == "/login"
    for client in (phone, laptop, site.client):
        assert client.get("/board", follow_redirects=False).status_code == 303
    assert editor.get("/board").status_code == 200
    assert {u.name: u.sessions for u in site.app.web_users()} == {"ann": 0, "eve": 1, "vic": 0}


def test_a_new_password_ends_the_users_sessions(site):
    editor = client_for(site, "eve")
    site.app.add_web_user("eve", "another long password", replace=True)
    assert editor.get("/board", follow_redirects=False).status_code == 303
    assert {u.name: u.role for u in site.app.web_users()}["eve"] == "editor"  # the role is kept


def test_logout_ends_this_session_only(site):
    other = client_for(site, "ann")
    assert site.client.post("/logout", data={"csrf": csrf_of(site.client)}, follow_redirects=False).status_code == 303
    assert site.client.get("/board", follow_redirects=False).status_code == 303
    assert other.get("/board").status_code == 200


def test_sessions_expire_when_idle_and_at_their_end(site, wall):
    wall.advance(seconds=SESSION_IDLE.total_seconds() - 60)
    assert site.client.get("/board").status_code == 200  # still in time: and it counts as use
    wall.advance(seconds=SESSION_IDLE.total_seconds() - 60)
    assert site.client.get("/board").status_code == 200
    wall.advance(seconds=SESSION_IDLE.total_seconds() + 1)
    assert site.client.get("/board", follow_redirects=False).status_code == 303
    busy = client_for(site, "eve")
    for _ in range(int(SESSION_MAX / SESSION_IDLE) + 1):  # used all the time, it still ends
        wall.advance(seconds=SESSION_IDLE.total_seconds() - 60)
        if busy.get("/board", follow_redirects=False).status_code != 200:
            break
    else:
        pytest.fail("a session in constant use never ended")
    client_for(site, "vic")
    with site.app.tx() as s:  # a login clears ended sessions nobody came back to
        assert s.scalar(select(WebSession.id).where(WebSession.seen_at < wall() - SESSION_IDLE)) is None
        assert s.scalar(select(WebSession.id).where(WebSession.expires_at < wall())) is None


def test_the_flash_message_is_kept_with_the_stored_session(site, wall):
    from feedback.repository import accounts as account_repo

    with site.app.tx() as s:
        account_repo.pause(s, site.app.account_ids["demo"], None, "challenge")
    moved = site.client.post("/accounts/demo/resume", data={"csrf": csrf_of(site.client)}, follow_redirects=False)
    assert moved.status_code == 303
    # the same fake wall clock as the first server: the real one, hours from the session's, ended it
    restarted = TestClient(create_web(site.app, wall=wall))
    restarted.cookies.set(COOKIE, site.client.cookies.get(COOKIE))
    assert "resumed demo" in restarted.get("/accounts").text
    assert "resumed demo" not in restarted.get("/accounts").text  # shown once


def test_the_one_time_token_operator_is_an_admin(site):
    client = TestClient(site.client.app)
    assert login(client, name="", password="", token=TOKEN).status_code == 303
    assert "web-token (admin)" in client.get("/users").text
