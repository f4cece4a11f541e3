"""Best time to post: `approve --at best` over the account's learned timing (own and imported
posts), within its best_hours and min_spacing; `stats hours` shows the heatmap behind it."""
from __future__ import annotations

import json
import re
from datetime import datetime, timedelta

import pytest

from bot.service.review import BEST
from feedback.polling import Counts
from feedback.repository import history as history_repo
from tests.bot.publishers.apps import BASE, OUTBOX, add_candidates, make_app

TIMED = OUTBOX.replace('post_slots = ["09:00", "13:00", "19:00"]',
                       'post_slots = ["09:00", "13:00", "19:00"]\nbest_hours = [9, 10, 11, 12, 13, 14, 15, 16, 17, '
                       '18, 19, 20]\nmin_spacing = "3h"')
EXTRA = "\n[ranking]\nseed = 5\n"


def _evening_history(app, now: datetime, n: int = 120) -> None:
    """The account's own past: posts at 19:00 did 5x what the 10:00 ones did."""
    with app.tx() as s:
        items = []
        for i in range(n):
            evening = i % 2 == 0
            at = (now - timedelta(days=1 + i // 2)).replace(hour=19 if evening else 10, minute=0)
            items.append(history_repo.NewImport(f"r{i}", at, f"old post {i}", None, 0,
                                                Counts(likes=50 if evening else 10)))
        history_repo.add(s, app.account_ids["demo"], items, now=now)


def test_approve_at_best_goes_where_the_history_says_and_keeps_the_spacing(tmp_path, clock):
    app = make_app(tmp_path, clock, TIMED, extra=EXTRA)
    _evening_history(app, clock())
    ids = add_candidates(app, ["one", "two", "three"], account="demo")
    scheduled = [app.approve(cid, actor="ann", at=BEST).scheduled_at for cid in ids]
    times = [t for t in scheduled if t is not None]
    assert len(times) == len(ids)
    assert all(t > clock() and 9 <= t.hour <= 20 for t in times)
    assert sum(17 <= t.hour <= 20 for t in times) >= 2  # mostly evenings, the history's best
    gaps = [abs(a - b) for i, a in enumerate(times) for b in times[i + 1:]]
    assert min(gaps) >= timedelta(hours=3)
    app.close()


def test_without_history_untried_hours_get_tried(tmp_path, clock):
    app = make_app(tmp_path, clock, TIMED.replace('min_spacing = "3h"', 'min_spacing = "1h"'), extra=EXTRA)
    ids = add_candidates(app, [f"c{i}" for i in range(8)], account="demo")
    scheduled = [app.approve(cid, actor="ann", at=BEST).scheduled_at for cid in ids]
    hours = {t.hour for t in scheduled if t is not None}
    assert None not in scheduled
    assert len(hours) >= 4 and hours <= set(range(9, 21))
    app.close()


def test_stats_hours_table_json_and_csv(tmp_path, clock, monkeypatch, capsys):
    from bot.cli import main

    app = make_app(tmp_path, clock, TIMED, extra=EXTRA)
    _evening_history(app, clock())
    app.close()
    (tmp_path / "config.toml").write_text(BASE + EXTRA + TIMED)
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "config.toml", "stats", "hours", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 7 * 24
    cell = {(r["weekday"], r["hour"]): r for r in rows}
    assert cell["Mon", 19]["ratio"] > cell["Mon", 10]["ratio"] and cell["Mon", 19]["posts"] > 5
    assert cell["Mon", 3]["posts"] == 0 and not cell["Mon", 3]["allowed"] and cell["Mon", 19]["allowed"]
    assert cell["Mon", 19]["low"] < cell["Mon", 19]["ratio"] < cell["Mon", 19]["high"]
    assert main(["--config", "config.toml", "stats", "hours", "--csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "account,weekday,hour,ratio,low,high,posts,allowed"
    assert main(["--config", "config.toml", "stats", "hours"]) == 0
    table = capsys.readouterr().out
    assert "Mon" in table and "best so far" in table and "19:00" in table
    header, *grid = table.splitlines()[1:8]
    mon = dict(zip(header.split(), re.findall(r"\d+\.\d\d \(\d+\)", grid[0])))  # ratio (posts): never "1.28.0"
    assert len(mon) == len(header.split()) and grid[0].startswith("Mon")
    assert mon["19"] == f"{cell['Mon', 19]['ratio']:.2f} ({cell['Mon', 19]['posts']:.0f})"  # as 'best so far' rounds


@pytest.mark.parametrize("value", ["best", "BEST"])
def test_cli_approve_at_best(tmp_path, clock, monkeypatch, capsys, value):
    from bot.cli import main

    make_app(tmp_path, clock, TIMED, extra=EXTRA).close()  # the database `memeloop init` would make
    (tmp_path / "config.toml").write_text(BASE + EXTRA + TIMED)
    monkeypatch.chdir(tmp_path)
    assert main(["--config", "config.toml", "queue", "add", "--image", str(_png(tmp_path)), "--text", "hi"]) == 0
    capsys.readouterr()
    assert main(["--config", "config.toml", "approve", "1", "--at", value]) == 0
    out = capsys.readouterr().out
    at = datetime.fromisoformat(out.split(" at ")[1].split(" (")[0])
    assert 9 <= at.hour <= 20


def _png(tmp_path):
    from tests.bot.publishers.prepared import image_bytes

    path = tmp_path / "me.png"
    path.write_bytes(image_bytes(480, 400))
    return path
