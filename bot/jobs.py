"""Scheduler jobs: module-level functions APScheduler stores by name ("bot.jobs:generate_job").

Each one gets the config PATH (plain, picklable) and rebuilds what it needs for one run, so nothing
in the job store ever holds the app, a session or a model. Each is the top of a unit of work: it
records a failure and moves on, and the daemon keeps running.
"""
from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TypeVar

from bot.app import App, build_app
from bot.config import Config, load_config
from bot.threads import child_env
from feedback.clock import utcnow

log = logging.getLogger(__name__)
T = TypeVar("T")

# Set by the daemon's signal handler. Process-wide on purpose: APScheduler pickles job arguments, and
# an Event cannot travel through the job store. Jobs check it between units of work.
STOP = threading.Event()
KILL_GRACE_S = 3.0
STDERR_TAIL = 2000


# One App per config file per process, shared by every job run (one engine and connection pool, one
# publisher per account: an Instagram session is not rebuilt every tick). Rebuilt when the file
# changes. This cache is process state like STOP; nothing in it is ever pickled into the job store.
_APPS: dict[str, tuple[float, App]] = {}
_APPS_LOCK = threading.Lock()


def shared_app(config_path: str) -> App:
    mtime = Path(config_path).stat().st_mtime
    with _APPS_LOCK:
        entry = _APPS.get(config_path)
        if entry is not None and entry[0] == mtime:
            return entry[1]
        app = build_app(load_config(config_path))
        _APPS[config_path] = (mtime, app)
    if entry is not None:
        entry[1].close()  # checked-out connections finish their work; the pool is dropped
    return app


def register_app(app: App) -> None:
    """Let jobs in this process use the daemon's own App for its config file."""
    if app.config.path is not None:
        with _APPS_LOCK:
            _APPS[str(app.config.path)] = (app.config.path.stat().st_mtime, app)


def forget_apps() -> None:
    with _APPS_LOCK:
        _APPS.clear()


@contextmanager
def job_app(config_path: str) -> Iterator[App]:
    yield shared_app(config_path)


def lease_owner() -> str:
    return f"{socket.gethostname()[:100]}:{os.getpid()}"


def data_dir(config: Config) -> Path:
    return config.path.parent if config.path is not None else Path.cwd()


# --- generate -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GenerateOutcome:
    generation_id: int
    status: str  # ok | failed | timeout | stopped
    returncode: int | None
    seconds: float
    log_path: Path


def generate_argv(config_path: str, account: str, generator: str, count: int, *, generation_id: int,
                  seed: int, tone: str | None = None, audience: str | None = None,
                  now: datetime | None = None) -> list[str]:
    argv = [sys.executable, "-m", "bot", "--config", config_path, "generate", "--account", account,
            "--generator", generator, "--count", str(count), "--generation-id", str(generation_id),
            "--seed", str(seed)]
    if tone:
        argv += ["--tone", tone]
    if audience:
        argv += ["--audience", audience]
    if now is not None:
        argv += ["--now", now.isoformat()]
    return argv


def generate_job(config_path: str, account: str, schedule: int = 0) -> GenerateOutcome | None:
    """Run one `memeloop generate` for ``account``'s ``schedule``-th generate entry in a child process
    (models never live in the daemon), killed at config.generator.timeout."""
    return _run_job(f"generate account={account} schedule={schedule}", config_path,
                    lambda app: run_generate_child(app, account, schedule))


def run_generate_child(app: App, account: str, schedule: int = 0, *,
                       timeout: timedelta | None = None) -> GenerateOutcome:
    from feedback.repository import candidates as cand_repo

    acc = app.config.account(account)
    plan = acc.schedules[schedule]
    seed = secrets.randbits(63)
    params = {"count": plan.count, "tone": plan.tone, "audience": plan.audience, "schedule": schedule}
    with app.tx() as session:
        generation_id = cand_repo.start_generation(
            session, generator=plan.generator, account_id=app.account_ids[account], model_version="",
            params=params, seed=seed, now=app.clock()).id
    simulated = app.clock is not utcnow  # the demo's clock travels to the child; a real one needs no help
    argv = generate_argv(str(app.config.path), account, plan.generator, plan.count, generation_id=generation_id,
                         seed=seed, tone=plan.tone, audience=plan.audience, now=app.clock() if simulated else None)
    log_path = data_dir(app.config) / "logs" / f"generate-{generation_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    limit = (timeout or app.config.generator.timeout).total_seconds()
    started = time.monotonic()
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=child_env(app.config.generator.threads))
        status = _wait_child(proc, limit)
    seconds = round(time.monotonic() - started, 3)
    outcome = GenerateOutcome(generation_id, status, proc.returncode, seconds, log_path)
    if status != "ok":
        _record_child_failure(app, outcome, limit)
    else:
        log.info("job=generate account=%s generation=%s outcome=ok seconds=%s", account, generation_id, seconds)
    return outcome


def _wait_child(proc: subprocess.Popen, limit_s: float) -> str:
    deadline = time.monotonic() + limit_s
    while True:
        try:
            code = proc.wait(timeout=0.2)
            return "ok" if code == 0 else "failed"
        except subprocess.TimeoutExpired:
            pass
        if STOP.is_set() or time.monotonic() >= deadline:
            _kill_group(proc)
            return "stopped" if STOP.is_set() else "timeout"


