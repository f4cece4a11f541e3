"""`memeloop status` / `run` / `generate` at the CLI edge."""
from __future__ import annotations

import json

from bot.app import build_app
from bot.config import load_config
from bot.heartbeat import identity, write_beat


def test_status_without_a_daemon_exits_1(write_config, run_cli):
    config = write_config()
    result = run_cli("--config", str(config), "status")
    assert result.code == 1 and "no daemon running" in result.out
    health = run_cli("--config", str(config), "status", "--healthcheck")
    assert health.code == 1 and health.out.strip() == "unhealthy: no daemon heartbeat"


def test_status_with_a_fresh_heartbeat_exits_0_and_lists_jobs(write_config, run_cli):
    config = write_config()
    app = build_app(load_config(config))
    write_beat(app, identity("daemon", app.clock()),
               {"publish": {"next_run": "2030-01-01T09:00:00+00:00", "trigger": "interval[0:01:00]"}})
    app.close()
    result = run_cli("--config", str(config), "status", "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    assert report["alive"] is True and report["jobs"][0]["id"] == "publish"
    assert report["jobs"][0]["next_run"].startswith("2030-01-01T09:00")
    health = run_cli("--config", str(config), "status", "--healthcheck")
    assert health.code == 0 and health.out.startswith("healthy: daemon@")
    table = run_cli("--config", str(config), "status")
    assert table.code == 0 and "daemon alive" in table.out and "publish" in table.out


def test_generate_for_an_unknown_account_is_a_config_error(write_config, run_cli):
    result = run_cli("--config", str(write_config()), "generate", "--account", "nobody")
    assert result.code == 2 and "unknown account 'nobody'" in result.err
