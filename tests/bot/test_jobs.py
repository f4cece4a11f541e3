"""Scheduler jobs: the generate child is supervised (crash reported, hang killed, stop honoured) and
never takes the daemon down. Real subprocesses, real database."""
from __future__ import annotations

import os
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import build_app
from bot.config import load_config
from bot.runtime import jobs
from feedback.repository import generations as gen_repo

CONFIG = """
[storage]
url = "sqlite:///memeloop.db"
[generator]
timeout = "30s"
[generator.meme]
bundle = "no-such-bundle"
[[accounts]]
name = "demo"
platform = "outbox"
generate = { generator = "meme", every = "6h", count = 2 }
"""


@pytest.fixture
def config_path(tmp_path: Path) -> Path:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    return path


@pytest.fixture
def app(config_path):
    app = build_app(load_config(config_path))
    yield app
    app.close()


def _child(code: str):
    return lambda *args, **kwargs: [sys.executable, "-c", code]


def _generation(app, generation_id):
    with app.tx() as session:
        return gen_repo.get_generation(session, generation_id)


def test_argv_carries_what_the_child_needs_to_regenerate():
    argv = jobs.generate_argv("/x/config.toml", "demo", "post", 3, generation_id=7, seed=42, tone="funny")
    assert argv[1:3] == ["-m", "bot"]
    assert argv[argv.index("--generation-id") + 1] == "7" and argv[argv.index("--seed") + 1] == "42"
    assert argv[argv.index("--tone") + 1] == "funny" and "--audience" not in argv
    assert argv[argv.index("--parent-pid") + 1] == str(os.getpid())  # the child dies with its daemon


@pytest.mark.e2e
def test_a_crashing_child_is_recorded_and_the_job_returns(app, config_path, monkeypatch, caplog):
    monkeypatch.setattr(jobs, "generate_argv", _child(
        "import os, sys; print('boom: the model exploded', file=sys.stderr, flush=True); os.abort()"))
    outcome = jobs.job_generate(app.deps, "demo")  # the job itself: must not raise
    assert outcome is not None and outcome.status == "failed" and outcome.returncode != 0
    row = _generation(app, outcome.generation_id)
    assert row.status == "failed" and "boom: the model exploded" in row.error and row.finished_at is not None
    assert outcome.log_path is not None
    assert "boom" in outcome.log_path.read_text()
    assert any("outcome=failed" in r.getMessage() for r in caplog.records)


@pytest.mark.e2e
def test_a_hung_child_is_killed_at_its_timeout(app, monkeypatch):
    # Ignores SIGTERM too, so the KILL path is what ends it.
    monkeypatch.setattr(jobs, "generate_argv", _child(
        "import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); print('ready', flush=True); "
        "time.sleep(120)"))
    started = time.monotonic()
    outcome = jobs.run_generate_child(app.deps, "demo", timeout=timedelta(seconds=1))
    elapsed = time.monotonic() - started
    assert outcome.status == "timeout" and outcome.returncode is not None
    assert elapsed < 1 + jobs.KILL_GRACE_S + 3
    row = _generation(app, outcome.generation_id)
    assert row.status == "failed" and "timed out after 1s" in row.error


@pytest.mark.e2e
def test_stop_kills_a_running_child_promptly(app, monkeypatch):
    monkeypatch.setattr(jobs, "generate_argv", _child("import time; time.sleep(120)"))
    threading.Timer(0.5, app.stopping.set).start()
    started = time.monotonic()
    outcome = jobs.run_generate_child(app.deps, "demo", timeout=timedelta(minutes=5))
    assert outcome.status == "stopped" and time.monotonic() - started < 5
    assert "daemon stopping" in _generation(app, outcome.generation_id).error


