"""Bulk review (web: tick cards, one confirmation, one POST through approve / reject; CLI: approve --all
asks), one time format across CLI and web, and a past --at refused instead of moved."""
from __future__ import annotations

import io
import json
import re
import sys
from datetime import timedelta

import pytest

from bot.errors import UsageError
from feedback.repository import reviews
from tests.bot.web_helpers import make_site


@pytest.fixture
def site(write_config, tmp_path, clock):
    s = make_site(write_config, tmp_path, clock, ("first beam", "second beam", "third one", "fourth one"))
    yield s
    s.app.close()


def _statuses(site) -> list[str]:
    return [site.candidate(cid).status for cid in site.ids]


def _ticked(site, *cids: int) -> list[str]:
    return [f"{cid}:{site.candidate(cid).version}" for cid in cids]


def test_the_board_has_a_checkbox_per_card_and_one_bulk_form(site):
    page = site.client.get("/board").text
    assert page.count('form="bulk"') == 4
    assert re.search(r'<form id="bulk" method="post" action="/board/bulk"', page)
    assert f'value="{site.ids[0]}:1" form="bulk"' in page


def test_bulk_approve_asks_once_then_approves_each_through_the_use_case(site):
    a, b = site.ids[:2]
    ask = site.post("/board/bulk", {"action": "approve", "ids": _ticked(site, a, b)}, fragment=False)
    assert ask.status_code == 200 and "Approve 2 candidates?" in ask.text and "Yes, approve 2" in ask.text
    assert _statuses(site) == ["pending"] * 4  # asking changed nothing
    hidden = re.findall(r'name="ids" value="([^"]+)"', ask.text)
    assert hidden == [f"{a}:1", f"{b}:1"]
    done = site.post("/board/bulk", {"action": "approve", "ids": hidden, "confirm": "yes"}, fragment=False)
    assert done.status_code == 200 and "Approve: 2 of 2 done" in done.text
    assert re.search(rf"#{a}: approved: post \d+ at 20\d\d-\d\d-\d\dT\d\d:\d\d\+00:00", done.text)
    assert _statuses(site) == ["approved", "approved", "pending", "pending"]
    with site.app.tx() as s:
        assert [r.actor for r in reviews.history(s, a) if r.action == "approve"] == ["ann"]


def test_each_candidates_outcome_is_reported_when_some_moved_meanwhile(site):
    a, b, c = site.ids[:3]
    ticked = _ticked(site, a, b, c)
    site.app.reject(b, actor="bob", reason="seen it")  # after the reviewer looked
    done = site.post("/board/bulk", {"action": "reject", "ids": ticked, "reason": "off brand", "confirm": "yes"},
                     fragment=False)
    assert done.status_code == 200 and "Reject: 2 of 3 done" in done.text
    assert re.search(rf"#{b}: candidate {b} was changed by someone else", done.text)
    assert _statuses(site)[:3] == ["rejected"] * 3
    with site.app.tx() as s:
        assert [r.reason for r in reviews.history(s, a) if r.action == "reject"] == ["off brand"]
        assert [r.actor for r in reviews.history(s, b) if r.action == "reject"] == ["bob"]  # not overwritten


def test_nothing_selected_a_bad_action_or_no_csrf_is_refused(site):
    none = site.post("/board/bulk", {"action": "approve"}, fragment=False)
    assert none.status_code == 400 and "no candidates selected" in none.text
    bad = site.post("/board/bulk", {"action": "publish", "ids": _ticked(site, site.ids[0])}, fragment=False)
    assert bad.status_code == 400 and "unknown bulk action" in bad.text
    forged = site.post("/board/bulk", {"action": "approve", "ids": _ticked(site, site.ids[0]), "confirm": "yes"},
                       csrf="wrong", fragment=False)
    assert forged.status_code == 403
    garbage = site.post("/board/bulk", {"action": "approve", "ids": ["12:x"]}, fragment=False)
    assert garbage.status_code == 400 and "version &#39;x&#39; is not a whole number" in garbage.text
    assert _statuses(site) == ["pending"] * 4


