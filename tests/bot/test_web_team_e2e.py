"""The team's web admin in a real browser (Playwright driving Debian's Chromium against uvicorn on a
thread, over a real database): roles as each user sees them, and a review link used by someone
without an account, then used again, and one that expired."""
from __future__ import annotations

import os
import re
from datetime import timedelta

import pytest

from bot.app import build_app
from bot.config import load_config
from feedback.clock import utcnow
from tests.bot.test_web_e2e import ARGS, CHROMIUM, _wait_until, serving
from tests.bot.web_helpers import PASSWORD, seed
from tests.conftest import REPO

pytestmark = [pytest.mark.e2e, pytest.mark.slow,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")]


@pytest.fixture
def server(write_config, tmp_path):
    app = build_app(load_config(write_config()))
    app.add_web_user("ann", PASSWORD)
    app.add_web_user("vic", PASSWORD, role="viewer")
    ids = seed(app, tmp_path, texts=("first beam", "second beam", "the client's meme"))
    with serving(app) as base:
        yield base, app, ids
    app.close()


@pytest.fixture
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        yield chromium
        chromium.close()


def _login(page, base: str, name: str) -> None:
    page.goto(f"{base}/login")
    page.fill('input[name="name"]', name)
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/board")


def _shots(tmp_path):
    docs = REPO / "docs" if os.environ.get("MEMELOOP_SCREENSHOTS") == "1" else tmp_path
    docs.mkdir(exist_ok=True)
    return docs


def test_roles_in_a_browser(server, browser, tmp_path):
    base, app, ids = server
    docs = _shots(tmp_path)
    viewer = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(viewer, base, "vic")
    nav = viewer.locator("header nav:visible").inner_text()
    assert "Review" in nav and "Links" not in nav and "Users" not in nav
    assert "vic (viewer)" in viewer.locator("header .who:visible").inner_text()
    viewer.locator(f'#card-{ids[0]} form[data-action="approve"] button').click()
    viewer.locator(f"#card-{ids[0]} .message.error, .message.error").first.wait_for()
    assert "your role (viewer) may not do this" in viewer.inner_text("body")
    assert app.candidate(ids[0]).status == "pending"
    viewer.goto(f"{base}/users")
    assert "your role (viewer) may not do this" in viewer.inner_text("body")

    admin = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(admin, base, "ann")
    admin.locator("header nav:visible a", has_text="Users").click()
    admin.wait_for_url(f"{base}/users")
    row = admin.locator("tr", has_text="vic")
    row.locator('select[name="role"]').select_option("editor")
    row.locator("button", has_text="Set role").click()
    admin.locator(".message.ok").wait_for()
    assert "vic is editor now (was viewer)" in admin.locator(".message.ok").inner_text()
    admin.screenshot(path=str(docs / "web-users.png"), full_page=True)

    # the viewer's open page: the next request runs with the new role
    viewer.goto(f"{base}/board")
    viewer.locator(f'#card-{ids[0]} form[data-action="approve"] button').click()
    viewer.locator(f"#card-{ids[0]} .message.ok").wait_for()
    assert app.candidate(ids[0]).status == "approved"
    assert {h.actor for h in app.candidate(ids[0]).history} == {"vic"}

    # log out everywhere from the admin's page ends the admin's other browser too
    other = browser.new_context().new_page()
    _login(other, base, "ann")
    admin.locator("header button:visible", has_text="Log out everywhere").click()
    admin.wait_for_url(f"{base}/login")
    other.goto(f"{base}/board")
    assert "/login" in other.url


def test_a_review_link_used_once_and_one_expired_in_a_browser(server, browser, tmp_path):
    base, app, ids = server
    docs = _shots(tmp_path)
    editor = browser.new_context(viewport={"width": 1280, "height": 900}).new_page()
    _login(editor, base, "ann")
    editor.goto(f"{base}/links?kind=candidate&target={ids[2]}")
    editor.fill('input[name="label"]', "client Ann")
    editor.locator("form[action='/links'] button").click()
    url = editor.locator("input.new-link").input_value()
    assert re.fullmatch(rf"{re.escape(base)}/r/[A-Za-z0-9_-]{{40,}}", url)

    client = browser.new_context(viewport={"width": 390, "height": 844}).new_page()  # a phone, no account
    client.goto(url)
    assert "Please review this candidate" in client.inner_text("h1")
    assert "the client's meme" in client.inner_text("main")
    _wait_until(client, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    assert client.evaluate("document.documentElement.scrollWidth") <= 390
    client.screenshot(path=str(docs / "web-review-link-390.png"), full_page=True)
    client.fill('textarea[name="comment"]', "perfect, ship it")
    client.locator('button[value="approve"]').click()
    client.locator("h1", has_text="Thank you").wait_for()
    assert "Approved; it is scheduled for" in client.inner_text("main")
    assert app.candidate(ids[2]).status == "approved"
    history = app.candidate(ids[2]).history
    assert history[-1].actor == "link:client Ann" and "perfect, ship it" in history[-1].reason

    client.goto(url)  # the same link again
    assert "This review link was already used: it was approved" in client.inner_text("main")
    editor.goto(f"{base}/links")
    assert "perfect, ship it" in editor.inner_text("table")

    made = app.create_review_link("candidate", ids[1], label="late manager", actor="ann",
                                  now=utcnow() - timedelta(days=2), ttl=timedelta(days=1))
    late = browser.new_context().new_page()
    response = late.goto(f"{base}/r/{made.token}")
    assert response is not None and response.status == 410
    assert "This review link has expired" in late.inner_text("main")
    assert late.locator("form").count() == 0 and app.candidate(ids[1]).status == "pending"
    late.screenshot(path=str(docs / "web-review-link-expired.png"))
