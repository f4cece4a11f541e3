"""The web admin in a real browser: Playwright driving the system's Chromium against a real server
(uvicorn on a thread) over a real database. With MEMELOOP_SCREENSHOTS=1 it saves the README's
screenshots to docs/ (otherwise to the test's temporary directory, so a run leaves the tree clean)."""
from __future__ import annotations

import contextlib
import os
import socket
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import App, build_app
from bot.config import load_config
from tests.bot.web_helpers import PASSWORD
from tests.conftest import REPO

CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]
pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")]

CAPTIONS = ("when the code works on the first try", "me explaining the bug to the rubber duck",
            "nobody: absolutely nobody: the build server at 3am", "that feeling when the tests are green",
            "one does not simply deploy on a friday", "coffee first, merge conflicts later")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving(app: App) -> Iterator[str]:
    """``app``'s web admin on uvicorn in a thread, on a free loopback port; yields its base URL."""
    from bot.web.serve import WebServer

    web = WebServer(app, port=_free_port())
    web.start()
    deadline = time.monotonic() + 20
    while not web.server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert web.server.started, "the web server did not start"
    try:
        yield f"http://127.0.0.1:{web.port}"
    finally:
        web.stop()


def _memes(app, tmp: Path) -> list[int]:
    """Pending meme candidates on real photos (scikit-image's), rendered as the generator does, plus
    a published history with engagement so the dashboard has something to draw."""
    from PIL import Image
    from skimage import data

    from feedback.polling import Counts
    from feedback.repository.metrics import NewSnapshot, add_snapshots
    from generator.annotate import render_meme
    from tests.feedback import feedback_rows as rows

    photos = [Image.fromarray(getattr(data, n)()).convert("RGB") for n in ("chelsea", "coffee", "astronaut", "rocket")]
    now, acc, ids = app.clock(), app.account_ids["demo"], []
    with app.tx() as s:
        templates = []
        for i, photo in enumerate(photos):
            src = tmp / f"template{i}.png"
            photo.thumbnail((480, 480))
            photo.save(src)
            t = rows.template(s, ["cat", "coffee", "astronaut", "rocket"][i], now=now)
            t.image_path = str(src)
            templates.append(t)
        for i, text in enumerate(CAPTIONS):
            t = templates[i % len(templates)]
            path = tmp / f"meme{i}.png"
            with Image.open(t.image_path) as img:
                render_meme(img, text).save(path)
            c = rows.candidate(s, now=now - timedelta(minutes=i), text=text, account_id=acc, template_id=t.id,
                               image_path=str(path), source_image_path=t.image_path, predicted_score=0.9 - i / 10,
                               group_key=f"img{i // 2}", beam_rank=i % 2,
                               predicted_explain={"explain": [[f"template={t.slug}", 0.3 - i / 20],
                                                              ["hour=09h", 0.1], ["length=short", -0.05]]})
            ids.append(c.id)
        for day in range(14):  # history: published, measured posts
            t = templates[day % len(templates)]
            c = rows.candidate(s, now=now - timedelta(days=day + 1), text=f"an older meme {day}", account_id=acc,
                               template_id=t.id, status="approved", tone=["funny", "dry"][day % 2])
            p = rows.post(s, candidate_id=c.id, account_id=acc, at=now - timedelta(days=day, hours=3 + day % 5))
            add_snapshots(s, [NewSnapshot(p.id, now, 3600, Counts(likes=5 + (day * 7) % 23, reposts=day % 4))])
    return ids


@pytest.fixture
def server(write_config, tmp_path):
    app = build_app(load_config(write_config()))
    app.add_web_user("ann", PASSWORD)
    ids = _memes(app, tmp_path)
    with serving(app) as base:
        yield base, app, ids
    app.close()


@pytest.fixture
def page():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        yield context.new_page()
        browser.close()


def _wait_until(page, expression: str, timeout_s: float = 15.0) -> None:
    """Poll a JavaScript expression from here until it is true. Playwright's wait_for_function
    re-evaluates a string predicate with eval(), which the admin's CSP (script-src 'self', no
    'unsafe-eval') blocks whenever the first evaluation is false; page.evaluate is not subject to it."""
    deadline = time.monotonic() + timeout_s
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"still false after {timeout_s:.0f}s: {expression}")
        time.sleep(0.05)


