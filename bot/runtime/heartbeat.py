"""Liveness: the daemon writes a heartbeat row every tick with the next run time of each job;
`memeloop status` reads it back (and exits non-zero when it is stale, for a Docker HEALTHCHECK)."""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.app import App
from bot.config import Config
from feedback.repository import heartbeats as repo

ROLE = "daemon"
LEADER, WORKER = "leader", "worker"


@dataclass(frozen=True)
class Identity:
    process: str
    role: str
    pid: int
    host: str
    started_at: datetime


@dataclass(frozen=True)
class Liveness:
    beat: repo.Beat
    age: timedelta
    stale: bool


def identity(role: str, started_at: datetime) -> Identity:
    host, pid = socket.gethostname()[:100], os.getpid()
    # One row per process, as several daemons may share a host and a database. A clean stop removes
    # it; a container restarted as pid 1 on the same host takes over its predecessor's row.
    return Identity(process=f"{role}@{host}:{pid}", role=role, pid=pid, host=host, started_at=started_at)


def stale_after(config: Config) -> timedelta:
    """A beat older than this means the daemon is dead or stuck (three missed ticks, at least 2 min)."""
    return config.scheduler.stale_after


def write_beat(app: App, who: Identity, jobs: dict[str, Any], *, role: str | None = None) -> None:
    """``role``: 'leader' or 'worker' when several daemons share the database (bot.runtime.leader)."""
    with app.tx() as session:
        repo.beat(session, process=who.process, role=role or who.role, pid=who.pid, host=who.host,
                  started_at=who.started_at, now=app.clock(), jobs=jobs)


def clear_beat(app: App, who: Identity) -> None:
    with app.tx() as session:
        repo.remove(session, who.process)


def liveness(app: App) -> list[Liveness]:
    now, limit = app.clock(), stale_after(app.config)
    with app.tx() as session:
        beats = repo.list_beats(session)
    return [Liveness(b, now - b.beat_at, now - b.beat_at > limit) for b in beats]


def status_report(app: App) -> dict[str, Any]:
    """Everything `memeloop status` shows, as plain data (JSON-ready)."""
    from bot.config.timefmt import iso
    from feedback.repository import candidates as cand_repo
    from feedback.repository import generations as gen_repo

    tz = app.config.scheduler.timezone  # times of no one account: the scheduler's zone
    beats = liveness(app)
    fresh = [b for b in beats if not b.stale]
    with app.tx() as session:
        counts = cand_repo.count_by_status(session)
        gens = gen_repo.recent_generations(session, limit=5)
        recent = [{"id": g.id, "generator": g.generator, "status": g.status, "started_at": iso(g.started_at, tz),
                   "model_version": g.model_version, "error": (g.error or "")[:200] or None} for g in gens]
    leaders = [b for b in fresh if b.beat.role == LEADER]
    # the periodic jobs live with the leader; its beat has their next run times
    newest = leaders[0] if leaders else max(beats, key=lambda b: b.beat.beat_at, default=None)
    jobs = newest.beat.jobs if newest is not None else {}
    return {
        "alive": bool(fresh),
        "leader": leaders[0].beat.process if leaders else None,
        "now": iso(app.clock(), tz, precise=True),
        "stale_after_s": int(stale_after(app.config).total_seconds()),
        "daemons": [{"process": b.beat.process, "role": b.beat.role, "pid": b.beat.pid, "started_at": iso(b.beat.started_at, tz),
                     "beat_at": iso(b.beat.beat_at, tz, precise=True), "age_s": int(b.age.total_seconds()), "stale": b.stale}
                    for b in beats],
        "jobs": [{"id": job_id, **info, "next_run": _shown(info.get("next_run"), tz),
                  "last_run": _shown(info.get("last_run"), tz)} for job_id, info in sorted(jobs.items())],
        "candidates": counts,
        "generations": recent,
        **_notices(app),
    }


def _notices(app: App) -> dict[str, Any]:
    """The webhook outbox by state (only when webhooks are configured)."""
    if not app.config.notifications.webhooks:
        return {}
    from feedback.repository import notifications

    with app.tx() as session:
        return {"notifications": notifications.count_by_state(session)}


def _shown(stored: Any, tz: str) -> str | None:
    """A job's stored next/last run (ISO, UTC) in the one time format, in the scheduler's zone."""
    from bot.config.timefmt import iso

    return iso(datetime.fromisoformat(stored), tz) if isinstance(stored, str) and stored else None
