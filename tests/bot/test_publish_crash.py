"""Exactly once under SIGKILL: `memeloop run --once` publishing through the outbox (with simulated
latency, so kills land before, inside and after the write) is killed at random moments, >= 50
times, and restarted. At the end every approved post is in the outbox exactly once and the
database agrees."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from tests.bot.publishers.apps import add_candidates
from tests.pipes import stream

REPO = Path(__file__).resolve().parents[2]
POSTS = 300
KILLS = 55

CONFIG = """
[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"

[publishing]
max_attempts = 50
lease = "2s"

[[accounts]]
name = "demo"
platform = "outbox"
[accounts.outbox]
path = "outbox"
latency_ms = 30
audience_seed = 7
"""


def _run_once(config: Path) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen([sys.executable, "-m", "bot", "-v", "--config", str(config), "run", "--once"],
                            cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def _kill_while_publishing(config: Path, rng: random.Random, log) -> bool:
    """Start a run, wait until it is publishing, let it go on for a random moment, SIGKILL it.
    False when the run had nothing left to publish and ended by itself."""
    proc = _run_once(config)
    for line in stream(proc.stderr):
        log.write(line)
        if "event=outbox_published" in line:
            break
    try:
        proc.wait(timeout=rng.uniform(0.0, 0.3))  # ... wherever it is by then: claim, write, rename, commit
        killed = False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        killed = True
    log.write(stream(proc.stderr).read())
    proc.wait()
    stream(proc.stderr).close()
    return killed


@pytest.mark.e2e
def test_sigkill_at_random_moments_never_loses_or_doubles_a_post(tmp_path):
    from bot.app import build_app
    from bot.config import load_config
    from feedback.clock import utcnow
    from feedback.repository import candidates as cand_repo
    from feedback.repository import posts as posts_repo
    from tests.bot.approving import approve_and_schedule

    config = tmp_path / "config.toml"
    config.write_text(CONFIG)
    app = build_app(load_config(config))
    cand_ids = add_candidates(app, [f"post number {i} #crash" for i in range(POSTS)])
    approve_and_schedule(app, cand_ids, actor="test", at=utcnow())
    app.close()

    rng = random.Random(20260105)
    log_path = tmp_path / "runs.log"
    kills = 0
    with open(log_path, "w") as log:
        while kills < KILLS:
            if not _kill_while_publishing(config, rng, log):
                break
            kills += 1
        for _ in range(30):  # un-killed runs until everything is settled (dead leases run out in 2s)
            done = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "posts", "list",
                                   "--state", "scheduled", "--state", "publishing", "--state", "unconfirmed",
                                   "--json"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                                  capture_output=True, text=True, check=True)
            if json.loads(done.stdout) == []:
                break
            final = _run_once(config)
            log.write(stream(final.stderr).read())
            assert final.wait(timeout=120) == 0
            stream(final.stderr).close()
    assert kills >= 50, f"only {kills} runs were killed mid-publish; raise POSTS"

    records = [json.loads(p.read_text()) for p in (tmp_path / "outbox" / "posts").glob("*.json")]
    per_candidate = Counter(r["candidate_id"] for r in records)
    assert sorted(per_candidate) == sorted(cand_ids)
    assert set(per_candidate.values()) == {1}, [c for c, n in per_candidate.items() if n > 1]

    app = build_app(load_config(config))
    with app.tx() as session:
        rows = {r.id: r for r in posts_repo.list_posts(session)}
        statuses = {cand_repo.get_candidate(session, c).status for c in cand_ids}
    app.close()
    assert {r.state for r in rows.values()} == {"published"} and len(rows) == POSTS
    assert {(r["post_id"], r["marker"]) for r in records} == {(r.id, r.remote_id) for r in rows.values()}
    assert statuses == {"posted"}
    log_text = log_path.read_text()
    expired = log_text.count("event=leases_expired")
    released = log_text.count("event=dead_owner_leases_released")
    print(f"kills={kills} posts={POSTS} lease_expiries={expired} dead_owners_released={released} "
          f"reconciled_published={log_text.count('outcome=published')} "
          f"rescheduled={log_text.count('outcome=rescheduled')}")
    # some kills really did land mid-publish; on one host the next run sees the dead owner at once
    # (host + pid + start time) instead of waiting out the lease (issue 30 finding 4)
    assert released >= 1 and expired == 0
