"""The scheduler side of the daemon: job state kept across restarts in our own table, missed runs,
rate-limit retries, heartbeat and a clean stop. Real APScheduler, real SQLite, real threads."""
from __future__ import annotations

import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.app import build_app
from bot.config import load_config
from bot.runtime import jobs
from bot.runtime.daemon import (
    FOLLOW_JOB_ID,
    HEARTBEAT_JOB_ID,
    RETRY_JOB_ID,
    Daemon,
    build_scheduler,
    planned_jobs,
)
from bot.runtime.heartbeat import status_report
from feedback.repository import jobstate
from tests.bot.approving import approve_and_schedule
from tests.pipes import stream

CONFIG = """
[storage]
url = "sqlite:///memeloop.db"
[scheduler]
tick = "1m"
misfire_grace = "5m"
[[accounts]]
name = "demo"
platform = "outbox"
generate = [{{ generator = "meme", every = "{every}", count = 2 }}, {{ generator = "post", cron = "0 */6 * * *" }}]
{extra}
"""


def _config(tmp_path: Path, every: str = "6h", extra: str = ""):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(every=every, extra=extra), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def app(tmp_path):
    app = build_app(_config(tmp_path))
    yield app
    app.close()


def _periodic(daemon: Daemon) -> dict[str, datetime]:
    return {j.id: j.next_run_time for j in daemon.scheduler.get_jobs()
            if j.id not in (HEARTBEAT_JOB_ID, FOLLOW_JOB_ID)}


def test_planned_jobs_cover_every_account_schedule_and_the_ticks(app):
    specs = planned_jobs(app)
    assert [s.id for s in specs] == ["generate:demo:0", "generate:demo:1", "publish", "poll", "reconcile", "prune",
                                     "adapt"]
    assert all(spec.job.__module__ == "bot.runtime.jobs" for spec in specs)  # the one table names the jobs
    assert {s.job.__name__ for s in specs} == {"job_generate", "job_publish", "job_poll", "job_reconcile",
                                               "job_prune", "job_adapt"}


def test_auto_approve_job_only_when_configured(tmp_path):
    app = build_app(_config(tmp_path, extra="[publishing]\nauto_approve = true\n"))
    assert "auto_approve" in [s.id for s in planned_jobs(app)]
    app.close()


def test_jobs_survive_a_restart_with_their_next_run_times(app, tmp_path):
    first = Daemon(app, blocking=False)
    first.elect()  # the leader adds the periodic jobs and writes their state
    before = _periodic(first)
    assert set(before) == {s.id for s in planned_jobs(app)}
    with app.tx() as session:
        assert {row.id for row in jobstate.load(session)} == set(before)

    second = Daemon(app, blocking=False)  # a new process reads the same table
    first.leadership.release()
    second.elect()
    assert _periodic(second) == before

    changed = build_app(_config(tmp_path, every="2h"))  # a config edit starts just that job afresh
    third = Daemon(changed, blocking=False)
    second.leadership.release()
    third.elect()
    after = _periodic(third)
    assert after["publish"] == before["publish"] and after["generate:demo:0"] != before["generate:demo:0"]
    changed.close()


PROBE_LOCK = threading.Lock()


def probe(path: str) -> None:
    """A job target for the misfire test: counts its runs in a file."""
    with PROBE_LOCK, open(path, "a", encoding="utf-8") as fh:
        fh.write("run\n")


def test_missed_runs_within_grace_run_once_and_older_ones_are_skipped(app, tmp_path):
    from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED

    sched = build_scheduler(app.config, blocking=False)
    late, too_late = tmp_path / "late.txt", tmp_path / "too_late.txt"
    now = datetime.now(UTC)
    # Down for a minute with a 10 s interval: six runs missed, within the 5 min grace -> one run.
    sched.add_job(probe, "interval", seconds=10, id="late", kwargs={"path": str(late)},
                  next_run_time=now - timedelta(seconds=60))
    # Down for an hour: beyond the grace -> skipped, rescheduled.
    sched.add_job(probe, "interval", days=1, id="too_late",
                  kwargs={"path": str(too_late)}, next_run_time=now - timedelta(hours=1, seconds=1))
    seen = {"late": threading.Event(), "too_late": threading.Event()}
    events = []

    def listener(event):
        events.append((event.job_id, event.code))
        seen[event.job_id].set()

    sched.add_listener(listener, EVENT_JOB_EXECUTED | EVENT_JOB_MISSED)
    sched.start()
    try:
        assert seen["late"].wait(10) and seen["too_late"].wait(10)
    finally:
        sched.shutdown(wait=True)
    assert late.read_text().count("run") == 1  # coalesced
    assert not too_late.exists()
    assert ("too_late", EVENT_JOB_MISSED) in events