def test_bulk_use_case_limits(site):
    with pytest.raises(UsageError, match="at most 100"):
        site.app.bulk_review("approve", [(i, None) for i in range(1, 102)], actor="ann")
    with pytest.raises(UsageError, match="needs a reason"):
        site.app.bulk_review("reject", [(site.ids[0], None)], actor="ann", reason=" ")
    (missing,) = site.app.bulk_review("approve", [(999, None)], actor="ann")
    assert not missing.ok and "999" in missing.message


# -- approve --all asks on a terminal ----------------------------------------------------------------------

class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_approve_all_asks_on_a_terminal(site, run_cli, monkeypatch):
    cfg = str(site.app.config.path)
    monkeypatch.setattr(sys, "stdin", _Terminal("n\n"))
    no = run_cli("--config", cfg, "approve", "--all")
    assert no.code == 1 and "Approve and schedule 4 pending candidates for posting?" in no.out
    assert "nothing approved" in no.err and _statuses(site) == ["pending"] * 4
    monkeypatch.setattr(sys, "stdin", _Terminal("y\n"))
    yes = run_cli("--config", cfg, "approve", "--all")
    assert yes.code == 0 and yes.out.count("-> post") == 4


# -- a past time is refused with the reason ----------------------------------------------------------------

def test_a_past_at_is_refused_not_moved(site, run_cli, clock):
    cfg = str(site.app.config.path)
    past = run_cli("--config", cfg, "approve", str(site.ids[0]), "--at", "2020-03-01T09:00")
    assert past.code == 2 and "is in the past" in past.err and "--at" in past.err
    assert site.candidate(site.ids[0]).status == "pending"
    with pytest.raises(UsageError, match=r"the time 2026-01-05T11:00\+00:00 is in the past"):
        site.app.approve(site.ids[0], actor="ann", at=clock() - timedelta(hours=1))
    web = site.post(f"/board/{site.ids[0]}/approve", {"version": "1", "at": "2026-01-05T10:00"}, fragment=False)
    assert web.status_code == 400 and "is in the past" in web.text
    result = site.app.approve(site.ids[0], actor="ann", at=clock())  # now is not the past
    again = run_cli("--config", cfg, "reschedule", str(result.post_id), "--at", "2020-01-01T00:00")
    assert again.code == 2 and "is in the past" in again.err


# -- one time format ---------------------------------------------------------------------------------------

def test_one_time_format_in_the_accounts_zone_across_cli_and_web(write_config, tmp_path, clock, run_cli,
                                                                 monkeypatch):
    from tests.bot.web_helpers import make_site as make

    monkeypatch.setenv("COLUMNS", "250")  # rich folds a cell in a narrow terminal

    path = write_config('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n\n'
                        '[[accounts]]\nname = "demo"\nplatform = "outbox"\ntimezone = "Europe/Berlin"\n'
                        'post_slots = ["15:00"]\n', name="berlin.toml")
    site = make(lambda: path, tmp_path, clock, ("a caption",))
    result = site.app.approve(site.ids[0], actor="ann")  # clock: 12:00 UTC = 13:00 in Berlin
    shown = "2026-01-05T15:00+01:00"
    assert result.scheduled_at.isoformat() == "2026-01-05T14:00:00+00:00"  # stored in UTC
    assert shown in site.client.get("/posts").text
    assert shown in site.client.get(f"/posts/{result.post_id}").text
    table = run_cli("--config", str(path), "posts", "list")
    assert shown in table.out
    listed = json.loads(run_cli("--config", str(path), "posts", "list", "--json").out)
    assert listed[0]["scheduled_at"] == "2026-01-05T15:00:00+01:00"
    cli = run_cli("--config", str(path), "queue", "add", "--image", str(tmp_path / "c0.png"), "--text", "x")
    new_id = int(re.search(r"candidate (\d+)", cli.out).group(1))
    approved = run_cli("--config", str(path), "approve", str(new_id))
    assert re.search(r"-> post \d+ at \d{4}-\d\d-\d\dT15:00\+01:00", approved.out)
    site.app.close()
