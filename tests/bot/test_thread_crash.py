"""Exactly once per part under SIGKILL: story threads published by `memeloop run --once` through the
outbox (with latency, so kills land before, inside and after a part's write) are killed at random
moments and restarted. At the end every part of every thread is in the outbox exactly once, in
order, each answering the part before it."""
from __future__ import annotations

import json
import random
import subprocess
import sys
from collections import Counter

import pytest

from tests.bot.test_publish_crash import CONFIG, REPO, _kill_while_publishing, _run_once
from tests.pipes import stream

THREADS = 60
PARTS = 3
KILLS = 30


@pytest.mark.e2e
def test_sigkill_between_and_inside_parts_never_loses_or_doubles_a_part(tmp_path):
    import os

    from bot.app import build_app
    from bot.config import load_config
    from feedback.clock import utcnow
    from feedback.repository import posts as posts_repo
    from tests.bot.approving import approve_and_schedule
    from tests.bot.test_story_publish import add_thread

    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    app = build_app(load_config(config))
    ids = [add_thread(app, [f"thread {t} part {p} goes here" for p in range(1, PARTS + 1)]) for t in range(THREADS)]
    approve_and_schedule(app, ids, actor="test", at=utcnow())
    app.close()

    rng = random.Random(20261201)
    kills = 0
    with open(tmp_path / "runs.log", "w") as log:
        while kills < KILLS and _kill_while_publishing(config, rng, log):
            kills += 1
        for _ in range(40):  # un-killed runs until everything is settled (dead leases run out in 2s)
            left = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "posts", "list",
                                   "--state", "scheduled", "--state", "publishing", "--state", "unconfirmed",
                                   "--json"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                                  capture_output=True, text=True, check=True)
            if json.loads(left.stdout) == []:
                break
            final = _run_once(config)
            log.write(stream(final.stderr).read())
            assert final.wait(timeout=120) == 0
            stream(final.stderr).close()
    assert kills >= KILLS // 2, f"only {kills} runs were killed mid-publish"

    records = [json.loads(p.read_text()) for p in (tmp_path / "outbox" / "posts").glob("*.json")]
    per_part = Counter((r["candidate_id"], r["text"]) for r in records)
    assert len(per_part) == THREADS * PARTS and set(per_part.values()) == {1}
    by_marker = {r["marker"]: r for r in records}
    for r in records:
        part = int(r["marker"].rsplit("-p", 1)[1])
        if part == 0:
            assert "in_reply_to" not in r
        else:  # answers the part before it, of the same thread
            previous = by_marker[r["in_reply_to"]]
            assert previous["candidate_id"] == r["candidate_id"]
            assert int(previous["marker"].rsplit("-p", 1)[1]) == part - 1
    app = build_app(load_config(config))
    with app.tx() as session:
        states = {r.state for r in posts_repo.list_posts(session)}
    app.close()
    assert states == {"published"}
    log_text = (tmp_path / "runs.log").read_text()
    resumed = log_text.count("outcome=resume thread=yes")
    print(f"kills={kills} threads={THREADS} parts={PARTS} resumed={resumed} "
          f"settled={log_text.count('outcome=published thread=yes')}")
    assert resumed >= 1  # some kills really did land between or inside parts