def test_a_run_missed_while_down_is_caught_up_once_from_the_job_table(app, monkeypatch):
    """The daemon's own memory: prune (daily) was due a minute before this start (within the grace),
    so it runs once at start and its next run is a day later; the 6-hourly generate was due an hour
    ago (beyond the grace), so it is skipped and moves on."""
    ran = {"prune": 0, "generate": 0}
    done = threading.Event()

    def job_prune(deps):
        ran["prune"] += 1
        done.set()

    def job_generate(deps, account, schedule):
        ran["generate"] += 1

    monkeypatch.setattr(jobs, "job_prune", job_prune)  # the jobs the table will name (same names)
    monkeypatch.setattr(jobs, "job_generate", job_generate)
    specs = {s.id: s for s in planned_jobs(app)}
    now = datetime.now(UTC)
    with app.tx() as session:
        jobstate.save(session, "prune", signature=specs["prune"].signature(), next_run_at=now - timedelta(minutes=1),
                      last_run_at=now - timedelta(days=1, minutes=1), now=now)
        jobstate.save(session, "generate:demo:0", signature=specs["generate:demo:0"].signature(),
                      next_run_at=now - timedelta(hours=1), last_run_at=None, now=now)
    daemon = Daemon(app)
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
    thread.start()
    try:
        assert done.wait(10)
        time.sleep(0.5)  # let a second, wrong run show itself
    finally:
        daemon.stop()
        thread.join(15)
    assert ran == {"prune": 1, "generate": 0}
    table = daemon.job_table()
    prune, generate = table["prune"]["next_run"], table["generate:demo:0"]["next_run"]
    assert prune is not None and datetime.fromisoformat(prune) > now + timedelta(hours=23)
    assert generate is not None and datetime.fromisoformat(generate) > now + timedelta(hours=4)


def test_a_rate_limit_schedules_one_extra_publish_at_the_reset_time(app):
    daemon = Daemon(app, blocking=False)
    daemon.elect()  # only the leader schedules extra runs (bot.runtime.leader)
    daemon.scheduler.start(paused=True)
    retry_at = datetime.now(UTC).replace(microsecond=0) + timedelta(minutes=15)
    assert daemon._guarded("publish", lambda: retry_at)() == retry_at
    job = daemon.scheduler.get_job(RETRY_JOB_ID)
    assert job is not None and job.next_run_time == retry_at
    daemon._guarded("poll", lambda: 5)()
    assert len([j for j in daemon.scheduler.get_jobs() if j.id == RETRY_JOB_ID]) == 1
    daemon.scheduler.shutdown()


def test_daemon_beats_lists_next_runs_and_stops_cleanly(app):
    assert status_report(app)["alive"] is False
    daemon = Daemon(app)  # the real BlockingScheduler, in a thread instead of the main one
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("rc", daemon.run(install_signals=False)))
    thread.start()
    try:
        assert daemon.started.wait(10)
        report = status_report(app)
        assert report["alive"] is True
        assert {j["id"] for j in report["jobs"]} >= {"publish", "poll", "generate:demo:0"}
        assert all(j["next_run"] for j in report["jobs"])
    finally:
        daemon.stop()
        thread.join(10)
    assert not thread.is_alive() and result["rc"] == 0
    assert app.stopping.is_set()
    assert status_report(app)["daemons"] == []  # a clean stop removes the heartbeat row


