"""`memeloop run`: the long-running service.

Lifecycle (as in python-telegram-bot): initialize (start-up sweep when leading) -> start (the
APScheduler BlockingScheduler owns the main thread) -> stop (SIGTERM/SIGINT: no new claims, the
scheduler stops at once, running jobs get ``stop_grace`` to finish or release) -> shutdown in
``finally`` (leadership released, heartbeat row removed). A second signal during teardown exits at
once. Whatever is still running after the grace cannot hold the process: `memeloop run` exits.

Jobs are the ``job_*`` functions of bot/runtime/jobs.py bound to the App's deps, in an in-memory job store:
nothing is pickled and nothing is global. What must survive a restart (each job's last and next
run, and the signature of its trigger) is kept in our own table ``job_state``: on start, an
unchanged job resumes at its stored next run, so runs missed while the service was down are seen
and handled by misfire_grace/coalesce (late within the grace: one catch-up run; older: skipped);
a changed job starts afresh.

The heartbeat never asks the scheduler for its jobs (that lock is held by a scheduler shutting
down, which deadlocked a stop); it reads this process's own table of next runs.

Several daemons may share one database (bot.runtime.leader): each heartbeat also tries to lead. Only the
leader runs the periodic jobs; the others run just the publish loop every tick.
"""
from __future__ import annotations

import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Any

from bot.app import App
from bot.runtime import jobs
from bot.runtime.heartbeat import (
    LEADER,
    ROLE,
    WORKER,
    Identity,
    clear_beat,
    identity,
    stale_after,
    write_beat,
)
from bot.runtime.leader import Leadership, leadership_for
from feedback.repository import jobstate
from feedback.repository.leadership import Holder

if TYPE_CHECKING:
    from bot.config import Config

log = logging.getLogger(__name__)

RETRY_JOB_ID = "publish:retry"
HEARTBEAT_JOB_ID = "heartbeat"
FOLLOW_JOB_ID = "follow"
MAX_WORKERS = 4
STOP_GRACE = timedelta(seconds=8)  # running jobs get this long after a stop; the whole stop stays < 10 s
EXIT_STOPPED = 0  # every publish in flight finished (or none was running)
EXIT_RELEASED = 3  # a platform call outlived STOP_GRACE: its post was released to reconcile (unconfirmed)
EXIT_DATABASE_GONE = 4  # the SQLite file was moved, replaced or deleted under the running daemon


@dataclass(frozen=True)
class JobSpec:
    """One periodic job: which service method, on which trigger, with which arguments."""

    id: str
    job: Callable[..., Any]  # what it calls: a job of bot/runtime/jobs.py, job(deps, **kwargs)
    trigger: Any  # an APScheduler trigger
    kwargs: dict[str, Any] = field(default_factory=dict)

    def signature(self) -> str:
        """What makes two specs the same job (a changed one starts afresh after a restart)."""
        args = ",".join(f"{k}={v}" for k, v in sorted(self.kwargs.items()))
        return f"{self.job.__name__}({args}) {self.trigger} tz={self.trigger.timezone}"[:500]


def _interval(every: timedelta, tz: str):
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(seconds=max(1, int(every.total_seconds())), timezone=tz)


def planned_jobs(app: App) -> list[JobSpec]:
    """The daemon's one job table: every periodic job the config asks for, with its id (stable, so a
    restart finds it again), its trigger and the job of bot/runtime/jobs.py it calls."""
    from apscheduler.triggers.cron import CronTrigger

    config = app.config
    tz, sched = config.scheduler.timezone, config.scheduler
    specs = []
    for acc in config.accounts:
        if not acc.enabled:
            continue
        for i, plan in enumerate(acc.schedules):
            trigger = (CronTrigger.from_crontab(plan.cron, timezone=acc.timezone) if plan.cron
                       else _interval(plan.every or timedelta(hours=6), tz))
            specs.append(JobSpec(f"generate:{acc.name}:{i}", jobs.job_generate, trigger,
                                 {"account": acc.name, "schedule": i}))
    specs += [
        JobSpec("publish", jobs.job_publish, _interval(sched.tick, tz)),
        JobSpec("poll", jobs.job_poll, _interval(sched.tick, tz)),
        JobSpec("reconcile", jobs.job_reconcile, _interval(sched.reconcile_every, tz)),
        JobSpec("prune", jobs.job_prune, _interval(sched.prune_every, tz)),
    ]
    if config.learning.adapt:
        specs.append(JobSpec("adapt", jobs.job_adapt, _interval(config.learning.adapt_every, tz)))
    if config.publishing.auto_approve:
        specs.append(JobSpec("auto_approve", jobs.job_auto_approve, _interval(sched.tick, tz)))
    if config.notifications.webhooks:
        specs.append(JobSpec("notify", jobs.job_notify, _interval(sched.tick, tz)))
    return specs


