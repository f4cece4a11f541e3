"""Every page of the web admin in Chromium, signed in and out, at the desk (1400x900) and on a phone
(390x844), light and dark: no horizontal overflow, and axe-core (the build bundled in the
axe-playwright-python package: no network) finds no critical or serious violation.

The pages are every GET route the app registers, so a new page is covered when it is added: path
parameters are filled from the seeded data (SAMPLES, by parameter name and path); a route that does
not answer with HTML (images, downloads) is skipped. With MEMELOOP_SCREENSHOTS=1 a screenshot of each
page at each width goes to docs/screens/ (else nothing is written)."""
from __future__ import annotations

import json
import os
import re
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from starlette.routing import Route

from bot.web.server import create_web
from tests.bot.test_web_e2e import ARGS, CHROMIUM, server  # noqa: F401  (the shared fixture)
from tests.bot.web_helpers import PASSWORD

if TYPE_CHECKING:
    from playwright.sync_api import FloatRect, Locator, ViewportSize
from tests.conftest import REPO

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")]

DESK: ViewportSize = {"width": 1400, "height": 900}
PHONE: ViewportSize = {"width": 390, "height": 844}
SERIOUS = ("critical", "serious")


def _samples(app, ids: list[int]) -> dict[str, str]:
    """Values for path parameters: '<path prefix>:<name>' first, then '<name>'."""
    with app.tx() as s:
        from sqlalchemy import select

        from feedback.models import Post, Template

        post = s.scalars(select(Post.id).order_by(Post.id.desc())).first()
        slug = s.scalars(select(Template.slug).order_by(Template.id)).first()
    link = app.create_review_link("candidate", ids[1], label="client", actor="ann", now=app.clock())
    return {"/posts:id": str(post), "id": str(ids[0]), "name": "demo", "slug": str(slug), "token": link.token,
            "/dashboard:name": "time", "fmt": "json"}


def page_urls(app, ids: list[int]) -> list[str]:
    """One URL per registered GET route, with its parameters filled in, plus a page that does not exist."""
    samples = _samples(app, ids)
    urls = []
    for route in create_web(app).routes:
        if not isinstance(route, Route) or "GET" not in (route.methods or ()):
            continue
        path = route.path
        for name in route.param_convertors:
            prefix = path.split("/{", 1)[0]
            value = samples.get(f"{prefix}:{name}", samples.get(name, "1"))
            path = re.sub(r"\{" + name + r"(:[^}]*)?\}", value, path)
        urls.append(path)
    return [*dict.fromkeys(urls), "/no-such-page"]


def _log_in(page, base: str) -> None:
    page.goto(f"{base}/login")
    page.fill('input[name="name"]', "ann")
    page.fill('input[name="password"]', PASSWORD)
    page.click('button[type="submit"]')
    page.wait_for_url(f"{base}/board")


def _scheduled_post(app, ids: list[int]) -> None:
    """One approved candidate with a scheduled post, so the post page shows its forms."""
    app.approve(ids[-1], actor="ann")


def _notice(app) -> None:
    """One outbox row with a long last error, so the Notifications page shows a row that must wrap."""
    from feedback.repository import notifications

    with app.tx() as s:
        notifications.add(s, webhook="ops", event="post_failed", key="post_failed:1", now=app.clock(),
                          payload={"title": "post 1 failed", "text": "x"})
        (row,) = notifications.recent(s, limit=1)
        notifications.retry(s, row.id, at=app.clock(), error="connection refused: " + "https://hooks.example/" * 8)


def _html_pages(page, base: str, urls: list[str]):
    """(url, final url) of each URL that answers with an HTML page, once per final URL."""
    seen = set()
    for url in urls:
        # asked first without the page (with its cookies): an image or a download is not a page
        if "text/html" not in (page.request.get(f"{base}{url}").headers.get("content-type") or ""):
            continue
        page.goto(f"{base}{url}")
        final = urlsplit(page.url).path  # /login?next=... for every page signed out: one page
        if final in seen:
            continue
        seen.add(final)
        page.wait_for_load_state("load")
        yield url, final


def _check_pages(page, base: str, urls: list[str], viewport: dict, label: str) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    axe, problems, shots = Axe(), [], os.environ.get("MEMELOOP_SCREENSHOTS") == "1"
    checked = 0
    for url, final in _html_pages(page, base, urls):
        checked += 1
        width = page.evaluate("document.scrollingElement.scrollWidth")
        if width > viewport["width"]:
            wide = page.evaluate("""(limit) => Array.from(document.querySelectorAll('body *'))
                .filter(e => e.getBoundingClientRect().right > limit + 1).slice(0, 5)
                .map(e => e.tagName.toLowerCase() + (e.className && typeof e.className === 'string' ? '.' + e.className : ''))""",
                                 viewport["width"])
            problems.append(f"{label} {url}: scroll width {width} > {viewport['width']} ({', '.join(wide)})")
        results = axe.run(page)
        for v in results.response["violations"]:
            if v["impact"] in SERIOUS:
                targets = "; ".join(json.dumps(n["target"]) for n in v["nodes"][:3])
                problems.append(f"{label} {url}: {v['impact']} {v['id']} ({v['help']}) x{len(v['nodes'])}: {targets}")
        if shots:
            name = re.sub(r"[^a-z0-9]+", "-", final.strip("/").lower()) or "home"
            out = REPO / "docs" / "screens"
            out.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(out / f"{label.replace(' ', '-')}-{name}.png"), full_page=True)
    assert checked >= 2, f"{label}: only {checked} HTML pages were reached"
    if label.endswith(" in"):
        assert checked >= 10, f"{label}: only {checked} HTML pages were reached"
    return problems


