"""What a careless operator or an unlucky crash does to the service (issue 30): a stop during a slow
platform call, dead lease owners on this host, a moved database, races between a write and its read,
config drift, and the smaller gaps. Real App, real SQLite, real subprocesses where the finding is
about processes."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import build_app
from bot.config import load_config
from feedback.repository import posts as posts_repo
from tests.bot.publishers.prepared import image_bytes

CONFIG = ('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n[scheduler]\ntick = "1s"\n'
          '[[accounts]]\nname = "demo"\nplatform = "outbox"\n')


@pytest.fixture
def cfg(write_config, tmp_path):
    (tmp_path / "cat.png").write_bytes(image_bytes())
    return write_config(CONFIG)


def _due_posts(app, tmp_path, n: int) -> list[int]:
    ids = []
    for i in range(n):
        cid = app.add_candidate(tmp_path / "cat.png", f"post number {i}", account="demo", actor="t")
        ids.append(app.approve(cid, actor="t", at=app.clock()).post_id)  # due at once
    return ids


def _post(app, post_id: int):
    with app.tx() as session:
        return posts_repo.get_post(session, post_id)


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}


@pytest.mark.e2e
def test_finding_4_sigterm_during_a_slow_publish_releases_it_and_exit_code_says_so(cfg, tmp_path):
    app = build_app(load_config(cfg))
    (post_id,) = _due_posts(app, tmp_path, 1)
    marker = tmp_path / "in-call"
    script = tmp_path / "daemon.py"
    script.write_text(textwrap.dedent(f"""
        import time
        from bot.publishers.outbox import OutboxPublisher
        real = OutboxPublisher.publish
        def slow(self, *args, **kwargs):
            open({str(marker)!r}, "w").close()
            time.sleep(30)  # a platform call that outlives the stop grace
            return real(self, *args, **kwargs)
        OutboxPublisher.publish = slow
        from bot.cli import main
        raise SystemExit(main(["--config", {str(cfg)!r}, "run"]))
    """), encoding="utf-8")
    proc = subprocess.Popen([sys.executable, str(script)], env=_env(), cwd=tmp_path, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while not marker.exists() and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.1)
        assert marker.exists(), proc.stderr.read()[-2000:] if proc.poll() is not None else "no publish began"
        assert _post(app, post_id).state == "publishing"
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
        took = time.monotonic() - started
    finally:
        if proc.poll() is None:
            proc.kill()
    err = proc.stderr.read()
    assert code == 3, err[-2000:]
    assert took < 12 and "released to reconcile" in err
    post = _post(app, post_id)
    assert post.state == "unconfirmed" and post.lease_owner is None and post.lease_expires_at <= app.clock()
    app.close()
    from bot.runtime.daemon import run_once

    app = build_app(load_config(cfg))  # the next start settles it at once, and it goes out exactly once
    summary = run_once(app)
    assert summary.reconciled == 1 and summary.published.published == 1
    assert _post(app, post_id).state == "published"
    app.close()


def test_finding_4_dead_owner_leases_on_this_host_go_to_reconcile_at_once(cfg, tmp_path):
    from bot.core import owners
    from bot.runtime.daemon import run_once
    from feedback.models import Post

    app = build_app(load_config(cfg))
    ids = _due_posts(app, tmp_path, 4)
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    me = owners.process_owner()
    host, pid = owners.this_host(), os.getpid()
    holders = {ids[0]: f"{host}:{gone.pid}:12345",  # a dead process of this host
               ids[1]: f"{host}:{pid}:1",  # this pid, but another process's start time: recycled
               ids[2]: f"elsewhere:{pid}:1",  # another host: only its lease decides
               ids[3]: me}  # alive
    assert owners.gone_on_this_host(holders[ids[0]]) and owners.gone_on_this_host(holders[ids[1]])
    assert not owners.gone_on_this_host(holders[ids[2]]) and not owners.gone_on_this_host(me)
    with app.tx() as session:
        for post_id, owner in holders.items():
            row = session.get(Post, post_id)
            row.state, row.lease_owner, row.attempts = "publishing", owner, 1
            row.lease_expires_at = app.clock() + timedelta(minutes=5)  # a live lease
    summary = run_once(app, owner="someone-else:1:1")
    assert summary.reconciled == 2
    assert [_post(app, i).state for i in ids] == ["published", "published", "publishing", "publishing"]
    app.close()


def test_finding_5_no_command_but_init_and_db_upgrade_creates_a_database(write_config, tmp_path, run_cli):
    cfg = str(write_config(CONFIG, database=False))
    (tmp_path / "cat.png").write_bytes(image_bytes())
    database = tmp_path / "memeloop.db"
    for args in (["queue", "list"], ["status"], ["posts", "list"], ["db", "current"], ["approve", "1"],
                 ["queue", "add", "--image", str(tmp_path / "cat.png"), "--text", "into nothing"]):
        result = run_cli("--config", cfg, *args)
        assert result.code == 2, (args, result.err)
        assert f"the database file {database} does not exist" in result.err, (args, result.err)
        assert not database.exists(), args
    assert run_cli("--config", cfg, "db", "upgrade").code == 0 and database.is_file()
    assert run_cli("--config", cfg, "queue", "list").code == 0


def test_finding_5_the_daemon_stops_when_its_database_file_is_moved(cfg, tmp_path, run_cli):
    import threading

    from bot.runtime.daemon import EXIT_DATABASE_GONE, Daemon

    app = build_app(load_config(cfg))
    daemon = Daemon(app, beat_every=timedelta(seconds=0.2), stop_grace=timedelta(seconds=2))
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.update(rc=daemon.run(install_signals=False)))
    thread.start()
    try:
        assert daemon.started.wait(20), "the daemon never started"
        (tmp_path / "memeloop.db").rename(tmp_path / "moved.db")
        thread.join(20)
        assert not thread.is_alive(), "the daemon kept running on a moved database"
    finally:
        daemon.stop()
        thread.join(10)
        app.close()
    assert result["rc"] == EXIT_DATABASE_GONE and "is gone (moved or deleted)" in (daemon.database_gone or "")
    status = run_cli("--config", str(cfg), "status")  # the CLI neither creates an empty one nor says "no daemon"
    assert status.code == 2 and "does not exist" in status.err
    assert not (tmp_path / "memeloop.db").exists()


def test_finding_9_queue_list_validates_the_config_and_caches_by_content(cfg, run_cli, monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    marks = tmp_path / "cache" / "memeloop" / "valid-configs"
    assert run_cli("--config", str(cfg), "queue", "list").code == 0
    assert len(list(marks.iterdir())) == 1  # validated once; later runs of this text take the fast path
    assert run_cli("--config", str(cfg), "queue", "list").code == 0
    cfg.write_text(CONFIG + "\n[nope]\nx = 1\n", encoding="utf-8")
    bad = run_cli("--config", str(cfg), "queue", "list")
    assert bad.code == 2 and "nope" in bad.err, bad.err
    assert len(list(marks.iterdir())) == 1


def test_finding_9_the_daemon_notices_a_changed_config_and_starts_no_child_on_it(cfg, tmp_path, caplog):
    import logging

    from bot.runtime import jobs
    from bot.runtime.daemon import Daemon
    from bot.runtime.heartbeat import status_report

    text = CONFIG + 'generate = { generator = "meme", every = "7d" }\n'
    cfg.write_text(text, encoding="utf-8")
    app = build_app(load_config(cfg))
    daemon = Daemon(app)
    cfg.write_text(text.replace("memeloop.db", "other.db"), encoding="utf-8")  # storage.url changed under it
    with caplog.at_level(logging.WARNING):
        daemon._check_config()
        daemon._check_config()  # said once
    assert sum("daemon.config_changed" in r.message for r in caplog.records) == 1
    outcome = jobs.run_generate_child(app.deps, "demo")
    assert outcome.status == "failed" and not (tmp_path / "other.db").exists()
    (recent, *_) = status_report(app)["generations"]
    assert recent["status"] == "failed" and "changed since the daemon started" in recent["error"]
    app.close()


# -- finding 10: the smaller gaps -----------------------------------------------------------------------

def test_finding_10_login_link_is_not_printed_when_stdout_is_not_a_terminal(cfg, tmp_path):
    from bot.web.serve import WebServer, token_file

    app = build_app(load_config(cfg))
    server = WebServer(app, port=8099)
    journal = "\n".join(server.banner(terminal=False, token_file=token_file(app)))
    link_file = token_file(app)
    assert server.token.value not in journal and str(link_file) in journal
    assert server.token.value in link_file.read_text() and (link_file.stat().st_mode & 0o777) == 0o600
    assert server.token.value in "\n".join(server.banner(terminal=True))
    app.close()


def test_finding_10_a_full_disk_leaves_no_temp_file_and_names_the_path(cfg, tmp_path):
    script = textwrap.dedent(f"""
        import resource, signal
        from pathlib import Path
        from PIL import Image
        from bot.core.media import MediaError, MediaStore
        store = MediaStore.open(Path({str(tmp_path / "media")!r}))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1000, resource.RLIM_INFINITY))  # the disk is full at 1000 bytes
        noise = Image.effect_noise((200, 200), 64).convert("RGB")
        try:
            store.put_image(noise, phash=False)
        except MediaError as exc:
            print(exc)
    """)
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60, env=_env(),
                          check=False)
    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith("storage.media_dir: cannot write ") and str(tmp_path / "media") in done.stdout
    assert [p for p in (tmp_path / "media").rglob("*") if p.is_file()] == []


def test_finding_10_an_unwritable_log_file_is_one_line_naming_the_key(write_config, run_cli):
    cfg = write_config(CONFIG.replace("[scheduler]", '[logging]\nfile = "/proc/nope/x.log"\n[scheduler]'))
    result = run_cli("--config", str(cfg), "run")
    assert result.code == 2 and result.err.startswith("memeloop: error: logging.file: cannot write /proc/nope/x.log")
    assert "Traceback" not in result.err


def test_finding_10_post_slots_and_post_cron_together_are_refused(write_config, run_cli):
    cfg = write_config(CONFIG + 'post_slots = ["09:00"]\npost_cron = "0 12 * * *"\n', database=False)
    result = run_cli("--config", str(cfg), "queue", "list")
    assert result.code == 2 and "post_slots and post_cron" in result.err


def test_finding_10_db_upgrade_to_an_older_revision_says_it_did_nothing(cfg, run_cli):
    from feedback import migrate

    first = migrate.revisions_oldest_first()[0]
    result = run_cli("--config", str(cfg), "db", "upgrade", "--revision", first)
    assert result.code == 2 and "never goes back" in result.err and "upgraded" not in result.out
    again = run_cli("--config", str(cfg), "db", "upgrade")
    assert again.code == 0 and "nothing to do" in again.out


def test_finding_10_queue_list_csv_escapes_control_bytes(cfg, run_cli, tmp_path):
    app = build_app(load_config(cfg))
    app.add_candidate(tmp_path / "cat.png", "clear \x1b[2J screen \x07 bell", account="demo", actor="t")
    app.close()
    out = run_cli("--config", str(cfg), "queue", "list", "--csv")
    assert out.code == 0 and "\x1b" not in out.out and "\x07" not in out.out
    assert "clear \\x1b[2J screen \\x07 bell" in out.out


def test_finding_10_instagram_session_folder_is_private_under_umask_000(tmp_path):
    from bot.publishers.instagram import save_session_file

    class Client:
        def dump_settings(self, path):
            Path(path).write_text("{}")

    target = tmp_path / "state" / "ig" / "session.json"
    old = os.umask(0)
    try:
        save_session_file(Client(), target)
    finally:
        os.umask(old)
    for folder in (tmp_path / "state", target.parent):
        assert folder.stat().st_mode & 0o777 == 0o700, folder
    assert target.stat().st_mode & 0o777 == 0o600


def test_finding_10_training_usage_errors_exit_2(run_cli, tmp_path):
    bad = run_cli("train", "pggan", "--images", str(tmp_path), "--out", str(tmp_path / "o"), "--resolution", "48")
    assert bad.code == 2 and "--resolution" in bad.err and "power of two" in bad.err