def test_review_schedule_and_dashboard_in_a_browser(server, page, tmp_path):
    base, app, ids = server
    docs = REPO / "docs" if os.environ.get("MEMELOOP_SCREENSHOTS") == "1" else tmp_path
    docs.mkdir(exist_ok=True)
    page.goto(f"{base}/board")
    assert "/login" in page.url
    page.fill('input[name="name"]', "ann")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/board")
    cards = page.locator("[data-card]")
    assert cards.count() == len(CAPTIONS)
    _wait_until(page, "Array.from(document.images).every(i => i.complete && i.naturalWidth > 0)")
    page.screenshot(path=str(docs / "web-review-board.png"), full_page=False)

    # approve the first card in place, then see it on the schedule
    first = page.locator(f"#card-{ids[0]}")
    first.locator('form[data-action="approve"] button').click()
    page.locator(f"#card-{ids[0]} .message.ok").wait_for()
    assert "approved: post" in page.locator(f"#card-{ids[0]} .message").inner_text()
    assert page.url == f"{base}/board"  # no full page load

    # reject the second with a reason, with the keyboard: j moves to it, r focuses the reason
    page.locator("body").click(position={"x": 5, "y": 300})
    page.keyboard.press("j")
    page.keyboard.press("r")
    page.keyboard.type("not funny")
    page.keyboard.press("Enter")
    page.locator(f"#card-{ids[1]} .message.ok").wait_for()
    assert page.locator(f"#card-{ids[1]} .st").inner_text() == "rejected"

    # edit the third and see the new image
    third = page.locator(f"#card-{ids[2]}")
    before = third.locator("img").get_attribute("src")
    third.locator(".edit-box summary").click()  # the edit box is folded in the card
    third.locator("textarea").fill("a brand new caption")
    third.locator('form[data-action="edit"] button').click()
    page.locator(f"#card-{ids[2]} .message.ok").wait_for()
    img = page.locator(f"#card-{ids[2]} img")
    assert img.get_attribute("src") != before
    _wait_until(page, f"document.querySelector('#card-{ids[2]} img').naturalWidth > 0")
    assert app.candidate(ids[2]).text == "a brand new caption"
    assert {h.actor for h in app.candidate(ids[0]).history} == {"ann"}

    post = app.candidate(ids[0]).posts[0]
    post_id = post.id
    page.goto(f"{base}/schedule?start={post.scheduled_at.date().isoformat()}")  # its week
    page.locator(f'a[data-post="{post_id}"]').click()
    page.wait_for_url(f"{base}/posts/{post_id}")
    assert "weighted length" in page.inner_text("body")

    page.goto(f"{base}/dashboard")
    chart = page.locator("#chart-time svg polyline")
    chart.wait_for()
    assert chart.is_visible() and page.locator("#chart-template svg rect").count() >= 4
    page.screenshot(path=str(docs / "web-dashboard.png"), full_page=True)


def test_create_page_offers_choices_shows_progress_and_the_result_images_on_a_phone(server, page, tmp_path):
    base, _app, _ids = server
    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{base}/create")
    page.fill('input[name="name"]', "ann")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/create")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    tones = page.locator("#caption-tone option").all_inner_texts()
    assert tones == ["the account's, else any (chosen at random)", "funny", "informative", "inspirational"]
    # the audience is never drawn at random (issue 23): the account's, else general
    assert page.locator("#caption-audience option").all_inner_texts()[0] == "the account's, else general"

    big = tmp_path / "big.jpg"
    big.write_bytes(b"\xff\xd8" + b"0" * (9 * 1024 * 1024))
    page.set_input_files("#caption-photo", str(big))
    assert "the limit is 8 MB" in page.evaluate("document.querySelector('#caption-photo').validationMessage")

    # the progress line, seen by stopping the submission after the page's own handler ran
    page.evaluate("document.addEventListener('submit', (e) => e.preventDefault())")
    page.select_option("#story-template", "cat")
    page.click("form[action='/create/story'] button")
    status = page.locator("form[action='/create/story'] .working")
    status.wait_for(state="visible")
    _wait_until(page, "/\\d+ s/.test(document.querySelector(\"form[action='/create/story'] .elapsed\").textContent)")
    assert page.get_attribute("form[action='/create/story']", "aria-busy") == "true"

    page.goto(f"{base}/create")
    page.fill("#make-text", "when the deploy fails on friday")
    page.select_option("#make-template", "rocket")
    page.click("form[action='/create/make'] button")
    page.locator(".result .made-card").wait_for()
    assert "rocket" in page.locator(".result .chosen").inner_text()
    _wait_until(page, "Array.from(document.querySelectorAll('.made-card img')).every(i => i.complete && i.naturalWidth > 0)")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(tmp_path / "create-390.png"), full_page=True)