@pytest.mark.e2e
def test_the_real_generate_child_reports_a_broken_bundle(app, config_path):
    """`memeloop generate` itself: a model that cannot load marks the run failed and exits 1."""
    outcome = jobs.job_generate(app.deps, "demo")
    assert outcome is not None
    assert outcome.status == "failed" and outcome.returncode == 1
    row = _generation(app, outcome.generation_id)
    assert row.status == "failed" and row.error
    assert outcome.log_path is not None
    assert "memeloop: error" in outcome.log_path.read_text() or "Error" in outcome.log_path.read_text()


def test_prune_deletes_old_files_of_discarded_candidates_only(app, clock, tmp_path):
    from feedback.models import Candidate
    from feedback.repository import candidates as cand_repo

    app.clock = clock
    files = {}
    for name in ("filtered_old", "shared", "recent"):
        files[name] = tmp_path / f"{name}.png"
        files[name].write_bytes(b"png")

    def add(status: str, image: Path) -> int:
        with app.tx() as session:
            return cand_repo.add_candidate(session, cand_repo.NewCandidate(
                generator="meme", text=f"{status} {image.name}", status=status, image_path=str(image),
                account_id=app.account_ids["demo"]), clock()).id

    old_filtered = add("filtered", files["filtered_old"])
    add("pending", files["shared"])  # still wanted: its file stays even though a rejected row shares it
    add("rejected", files["shared"])
    clock.advance(days=40)
    add("duplicate", files["recent"])  # discarded, but younger than keep_media
    assert jobs.prune_media(app.deps) == 1
    assert not files["filtered_old"].exists() and files["shared"].exists() and files["recent"].exists()
    with app.tx() as session:
        row = session.get(Candidate, old_filtered)
        assert row.image_path is None and row.status == "filtered"
    assert jobs.prune_media(app.deps) == 0  # idempotent


# --- generator.warm_worker: the daemon feeds one long-lived worker per generator ------------------

WARM = CONFIG.replace('timeout = "30s"', 'timeout = "60s"\nwarm_worker = true\nworker_max_runs = 2')


def _warm_app(tmp_path: Path, text: str):
    from feedback import migrate

    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    app = build_app(load_config(path))
    migrate.upgrade(app.engine)
    return app


@pytest.mark.e2e
def test_a_warm_worker_that_cannot_load_its_models_fails_the_run(tmp_path):
    app = _warm_app(tmp_path, WARM)
    try:
        outcome = jobs.job_generate(app.deps, "demo")
        assert outcome is not None and outcome.status == "failed"
        row = _generation(app, outcome.generation_id)
        assert row.status == "failed" and "warm worker" in row.error
        assert outcome.log_path is not None
        assert outcome.log_path == tmp_path / "logs" / "worker-meme.log" and outcome.log_path.exists()
        assert "no-such-bundle" in outcome.log_path.read_text()
    finally:
        app.close()
    assert app.workers == {}


@pytest.mark.slow
def test_warm_worker_runs_serve_the_daemon_from_one_process_and_close_with_the_app(tmp_path):
    from feedback.models import Candidate

    app = _warm_app(tmp_path, WARM.replace('bundle = "no-such-bundle"', 'bundle = ""'))
    try:
        first = jobs.job_generate(app.deps, "demo")
        client = app.workers["meme"]
        pid = client.ready["pid"]
        second = jobs.job_generate(app.deps, "demo")  # worker_max_runs = 2: this answer retires the worker
        assert first is not None and second is not None
        assert first.status == second.status == "ok" and client.proc is None
        third = jobs.job_generate(app.deps, "demo")
        assert third is not None
        assert third.status == "ok" and client.ready["pid"] != pid and client.proc is not None
        with app.tx() as s:
            made = {c.generation_id for c in s.query(Candidate)}
        assert made == {first.generation_id, second.generation_id, third.generation_id}
        assert all(_generation(app, o.generation_id).status == "ok" for o in (first, second, third))
        worker = client.proc
    finally:
        app.close()
    assert worker.poll() is not None and app.workers == {}
