"""The bodies of the scheduler's jobs. The daemon schedules bound methods of the service object
(``App.job_publish`` etc.), which run these with the app they belong to: no process globals, no
config file re-read per run, nothing pickled. Each is the top of a unit of work: it records a
failure and moves on, and the daemon keeps running. ``app.stopping`` (set on SIGTERM) is checked
between units of work.
"""
from __future__ import annotations

import logging
import os
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.core.threads import child_env

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)
T = TypeVar("T")

KILL_GRACE_S = 3.0
STDERR_TAIL = 2000


def lease_owner() -> str:
    """host:pid:start of this process (bot.core.owners): a dead owner on this host is seen at once."""
    from bot.core.owners import process_owner

    return process_owner()


def run_job(app: App, name: str, work: Callable[[], T]) -> T | None:
    """The top of a job: nothing new once stopping; a failure is logged and the daemon moves on."""
    if app.stopping.is_set():
        return None
    try:
        result = work()
    except Exception:
        log.exception("job=%s outcome=error", name)
        return None
    log.info("job=%s outcome=ok result=%s", name, result)
    return result


# --- generate -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class GenerateOutcome:
    generation_id: int
    status: str  # ok | failed | timeout | stopped
    returncode: int | None
    seconds: float
    log_path: Path | None  # None: a warm worker that keeps no log of its own


def generate_argv(config_path: str, account: str, generator: str, count: int, *, generation_id: int,
                  seed: int, tone: str | None = None, audience: str | None = None,
                  now: datetime | None = None) -> list[str]:
    """The child's command line; it watches --parent-pid and exits when this process is gone."""
    argv = [sys.executable, "-m", "bot", "--config", config_path, "generate", "--account", account,
            "--generator", generator, "--count", str(count), "--generation-id", str(generation_id),
            "--seed", str(seed), "--parent-pid", str(os.getpid())]
    if tone:
        argv += ["--tone", tone]
    if audience:
        argv += ["--audience", audience]
    if now is not None:
        argv += ["--now", now.isoformat()]
    return argv


def run_generate_child(app: App, account: str, schedule: int = 0, *,
                       timeout: timedelta | None = None) -> GenerateOutcome:
    from bot.config import config_changed
    from feedback.repository import candidates as cand_repo
    from feedback.repository import generations as gen_repo

    acc = app.config.account(account)
    plan = acc.schedules[schedule]
    seed = secrets.randbits(63)
    params = {"count": plan.count, "tone": plan.tone, "audience": plan.audience, "schedule": schedule,
              "parent": lease_owner()}
    with app.tx() as session:
        generation_id = cand_repo.start_generation(
            session, generator=plan.generator, account_id=app.account_ids[account], model_version="",
            params=params, seed=seed, now=app.clock()).id
    drift = config_changed(app.config)
    if drift is not None:  # a child reads the file: it would use another database, models or keys than ours
        with app.tx() as session:
            gen_repo.fail_generation(session, generation_id, error=drift, now=app.clock())
        log.error("job=generate account=%s generation=%s outcome=refused reason=%r", account, generation_id, drift)
        return GenerateOutcome(generation_id, "failed", None, 0.0, None)
    simulated = app.simulated_clock  # the demo's clock travels to the child; a real one needs no help
    limit = (timeout or app.config.generator.timeout).total_seconds()
    if app.config.generator.warm_worker:
        request = {"account": account, "count": plan.count, "seed": seed, "generation_id": generation_id,
                   "tone": plan.tone, "audience": plan.audience,
                   "now": app.clock().isoformat() if simulated else None}
        return _run_in_worker(app, plan.generator, request, limit)
    argv = generate_argv(str(app.config.path), account, plan.generator, plan.count, generation_id=generation_id,
                         seed=seed, tone=plan.tone, audience=plan.audience, now=app.clock() if simulated else None)
    log_path = app.data_dir() / "logs" / f"generate-{generation_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=child_env(app.config.generator.threads))
        status = _wait_child(proc, limit, app)
    seconds = round(time.monotonic() - started, 3)
    outcome = GenerateOutcome(generation_id, status, proc.returncode, seconds, log_path)
    if status != "ok":
        _record_child_failure(app, outcome, limit)
    else:
        log.info("job=generate account=%s generation=%s outcome=ok seconds=%s", account, generation_id, seconds)
    return outcome


