"""Three real `memeloop run` daemons on one PostgreSQL database: 200 approved posts to the outbox go
out exactly once, more than one daemon publishes, and exactly one of them leads (runs the periodic
jobs) the whole time."""
from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest

from tests.bot.publishers.apps import add_candidates
from tests.pipes import stream

REPO = Path(__file__).resolve().parents[2]
POSTS = 200
DAEMONS = 3
START_S, PUBLISH_S, STOP_S = 60, 120, 30

CONFIG = """
[storage]
url = "{url}"
media_dir = "media"

[logging]
level = "INFO"

[scheduler]
tick = "1s"

[[accounts]]
name = "demo"
platform = "outbox"
generate = [{{ generator = "meme", every = "24h" }}]
[accounts.outbox]
path = "outbox"
latency_ms = 20
audience_seed = 7
"""
PUBLISHED = re.compile(r"event=post_published post=(\d+) ")


class Watched:
    """One daemon process; a thread reads its log (stderr) as it comes and wakes the test up."""

    def __init__(self, config: Path, log_path: Path, changed: threading.Condition) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(config), "run"], cwd=REPO,
                                     env=env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        self.log_path, self.changed = log_path, changed
        self.lines: list[str] = []
        self.started = False
        self.published: list[int] = []
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self) -> None:
        with open(self.log_path, "w") as log:
            for line in stream(self.proc.stderr):
                log.write(line)
                with self.changed:
                    self.lines.append(line)
                    self.started = self.started or "daemon.started" in line
                    if m := PUBLISHED.search(line):
                        self.published.append(int(m.group(1)))
                    self.changed.notify_all()
        with self.changed:
            self.changed.notify_all()

    def saw(self, text: str) -> bool:
        return any(text in line for line in self.lines)


def _wait_for(changed: threading.Condition, what, seconds: float, daemons: list[Watched]) -> None:
    deadline = time.monotonic() + seconds
    with changed:
        while not what():
            exited = [d.proc.returncode for d in daemons if d.proc.poll() is not None]
            left = deadline - time.monotonic()
            assert not exited and left > 0, f"gave up waiting (exited: {exited}); logs: {daemons[0].log_path.parent}"
            changed.wait(min(left, 1.0))


def _seed(config: Path) -> list[int]:
    """200 approved posts, scheduled an hour ahead so that no daemon starts with a head start."""
    from bot.app import build_app
    from bot.config import load_config
    from feedback.clock import utcnow
    from tests.bot.approving import approve_and_schedule

    app = build_app(load_config(config))
    try:
        cand_ids = add_candidates(app, [f"post number {i} #scale" for i in range(POSTS)])
        posts = approve_and_schedule(app, cand_ids, actor="test", at=utcnow() + timedelta(hours=1))
    finally:
        app.close()
    return [p.id for p in posts]


def _make_due(config: Path, post_ids: list[int]) -> None:
    from bot.app import build_app
    from bot.config import load_config
    from feedback.clock import utcnow
    from feedback.repository import posts as posts_repo

    app = build_app(load_config(config))
    try:
        now = utcnow()
        with app.tx() as session:
            assert all(posts_repo.reschedule(session, pid, at=now - timedelta(seconds=1), now=now) for pid in post_ids)
    finally:
        app.close()


def _status(config: Path) -> dict:
    out = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "status", "--json"], cwd=REPO,
                         env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True, text=True,
                         check=True, timeout=60)
    return json.loads(out.stdout)


def _final_state(config: Path) -> tuple[dict[str, int], int]:
    from bot.app import build_app
    from bot.config import load_config
    from feedback.repository import posts as posts_repo
    from feedback.repository.leadership import advisory_locks_held

    app = build_app(load_config(config))
    try:
        with app.tx() as session:
            return posts_repo.count_by_state(session), advisory_locks_held(session)
    finally:
        app.close()


@pytest.mark.postgres
@pytest.mark.e2e
def test_three_daemons_on_postgres_publish_200_posts_exactly_once_under_one_leader(tmp_path, pg_url):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(url=pg_url))
    post_ids = _seed(config)
    changed = threading.Condition()
    daemons = [Watched(config, tmp_path / f"daemon-{i}.log", changed) for i in range(DAEMONS)]
    try:
        _wait_for(changed, lambda: all(d.started for d in daemons), START_S, daemons)
        _make_due(config, post_ids)
        status = _status(config)
        _wait_for(changed, lambda: sum(len(d.published) for d in daemons) >= POSTS, PUBLISH_S, daemons)
        during = _final_state(config)
    finally:
        for d in daemons:
            if d.proc.poll() is None:
                d.proc.send_signal(signal.SIGTERM)
        codes = [d.proc.wait(timeout=STOP_S) for d in daemons]
        for d in daemons:
            d.reader.join(STOP_S)
    assert codes == [0] * DAEMONS

    # the status seen while all three ran: three fresh daemons, one of them the leader
    assert len(status["daemons"]) == DAEMONS and not any(d["stale"] for d in status["daemons"])
    assert sorted(d["role"] for d in status["daemons"]) == ["leader", "worker", "worker"]
    assert status["leader"] in {d["process"] for d in status["daemons"]}
    assert during[1] == 1  # one advisory lock held in the database while they ran

    # exactly once: in the outbox, in the database, and in the daemons' own accounts
    records = [json.loads(p.read_text()) for p in (tmp_path / "outbox" / "posts").glob("*.json")]
    per_post = Counter(r["post_id"] for r in records)
    assert sorted(per_post) == sorted(post_ids) and set(per_post.values()) == {1}
    states, locks_after = _final_state(config)
    assert states == {"published": POSTS} and during[0] == {"published": POSTS}
    assert locks_after == 0  # the leader let go on SIGTERM
    by_daemon = [d.published for d in daemons]
    assert sorted(pid for ids in by_daemon for pid in ids) == sorted(post_ids)
    assert sum(1 for ids in by_daemon if ids) > 1, f"only one daemon published: {[len(i) for i in by_daemon]}"

    # one leader from start to end; the periodic jobs ran there and nowhere else
    leaders = [d for d in daemons if d.saw("event=leader_acquired")]
    assert len(leaders) == 1 and not any(d.saw("event=leader_lost") for d in daemons)
    assert leaders[0].saw("job=poll outcome=ok")
    assert not any(d.saw("job=poll") or d.saw("job=reconcile") or d.saw("daemon.startup")
                   for d in daemons if d is not leaders[0])
    print(f"posts={POSTS} daemons={DAEMONS} published_per_daemon={[len(i) for i in by_daemon]} "
          f"leader=daemon-{daemons.index(leaders[0])}")
