"""`memeloop stats` sub-commands print tables, JSON and CSV from the dashboard views."""
from __future__ import annotations

import csv
import io
import json

import pytest

from bot.app import build_app
from bot.config import load_config
from tests.feedback.test_dashboard import seed


@pytest.fixture
def config(write_config, clock):
    path = write_config('[storage]\nurl = "sqlite:///memeloop.db"\n')  # accounts come from seed()
    app = build_app(load_config(path), clock=clock)
    with app.tx() as s:
        seed(s)
    app.close()
    return str(path)


@pytest.mark.parametrize("args", [
    ["time"], ["by", "template"], ["by", "beam-rank"], ["by", "hour"], ["by", "tone"], ["by", "generator"],
    ["by", "account"], ["by", "audience"], ["top"], ["bottom"], ["approval"], ["approval", "--by", "day"],
    ["models"],
])
def test_every_stats_command_speaks_json_csv_and_table(config, run_cli, args):
    as_json = run_cli("--config", config, "stats", *args, "--json")
    assert as_json.code == 0, as_json.err
    data = json.loads(as_json.out)
    assert data and all(isinstance(r, dict) for r in data)
    as_csv = run_cli("--config", config, "stats", *args, "--csv")
    assert len(list(csv.DictReader(io.StringIO(as_csv.out)))) == len(data)
    table = run_cli("--config", config, "stats", *args)
    assert table.code == 0 and "┃" in table.out


def test_stats_time_draws_a_sparkline_and_by_draws_bars(config, run_cli):
    out = run_cli("--config", config, "stats", "time").out
    assert "daily mean  " in out and "█" in out.splitlines()[-1]
    assert "█" in run_cli("--config", config, "stats", "by", "template").out


def test_top_posts_and_filters(config, run_cli):
    top = json.loads(run_cli("--config", config, "stats", "top", "-n", "1", "--json").out)
    assert [(r["engagement"], r["template"]) for r in top] == [(40, "dog")]
    other = json.loads(run_cli("--config", config, "stats", "by", "template", "--account", "other", "--json").out)
    assert [(r["template"], r["posts"]) for r in other] == [("dog", 1)]


def test_unknown_dimension_is_a_usage_error(config, run_cli):
    assert run_cli("--config", config, "stats", "by", "colour").code == 2
