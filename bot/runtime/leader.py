"""Leader election: several `memeloop run` processes may share one database; every one claims and
publishes due posts, but only the leader runs the scheduler's periodic jobs (generate, poll,
reconcile, prune, auto-approve). Several APScheduler instances sharing one job store would each run
every job, so only the leader attaches the job store.

PostgreSQL: ``pg_try_advisory_lock`` on a connection the leader keeps for as long as it leads. When
the leader dies its connection closes and PostgreSQL frees the lock; a follower re-tries every tick.
Other databases (SQLite): a lease row the leader renews every beat; a follower takes it over once it
has not been renewed for ``lease``.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Protocol

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError

from feedback.db import make_session_factory, transaction
from feedback.repository import leadership as repo

log = logging.getLogger(__name__)

# Any fixed 64-bit number; advisory locks are per database, so two memeloop databases never collide.
ADVISORY_KEY = 0x6D656D656C6F6F70  # "memeloop"


class Leadership(Protocol):
    def hold(self, now: datetime) -> bool:
        """Become or stay the leader if possible; True while this process leads."""

    def release(self) -> None:
        """Step down (on shutdown), so a follower can take over at its next tick."""


class AdvisoryLock:
    """PostgreSQL: the lock lives on a dedicated connection, in autocommit mode (never idle in a
    transaction), checked out of the pool for as long as this process leads."""

    def __init__(self, engine: Engine, *, key: int = ADVISORY_KEY) -> None:
        self.engine, self.key = engine, key
        self._conn: Connection | None = None

    def hold(self, now: datetime) -> bool:
        if self._conn is not None:
            try:
                if repo.session_alive(self._conn):
                    return True
            except DBAPIError as exc:
                log.warning("event=leader_connection_lost error=%s", str(exc).splitlines()[0])
            self._drop()
            return False
        conn = self.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
        try:
            won = repo.try_advisory_lock(conn, self.key)
        except DBAPIError:
            conn.invalidate()
            conn.close()
            raise
        if won:
            self._conn = conn
        else:
            conn.close()  # it holds no lock, so it may go back to the pool
        return won

    def release(self) -> None:
        if self._conn is None:
            return
        try:
            repo.advisory_unlock(self._conn, self.key)
        except DBAPIError as exc:
            log.warning("event=leader_unlock_failed error=%s", str(exc).splitlines()[0])
        self._drop()

    def _drop(self) -> None:
        """Close the connection for real: a pooled connection must never carry the lock to someone else."""
        if self._conn is not None:
            self._conn.invalidate()
            self._conn.close()
            self._conn = None


class LeaseRow:
    """Any other database: a lease row renewed at every hold()."""

    def __init__(self, engine: Engine, holder: repo.Holder, *, lease: timedelta) -> None:
        self.sessions = make_session_factory(engine)
        self.holder, self.lease = holder, lease

    def hold(self, now: datetime) -> bool:
        with transaction(self.sessions) as session:
            return repo.hold_lease(session, self.holder, now=now, lease=self.lease)

    def release(self) -> None:
        with transaction(self.sessions) as session:
            repo.release_lease(session, self.holder)


def leadership_for(engine: Engine, holder: repo.Holder, *, lease: timedelta) -> Leadership:
    if engine.dialect.name == "postgresql":
        return AdvisoryLock(engine)
    return LeaseRow(engine, holder, lease=lease)