def build_scheduler(config: Config, *, blocking: bool = True):
    """The scheduler with our job defaults: a run late by less than misfire_grace still happens,
    missed runs coalesce into one, and a job never overlaps itself."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore

    if blocking:
        from apscheduler.schedulers.blocking import BlockingScheduler as Scheduler
    else:
        from apscheduler.schedulers.background import BackgroundScheduler as Scheduler
    return Scheduler(
        jobstores={"default": MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(MAX_WORKERS)},
        job_defaults={"misfire_grace_time": int(config.scheduler.misfire_grace.total_seconds()),
                      "coalesce": True, "max_instances": 1},
        timezone=config.scheduler.timezone,
    )


def startup_sweep(app: App) -> None:
    """Before the first tick: settle posts a crash left unconfirmed, handle slots that passed while
    the service was down, and give up generations a dead daemon started."""
    for name, step in (("reconcile", app.reconcile), ("sweep_missed", app.sweep_missed),
                       ("reap_generations", lambda: jobs.reap_abandoned(app.deps))):
        try:
            log.info("daemon.startup step=%s result=%s", name, step())
        except Exception:  # the service must come up even if one platform is unreachable
            log.exception("daemon.startup step=%s outcome=error", name)


class Daemon:
    """One service process. ``run()`` blocks until a stop is requested, then returns EXIT_STOPPED, or
    EXIT_RELEASED when a publish was still in flight after ``stop_grace`` and was released to reconcile
    (the post is 'unconfirmed' with no live lease; the next start settles it at once)."""

    def __init__(self, app: App, *, blocking: bool = True, beat_every: timedelta | None = None,
                 leadership: Leadership | None = None, stop_grace: timedelta = STOP_GRACE) -> None:
        self.app = app
        self.scheduler = build_scheduler(app.config, blocking=blocking)
        self.who: Identity = identity(ROLE, app.clock())
        self.beat_every = beat_every or min(app.config.scheduler.tick, timedelta(seconds=30))
        self.stop_grace = stop_grace
        # a lease outlives a few missed beats, so a slow tick does not hand the lead around
        self.leadership = leadership or leadership_for(
            app.engine, Holder(self.who.process, self.who.pid, self.who.host), lease=stale_after(app.config))
        self.leading = False
        self.specs = {spec.id: spec for spec in planned_jobs(app)}
        self._lead_lock = threading.Lock()
        self._table_lock = threading.Lock()
        self._table: dict[str, dict[str, str | None]] = {}  # id -> next run, last run, trigger
        self._running = 0
        self._idle = threading.Condition()
        self._signals = 0
        self.started = threading.Event()  # set once jobs are added and the first beat is written
        self.database_gone: str | None = None  # why the daemon stopped itself (EXIT_DATABASE_GONE)
        self.config_drift: str | None = None  # the config file changed under us (said once, in the log)
        self._db_file, self._db_identity = _database_identity(app)

    # lifecycle -----------------------------------------------------------------------------------
    def initialize(self) -> None:
        from apscheduler.events import EVENT_JOB_MISSED, EVENT_JOB_SUBMITTED, EVENT_SCHEDULER_STARTED

        self.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)
        self.scheduler.add_listener(self._on_submitted, EVENT_JOB_SUBMITTED)
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self.scheduler.add_job(self._guarded(HEARTBEAT_JOB_ID, self.beat), "interval",
                               seconds=self.beat_every.total_seconds(), id=HEARTBEAT_JOB_ID, misfire_grace_time=None)
        self.scheduler.add_job(self._guarded(FOLLOW_JOB_ID, self.follow), "interval",
                               seconds=self.app.config.scheduler.tick.total_seconds(), id=FOLLOW_JOB_ID,
                               misfire_grace_time=None)
        self.tell_unclean_stops()
        self.elect()  # a leader does its start-up sweep before the first tick

    def tell_unclean_stops(self) -> None:
        """Before our first beat replaces it: a stale heartbeat row (a predecessor that did not stop
        cleanly, maybe this very container's last run) is told to the webhooks as "down since"."""
        if not self.app.config.notifications.webhooks:
            return
        from bot.service import notify

        try:
            stored = notify.store(self.app.deps, notify.daemon_events(self.app.deps))
        except Exception:  # telling must never keep the service from starting
            log.exception("daemon.startup step=tell_unclean_stops outcome=error")
            return
        if stored:
            log.warning("daemon.startup step=tell_unclean_stops notices=%d", stored)

    def run(self, *, install_signals: bool = True) -> int:
        if install_signals:  # before the start-up sweep, so an early SIGTERM is a clean stop too
            self.install_signal_handlers()
        code = EXIT_STOPPED
        try:
            if not self.app.stopping.is_set():
                self.initialize()
                self.scheduler.start()  # blocks (BlockingScheduler) until stop() shut it down
            if not self.wait_for_jobs(self.stop_grace):
                code = self.release_in_flight()
        finally:
            self.shutdown()
        return EXIT_DATABASE_GONE if self.database_gone else code

    def release_in_flight(self) -> int:
        """After the grace: posts this process is still publishing go to reconcile (exit code says so)."""
        from bot.service.publishing import release_in_flight

        try:
            released = release_in_flight(self.app.deps, owner=jobs.lease_owner())
        except Exception:  # the database may be what hangs; the lease then runs out by itself
            log.exception("daemon.stop step=release_in_flight outcome=error")
            return EXIT_RELEASED
        return EXIT_RELEASED if released else EXIT_STOPPED

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        self._signals += 1
        if self._signals > 1:  # a second signal during teardown: leave now (leases expire by themselves)
            log.warning("daemon.signal signal=%s again: exiting now", signal.Signals(signum).name)
            logging.shutdown()
            os._exit(0)
        log.info("daemon.signal signal=%s", signal.Signals(signum).name)
        self.stop()

    def stop(self) -> None:
        """No new claims from now on; the scheduler stops without waiting (running jobs see
        app.stopping and finish or release their work within stop_grace)."""
        self.app.stopping.set()
        threading.Thread(target=self._shutdown_scheduler, name="memeloop-stop", daemon=True).start()

    def _shutdown_scheduler(self) -> None:
        from apscheduler.schedulers import SchedulerNotRunningError

        if not self.started.wait(timeout=30) and not self.scheduler.running:
            return
        try:
            self.scheduler.shutdown(wait=False)
        except SchedulerNotRunningError:
            pass

    def wait_for_jobs(self, grace: timedelta) -> bool:
        """Wait until no job runs (True) or ``grace`` passed (False: the caller exits anyway)."""
        deadline = time.monotonic() + grace.total_seconds()
        with self._idle:
            while self._running and time.monotonic() < deadline:
                self._idle.wait(timeout=max(0.0, deadline - time.monotonic()))
            if self._running:
                log.warning("daemon.stop jobs_still_running=%d after=%ss (exiting anyway)", self._running,
                            grace.total_seconds())
            return self._running == 0

    def shutdown(self) -> None:
        try:
            if self.leading:
                self.leadership.release()
                log.info("event=leader_released process=%s", self.who.process)
        except Exception:  # a lease lapses and a lock dies with its connection; exiting matters more
            log.exception("daemon.shutdown step=release_leadership outcome=error")
        try:
            clear_beat(self.app, self.who)
        except Exception:  # the database may be what failed; exiting matters more
            log.exception("daemon.shutdown step=clear_heartbeat outcome=error")
        log.info("daemon.stopped process=%s", self.who.process)

    # jobs ----------------------------------------------------------------------------------------
    def _guarded(self, job_id: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        """Count running jobs (a stop waits for them) and settle retry requests of publish runs."""
        def run(**kwargs: Any) -> Any:
            with self._idle:
                self._running += 1
            try:
                result = fn(**kwargs)
                if job_id in ("publish", RETRY_JOB_ID) and isinstance(result, datetime):
                    self.schedule_retry(result)
                return result
            finally:
                with self._idle:
                    self._running -= 1
                    self._idle.notify_all()
        run.__name__ = f"memeloop_{job_id}"
        return run

    def schedule_retry(self, retry_at: datetime) -> None:
        """A platform said "not now, try at retry_at": one extra publish run at that time."""
        if not self.leading or self.app.stopping.is_set():
            return
        from apscheduler.triggers.date import DateTrigger

        self.scheduler.add_job(self._guarded(RETRY_JOB_ID, partial(jobs.job_publish, self.app.deps)), DateTrigger(run_date=retry_at),
                               id=RETRY_JOB_ID, name=RETRY_JOB_ID, replace_existing=True, misfire_grace_time=None)
        log.info("daemon.rate_limited retry_at=%s", retry_at.isoformat())

    def _add_periodic(self) -> dict[str, str]:
        """The leader's periodic jobs, each resuming at its stored next run when unchanged."""
        with self.app.tx() as session:
            stored = {row.id: row for row in jobstate.load(session)}
        changes = {}
        now = datetime.now(UTC)
        for spec in self.specs.values():
            row = stored.get(spec.id)
            resume = row is not None and row.signature == spec.signature() and row.next_run_at is not None
            next_run = row.next_run_at if resume and row else spec.trigger.get_next_fire_time(None, now)
            self.scheduler.add_job(self._guarded(spec.id, partial(spec.job, self.app.deps)), spec.trigger, id=spec.id,
                                   name=spec.id, kwargs=spec.kwargs, next_run_time=next_run, replace_existing=True)
            self._note(spec.id, next_run, row.last_run_at if row else None)
            changes[spec.id] = "kept" if resume else ("replaced" if row else "added")
        with self.app.tx() as session:
            jobstate.forget_others(session, keep=list(self.specs))
        self.save_job_state()
        return changes

    def _remove_periodic(self) -> None:
        from apscheduler.jobstores.base import JobLookupError

        for job_id in (*self.specs, RETRY_JOB_ID):
            try:
                self.scheduler.remove_job(job_id)
            except JobLookupError:  # never added, or a one-off that already ran
                continue
        with self._table_lock:
            self._table.clear()

    def _note(self, job_id: str, next_run: datetime | None, last_run: datetime | None) -> None:
        spec = self.specs.get(job_id)
        with self._table_lock:
            self._table[job_id] = {"next_run": next_run.astimezone(UTC).isoformat() if next_run else None,
                                   "last_run": last_run.astimezone(UTC).isoformat() if last_run else None,
                                   "trigger": str(spec.trigger) if spec else None}

    def _on_submitted(self, event) -> None:
        spec = self.specs.get(event.job_id)
        if spec is None or not self.leading:
            return
        last = max(event.scheduled_run_times)
        self._note(spec.id, spec.trigger.get_next_fire_time(last, datetime.now(UTC)), last)

    def _on_missed(self, event) -> None:
        log.warning("daemon.missed job=%s scheduled=%s (later than scheduler.misfire_grace)",
                    event.job_id, event.scheduled_run_time)
        spec = self.specs.get(event.job_id)
        if spec is not None and self.leading:
            self._note(spec.id, spec.trigger.get_next_fire_time(event.scheduled_run_time, datetime.now(UTC)),
                       None)

    def job_table(self) -> dict[str, dict[str, str | None]]:
        """id -> next run (ISO, UTC), last run and trigger, for the heartbeat row and `memeloop status`."""
        with self._table_lock:
            return {k: dict(v) for k, v in self._table.items()}

    def save_job_state(self) -> None:
        with self.app.tx() as session:
            for job_id, entry in self.job_table().items():
                spec = self.specs[job_id]
                jobstate.save(session, job_id, signature=spec.signature(), next_run_at=_parse(entry["next_run"]),
                              last_run_at=_parse(entry["last_run"]), now=self.app.clock())

    # scheduler callbacks ---------------------------------------------------------------------------
    def _on_started(self, _event) -> None:
        log.info("daemon.started process=%s role=%s jobs=%s", self.who.process,
                 LEADER if self.leading else WORKER, sorted(self.job_table()))
        self.beat()
        self.started.set()

    def database_replaced(self) -> str | None:
        """Why the SQLite file this daemon opened is no longer the one at its path (moved, deleted or
        replaced: a CLI would then work on another database than ours), or None."""
        if self._db_file is None:
            return None
        try:
            now = self._db_file.stat()
        except OSError:
            return f"the database file {self._db_file} is gone (moved or deleted)"
        if (now.st_dev, now.st_ino) != self._db_identity:
            return f"the database file {self._db_file} was replaced by another file"
        return None

    def _check_config(self) -> None:
        from bot.config import config_changed

        drift = config_changed(self.app.config)
        if drift is not None and drift != self.config_drift:
            log.warning("daemon.config_changed reason=%r: the daemon keeps the config it started with; scheduled "
                        "generate runs are refused (each a failed generation in `memeloop status`) until then",
                        drift)
        self.config_drift = drift

    def beat(self) -> None:
        why = self.database_replaced()
        if why is not None:  # stop rather than keep writing into a file nobody else reads
            if self.database_gone is None:
                self.database_gone = why
                log.error("daemon.database_gone reason=%r: stopping; restart the service once the database "
                          "is back where storage.url says", why)
                self.stop()
            return
        self._check_config()
        self.elect()
        try:
            if self.leading:
                self.save_job_state()
            write_beat(self.app, self.who, self.job_table(), role=LEADER if self.leading else WORKER)
        except Exception:  # a missed beat shows up as staleness; never kill the scheduler for it
            log.exception("daemon.heartbeat outcome=error")

    # leadership ------------------------------------------------------------------------------------
    def elect(self) -> None:
        """Become, stay or stop being the leader; add or remove the periodic jobs to match."""
        with self._lead_lock:
            if self.app.stopping.is_set():
                return
            try:
                leads = self.leadership.hold(self.app.clock())
            except Exception:  # an unreachable database: whoever can reach it may lead instead
                log.exception("event=leader_check outcome=error process=%s", self.who.process)
                leads = False
            if leads and not self.leading:
                try:
                    self._take_lead()
                except Exception:  # e.g. the job state cannot be read: let another process lead
                    log.exception("event=leader_start_failed process=%s", self.who.process)
                    self._remove_periodic()
                    self.leading = False
                    self.leadership.release()
            elif self.leading and not leads:
                log.warning("event=leader_lost process=%s", self.who.process)
                self.leading = False
                self._remove_periodic()

    def _take_lead(self) -> None:
        log.info("event=leader_acquired process=%s", self.who.process)
        startup_sweep(self.app)  # what the previous leader (or a crash) left behind
        self.leading = True
        log.info("daemon.leading process=%s jobs=%s", self.who.process, self._add_periodic())

    def follow(self) -> None:
        """A follower's tick: claim and publish what is due (the leader's own publish job does this)."""
        if not self.leading:
            jobs.job_publish(self.app.deps)


def _database_identity(app: App) -> tuple[Any, tuple[int, int] | None]:
    from bot.config.checks import sqlite_file

    path = sqlite_file(app.config.storage.url)
    if path is None:
        return None, None
    stat = path.stat()
    return path, (stat.st_dev, stat.st_ino)


def _parse(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@dataclass(frozen=True)
class OnceSummary:
    reconciled: int
    swept: int
    published: Any  # bot.service.publishing.PublishSummary
    polled: int


def run_once(app: App, *, owner: str | None = None, progress: Callable[[str], None] | None = None) -> OnceSummary:
    """`memeloop run --once`: do everything that is due now, then return."""
    say = progress or (lambda _msg: None)
    say("reconciling unconfirmed posts")
    reconciled = app.reconcile()
    say("sweeping slots missed while down")
    swept = app.sweep_missed()
    say("publishing due posts")
    published = app.publish_due(owner=owner or jobs.lease_owner())
    say("polling metrics")
    polled = app.poll()
    return OnceSummary(reconciled, swept, published, polled)
