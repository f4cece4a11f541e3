"""Times typed in the web admin are read in the account's time zone, and the forms say which zone:
approve on the board, reschedule on the post page, schedule into a calendar slot. Daylight saving:
a skipped time is refused with the gap named, a repeated one is its first occurrence."""
from __future__ import annotations

import re
from datetime import UTC, datetime
from html import unescape

import pytest

from bot.config.timefmt import WallTimeError, from_wall, to_wall
from feedback.repository import posts as posts_repo
from tests.bot.test_web_calendar import BERLIN
from tests.bot.web_helpers import make_site
from tests.feedback import feedback_rows as rows


@pytest.fixture
def site(write_config, tmp_path, clock):  # the clock: Mon 2026-01-05 12:00 UTC = 13:00 in Berlin
    s = make_site(lambda: write_config(BERLIN), tmp_path, clock, ("first beam", "second beam", "third", "fourth"))
    yield s
    s.app.close()


def said(html: str) -> str:
    found = re.findall(r'class="message [^"]*"[^>]*>([^<]*)<', html)
    return unescape(found[0] if found else html)


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


@pytest.mark.parametrize(("raw", "expected"), [
    ("2026-01-06T09:30", "2026-01-06T08:30+00:00"),  # winter: UTC+1
    ("2026-07-06T09:30", "2026-07-06T07:30+00:00"),  # summer: UTC+2
    ("2026-10-25T02:30", "2026-10-25T00:30+00:00"),  # happens twice: the first (summer) one
    ("2026-03-29T03:00", "2026-03-29T01:00+00:00"),  # just after the gap
    ("2026-01-06T09:30+05:00", "2026-01-06T04:30+00:00"),  # an explicit offset wins
])
def test_a_wall_time_is_read_in_the_zone(raw, expected):
    assert from_wall(raw, "Europe/Berlin") == utc(expected)
    assert to_wall(from_wall(raw, "Europe/Berlin"), "UTC") == expected[:16]


def test_a_time_in_a_daylight_saving_gap_or_unreadable_is_refused_naming_it():
    with pytest.raises(WallTimeError, match=r"2026-03-29 02:30 does not exist in Europe/Berlin.*e\.g\. 03:30"):
        from_wall("2026-03-29T02:30", "Europe/Berlin")
    with pytest.raises(WallTimeError, match=r"'soon' is not a date and time \(YYYY-MM-DDTHH:MM, in Europe/Berlin\)"):
        from_wall("soon", "Europe/Berlin")


def test_board_approve_reads_the_time_in_the_accounts_zone_and_says_so(site):
    board = site.client.get("/board").text
    assert "or at (Europe/Berlin)" in board and "(UTC)" not in board
    done = site.post(f"/board/{site.ids[0]}/approve", {"version": "1", "at": "2026-01-06T09:30"})
    assert done.status_code == 200 and "scheduled for 2026-01-06T09:30+01:00" in said(done.text)
    assert site.candidate(site.ids[0]).posts[0].scheduled_at == utc("2026-01-06T08:30+00:00")
    # 12:30 Berlin is 11:30 UTC: past here although it would be future read as UTC
    past = site.post(f"/board/{site.ids[1]}/approve", {"version": "1", "at": "2026-01-05T12:30"})
    assert past.status_code == 400 and "2026-01-05T12:30+01:00 is in the past (now 2026-01-05T13:00+01:00)" in said(
        past.text)
    gap = site.post(f"/board/{site.ids[1]}/approve", {"version": "1", "at": "2026-03-29T02:30"})
    assert gap.status_code == 400 and "does not exist in Europe/Berlin" in said(gap.text)
    twice = site.post(f"/board/{site.ids[1]}/approve", {"version": "1", "at": "2026-10-25T02:30"})
    assert twice.status_code == 200 and "scheduled for 2026-10-25T02:30+02:00" in said(twice.text)
    assert site.candidate(site.ids[1]).status == "approved"


def test_post_page_reschedule_reads_the_time_in_the_accounts_zone(site):
    post = site.app.approve(site.ids[0], actor="ann", at=utc("2026-01-07T09:30+01:00")).post_id
    page = site.client.get(f"/posts/{post}").text
    assert "new time (Europe/Berlin)" in page
    moved = site.post(f"/posts/{post}/reschedule", {"at": "2026-01-08T15:00"}, fragment=False)
    assert moved.status_code == 303
    with site.app.tx() as s:
        assert posts_repo.get_post(s, post).scheduled_at == utc("2026-01-08T14:00+00:00")
    past = site.post(f"/posts/{post}/reschedule", {"at": "2026-01-05T12:30"}, fragment=False)
    assert past.status_code == 400 and "is in the past" in past.text


def test_slot_form_refuses_a_time_in_the_gap(site):
    refused = site.post("/schedule/slot", {"account": "demo", "at": "2026-03-29T02:30", "candidate": f"{site.ids[0]}:1"},
                        fragment=False)
    assert refused.status_code == 400 and "does not exist in Europe/Berlin" in unescape(refused.text)
    assert site.candidate(site.ids[0]).status == "pending"


def test_a_card_without_an_account_reads_the_time_in_the_chosen_accounts_zone(write_config, tmp_path, clock):
    two = ('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n\n'
           '[[accounts]]\nname = "demo"\nplatform = "outbox"\ntimezone = "Europe/Berlin"\n\n'
           '[[accounts]]\nname = "tokyo"\nplatform = "outbox"\ntimezone = "Asia/Tokyo"\n')
    site = make_site(lambda: write_config(two), tmp_path, clock, ("mine",))
    try:
        with site.app.tx() as s:
            loose = rows.candidate(s, now=clock(), text="for whichever account").id
        card = site.client.get(f"/board/card/{loose}").text
        assert "or at (the chosen account&#39;s time zone)" in card
        assert '<option value="tokyo">tokyo (Asia/Tokyo)</option>' in card
        done = site.post(f"/board/{loose}/approve", {"version": "1", "account": "tokyo", "at": "2026-01-06T09:30"})
        assert done.status_code == 200 and "scheduled for 2026-01-06T09:30+09:00" in said(done.text)
        assert site.candidate(loose).posts[0].scheduled_at == utc("2026-01-06T00:30+00:00")
    finally:
        site.app.close()