@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("viewport", [DESK, PHONE], ids=["desk", "phone"])
def test_every_page_fits_and_passes_axe_signed_in_and_out(server, viewport, scheme):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base, app, ids = server
    _scheduled_post(app, ids)
    _notice(app)
    urls = page_urls(app, ids)
    assert {"/board", "/dashboard", "/posts", "/login"} <= set(urls)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(viewport=viewport, color_scheme=scheme)
            page = context.new_page()
            tag = f"{'phone' if viewport is PHONE else 'desk'} {scheme}"
            problems = _check_pages(page, base, urls, viewport, f"{tag} out")
            _log_in(page, base)
            problems += _check_pages(page, base, urls, viewport, f"{tag} in")
        finally:
            browser.close()
    assert not problems, "\n".join(problems)


def test_the_scan_finds_what_it_should():
    """The scan is not blind: an unlabeled edit box, a nameless image and an overflowing row are found."""
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(viewport=PHONE).new_page()
            page.set_content('<html lang="en"><title>t</title><main><h1>t</h1><textarea></textarea><img src="x.png">'
                             '<div style="width:600px">wide</div></main></html>')
            found = {v["id"]: v["impact"] for v in Axe().run(page).response["violations"]}
            assert found.get("label") == "critical" and found.get("image-alt") == "critical"
            assert page.evaluate("document.scrollingElement.scrollWidth") > PHONE["width"]
        finally:
            browser.close()


def test_the_board_on_a_phone_is_one_card_per_screen_with_large_buttons(server):  # noqa: F811
    from playwright.sync_api import sync_playwright

    base, _app, ids = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            page = browser.new_context(viewport=PHONE).new_page()
            _log_in(page, base)
            page.wait_for_load_state("load")
            # the page stays at its top: the filters are in view, the first card is the keyboard's start
            assert page.evaluate("window.scrollY") == 0
            assert page.locator("form.filters").is_visible()
            assert page.evaluate("document.activeElement.id") == f"card-{ids[0]}"
            header = _box(page.locator("header.top"))
            assert header["height"] <= 64, header  # the links fold into the menu
            assert not page.locator(".menu nav a").first.is_visible()
            page.locator(".menu summary").click()
            assert page.locator(".menu nav a", has_text="Dashboard").is_visible()
            page.locator(".menu summary").click()

            page.evaluate(f"document.querySelector('#card-{ids[1]}').scrollIntoView({{block: 'start'}})")
            second = _box(page.locator(f"#card-{ids[1]}"))  # scrolled to, a card fills the screen
            buttons = _box(page.locator(f"#card-{ids[1]} .reject-btn"))
            assert second["y"] >= 0 and buttons["y"] + buttons["height"] <= PHONE["height"], (second, buttons)
            assert second["height"] >= 0.85 * PHONE["height"] - 64, second
            page.evaluate("window.scrollTo(0, 0)")
            card = _box(page.locator(f"#card-{ids[0]}"))
            assert card["width"] >= 350, card
            approve = _box(page.locator(f"#card-{ids[0]} .approve-btn"))
            reject = _box(page.locator(f"#card-{ids[0]} .reject-btn"))
            assert approve["height"] >= 48 and reject["height"] >= 48 and approve["width"] >= 150
            assert abs(approve["y"] - reject["y"]) < 1 and approve["x"] < reject["x"]  # one action row
            colours = page.evaluate(f"""['.approve-btn', '.reject-btn'].map(s =>
                getComputedStyle(document.querySelector('#card-{ids[0]} ' + s)).backgroundColor)""")
            assert colours[0] != colours[1]

            # approve with a thumb: the card answers in place
            page.locator(f"#card-{ids[0]} .approve-btn").click()
            page.locator(f"#card-{ids[0]} .message.ok").wait_for()
            assert page.url == f"{base}/board"
            # the edit box (folded in the card) opens with e and takes the caption
            assert not page.locator(f"#card-{ids[0]} textarea").is_visible()
            page.keyboard.press("e")
            assert page.locator(f"#card-{ids[0]} textarea").is_visible()
            assert page.evaluate("document.activeElement.name") == "text"
        finally:
            browser.close()


def _box(locator: Locator) -> FloatRect:
    box = locator.bounding_box()
    assert box is not None, f"{locator} is not visible"
    return box