def _kill_group(proc: subprocess.Popen) -> None:
    """TERM the child's process group, KILL it if it does not leave within KILL_GRACE_S."""
    for sig, grace in ((signal.SIGTERM, KILL_GRACE_S), (signal.SIGKILL, None)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=grace)
            return
        except subprocess.TimeoutExpired:
            continue


def _tail(path: Path) -> str:
    try:
        data = path.read_bytes()[-STDERR_TAIL:]
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace").strip()


def _record_child_failure(app: App, outcome: GenerateOutcome, limit_s: float) -> None:
    from feedback.repository import generations as gen_repo

    reasons = {"failed": f"child exited with code {outcome.returncode}",
               "timeout": f"timed out after {limit_s:g}s; child killed",
               "stopped": "daemon stopping; child killed"}
    tail = _tail(outcome.log_path)
    error = f"{reasons[outcome.status]} (log {outcome.log_path})" + (f": {tail[-500:]}" if tail else "")
    with app.tx() as session:
        changed = gen_repo.fail_generation(session, outcome.generation_id, error=error, now=app.clock())
    last_line = tail.splitlines()[-1] if tail else ""
    log.error("job=generate generation=%s outcome=%s returncode=%s seconds=%s log=%s recorded=%s last=%r",
              outcome.generation_id, outcome.status, outcome.returncode, outcome.seconds, outcome.log_path,
              changed, last_line[:300])


# --- publish / poll / reconcile -------------------------------------------------------------------

def _run_job(name: str, config_path: str, work: Callable[[App], T]) -> T | None:
    """The top of a job: nothing new once stopping; a failure is logged and the daemon moves on."""
    if STOP.is_set():
        return None
    try:
        with job_app(config_path) as app:
            result = work(app)
    except Exception:
        log.exception("job=%s outcome=error", name)
        return None
    log.info("job=%s outcome=ok result=%s", name, result)
    return result


def publish_job(config_path: str) -> datetime | None:
    """Publish what is due. Returns the time a post was put back to (rate-limit reset, backoff) so the
    daemon schedules an extra run then, instead of anyone sleeping in a worker thread."""
    def work(app: App) -> datetime | None:
        from bot.publishing import publish_due

        summary = publish_due(app, owner=lease_owner(), stop=STOP)
        log.info("job=publish summary=%s", summary)
        return getattr(summary, "retry_at", None) or _earliest_retry(app, summary)

    return _run_job("publish", config_path, work)


def _earliest_retry(app: App, summary) -> datetime | None:
    """When posts of this run were put back with a later attempt time, the earliest such time."""
    if not getattr(summary, "retried", 0):
        return None
    from feedback.repository import posts as post_repo

    with app.tx() as session:
        times = [p.next_attempt_at for p in (post_repo.get_post(session, pid) for pid in summary.post_ids)
                 if p.state == "scheduled" and p.next_attempt_at is not None]
    return min(times, default=None)


def poll_job(config_path: str) -> int | None:
    def work(app: App) -> int:
        from bot.polling import poll_due

        return poll_due(app)

    return _run_job("poll", config_path, work)


def reconcile_job(config_path: str) -> int | None:
    def work(app: App) -> int:
        from bot.publishing import reconcile_unconfirmed

        return reconcile_unconfirmed(app)

    return _run_job("reconcile", config_path, work)


def auto_approve_job(config_path: str) -> int | None:
    """Only with publishing.auto_approve = true: give each account with an empty schedule its
    best-ranked pending candidate. Off by default (the demo turns it on and says so)."""
    return _run_job("auto_approve", config_path,
                    lambda app: auto_approve(app) if app.config.publishing.auto_approve else 0)


def auto_approve(app: App, *, per_account: int = 1) -> int:
    from bot.publishing import approve_and_schedule
    from feedback.repository import candidates as cand_repo
    from feedback.repository import posts as post_repo

    approved = 0
    for acc in app.config.accounts:
        if not acc.enabled:
            continue
        with app.tx() as session:
            waiting = post_repo.list_posts(session, states=["scheduled"], account=acc.name)
            queue = cand_repo.list_queue(session, app.clock(), account=acc.name, limit=per_account)
        if waiting or not queue:
            continue
        posts = approve_and_schedule(app, [row.id for row in queue], actor="auto-approve", account=acc.name)
        approved += len(posts)
        log.info("job=auto_approve account=%s approved=%s", acc.name, [row.id for row in queue])
    return approved


# --- prune ----------------------------------------------------------------------------------------

def prune_job(config_path: str) -> int | None:
    return _run_job("prune", config_path, prune_media)


def prune_media(app: App) -> int:
    """Delete image files of rejected/filtered/duplicate candidates older than scheduler.keep_media,
    and generate logs as old. Rows stay (history); their image path is cleared."""
    from feedback.repository import media as media_repo

    now = app.clock()
    cutoff = now - app.config.scheduler.keep_media
    with app.tx() as session:
        doomed = media_repo.prunable_media(session, before=cutoff)
    for _cid, path in doomed:
        Path(path).unlink(missing_ok=True)
    with app.tx() as session:
        media_repo.forget_media(session, [cid for cid, _ in doomed], now)
    logs = data_dir(app.config) / "logs"
    old_logs = [p for p in logs.glob("generate-*.log") if p.stat().st_mtime < cutoff.timestamp()] \
        if logs.is_dir() else []
    for p in old_logs:
        p.unlink(missing_ok=True)
    log.info("job=prune outcome=ok files=%s logs=%s", len(doomed), len(old_logs))
    return len(doomed)
