"""The calendar (week and month grids per account, drop to reschedule, click a slot to schedule), a
story thread's per-part previews and edits, and a post's readings over time, over plain HTTP with a
real App on real SQLite rows (the browser half is in test_web_e2e.py)."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image

from feedback.polling import Counts
from feedback.repository import candidates as cand_repo
from feedback.repository import posts as posts_repo
from feedback.repository.metrics import NewSnapshot, add_snapshots
from generator.story import join_parts
from tests.bot.web_helpers import make_site
from tests.feedback import feedback_rows as rows

BERLIN = ('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n\n'
          '[[accounts]]\nname = "demo"\nplatform = "outbox"\ntimezone = "Europe/Berlin"\n'
          'post_slots = ["09:30", "13:00", "19:00"]\nbest_hours = [8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20]\n'
          'min_spacing = "2h"\n')


@pytest.fixture
def site(write_config, tmp_path, clock):
    s = make_site(lambda: write_config(BERLIN), tmp_path, clock, ("first beam", "second beam", "third", "fourth"))
    yield s
    s.app.close()


def status_text(html: str) -> str:
    from html import unescape

    found = re.findall(r'class="message [^"]*"[^>]*>([^<]*)<', html)
    return unescape(found[0] if found else html)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).astimezone(UTC)


# -- the calendar ---------------------------------------------------------------------------------------

def test_week_is_seven_days_on_a_time_grid_in_the_accounts_zone_with_thumbnails(site):
    # the clock is Mon 2026-01-05 12:00 UTC = 13:00 in Berlin
    post = site.app.approve(site.ids[0], actor="ann", at=_at("2026-01-07T09:30+01:00")).post_id
    page = site.client.get("/schedule?start=2026-01-08")  # any day of the week shows its Monday..Sunday
    assert page.status_code == 200
    heads = re.findall(r'<th scope="col"[^>]*>([^<]+)</th>', page.text)
    assert heads == ["time", "Mon 05 Jan", "Tue 06 Jan", "Wed 07 Jan", "Thu 08 Jan", "Fri 09 Jan", "Sat 10 Jan",
                     "Sun 11 Jan"]  # no eighth day to wrap
    hours = re.findall(r'<th scope="row" class="hour">(\d\d:00)</th>', page.text)
    assert hours[0] == "08:00" and hours[-1] == "20:00"  # the allowed hours and the slots, local
    cell = re.search(r'<td class="open" data-drop data-slot="2026-01-07T09:30">(.*?)</td>', page.text, re.DOTALL)
    assert cell and f'data-post="{post}"' in cell.group(1) and 'draggable="true"' in cell.group(1)
    assert f'/media/candidate/{site.ids[0]}/thumb?v=' in cell.group(1) and ">09:30<" in cell.group(1)
    # the past (Monday before 13:00 Berlin) is closed and says so; the future's empty slots link to the picker
    assert re.search(r'<td class="closed" data-drop data-slot="2026-01-05T09:30" title="in the past">', page.text)
    assert 'href="/schedule/slot?account=demo&amp;at=2026-01-06T13:00"' in page.text
    thumb = site.client.get(f"/media/candidate/{site.ids[0]}/thumb?v=1")
    assert thumb.status_code == 200 and thumb.headers["content-type"] == "image/jpeg"
    assert max(Image.open(io.BytesIO(thumb.content)).size) <= 96
    assert site.client.get("/media/candidate/999/thumb").status_code == 404


def test_month_grid_holds_whole_weeks_and_the_posts_of_each_day(site):
    post = site.app.approve(site.ids[0], actor="ann", at=_at("2026-01-20T13:00+01:00")).post_id
    page = site.client.get("/schedule?view=month&start=2026-01-15")
    assert page.status_code == 200 and "January 2026" in page.text
    days = re.findall(r'data-day="([\d-]+)"', page.text)
    assert days[0] == "2025-12-29" and days[-1] == "2026-02-01" and len(days) == 35  # Monday..Sunday weeks
    cell = _found(re.search(r'data-day="2026-01-20">(.*?)</td>', page.text, re.DOTALL)).group(1)
    assert f'data-post="{post}"' in cell and 'data-time="13:00"' in cell
    assert 'class="closed other-month" data-drop data-day="2025-12-29"' in page.text
    assert 'href="/schedule?account=demo&amp;view=month&amp;start=2026-02-01"' in page.text  # the next month


def test_dropping_a_post_on_a_slot_reschedules_it_through_the_use_case(site):
    post = site.app.approve(site.ids[0], actor="ann", at=_at("2026-01-07T09:30+01:00")).post_id
    moved = site.post(f"/posts/{post}/reschedule", {"at": "2026-01-08T15:00", "tz": "Europe/Berlin"})
    assert moved.status_code == 200 and "rescheduled" in status_text(moved.text)
    with site.app.tx() as s:
        assert posts_repo.get_post(s, post).scheduled_at == _at("2026-01-08T14:00+00:00")
    history = site.candidate(site.ids[0]).history
    assert history[-1].action == "reschedule" and history[-1].actor == "ann"


@pytest.mark.parametrize(("target", "why"), [
    ("2026-01-05T09:30", "not at 2026-01-05 09:30 (Europe/Berlin): that is in the past"),
    ("2026-01-08T22:00", "22:00 is outside demo's allowed hours (08-20 Europe/Berlin; best_hours)"),
    ("2026-01-09T10:00", "is at 2026-01-09 09:30, 30 min away; demo keeps 2 h between posts (min_spacing)"),
])
def test_a_drop_on_a_slot_that_breaks_the_accounts_rules_is_refused_with_the_reason(site, target, why):
    post = site.app.approve(site.ids[0], actor="ann", at=_at("2026-01-07T09:30+01:00")).post_id
    site.app.approve(site.ids[2], actor="ann", at=_at("2026-01-09T09:30+01:00"))
    refused = site.post(f"/posts/{post}/reschedule", {"at": target, "tz": "Europe/Berlin"})
    assert refused.status_code == 400 and why in status_text(refused.text)
    assert "Nothing was changed" in status_text(refused.text)
    with site.app.tx() as s:
        assert posts_repo.get_post(s, post).scheduled_at == _at("2026-01-07T09:30+01:00")
    assert site.post(f"/posts/{post}/reschedule", {"at": "2026-01-08T10:00", "tz": "Mars/Olympus"}).status_code == 400


def test_an_empty_slot_schedules_an_approved_or_a_pending_candidate_there(site):
    with site.app.tx() as s:  # approved, but not yet on this account (e.g. its post was for another)
        c = rows.candidate(s, now=site.app.clock(), text="approved and waiting", account_id=site.app.account_ids["demo"],
                           status="approved")
        approved = c.id
    picker = site.client.get("/schedule/slot?account=demo&at=2026-01-06T13:00")
    assert picker.status_code == 200 and 'value="2026-01-06T13:00"' in picker.text
    assert picker.text.index(f'value="{approved}:1"') < picker.text.index(f'value="{site.ids[0]}:1"')
    done = site.post("/schedule/slot", {"account": "demo", "at": "2026-01-06T13:00", "candidate": f"{approved}:1"},
                     fragment=False)
    assert done.status_code == 303 and done.headers["location"] == "/schedule?account=demo&start=2026-01-06"
    landed = site.client.get(done.headers["location"]).text
    assert f"candidate {approved} is scheduled" in landed and "2026-01-06 13:00 (Europe/Berlin)" in landed
    pending = site.post("/schedule/slot", {"account": "demo", "at": "2026-01-06T19:00",
                                           "candidate": f"{site.ids[3]}:1"}, fragment=False)
    assert pending.status_code == 303 and site.candidate(site.ids[3]).status == "approved"
    assert site.candidate(site.ids[3]).posts[0].scheduled_at == _at("2026-01-06T19:00+01:00")
    near = site.post("/schedule/slot", {"account": "demo", "at": "2026-01-06T14:00", "candidate": f"{site.ids[0]}:1"},
                     fragment=False)
    assert near.status_code == 400 and "60 min away" in near.text and site.candidate(site.ids[0]).status == "pending"
    stale = site.post("/schedule/slot", {"account": "demo", "at": "2026-01-07T13:00", "candidate": f"{site.ids[0]}:9"},
                      fragment=False)
    assert stale.status_code == 409
    assert site.client.get("/schedule/slot?account=demo&at=soon").status_code == 400


def test_slot_picker_says_when_there_is_nothing_to_schedule(write_config, tmp_path, clock):
    s = make_site(lambda: write_config(BERLIN), tmp_path, clock, ())
    page = s.client.get("/schedule/slot?account=demo&at=2026-01-06T13:00")
    assert page.status_code == 200 and "Nothing to schedule" in page.text
    s.app.close()


# -- threads --------------------------------------------------------------------------------------------

SIX = [f"part {i}: " + "the rocket kept climbing past every cloud while the crew argued about snacks " * 2
       for i in range(1, 7)]


def _thread(site, parts: list[str]) -> int:
    with site.app.tx() as s:
        return cand_repo.add_candidate(s, cand_repo.NewCandidate(
            generator="story", text=join_parts(parts), account_id=site.app.account_ids["demo"], tone="funny",
            audience="general", params={"topic": "space"}, status="pending"), site.app.clock()).id


def test_a_six_part_thread_is_previewed_part_by_part_per_platform(site):
    cid = _thread(site, SIX)
    page = site.client.get(f"/threads/{cid}")
    assert page.status_code == 200
    assert "337 / 280" not in page.text and "will be trimmed" not in page.text  # each reply is its own post
    parts = re.findall(r'<li class="part" id="part-(\d)">(.*?)</li>\s*(?=<li class="part"|</ol>)', page.text, re.DOTALL)
    assert [n for n, _ in parts] == ["1", "2", "3", "4", "5", "6"]
    for n, body in parts:
        x = re.search(r"X: (\d+) / 280 weighted", body)
        assert x and int(x.group(1)) <= 280 and f"({n}/6)" in body
        assert re.search(r"Mastodon: \d+ / 500 characters", body) and re.search(r"Bluesky: \d+ / 300 graphemes", body)
        assert ("with the image and its alt text" in body) == (n == "1")
        assert f'action="/threads/{cid}/parts/{n}"' in body
    assert re.search(r"Instagram: one caption, \d+ / 2200 characters", page.text)
    assert "(1/6)" in page.text and f'action="/threads/{cid}/continue"' not in page.text  # six is the most


def test_a_long_part_is_flagged_per_platform(site):
    long = "an endless sentence about orbital mechanics and the snacks on board " * 5  # ~345 characters
    cid = _thread(site, ["a short start", long])
    page = site.client.get(f"/threads/{cid}").text
    part2 = page[page.index('id="part-2"'):]
    assert re.search(r"X: \d+ / 280 weighted \(trimmed from \d+: shorten this part\)", part2)
    assert "Bluesky refuses a reply this long: shorten this part" in part2


def test_the_accounts_own_platform_comes_first_and_instagram_gets_one_caption():
    from bot.web.views import thread_preview

    shown = thread_preview(["one two", "three four"], platform="bluesky", alt="a rocket", hashtag_cap=5)
    first = shown["parts"][0]
    assert [c["name"] for c in first["counts"]] == ["Bluesky", "X", "Mastodon"] and first["counts"][0]["ours"]
    assert first["text"] == "one two (1/2)" and first["media"] == "a rocket" and shown["parts"][1]["media"] is None
    assert shown["chains"] and shown["instagram"]["caption"] == "one two (1/2)\n\nthree four (2/2)"
    on_instagram = thread_preview(["one two", "three four"], platform="instagram", alt=None, hashtag_cap=5)
    assert not on_instagram["chains"] and on_instagram["instagram"]["ours"]


def test_edit_one_part_in_the_web_keeps_the_others_and_refuses_a_stale_page(site):
    cid = _thread(site, ["one two three", "four five six", "seven eight nine"])
    done = site.post(f"/threads/{cid}/parts/2", {"version": "1", "text": "the middle, rewritten"}, fragment=False)
    assert done.status_code == 303 and done.headers["location"] == f"/threads/{cid}"
    assert site.app.thread(cid).parts == ("one two three", "the middle, rewritten", "seven eight nine")
    page = site.client.get(f"/threads/{cid}").text
    assert "part 2 saved" in page and "the middle, rewritten (2/3)" in page
    assert site.candidate(cid).history[-1].actor == "ann"
    stale = site.post(f"/threads/{cid}/parts/1", {"version": "1", "text": "late"}, fragment=False)
    assert stale.status_code == 409 and "changed by someone else" in stale.text
    assert site.post(f"/threads/{cid}/parts/7", {"version": "2", "text": "x"}, fragment=False).status_code == 400
    assert site.post(f"/threads/{cid}/parts/1", {"version": "2", "text": " "}, fragment=False).status_code == 400
    assert site.client.get(f"/threads/{site.ids[0]}").status_code == 400  # a meme is not a thread


def test_continue_and_steer_are_checked_before_the_writer_loads(site):
    full = _thread(site, SIX)
    refused = site.post(f"/threads/{full}/continue", {"version": "1", "parts": "1"}, fragment=False)
    assert refused.status_code == 400 and "already has 6 parts" in refused.text
    two = _thread(site, ["one two three", "four five six"])
    page = site.client.get(f"/threads/{two}").text
    assert f'action="/threads/{two}/continue"' in page and "<option>4</option>" in page
    steer = site.post(f"/threads/{two}/continue", {"version": "1", "parts": "1", "steer": "x" * 300}, fragment=False)
    assert steer.status_code == 400 and "at most 280" in steer.text
    assert site.post(f"/threads/{two}/continue", {"version": "1", "parts": "9"}, fragment=False).status_code == 400


def test_a_threads_post_page_shows_its_parts_and_its_readings_over_time(site):
    cid = _thread(site, SIX)
    post = site.app.approve_thread(cid, actor="ann", at=site.app.clock() + timedelta(hours=3)).post_id
    page = site.client.get(f"/posts/{post}").text
    assert "337 / 280" not in page and page.count('class="part"') == 6 and "No readings yet" in page
    assert f'action="/threads/{cid}/parts/3"' in page  # scheduled: still editable
    with site.app.tx() as s:
        p = posts_repo.get_post(s, post)
        p.state, p.published_at = "published", site.app.clock()
        add_snapshots(s, [NewSnapshot(post, site.app.clock() + timedelta(hours=h), 3600 * h,
                                      Counts(likes=3 * h, reposts=h, replies=None)) for h in (1, 6, 24)])
    page = site.client.get(f"/posts/{post}").text
    assert f'action="/threads/{cid}/parts/3"' not in page  # published: no more edits
    chart = _found(re.search(r'<svg class="chart metrics".*?</svg>', page, re.DOTALL)).group(0)
    assert chart.count("<circle") == 3 and "<polyline" in chart and "24 h after publishing" in chart
    table = _found(re.search(r'<table class="rows snapshots">(.*?)</table>', page, re.DOTALL)).group(1)
    assert ">likes<" in table and ">reposts<" in table and ">replies<" not in table  # only what was reported
    cells = re.findall(r"<tr><td>(.*?)</td>", table)
    assert len(cells) == 3 and cells[0].startswith("2026-01-06")  # newest first


def test_the_rules_are_the_webs_the_clis_reschedule_stays_the_operators_word(site):
    from bot.service.slots import hour_ranges

    assert hour_ranges([8, 9, 10, 14, 20, 21]) == "08-10, 14, 20-21" and hour_ranges([]) == ""
    post = site.app.approve(site.ids[0], actor="ann", at=_at("2026-01-07T09:30+01:00")).post_id
    late = _at("2026-01-07T23:00+01:00")  # outside best_hours: the CLI may still put it there
    assert site.app.reschedule(post, actor="cli", at=late).scheduled_at == late
    from bot.errors import UsageError

    with pytest.raises(UsageError, match="outside demo's allowed hours"):
        site.app.reschedule(post, actor="web", at=late + timedelta(hours=1), within_rules=True)


@pytest.mark.slow
def test_continue_and_steer_a_thread_from_its_page_with_the_shipped_writer(site):
    two = _thread(site, ["the rocket left the pad at dawn", "the crew argued about snacks"])
    done = site.post(f"/threads/{two}/continue", {"version": "1", "parts": "1", "steer": "then it rained"},
                     fragment=False)
    assert done.status_code == 303, done.text
    thread = site.app.thread(two)
    assert len(thread.parts) == 3 and thread.lineage[-1]["steer"] == "then it rained"
    page = site.client.get(f"/threads/{two}").text
    assert "continued with 1 part, steered: then it rained; the thread has 3 parts now" in page
    assert 'id="part-3"' in page and "(3/3)" in page


def _found(match: re.Match[str] | None) -> re.Match[str]:
    assert match is not None, "the page lacks the expected markup"
    return match


def test_each_scheduled_post_has_a_move_link_that_returns_to_the_calendar(site):
    """The keyboard's way to move a post (drag needs a mouse): a link beside it opens the post page's
    reschedule form focused and filled in with its time; moving it returns to the calendar."""
    post = site.app.approve(site.ids[0], actor="ann", at=_at("2026-01-07T09:30+01:00")).post_id
    week = site.client.get("/schedule?account=demo&start=2026-01-05").text
    href = re.search(rf'<a class="cal-move" href="(/posts/{post}\?[^"]+)">Move post {post} \(09:30\)', week)
    assert href, "no Move link beside the scheduled post"
    from html import unescape

    page = site.client.get(unescape(href.group(1))).text
    field = re.search(r'<input type="datetime-local" name="at"[^>]*>', page)
    assert field and 'value="2026-01-07T09:30"' in field.group(0) and "autofocus" in field.group(0)
    assert '<input type="hidden" name="back" value="/schedule?account=demo&amp;start=2026-01-05">' in page
    moved = site.post(f"/posts/{post}/reschedule", {"at": "2026-01-08T15:00", "back": "/schedule?account=demo&start=2026-01-05"},
                      fragment=False)
    assert moved.status_code == 303 and moved.headers["location"] == "/schedule?account=demo&start=2026-01-05"
    assert "rescheduled: post" in status_text(site.client.get(moved.headers["location"]).text)
    assert "autofocus" not in site.client.get(f"/posts/{post}").text  # only when asked to move
    away = site.post(f"/posts/{post}/reschedule", {"at": "2026-01-08T17:00", "back": "https://evil.example/schedule"},
                     fragment=False)
    assert away.status_code == 303 and away.headers["location"] == f"/posts/{post}"


def test_the_week_is_also_a_list_of_days_for_a_phone_with_each_days_posts_and_open_slots(site):
    post = site.app.approve(site.ids[0], actor="ann", at=_at("2026-01-07T09:30+01:00")).post_id
    page = site.client.get("/schedule?start=2026-01-05").text
    days = re.search(r'<ol class="cal-days"[^>]*>(.*?)</ol>', page, re.DOTALL)
    assert days, "no day list"
    heads = re.findall(r'<h2 class="cal-day-head"[^>]*>([^<]+)</h2>', days.group(1))
    assert heads == ["Mon 05 Jan", "Tue 06 Jan", "Wed 07 Jan", "Thu 08 Jan", "Fri 09 Jan", "Sat 10 Jan", "Sun 11 Jan"]
    per_day = dict(zip(heads, re.split(r'<h2 class="cal-day-head"[^>]*>', days.group(1))[1:]))
    wednesday = per_day["Wed 07 Jan"]
    assert f'href="/posts/{post}"' in wednesday and ">09:30<" in wednesday
    assert "data-post=" not in days.group(1)  # the grid's post is the one the drag and the tests point at
    assert 'href="/schedule/slot?account=demo&amp;at=2026-01-07T13:00"' in wednesday  # open slots to pick
    assert "2026-01-07T09:30\"" not in wednesday.split(f'href="/posts/{post}"')[0]  # the post's slot is taken
    assert "2026-01-05T09:30" not in per_day["Mon 05 Jan"]  # the past is not offered
    month = site.client.get("/schedule?view=month&start=2026-01-05").text
    assert 'class="cal-days"' not in month
