"""`memeloop run`: the long-running service.

Lifecycle (as in python-telegram-bot): initialize (open the database, start-up sweep) -> start (the
APScheduler BlockingScheduler owns the main thread) -> stop (SIGTERM/SIGINT: no new claims, running
jobs finish or release, exit 0 within ~10 s) -> shutdown in ``finally`` (heartbeat row removed,
engine disposed).

Jobs live in APScheduler's SQLAlchemyJobStore in the service database, referenced by name
("bot.jobs:publish_job") with the config path as their only argument, so they survive restarts and
never hold the app. The heartbeat and follow jobs are the exception: they live in a memory store
because they are about this process.

Several daemons may share one database (bot.leader): each heartbeat also tries to lead. Only the
leader attaches the persistent job store (so the periodic jobs run once, not once per process);
the others run just the publish loop every tick, claiming posts one at a time like the leader.
"""
from __future__ import annotations

import logging
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from bot import jobs
from bot.app import App
from bot.config import Config, ConfigError
from bot.heartbeat import LEADER, ROLE, WORKER, Identity, clear_beat, identity, stale_after, write_beat
from bot.leader import Leadership, leadership_for
from feedback.repository.leadership import Holder

log = logging.getLogger(__name__)

JOBSTORE = "default"
RUNTIME_STORE = "runtime"
RETRY_JOB_ID = "publish:retry"
HEARTBEAT_JOB_ID = "heartbeat"
FOLLOW_JOB_ID = "follow"
MAX_WORKERS = 4


@dataclass(frozen=True)
class JobSpec:
    id: str
    func: str  # "module:function", so the job store keeps a name, never an object
    trigger: Any  # an APScheduler trigger
    kwargs: dict[str, Any] = field(default_factory=dict)

    def signature(self) -> tuple[str, str, str, tuple]:
        return (self.func, str(self.trigger), str(getattr(self.trigger, "timezone", "")),
                tuple(sorted(self.kwargs.items())))


def _job_signature(job) -> tuple[str, str, str, tuple]:
    return (job.func_ref, str(job.trigger), str(getattr(job.trigger, "timezone", "")),
            tuple(sorted(job.kwargs.items())))


def _interval(every: timedelta, tz: str):
    from apscheduler.triggers.interval import IntervalTrigger

    return IntervalTrigger(seconds=max(1, int(every.total_seconds())), timezone=tz)


def planned_jobs(config: Config) -> list[JobSpec]:
    """Every persistent job the config asks for (ids are stable, so a restart finds them again)."""
    from apscheduler.triggers.cron import CronTrigger

    if config.path is None:
        raise ConfigError("the daemon needs a config loaded from a file (jobs re-read it by path)")
    path, tz, sched = str(config.path), config.scheduler.timezone, config.scheduler
    specs = []
    for acc in config.accounts:
        if not acc.enabled:
            continue
        for i, plan in enumerate(acc.schedules):
            trigger = (CronTrigger.from_crontab(plan.cron, timezone=acc.timezone) if plan.cron
                       else _interval(plan.every or timedelta(hours=6), tz))
            specs.append(JobSpec(f"generate:{acc.name}:{i}", "bot.jobs:generate_job", trigger,
                                 {"config_path": path, "account": acc.name, "schedule": i}))
    specs += [
        JobSpec("publish", "bot.jobs:publish_job", _interval(sched.tick, tz), {"config_path": path}),
        JobSpec("poll", "bot.jobs:poll_job", _interval(sched.tick, tz), {"config_path": path}),
        JobSpec("reconcile", "bot.jobs:reconcile_job", _interval(sched.reconcile_every, tz), {"config_path": path}),
        JobSpec("prune", "bot.jobs:prune_job", _interval(sched.prune_every, tz), {"config_path": path}),
    ]
    if config.publishing.auto_approve:
        specs.append(JobSpec("auto_approve", "bot.jobs:auto_approve_job", _interval(sched.tick, tz),
                             {"config_path": path}))
    return specs


