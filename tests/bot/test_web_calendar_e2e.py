"""The calendar and a thread's page in a real browser (Playwright driving the system's Chromium against
a real server over a real database): drag a post to another slot, a drop the account's rules refuse,
the same move with the keyboard, edit one part of a thread; no horizontal overflow at phone width
(390 px) nor at 1400 px. With
MEMELOOP_SCREENSHOTS=1 the screenshots go to docs/, otherwise to the test's temporary directory."""
from __future__ import annotations

import os
from datetime import UTC, datetime, time, timedelta

import pytest

from feedback.repository import posts as posts_repo
from tests.bot.test_web_e2e import CHROMIUM, _wait_until, page, server  # noqa: F401  (fixtures)
from tests.bot.web_helpers import PASSWORD
from tests.conftest import REPO

pytestmark = [pytest.mark.e2e,
              pytest.mark.skipif(not CHROMIUM.exists(), reason="needs Debian's chromium (apt-get install chromium)")]


def _login(tab, base: str, target: str) -> None:
    tab.goto(f"{base}{target}")
    tab.fill('input[name="name"]', "ann")
    tab.fill('input[name="password"]', PASSWORD)
    tab.click('button[type="submit"]')
    tab.wait_for_url(f"{base}{target.split('?')[0]}")  # the login keeps the path, not the query
    tab.goto(f"{base}{target}")


def _story(app, parts: list[str]) -> int:
    from feedback.repository import candidates as cand_repo
    from generator.story import join_parts

    with app.tx() as s:
        return cand_repo.add_candidate(s, cand_repo.NewCandidate(
            generator="story", text=join_parts(parts), account_id=app.account_ids["demo"], tone="funny",
            audience="general", params={"topic": "space"}, status="pending"), app.clock()).id


def _no_overflow(tab, width: int) -> None:
    """Nothing of the page's own content is wider than the window (the shared header is the phone
    layout's business: tests of the header live with it)."""
    main = tab.evaluate("(() => { const m = document.querySelector('main'); "
                        "return [m.scrollWidth, m.clientWidth, m.getBoundingClientRect().right]; })()")
    assert main[0] <= main[1] and main[2] <= width, (tab.url, main)  # wide grids scroll inside their region


def test_drag_a_post_to_another_slot_and_a_refused_drop_says_why(server, page, tmp_path):  # noqa: F811
    base, app, ids = server
    shots = REPO / "docs" if os.environ.get("MEMELOOP_SCREENSHOTS") == "1" else tmp_path
    today = app.clock().astimezone(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())  # next week: every slot is ahead
    first = app.approve(ids[0], actor="ann", at=datetime.combine(monday, time(9), tzinfo=UTC)).post_id
    app.approve(ids[1], actor="ann", at=datetime.combine(monday + timedelta(days=2), time(19), tzinfo=UTC))
    page.set_viewport_size({"width": 1400, "height": 900})
    _login(page, base, f"/schedule?start={monday}")
    post = page.locator(f'[data-calendar] a[data-post="{first}"]')
    _wait_until(page, "Array.from(document.querySelectorAll('.cal-post img')).every(i => i.complete && i.naturalWidth > 0)")
    wednesday = (monday + timedelta(days=2)).isoformat()
    post.drag_to(page.locator(f'td[data-slot="{wednesday}T13:00"]'))
    page.locator("#cal-status.ok").wait_for()
    assert "rescheduled" in page.inner_text("#cal-status")
    moved = page.locator(f'td[data-slot="{wednesday}T13:00"] a[data-post="{first}"]')
    moved.wait_for()  # the calendar was re-read: the post sits in its new slot
    with app.tx() as s:
        assert posts_repo.get_post(s, first).scheduled_at == datetime.fromisoformat(f"{wednesday}T13:00+00:00")
    assert app.candidate(ids[0]).history[-1].actor == "ann"
    page.screenshot(path=str(shots / "web-calendar-week.png"), full_page=True)
    _no_overflow(page, 1400)

    # an hour before the other post that day: the account keeps 2 h between posts
    page.locator(f'[data-calendar] a[data-post="{first}"]').drag_to(page.locator(f'td[data-slot="{wednesday}T18:00"]'))
    page.locator("#cal-status.error").wait_for()
    assert "60 min away" in page.inner_text("#cal-status") and "min_spacing" in page.inner_text("#cal-status")
    with app.tx() as s:
        assert posts_repo.get_post(s, first).scheduled_at.hour == 13

    # the same move without a mouse: Tab from the post reaches its Move link, Enter opens the form focused
    thursday = (monday + timedelta(days=3)).isoformat()
    page.focus(f'[data-calendar] a.cal-post[data-post="{first}"]')
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "cal-move"
    shown = page.locator(".cal-move:focus").bounding_box()
    assert shown is not None and shown["width"] > 40 and shown["height"] > 10  # seen once it has the focus
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/posts/{first}?*")
    assert page.evaluate("[document.activeElement.name, document.activeElement.value]") == ["at", f"{wednesday}T13:00"]
    page.fill("#reschedule input[name=at]", f"{thursday}T13:00")
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/schedule?start={monday}")  # back on the calendar, the post in its new slot
    page.locator(f'td[data-slot="{thursday}T13:00"] a[data-post="{first}"]').wait_for()
    assert "rescheduled" in page.inner_text("#cal-status")

    page.goto(f"{base}/schedule?view=month&start={monday}")
    page.locator(f'table.month a[data-post="{first}"]').wait_for()
    page.screenshot(path=str(shots / "web-calendar-month.png"), full_page=True)
    _no_overflow(page, 1400)
    page.set_viewport_size({"width": 390, "height": 844})
    for url in (f"/schedule?start={monday}", f"/schedule?view=month&start={monday}", f"/posts/{first}",
                f"/schedule/slot?account=demo&at={monday}T13:00"):
        page.goto(f"{base}{url}")
        _no_overflow(page, 390)
    page.screenshot(path=str(shots / "web-calendar-slot-390.png"), full_page=True)
    page.goto(f"{base}/schedule?view=month&start={monday}")
    page.screenshot(path=str(shots / "web-calendar-month-390.png"), full_page=True)
    page.goto(f"{base}/schedule?start={monday}")
    page.screenshot(path=str(shots / "web-calendar-week-390.png"), full_page=True)


