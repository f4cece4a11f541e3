"""The posting CLI: queue add, approve, posts list, retry, accounts."""
from __future__ import annotations

import json
import re

import pytest

from tests.bot.publishers.prepared import image_bytes


@pytest.fixture
def cfg(write_config, tmp_path):
    (tmp_path / "cat.png").write_bytes(image_bytes())
    return str(write_config())


def _json(result):
    assert result.code == 0, result.err
    return json.loads(result.out)


def test_add_approve_publish_list(cfg, run_cli, tmp_path):
    added = run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "cat.png"), "--text", "me on monday")
    assert added.code == 0 and "added candidate 1 (manual, account demo)" in added.out
    stored = [p for p in (tmp_path / "media").rglob("*.png")]
    assert len(stored) == 1 and len(stored[0].stem) == 64
    (cand,) = _json(run_cli("--config", cfg, "queue", "list", "--json"))
    assert (cand["generator"], cand["text"]) == ("manual", "me on monday")
    result = run_cli("--config", cfg, "approve", "1", "--at", "now")
    assert result.code == 0 and re.search(r"candidate 1 -> post 1 at \d{4}-\d\d-\d\dT\d\d:\d\d\+00:00 \(UTC\)$", result.out.strip())
    (post,) = _json(run_cli("--config", cfg, "posts", "list", "--json"))
    assert (post["state"], post["account"], post["text"]) == ("scheduled", "demo", "me on monday")
    from bot.app import build_app
    from bot.config import load_config
    from bot.service.publishing import publish_due

    app = build_app(load_config(cfg))
    assert publish_due(app.deps, owner="t").published == 1
    app.close()
    csv_out = run_cli("--config", cfg, "posts", "list", "--state", "published", "--csv")
    assert csv_out.out.splitlines()[0].startswith("id,state,account") and ",published,demo," in csv_out.out
    refused = run_cli("--config", cfg, "retry", "1")
    assert refused.code == 1 and "already published" in refused.err and "twice" in refused.err


def test_approve_all_and_usage_errors(cfg, run_cli, tmp_path):
    for text in ("a", "b"):
        run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "cat.png"), "--text", text)
    assert run_cli("--config", cfg, "approve").code == 2
    assert run_cli("--config", cfg, "approve", "1", "--all").code == 2
    bad_time = run_cli("--config", cfg, "approve", "1", "--at", "tomorrowish")
    assert bad_time.code == 2 and "ISO 8601" in bad_time.err
    unasked = run_cli("--config", cfg, "approve", "--all")  # not a terminal: refused, nothing approved
    assert unasked.code == 2 and "would approve and schedule 2 pending candidates without asking" in unasked.err
    assert "add --yes" in unasked.err
    result = run_cli("--config", cfg, "approve", "--all", "--yes")
    assert result.code == 0 and result.out.count("-> post") == 2
    again = run_cli("--config", cfg, "approve", "1")
    assert again.code == 1 and again.err.strip().count("\n") == 0 and "already approved and scheduled" in again.err


def test_queue_add_rejects_a_non_image(cfg, run_cli, tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    result = run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "notes.txt"), "--text", "x")
    assert result.code == 2 and "not an image" in result.err  # the user's input was wrong
    assert "Traceback" not in result.err


def test_retry_failed_post_and_refuse_scheduled(cfg, run_cli, tmp_path, caplog):
    run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "cat.png"), "--text", "x")
    run_cli("--config", cfg, "approve", "1", "--at", "now")
    refused = run_cli("--config", cfg, "retry", "1")
    assert refused.code == 1 and "post 1 is scheduled: cannot retry: its post is already scheduled" in refused.err
    from bot.app import build_app
    from bot.config import load_config
    from feedback.repository import posts as repo

    app = build_app(load_config(cfg))
    with app.tx() as s:
        repo.claim_due(s, owner="w", now=app.clock(), lease=app.config.publishing.lease)
        repo.mark_failed(s, 1, owner="w", error_class="permanent", error="nope", now=app.clock())
    app.close()
    ok = run_cli("--config", cfg, "retry", "1")
    assert ok.code == 0 and "post 1: failed -> scheduled" in ok.out
    assert "event=post_retry post=1 candidate=1" in caplog.text
    assert run_cli("--config", cfg, "retry", "99").code == 1


def test_accounts_list_and_resume(cfg, run_cli):
    from bot.app import build_app
    from bot.config import load_config
    from feedback.repository import accounts as account_repo

    app = build_app(load_config(cfg))
    with app.tx() as s:
        account_repo.pause(s, app.account_ids["demo"], None, "challenge: open the app")
    app.close()
    (row,) = _json(run_cli("--config", cfg, "accounts", "list", "--json"))
    assert row["name"] == "demo" and row["pause_reason"] == "challenge: open the app" and row["enabled"] is True
    resumed = run_cli("--config", cfg, "accounts", "resume", "demo")
    assert resumed.code == 0 and "was paused: challenge: open the app" in resumed.out
    (row,) = _json(run_cli("--config", cfg, "accounts", "list", "--json"))
    assert row["paused_until"] is None
    missing = run_cli("--config", cfg, "accounts", "resume", "nobody")
    assert missing.code == 1 and "nobody" in missing.err


ZONED = """[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"

[[accounts]]
name = "paris"
platform = "outbox"
timezone = "Europe/Paris"

[[accounts]]
name = "ny"
platform = "outbox"
timezone = "America/New_York"
"""


def test_at_without_an_offset_is_read_in_the_accounts_time_zone(write_config, run_cli, tmp_path):
    """As the web admin reads its date-and-time fields (bot.config.timefmt.from_wall); an offset or Z wins."""
    cfg = str(write_config(ZONED))
    (tmp_path / "cat.png").write_bytes(image_bytes())
    for account in ("paris", "paris", "ny"):
        assert run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "cat.png"), "--text", "hi",
                       "--account", account).code == 0
    wall = run_cli("--config", cfg, "approve", "1", "--at", "2030-01-07T09:00")
    assert wall.code == 0, wall.err
    assert wall.out.strip() == "candidate 1 -> post 1 at 2030-01-07T09:00+01:00 (Europe/Paris)"
    explicit = run_cli("--config", cfg, "approve", "2", "--at", "2030-01-07T09:00Z")
    assert explicit.out.strip() == "candidate 2 -> post 2 at 2030-01-07T10:00+01:00 (Europe/Paris)"
    ny = run_cli("--config", cfg, "approve", "3", "--at", "2030-01-07T09:00")
    assert ny.out.strip() == "candidate 3 -> post 3 at 2030-01-07T09:00-05:00 (America/New_York)"
    stored = {p["id"]: p["scheduled_at"] for p in _json(run_cli("--config", cfg, "posts", "list", "--json"))}
    assert stored == {1: "2030-01-07T09:00:00+01:00", 2: "2030-01-07T10:00:00+01:00", 3: "2030-01-07T09:00:00-05:00"}
    summer = run_cli("--config", cfg, "reschedule", "1", "--at", "2030-07-01T09:00")
    assert summer.out.strip() == "post 1 scheduled at 2030-07-01T09:00+02:00 (Europe/Paris)"
    gap = run_cli("--config", cfg, "reschedule", "1", "--at", "2030-03-31T02:30")  # the clocks skip 02:00-03:00
    assert gap.code == 2 and "does not exist in Europe/Paris" in gap.err and "--at" in gap.err
    assert "Traceback" not in gap.err
    for command in (("approve",), ("reschedule",), ("thread", "approve")):
        helped = " ".join(run_cli(*command, "--help").out.split())
        assert "in the account's time zone" in helped and "offset" in helped
