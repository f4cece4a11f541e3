"""`memeloop status` / `run` / `generate` at the CLI edge."""
from __future__ import annotations

import json

from bot.app import build_app
from bot.config import load_config
from bot.runtime.heartbeat import identity, write_beat
from tests.bot.approving import approve_and_schedule


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


OUTBOX_CONFIG = """
[storage]
url = "sqlite:///memeloop.db"
[publishing]
auto_approve = true
[polling]
ages = ["1h"]
[[accounts]]
name = "demo"
platform = "outbox"
post_cron = "*/5 * * * *"
[accounts.outbox]
path = "outbox"
audience_seed = 7
"""


def _pending_candidates(app, tmp_path, n: int) -> list[int]:
    from PIL import Image

    from feedback.repository import candidates as cand_repo

    image = tmp_path / "image.png"
    Image.new("RGB", (64, 64), (10, 120, 30)).save(image)
    with app.tx() as session:
        return [cand_repo.add_candidate(session, cand_repo.NewCandidate(
            generator="manual", text=f"candidate {i}", account_id=app.account_ids["demo"], image_path=str(image),
            predicted_score=float(i)), app.clock()).id for i in range(n)]


def test_run_once_publishes_what_is_due_and_exits(write_config, run_cli, tmp_path):
    config = write_config(OUTBOX_CONFIG)
    app = build_app(load_config(config))
    ids = _pending_candidates(app, tmp_path, 2)
    approve_and_schedule(app, ids, actor="test", at=app.clock())  # due at once (a past time is refused)
    app.close()
    result = run_cli("--config", str(config), "run", "--once")
    assert result.code == 0, result.err
    assert "published=2" in result.out
    assert len(list((tmp_path / "outbox" / "posts").glob("*.json"))) == 2


def test_auto_approve_fills_an_empty_schedule_with_the_best_candidate(write_config, tmp_path):
    from bot.service.maintenance import auto_approve
    from feedback.repository import posts as post_repo

    app = build_app(load_config(write_config(OUTBOX_CONFIG)))
    ids = _pending_candidates(app, tmp_path, 3)
    assert auto_approve(app.deps) == 1
    assert auto_approve(app.deps) == 0  # one is already waiting for its slot
    with app.tx() as session:
        (post,) = post_repo.list_posts(session, states=["scheduled"])
    assert post.candidate_id == ids[-1]  # the best predicted score
    app.close()


def test_generate_json_says_in_words_why_it_queued_fewer_than_asked(write_config, run_cli, monkeypatch):
    """`generate --json` carries the shortfall the text output prints (here: the platform's preflight
    refuses every 32 px image for Instagram); null when the run queued what it was asked for."""
    from bot.service import pipeline
    from tests.bot.test_pipeline_gates import CONFIG, GOOD, _models

    config = write_config(CONFIG.format(demo_brand=""))
    monkeypatch.setattr(pipeline, "load_models", lambda _config, _generator: _models([GOOD[:2]], size=32))
    short = run_cli("--config", str(config), "generate", "--account", "ig", "--generator", "post", "--count", "2",
                    "--seed", "3", "--json")
    assert short.code == 0, short.err
    report = json.loads(short.out)
    assert report["pending"] == 0 and report["asked"] == 2
    assert report["shortfall"].startswith("queued 0 of the 2 asked for; drafts refused 2 by preflight")
    assert "image is 32 px wide" in report["shortfall"]