def test_a_published_posts_readings_over_time_at_both_widths(server, page, tmp_path):  # noqa: F811
    from feedback.polling import Counts
    from feedback.repository.metrics import NewSnapshot, add_snapshots

    base, app, _ids = server
    shots = REPO / "docs" if os.environ.get("MEMELOOP_SCREENSHOTS") == "1" else tmp_path
    published = next(p for p in app.posts(states=("published",)))
    with app.tx() as s:
        add_snapshots(s, [NewSnapshot(published.id, published.published_at + timedelta(hours=h), 3600 * h, Counts(likes=4 * h + h % 3, reposts=h // 2,
                                                                                  replies=h // 4, impressions=90 * h))
                          for h in (2, 6, 12, 24, 48)])
    page.set_viewport_size({"width": 1400, "height": 900})
    _login(page, base, f"/posts/{published.id}")
    assert page.locator("svg.chart.metrics circle").count() == 6  # the fixture's reading and these five
    assert page.locator("table.snapshots tbody tr").count() == 6
    page.screenshot(path=str(shots / "web-post-metrics.png"), full_page=True)
    _no_overflow(page, 1400)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _no_overflow(page, 390)
    page.screenshot(path=str(shots / "web-post-metrics-390.png"), full_page=True)


def test_edit_one_part_of_a_thread_in_the_browser(server, page, tmp_path):  # noqa: F811
    base, app, _ids = server
    shots = REPO / "docs" if os.environ.get("MEMELOOP_SCREENSHOTS") == "1" else tmp_path
    cid = _story(app, [f"part {i}: the rocket kept climbing past every cloud while the crew argued about snacks "
                       f"and the radio played the same song again" for i in range(1, 7)])
    page.set_viewport_size({"width": 1400, "height": 900})
    _login(page, base, f"/threads/{cid}")
    assert page.locator("li.part").count() == 6 and "337 / 280" not in page.inner_text("body")
    page.click("#part-2 details.part-edit summary")
    page.fill("#part-text-2", "then the snacks ran out and nobody spoke")
    page.click("#part-2 details.part-edit button")
    page.wait_for_url(f"{base}/threads/{cid}")
    assert "part 2 saved" in page.inner_text(".message.ok")
    assert "then the snacks ran out and nobody spoke (2/6)" in page.inner_text("#part-2 .sent")
    assert app.thread(cid).parts[1] == "then the snacks ran out and nobody spoke"
    assert app.thread(cid).parts[0].startswith("part 1:")
    page.screenshot(path=str(shots / "web-thread.png"), full_page=True)
    _no_overflow(page, 1400)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    _no_overflow(page, 390)
    page.screenshot(path=str(shots / "web-thread-390.png"), full_page=True)


def test_the_week_on_a_phone_is_a_list_of_days_that_does_not_scroll_sideways(server, page, tmp_path):  # noqa: F811
    base, app, ids = server
    shots = REPO / "docs" if os.environ.get("MEMELOOP_SCREENSHOTS") == "1" else tmp_path
    today = app.clock().astimezone(UTC).date()
    monday = today + timedelta(days=7 - today.weekday())
    first = app.approve(ids[0], actor="ann", at=datetime.combine(monday, time(9), tzinfo=UTC)).post_id
    page.set_viewport_size({"width": 390, "height": 844})
    _login(page, base, f"/schedule?start={monday}")
    region = page.evaluate("(() => { const r = document.querySelector('.cal-scroll'); "
                           "return [r.scrollWidth, r.clientWidth]; })()")
    assert region[0] <= region[1], region  # nothing to scroll sideways inside the calendar
    assert not page.locator("table.cal.week").is_visible() and page.locator("ol.cal-days").is_visible()
    page.screenshot(path=str(shots / "web-calendar-week-390.png"), full_page=True)
    post = page.locator(f'ol.cal-days a[href="/posts/{first}"]')
    box = post.bounding_box()
    assert box is not None and box["width"] >= 250, box  # a post spans most of the phone's width (and Move)
    page.set_viewport_size({"width": 1400, "height": 900})  # the desk keeps the time grid
    assert page.locator("table.cal.week").is_visible() and not page.locator("ol.cal-days").is_visible()