def test_stale_heartbeat_is_reported_dead(app, clock):
    from bot.runtime.heartbeat import identity, write_beat

    app.clock = clock
    write_beat(app, identity("daemon", clock()), {"publish": {"next_run": None, "trigger": "interval"}})
    assert status_report(app)["alive"] is True
    clock.advance(minutes=10)
    report = status_report(app)
    assert report["alive"] is False and report["daemons"][0]["stale"] is True


@pytest.mark.e2e
def test_sigterm_during_a_publish_leaves_no_post_publishing(tmp_path):
    """A real `memeloop run` with a slow outbox: SIGTERM while a post is being published -> that post
    finishes, no new claim is made, exit 0 within 10 s, nothing left in `publishing`."""
    import os
    import signal
    import subprocess

    from PIL import Image

    from feedback.repository import candidates as cand_repo
    from feedback.repository import posts as post_repo

    cfg = _config(tmp_path, every="7d", extra=(
        "[accounts.outbox]\npath = \"outbox\"\nlatency_ms = 2500\naudience_seed = 7\n"))
    cfg.path.write_text(cfg.path.read_text().replace('tick = "1m"', 'tick = "1s"'))
    app = build_app(load_config(cfg.path))
    image = tmp_path / "image.png"
    Image.new("RGB", (64, 64), (200, 30, 30)).save(image)
    with app.tx() as session:
        ids = [cand_repo.add_candidate(session, cand_repo.NewCandidate(
            generator="manual", text=f"post number {i}", account_id=app.account_ids["demo"],
            image_path=str(image)), app.clock()).id for i in range(3)]
    approve_and_schedule(app, ids, actor="test", at=app.clock() - timedelta(seconds=30))

    def states() -> list[str]:
        with app.tx() as session:
            return [p.state for p in post_repo.list_posts(session)]

    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    daemon = subprocess.Popen([sys.executable, "-m", "bot", "--config", str(cfg.path), "run"], env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        in_flight = threading.Event()
        for _ in range(600):  # bounded wait (<= 60 s) for the first claim
            if "publishing" in states():
                in_flight.set()
                break
            in_flight.wait(0.1)
        assert in_flight.is_set(), "the daemon never claimed a post"
        stopped_at = time.monotonic()
        daemon.send_signal(signal.SIGTERM)
        code = daemon.wait(timeout=15)
        took = time.monotonic() - stopped_at
    finally:
        if daemon.poll() is None:
            daemon.kill()
    assert code == 0, stream(daemon.stderr).read()[-2000:]
    assert took < 10
    final = states()
    assert "publishing" not in final
    assert final.count("published") == 1 and final.count("scheduled") == 2  # no new claim after SIGTERM
    assert len(list((tmp_path / "outbox" / "posts").glob("*.json"))) == 1
    app.close()


def test_a_stop_requested_before_the_scheduler_runs_still_ends_the_daemon(app, monkeypatch):
    import bot.runtime.daemon as daemon_module

    daemon = Daemon(app)
    monkeypatch.setattr(daemon_module, "startup_sweep", lambda _app: daemon.stop())  # SIGTERM while sweeping
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("rc", daemon.run(install_signals=False)))
    thread.start()
    thread.join(10)
    assert not thread.is_alive() and result["rc"] == 0
    assert not daemon.scheduler.running  # it saw the stop and shut down


@pytest.mark.e2e
def test_the_daemon_process_never_imports_an_ml_framework(tmp_path):
    """Models live only in generate children: the daemon's own code path stays free of TF/torch."""
    import subprocess

    cfg = _config(tmp_path)
    code = (
        "import sys\n"
        "from bot.app import build_app\nfrom bot.config import load_config\n"
        "from bot.runtime.daemon import Daemon\n"
        f"app = build_app(load_config({str(cfg.path)!r}))\n"
        "d = Daemon(app, blocking=False)\nd.scheduler.start(paused=True)\nd.beat()\n"
        "from bot.runtime import jobs\n"
        "for job in (jobs.job_publish, jobs.job_poll, jobs.job_reconcile, jobs.job_prune): job(app.deps)\n"
        "heavy = [m for m in ('tensorflow', 'keras', 'torch', 'transformers') if m in sys.modules]\n"
        "print('HEAVY', heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert "HEAVY []" in out.stdout, out.stdout + out.stderr[-1000:]
