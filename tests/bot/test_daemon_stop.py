"""A stop always ends the daemon: a heartbeat in flight during shutdown (the old deadlock: the
stopper held the scheduler's job-store lock while the heartbeat waited for it), a job that ignores
the stop, and a second signal during teardown."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
import time
from datetime import timedelta

import pytest

from bot.app import build_app
from bot.config import load_config
from bot.runtime.daemon import Daemon
from tests.conftest import create_database
from tests.pipes import stream

CONFIG = """
[storage]
url = "sqlite:///memeloop.db"
[scheduler]
tick = "1s"
[[accounts]]
name = "demo"
platform = "outbox"
generate = { generator = "meme", every = "7d" }
"""


@pytest.fixture
def config_path(tmp_path):
    path = tmp_path / "config.toml"
    path.write_text(CONFIG, encoding="utf-8")
    create_database(path)
    return path


def test_a_stop_while_the_heartbeat_runs_ends_the_daemon(config_path, monkeypatch):
    import bot.runtime.daemon as daemon_module

    app = build_app(load_config(config_path))
    in_beat, release = threading.Event(), threading.Event()
    real = daemon_module.write_beat

    def slow_beat(*args, **kwargs):
        if threading.current_thread().name != "MainThread":  # the scheduled beat, not the first one
            in_beat.set()
            release.wait(5)
        return real(*args, **kwargs)

    monkeypatch.setattr(daemon_module, "write_beat", slow_beat)
    daemon = Daemon(app, beat_every=timedelta(seconds=0.2), stop_grace=timedelta(seconds=6))
    thread = threading.Thread(target=daemon.run, kwargs={"install_signals": False})
    thread.start()
    try:
        assert in_beat.wait(10), "the heartbeat never ran"
        started = time.monotonic()
        daemon.stop()  # the scheduler shuts down while the heartbeat is inside its beat
        threading.Timer(1.0, release.set).start()
        thread.join(10)
        assert not thread.is_alive(), "the daemon did not stop"
        assert time.monotonic() - started < 8
    finally:
        release.set()
        app.close()


def _daemon(config_path, tmp_path, job_body: str) -> subprocess.Popen:
    script = tmp_path / "daemon.py"
    script.write_text(textwrap.dedent(f"""
        import time
        from bot.runtime import jobs
        def job_poll(deps):
            {job_body}
        jobs.job_poll = job_poll
        from bot.cli import main
        main(["--config", {str(config_path)!r}, "run"])
    """), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.Popen([sys.executable, str(script)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, text=True)


def _wait_for(path, proc, what: str) -> None:
    for _ in range(300):
        if path.exists():
            return
        if proc.poll() is not None:
            pytest.fail(f"daemon exited before {what}: {proc.stderr.read()[-2000:]}")
        time.sleep(0.1)
    pytest.fail(f"never saw {what}")


@pytest.mark.e2e
def test_a_job_that_ignores_the_stop_cannot_hold_the_process(config_path, tmp_path):
    marker = tmp_path / "stuck"
    proc = _daemon(config_path, tmp_path, f"open({str(marker)!r}, 'w').close(); time.sleep(600)")
    try:
        _wait_for(marker, proc, "the stuck job")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0, stream(proc.stderr).read()[-2000:]
    assert took < 12  # STOP_GRACE (8 s) and the CLI's last 2 s, then out


@pytest.mark.e2e
def test_a_second_signal_during_teardown_exits_at_once(config_path, tmp_path):
    marker = tmp_path / "stuck"
    proc = _daemon(config_path, tmp_path, f"open({str(marker)!r}, 'w').close(); time.sleep(600)")
    try:
        _wait_for(marker, proc, "the stuck job")
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.5)
        started = time.monotonic()
        proc.send_signal(signal.SIGINT)
        code = proc.wait(timeout=10)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code == 0 and took < 3, stream(proc.stderr).read()[-2000:]


@pytest.mark.e2e
def test_a_generate_child_dies_with_its_killed_daemon_and_a_restart_reaps_its_run(config_path, tmp_path):
    """SIGKILL the process that started `memeloop generate`: the child notices within a second and
    leaves; the generation row it would have finished is given up by the next daemon's start-up."""
    from bot.core import owners
    from bot.runtime import jobs
    from feedback.repository import candidates as cand_repo
    from feedback.repository import generations as gen_repo

    app = build_app(load_config(config_path))
    with app.tx() as session:
        gen = cand_repo.start_generation(session, generator="meme", account_id=app.account_ids["demo"],
                                         model_version="", params={"parent": "will-be-replaced"}, seed=1,
                                         now=app.clock())
    parent = tmp_path / "parent.py"
    parent.write_text(textwrap.dedent(f"""
        import os, subprocess, sys, time
        child = subprocess.Popen([sys.executable, "-m", "bot", "--config", {str(config_path)!r}, "generate",
                                  "--account", "demo", "--generation-id", "{gen.id}", "--seed", "1",
                                  "--parent-pid", str(os.getpid())], start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        print(child.pid, flush=True)
        time.sleep(600)
    """), encoding="utf-8")
    env = {**os.environ, "PYTHONPATH": os.getcwd() + os.pathsep + os.environ.get("PYTHONPATH", "")}
    proc = subprocess.Popen([sys.executable, str(parent)], env=env, stdout=subprocess.PIPE, text=True)
    child_pid = int(stream(proc.stdout).readline())
    with app.tx() as session:  # the row names the (soon dead) parent, as run_generate_child writes it
        row = gen_repo.get_generation(session, gen.id)
        row.params = {"parent": f"{owners.this_host()}:{proc.pid}"}
    time.sleep(0.5)
    proc.kill()
    proc.wait(5)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and jobs._alive(child_pid):
        try:  # reap it if it became our zombie; it is not our child, so only poll its existence
            os.waitpid(child_pid, os.WNOHANG)
        except ChildProcessError:
            pass
        time.sleep(0.1)
    assert not jobs._alive(child_pid), "the generate child outlived its daemon"
    assert jobs.reap_abandoned(app.deps) == 1  # a restarted daemon gives the run up
    with app.tx() as session:
        row = gen_repo.get_generation(session, gen.id)
        assert row.status == "failed" and row.error is not None and "abandoned" in row.error
    app.close()