def _run_in_worker(app: App, generator: str, request: dict, limit_s: float) -> GenerateOutcome:
    """One run in the generator's warm worker (generator.warm_worker); failures recorded as a child's."""
    from bot.runtime.worker import WorkerError

    client = app.worker(generator)
    started = time.monotonic()
    try:
        with client.lock:
            answer = client.run(request, timeout_s=limit_s)
        status, error = ("ok", "") if answer.get("ok") else ("failed", str(answer.get("error", "")))
    except WorkerError as exc:
        status, error = ("stopped" if app.stopping.is_set() else
                         "timeout" if "no answer within" in str(exc) else "failed"), str(exc)
    seconds = round(time.monotonic() - started, 3)
    outcome = GenerateOutcome(request["generation_id"], status, 0 if status == "ok" else None, seconds,
                              client.log_path)
    if status != "ok":
        _record_worker_failure(app, outcome, error)
    else:
        log.info("job=generate account=%s generation=%s outcome=ok seconds=%s worker_pid=%s rss_mb=%s",
                 request["account"], outcome.generation_id, seconds, client.ready.get("pid"), answer.get("rss_mb"))
    return outcome


def _record_worker_failure(app: App, outcome: GenerateOutcome, error: str) -> None:
    from feedback.repository import generations as gen_repo

    tail = _tail(outcome.log_path)
    detail = f"warm worker: {error or outcome.status} (log {outcome.log_path})" + (
        f": {tail[-500:]}" if tail else "")
    with app.tx() as session:  # a run that failed inside the worker is already marked; this is a no-op
        changed = gen_repo.fail_generation(session, outcome.generation_id, error=detail, now=app.clock())
    log.error("job=generate generation=%s outcome=%s seconds=%s log=%s recorded=%s error=%r",
              outcome.generation_id, outcome.status, outcome.seconds, outcome.log_path, changed, error[:300])


def _wait_child(proc: subprocess.Popen, limit_s: float, app: App) -> str:
    deadline = time.monotonic() + limit_s
    while True:
        try:
            code = proc.wait(timeout=0.2)
            return "ok" if code == 0 else "failed"
        except subprocess.TimeoutExpired:
            pass
        if app.stopping.is_set() or time.monotonic() >= deadline:
            _kill_group(proc)
            return "stopped" if app.stopping.is_set() else "timeout"


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


def _tail(path: Path | None) -> str:
    if path is None:
        return ""
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


def reap_abandoned(app: App) -> int:
    """Generations still 'running' whose daemon is gone (killed, crashed) are failed, so a child that
    outlived it can never store its results (the child's final write is conditional on 'running').
    Same host: the daemon's pid is checked; another host's: after generator.timeout. Returns how many."""
    from bot.core.owners import gone_on_this_host
    from feedback.repository import generations as gen_repo

    now = app.clock()
    reaped = 0
    with app.tx() as session:
        for gen in gen_repo.running(session):
            parent = str((gen.params or {}).get("parent") or "")
            gone = gone_on_this_host(parent) or (
                now - gen.started_at > app.config.generator.timeout + timedelta(minutes=1))
            if gone and gen_repo.fail_generation(session, gen.id, now=now,
                                                 error=f"abandoned: its daemon {parent or '?'} stopped"):
                reaped += 1
    if reaped:
        log.warning("event=generations_reaped count=%d", reaped)
    return reaped


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


# --- publish / auto-approve ----------------------------------------------------------------------

def publish(app: App) -> datetime | None:
    """Publish what is due. Returns the earliest time a post was put back to (rate-limit reset,
    backoff) so the daemon schedules an extra run then, instead of anyone sleeping in a worker."""
    summary = app.publish_due(owner=lease_owner())
    log.info("job=publish summary=%s", summary)
    return summary.retry_at


def auto_approve(app: App, *, per_account: int = 1) -> int:
    """Only with publishing.auto_approve = true: give each account with an empty schedule its
    best-ranked pending candidate. Off by default (the demo turns it on and says so)."""
    approved = 0
    for acc in app.config.accounts:
        if not acc.enabled or app.posts(states=("scheduled",), account=acc.name, limit=1):
            continue
        queue = app.queue(account=acc.name, limit=per_account)
        for row in queue:
            app.approve(row.id, actor="auto-approve", account=acc.name)
            approved += 1
        log.info("job=auto_approve account=%s approved=%s", acc.name, [row.id for row in queue])
    return approved


# --- prune ----------------------------------------------------------------------------------------

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
    logs = app.data_dir() / "logs"
    old_logs = [p for p in logs.glob("generate-*.log") if p.stat().st_mtime < cutoff.timestamp()] \
        if logs.is_dir() else []
    for p in old_logs:
        p.unlink(missing_ok=True)
    log.info("job=prune outcome=ok files=%s logs=%s", len(doomed), len(old_logs))
    return len(doomed)