def persistent_store(engine):
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore

    return SQLAlchemyJobStore(engine=engine)


def build_scheduler(config: Config, engine, *, blocking: bool = True, persistent: bool = True):
    """The scheduler with its persistent job store in the service database (unless ``persistent`` is
    False: the daemon attaches it only while it leads) and our job defaults: a run late by less than
    misfire_grace still happens, missed runs coalesce into one, and a job never overlaps itself."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.memory import MemoryJobStore

    if blocking:
        from apscheduler.schedulers.blocking import BlockingScheduler as Scheduler
    else:
        from apscheduler.schedulers.background import BackgroundScheduler as Scheduler
    # without a persistent store, JOBSTORE is an empty memory store until the daemon leads
    return Scheduler(
        jobstores={JOBSTORE: persistent_store(engine) if persistent else MemoryJobStore(),
                   RUNTIME_STORE: MemoryJobStore()},
        executors={"default": ThreadPoolExecutor(MAX_WORKERS)},
        job_defaults={"misfire_grace_time": int(config.scheduler.misfire_grace.total_seconds()),
                      "coalesce": True, "max_instances": 1},
        timezone=config.scheduler.timezone,
    )


def sync_jobs(scheduler, specs: list[JobSpec]) -> dict[str, str]:
    """Make the job store match the config. An unchanged job keeps its stored next run time (so runs
    missed while the service was down are seen, and handled by misfire_grace/coalesce); a changed
    one is replaced; one no longer configured is removed. Returns id -> kept|added|replaced|removed."""
    existing = {job.id: job for job in scheduler.get_jobs(jobstore=JOBSTORE)}
    changes: dict[str, str] = {}
    for spec in specs:
        job = existing.pop(spec.id, None)
        if job is not None and _job_signature(job) == spec.signature():
            changes[spec.id] = "kept"
            continue
        scheduler.add_job(spec.func, spec.trigger, id=spec.id, name=spec.id, kwargs=spec.kwargs,
                          jobstore=JOBSTORE, replace_existing=True)
        changes[spec.id] = "replaced" if job is not None else "added"
    for job_id in existing:
        if job_id != RETRY_JOB_ID:
            scheduler.remove_job(job_id, jobstore=JOBSTORE)
            changes[job_id] = "removed"
    return changes


def job_table(scheduler) -> dict[str, dict[str, str | None]]:
    """id -> next run (ISO, UTC) and trigger, for the heartbeat row and `memeloop status`."""
    out = {}
    for job in scheduler.get_jobs():
        if job.id in (HEARTBEAT_JOB_ID, FOLLOW_JOB_ID):
            continue
        nxt = getattr(job, "next_run_time", None)
        out[job.id] = {"next_run": nxt.astimezone(UTC).isoformat() if nxt else None, "trigger": str(job.trigger)}
    return out


def schedule_retry(scheduler, config_path: str, retry_at: datetime) -> None:
    """A platform said "not now, try at retry_at": one extra publish run at that time (nobody sleeps)."""
    from apscheduler.triggers.date import DateTrigger

    scheduler.add_job("bot.jobs:publish_job", DateTrigger(run_date=retry_at), id=RETRY_JOB_ID, name=RETRY_JOB_ID,
                      kwargs={"config_path": config_path}, jobstore=JOBSTORE, replace_existing=True,
                      misfire_grace_time=None)
    log.info("daemon.rate_limited retry_at=%s", retry_at.isoformat())


def startup_sweep(app: App) -> None:
    """Before the first tick: settle posts a crash left unconfirmed, then handle slots that passed
    while the service was down (late within publishing.late_window, else the next slot)."""
    from bot.publishing import reconcile_unconfirmed, sweep_missed

    for name, step in (("reconcile", reconcile_unconfirmed), ("sweep_missed", sweep_missed)):
        try:
            log.info("daemon.startup step=%s result=%s", name, step(app))
        except Exception:  # the service must come up even if one platform is unreachable
            log.exception("daemon.startup step=%s outcome=error", name)


class Daemon:
    """One service process. ``run()`` blocks until a stop is requested, then returns 0."""

    def __init__(self, app: App, *, blocking: bool = True, beat_every: timedelta | None = None,
                 leadership: Leadership | None = None) -> None:
        self.app = app
        self.scheduler = build_scheduler(app.config, app.engine, blocking=blocking, persistent=False)
        self.who: Identity = identity(ROLE, app.clock())
        self.beat_every = beat_every or min(app.config.scheduler.tick, timedelta(seconds=30))
        # a lease outlives a few missed beats, so a slow tick does not hand the lead around
        self.leadership = leadership or leadership_for(
            app.engine, Holder(self.who.process, self.who.pid, self.who.host), lease=stale_after(app.config))
        self.leading = False
        self._lead_lock = threading.Lock()
        self._stopper: threading.Thread | None = None
        self._stop_lock = threading.Lock()
        self.started = threading.Event()  # set once jobs are synced and the first beat is written

    # lifecycle -----------------------------------------------------------------------------------
    def initialize(self) -> None:
        from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, EVENT_SCHEDULER_STARTED

        jobs.register_app(self.app)
        self.scheduler.add_listener(self._on_started, EVENT_SCHEDULER_STARTED)
        self.scheduler.add_listener(self._on_executed, EVENT_JOB_EXECUTED)
        self.scheduler.add_listener(self._on_missed, EVENT_JOB_MISSED)
        self.scheduler.add_job(self.beat, "interval", seconds=self.beat_every.total_seconds(),
                               id=HEARTBEAT_JOB_ID, jobstore=RUNTIME_STORE, misfire_grace_time=None)
        self.scheduler.add_job(self.follow, "interval", seconds=self.app.config.scheduler.tick.total_seconds(),
                               id=FOLLOW_JOB_ID, jobstore=RUNTIME_STORE, misfire_grace_time=None)
        self.elect()  # a leader does its start-up sweep before the first tick

    def run(self, *, install_signals: bool = True) -> int:
        jobs.STOP.clear()
        if install_signals:  # before the start-up sweep, so an early SIGTERM is a clean stop too
            self.install_signal_handlers()
        try:
            self.initialize()
            self.scheduler.start()  # blocks (BlockingScheduler) until stop() shut it down
            if self._stopper is not None:
                self._stopper.join()
        finally:
            self.shutdown()
        return 0

    def install_signal_handlers(self) -> None:
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._on_signal)

    def _on_signal(self, signum, _frame) -> None:
        log.info("daemon.signal signal=%s", signal.Signals(signum).name)
        self.stop()

    def stop(self) -> None:
        """No new claims from now on; running jobs see jobs.STOP and finish or release their work."""
        jobs.STOP.set()
        self._request_shutdown()

    def _request_shutdown(self) -> None:
        """Shutting the scheduler down waits for running jobs, so it happens in its own thread (never
        inside a signal handler). Before the scheduler runs there is nothing to shut down yet:
        _on_started comes back here once it does."""
        with self._stop_lock:
            if self._stopper is None and self.scheduler.running:
                self._stopper = threading.Thread(target=self._shutdown_scheduler, name="memeloop-stop", daemon=True)
                self._stopper.start()

    def _shutdown_scheduler(self) -> None:
        from apscheduler.schedulers import SchedulerNotRunningError

        try:
            self.scheduler.shutdown(wait=True)
        except SchedulerNotRunningError:
            pass

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
        jobs.forget_apps()
        log.info("daemon.stopped process=%s", self.who.process)

    # scheduler callbacks ---------------------------------------------------------------------------
    def _on_started(self, _event) -> None:
        changes = sync_jobs(self.scheduler, planned_jobs(self.app.config)) if self.leading else {}
        log.info("daemon.started process=%s role=%s jobs=%s", self.who.process,
                 LEADER if self.leading else WORKER, changes)
        self.beat()
        self.started.set()
        if jobs.STOP.is_set():  # a signal arrived while starting up
            self._request_shutdown()

    def _on_executed(self, event) -> None:
        if (event.job_id in ("publish", RETRY_JOB_ID) and isinstance(event.retval, datetime) and self.leading
                and not jobs.STOP.is_set()):
            schedule_retry(self.scheduler, str(self.app.config.path), event.retval)

    def _on_missed(self, event) -> None:
        log.warning("daemon.missed job=%s scheduled=%s (later than scheduler.misfire_grace)",
                    event.job_id, event.scheduled_run_time)

    def beat(self) -> None:
        self.elect()
        try:
            write_beat(self.app, self.who, job_table(self.scheduler), role=LEADER if self.leading else WORKER)
        except Exception:  # a missed beat shows up as staleness; never kill the scheduler for it
            log.exception("daemon.heartbeat outcome=error")

    # leadership ------------------------------------------------------------------------------------
    def elect(self) -> None:
        """Become, stay or stop being the leader; attach or detach the persistent jobs to match."""
        with self._lead_lock:
            if jobs.STOP.is_set():
                return
            try:
                leads = self.leadership.hold(self.app.clock())
            except Exception:  # an unreachable database: whoever can reach it may lead instead
                log.exception("event=leader_check outcome=error process=%s", self.who.process)
                leads = False
            if leads and not self.leading:
                try:
                    self._take_lead()
                except Exception:  # e.g. the job store cannot start: let another process lead
                    log.exception("event=leader_start_failed process=%s", self.who.process)
                    self.leadership.release()
            elif self.leading and not leads:
                self._step_down()

    def _take_lead(self) -> None:
        from apscheduler.jobstores.memory import MemoryJobStore

        log.info("event=leader_acquired process=%s", self.who.process)
        startup_sweep(self.app)  # what the previous leader (or a crash) left behind
        self.scheduler.remove_jobstore(JOBSTORE)  # the empty placeholder
        try:
            self.scheduler.add_jobstore(persistent_store(self.app.engine), JOBSTORE)
        except Exception:
            self.scheduler.add_jobstore(MemoryJobStore(), JOBSTORE)
            raise
        self.leading = True
        if self.scheduler.running:
            log.info("daemon.leading process=%s jobs=%s", self.who.process,
                     sync_jobs(self.scheduler, planned_jobs(self.app.config)))

    def _step_down(self) -> None:
        from apscheduler.jobstores.memory import MemoryJobStore

        log.warning("event=leader_lost process=%s", self.who.process)
        self.leading = False
        # not shut down: the SQLAlchemy store's shutdown would dispose the app's own engine
        self.scheduler.remove_jobstore(JOBSTORE, shutdown=False)
        self.scheduler.add_jobstore(MemoryJobStore(), JOBSTORE)

    def follow(self) -> None:
        """A follower's tick: claim and publish what is due (the leader's own publish job does this
        for the leader)."""
        if not self.leading and self.app.config.path is not None:
            jobs.publish_job(str(self.app.config.path))


@dataclass(frozen=True)
class OnceSummary:
    reconciled: Any
    swept: Any
    published: Any
    polled: Any


def run_once(app: App, *, owner: str | None = None, progress: Callable[[str], None] | None = None) -> OnceSummary:
    """`memeloop run --once`: do everything that is due now, then return."""
    from bot.polling import poll_due
    from bot.publishing import publish_due, reconcile_unconfirmed, sweep_missed

    say = progress or (lambda _msg: None)
    say("reconciling unconfirmed posts")
    reconciled = reconcile_unconfirmed(app)
    say("sweeping slots missed while down")
    swept = sweep_missed(app)
    say("publishing due posts")
    published = publish_due(app, owner=owner or jobs.lease_owner(), stop=jobs.STOP)
    say("polling metrics")
    polled = poll_due(app)
    return OnceSummary(reconciled, swept, published, polled)
