"""The scheduler's jobs. The daemon's one table (bot/runtime/daemon.py planned_jobs: id, trigger,
what it calls) names the ``job_*`` functions at the end of this module, called with the App's deps:
no process globals, no config file re-read per run, nothing pickled. Each is the top of a unit of work: it records a
failure and moves on, and the daemon keeps running. ``deps.stopping`` (set on SIGTERM) is checked
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
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from bot.core.threads import child_env
from bot.service.maintenance import auto_approve, prune_media, reap_abandoned  # noqa: F401 (tests, daemon)

if TYPE_CHECKING:
    from bot.core.deps import Deps

log = logging.getLogger(__name__)
T = TypeVar("T")

KILL_GRACE_S = 3.0
STDERR_TAIL = 2000


def lease_owner() -> str:
    """host:pid:start of this process (bot.core.owners): a dead owner on this host is seen at once."""
    from bot.core.owners import process_owner

    return process_owner()


def run_job(deps: Deps, name: str, work: Callable[[], T]) -> T | None:
    """The top of a job: nothing new once stopping; a failure is logged and the daemon moves on."""
    if deps.stopping.is_set():
        return None
    try:
        result = work()
    except Exception:
        log.exception("job=%s outcome=error", name)
        return None
    log.info("job=%s outcome=ok result=%s", name, result)
    return result


# --- generate -------------------------------------------------------------------------------------

class GenerateStatus(StrEnum):
    OK = "ok"
    FAILED = "failed"
    TIMEOUT = "timeout"
    STOPPED = "stopped"


@dataclass(frozen=True)
class GenerateOutcome:
    generation_id: int
    status: GenerateStatus
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


def run_generate_child(deps: Deps, account: str, schedule: int = 0, *,
                       timeout: timedelta | None = None) -> GenerateOutcome:
    from bot.config import config_changed
    from bot.service.pipeline import open_generation
    from feedback.repository import generations as gen_repo

    acc = deps.config.account(account)
    plan = acc.schedules[schedule]
    seed = secrets.randbits(63)
    params = {"count": plan.count, "tone": plan.tone, "audience": plan.audience, "schedule": schedule,
              "parent": lease_owner()}
    generation_id = open_generation(deps, account, plan.generator, params, seed=seed)
    drift = config_changed(deps.config)
    if drift is not None:  # a child reads the file: it would use another database, models or keys than ours
        with deps.tx() as session:
            gen_repo.fail_generation(session, generation_id, error=drift, now=deps.clock())
        log.error("job=generate account=%s generation=%s outcome=refused reason=%r", account, generation_id, drift)
        return GenerateOutcome(generation_id, GenerateStatus.FAILED, None, 0.0, None)
    simulated = deps.simulated_clock  # the demo's clock travels to the child; a real one needs no help
    limit = (timeout or deps.config.generator.timeout).total_seconds()
    if deps.config.generator.warm_worker:
        request = {"account": account, "count": plan.count, "seed": seed, "generation_id": generation_id,
                   "tone": plan.tone, "audience": plan.audience,
                   "now": deps.clock().isoformat() if simulated else None}
        return _run_in_worker(deps, plan.generator, request, limit)
    argv = generate_argv(str(deps.config.path), account, plan.generator, plan.count, generation_id=generation_id,
                         seed=seed, tone=plan.tone, audience=plan.audience, now=deps.clock() if simulated else None)
    log_path = deps.data_dir() / "logs" / f"generate-{generation_id}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with open(log_path, "wb") as out:
        proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True, env=child_env(deps.config.generator.threads))
        status = _wait_child(proc, limit, deps)
    seconds = round(time.monotonic() - started, 3)
    outcome = GenerateOutcome(generation_id, status, proc.returncode, seconds, log_path)
    if status != GenerateStatus.OK:
        _record_child_failure(deps, outcome, limit)
    else:
        log.info("job=generate account=%s generation=%s outcome=ok seconds=%s", account, generation_id, seconds)
    return outcome


def _run_in_worker(deps: Deps, generator: str, request: dict, limit_s: float) -> GenerateOutcome:
    """One run in the generator's warm worker (generator.warm_worker); failures recorded as a child's."""
    from bot.runtime.worker import WorkerError

    client = deps.worker(generator)
    started = time.monotonic()
    try:
        with client.lock:
            answer = client.run(request, timeout_s=limit_s)
        status, error = ((GenerateStatus.OK, "") if answer.get("ok")
                         else (GenerateStatus.FAILED, str(answer.get("error", ""))))
    except WorkerError as exc:
        status, error = (GenerateStatus.STOPPED if deps.stopping.is_set() else
                         GenerateStatus.TIMEOUT if "no answer within" in str(exc) else GenerateStatus.FAILED), str(exc)
    seconds = round(time.monotonic() - started, 3)
    outcome = GenerateOutcome(request["generation_id"], status, 0 if status == GenerateStatus.OK else None, seconds,
                              client.log_path)
    if status != GenerateStatus.OK:
        _record_worker_failure(deps, outcome, error)
    else:
        log.info("job=generate account=%s generation=%s outcome=ok seconds=%s worker_pid=%s rss_mb=%s",
                 request["account"], outcome.generation_id, seconds, client.ready.get("pid"), answer.get("rss_mb"))
    return outcome


def _record_worker_failure(deps: Deps, outcome: GenerateOutcome, error: str) -> None:
    from feedback.repository import generations as gen_repo

    tail = _tail(outcome.log_path)
    detail = f"warm worker: {error or outcome.status} (log {outcome.log_path})" + (
        f": {tail[-500:]}" if tail else "")
    with deps.tx() as session:  # a run that failed inside the worker is already marked; this is a no-op
        changed = gen_repo.fail_generation(session, outcome.generation_id, error=detail, now=deps.clock())
    log.error("job=generate generation=%s outcome=%s seconds=%s log=%s recorded=%s error=%r",
              outcome.generation_id, outcome.status, outcome.seconds, outcome.log_path, changed, error[:300])


def _wait_child(proc: subprocess.Popen, limit_s: float, deps: Deps) -> GenerateStatus:
    deadline = time.monotonic() + limit_s
    while True:
        try:
            code = proc.wait(timeout=0.2)
            return GenerateStatus.OK if code == 0 else GenerateStatus.FAILED
        except subprocess.TimeoutExpired:
            pass
        if deps.stopping.is_set() or time.monotonic() >= deadline:
            _kill_group(proc)
            return GenerateStatus.STOPPED if deps.stopping.is_set() else GenerateStatus.TIMEOUT


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


def _tail(path: Path | None) -> str:
    if path is None:
        return ""
    try:
        data = path.read_bytes()[-STDERR_TAIL:]
    except OSError:
        return ""
    return data.decode("utf-8", errors="replace").strip()


def _record_child_failure(deps: Deps, outcome: GenerateOutcome, limit_s: float) -> None:
    from feedback.repository import generations as gen_repo

    reasons = {GenerateStatus.FAILED: f"child exited with code {outcome.returncode}",
               GenerateStatus.TIMEOUT: f"timed out after {limit_s:g}s; child killed",
               GenerateStatus.STOPPED: "daemon stopping; child killed"}
    tail = _tail(outcome.log_path)
    error = f"{reasons[outcome.status]} (log {outcome.log_path})" + (f": {tail[-500:]}" if tail else "")
    with deps.tx() as session:
        changed = gen_repo.fail_generation(session, outcome.generation_id, error=error, now=deps.clock())
    last_line = tail.splitlines()[-1] if tail else ""
    log.error("job=generate generation=%s outcome=%s returncode=%s seconds=%s log=%s recorded=%s last=%r",
              outcome.generation_id, outcome.status, outcome.returncode, outcome.seconds, outcome.log_path,
              changed, last_line[:300])


# --- publish ------------------------------------------------------------------------------------

def publish(deps: Deps) -> datetime | None:
    """Publish what is due. Returns the earliest time a post was put back to (rate-limit reset,
    backoff) so the daemon schedules an extra run then, instead of anyone sleeping in a worker."""
    from bot.service.publishing import publish_due

    summary = publish_due(deps, owner=lease_owner(), stop=deps.stopping)
    log.info("job=publish summary=%s", summary)
    return summary.retry_at


# --- the jobs the daemon's table names (bot/runtime/daemon.py planned_jobs): job(deps, **kwargs) ---
# Each is the top of a unit of work (run_job): nothing new once stopping, a failure logged, never raised.

def job_generate(deps: Deps, account: str, schedule: int = 0) -> GenerateOutcome | None:
    return run_job(deps, f"generate account={account} schedule={schedule}",
                   lambda: run_generate_child(deps, account, schedule))


def job_publish(deps: Deps) -> datetime | None:
    return run_job(deps, "publish", lambda: publish(deps))


def job_poll(deps: Deps) -> int | None:
    from bot.service.polling import poll_due

    return run_job(deps, "poll", lambda: poll_due(deps))


def job_reconcile(deps: Deps) -> int | None:
    from bot.service.publishing import reconcile_unconfirmed

    return run_job(deps, "reconcile", lambda: reconcile_unconfirmed(deps))


def job_prune(deps: Deps) -> int | None:
    return run_job(deps, "prune", lambda: prune_media(deps))


def job_adapt(deps: Deps) -> object | None:
    """The generators learn from winners on the [learning] schedule (bot/service/adapt.py scheduled):
    skipped, with a log line, while the ranker has too few new outcomes."""
    from bot.service.adapt import scheduled

    return run_job(deps, "adapt", lambda: scheduled(deps).status)


def job_auto_approve(deps: Deps) -> int | None:
    return run_job(deps, "auto_approve", lambda: auto_approve(deps) if deps.config.publishing.auto_approve else 0)


def job_notify(deps: Deps) -> object | None:
    """Tell the webhooks what needs a person (bot/service/notify.py); deliveries wait at most
    notifications.timeout each and a failed one is retried later, never here."""
    from bot.service import notify

    return run_job(deps, "notify", lambda: notify.run(deps))
