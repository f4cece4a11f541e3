"""Who runs the scheduler's periodic jobs when several daemons share one database.

PostgreSQL: a session-level advisory lock, held on a connection the leader keeps open (it frees
itself when that connection closes, so a dead leader cannot keep it). Other databases: a lease row
in ``heartbeats`` (process LEASE_ROW, role 'lease') that its holder renews; anyone may take it once
it has not been renewed for the lease time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, case, func, or_, select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback.db import affected
from feedback.models import Heartbeat

LEASE_ROW = "lease:scheduler"
LEASE_ROLE = "lease"


@dataclass(frozen=True)
class Holder:
    process: str
    pid: int
    host: str


# -- PostgreSQL --------------------------------------------------------------------------------------

def try_advisory_lock(conn: Connection, key: int) -> bool:
    """Take the session-level lock ``key`` on ``conn`` without waiting (True when this session has it;
    taking it again from the same session also answers True)."""
    return bool(conn.scalar(select(func.pg_try_advisory_lock(key))))


def advisory_unlock(conn: Connection, key: int) -> bool:
    return bool(conn.scalar(select(func.pg_advisory_unlock(key))))


def session_alive(conn: Connection) -> bool:
    """A session-level lock lives exactly as long as its session; this asks the session."""
    return conn.scalar(select(func.pg_backend_pid())) is not None


def advisory_locks_held(session: Session) -> int:
    """How many advisory locks are granted in this database right now (for status and tests)."""
    return session.scalar(text("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted "
                               "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"))


# -- lease row (SQLite and anything else) ----------------------------------------------------------

def hold_lease(session: Session, holder: Holder, *, now: datetime, lease: timedelta) -> bool:
    """Renew the lease if ``holder`` has it, take it if it lapsed or nobody ever had it. ONE
    conditional UPDATE decides, so two contenders never both win."""
    mine = (Heartbeat.host == holder.host) & (Heartbeat.pid == holder.pid)
    taken = session.execute(
        update(Heartbeat)
        .where(Heartbeat.process == LEASE_ROW, or_(mine, Heartbeat.beat_at < now - lease))
        .values(pid=holder.pid, host=holder.host, beat_at=now, jobs={"holder": holder.process},
                started_at=case((mine, Heartbeat.started_at), else_=now))  # since when it leads
        .execution_options(synchronize_session=False))
    if affected(taken) == 1:
        return True
    if session.get(Heartbeat, LEASE_ROW) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Heartbeat(process=LEASE_ROW, role=LEASE_ROLE, pid=holder.pid, host=holder.host,
                                  started_at=now, beat_at=now, jobs={"holder": holder.process}))
    except IntegrityError:  # someone inserted it first: they lead
        return False
    return True


def release_lease(session: Session, holder: Holder) -> bool:
    row = session.get(Heartbeat, LEASE_ROW, populate_existing=True)
    if row is None or (row.host, row.pid) != (holder.host, holder.pid):
        return False
    session.delete(row)
    return True

