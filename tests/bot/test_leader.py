"""Leader election (bot.runtime.leader): one leader at a time, take-over when it dies or its lease lapses,
and a daemon that attaches the periodic jobs only while it leads. SQLite lease row and the real
PostgreSQL advisory lock."""
from __future__ import annotations

from datetime import timedelta

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.app import build_app
from bot.config import parse_config
from bot.runtime.daemon import FOLLOW_JOB_ID, HEARTBEAT_JOB_ID, Daemon
from bot.runtime.heartbeat import status_report
from bot.runtime.leader import AdvisoryLock, LeaseRow, leadership_for
from feedback import migrate
from feedback.db import make_engine, make_session_factory, transaction
from feedback.repository.leadership import Holder, advisory_locks_held

LEASE = timedelta(minutes=2)
A, B = Holder("daemon@a:1", 1, "a"), Holder("daemon@b:2", 2, "b")

CONFIG = """
[storage]
url = "{url}"
[scheduler]
tick = "1m"
[[accounts]]
name = "demo"
platform = "outbox"
generate = [{{ generator = "meme", every = "6h" }}]
"""


def test_one_lease_holder_at_a_time_and_take_over_when_it_lapses(migrated_db, clock):
    a, b = LeaseRow(migrated_db, A, lease=LEASE), LeaseRow(migrated_db, B, lease=LEASE)
    assert a.hold(clock()) is True
    assert b.hold(clock()) is False
    clock.advance(seconds=90)
    assert a.hold(clock()) is True  # renewed
    clock.advance(seconds=90)
    assert b.hold(clock()) is False  # renewed 90 s ago: still A's
    clock.advance(seconds=31)
    assert b.hold(clock()) is True  # A missed its renewals for longer than the lease
    assert a.hold(clock()) is False  # and A learns it no longer leads
    b.release()
    assert a.hold(clock()) is True  # a clean stop hands over at once


def test_release_by_a_non_holder_changes_nothing(migrated_db, clock):
    a, b = LeaseRow(migrated_db, A, lease=LEASE), LeaseRow(migrated_db, B, lease=LEASE)
    assert a.hold(clock())
    b.release()
    assert b.hold(clock()) is False


def test_sqlite_gets_a_lease_row_and_postgres_an_advisory_lock(migrated_db):
    assert isinstance(leadership_for(migrated_db, A, lease=LEASE), LeaseRow)
    pg = make_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert isinstance(leadership_for(pg, A, lease=LEASE), AdvisoryLock)


def _periodic(daemon: Daemon) -> set[str]:
    return {j.id for j in daemon.scheduler.get_jobs()} - {HEARTBEAT_JOB_ID, FOLLOW_JOB_ID}


def test_daemon_keeps_the_periodic_jobs_only_while_it_leads(tmp_path, clock):
    config = tmp_path / "config.toml"
    config.write_text(CONFIG.format(url="sqlite:///memeloop.db"))
    from bot.config import load_config

    app = build_app(load_config(config), clock=clock)
    daemon = Daemon(app, blocking=False)
    assert isinstance(daemon.leadership, LeaseRow)  # SQLite: a lease row
    rival = LeaseRow(app.engine, B, lease=daemon.leadership.lease)
    try:
        daemon.initialize()
        daemon.scheduler.start(paused=True)
        assert daemon.leading and _periodic(daemon) >= {"publish", "poll"}
        daemon.beat()
        assert status_report(app)["leader"] == daemon.who.process
        clock.advance(seconds=daemon.leadership.lease.total_seconds() + 1)  # its beats stopped
        assert rival.hold(clock())
        daemon.beat()
        assert not daemon.leading and _periodic(daemon) == set()
        report = status_report(app)
        assert report["leader"] is None and [d["role"] for d in report["daemons"]] == ["worker"]
        rival.release()
        daemon.beat()
        assert daemon.leading and _periodic(daemon) >= {"publish"}
    finally:
        daemon.scheduler.shutdown(wait=False)
        app.close()


# -- PostgreSQL ---------------------------------------------------------------------------------------

def _terminate(url: str, backend_pid: int) -> None:
    """Kill one server backend, as when the leader's host dies or its network drops."""
    u = make_url(url)
    with psycopg.connect(host=u.host, port=u.port or 5432, user=u.username, dbname=u.database,
                         autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", (backend_pid,))


@pytest.mark.postgres
def test_advisory_lock_one_holder_frees_on_release_and_on_a_dead_connection(pg_url, clock):
    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    a, b, c = AdvisoryLock(engine), AdvisoryLock(engine), AdvisoryLock(engine)
    try:
        assert a.hold(clock()) is True
        assert b.hold(clock()) is False and c.hold(clock()) is False
        assert a.hold(clock()) is True  # re-checked every tick, still the leader
        a.release()
        assert b.hold(clock()) is True and c.hold(clock()) is False
        assert b._conn is not None
        raw = b._conn.connection.driver_connection
        assert raw is not None
        _terminate(pg_url, raw.info.backend_pid)
        assert b.hold(clock()) is False  # b notices its session died with the lock
        assert c.hold(clock()) is True
        assert a.hold(clock()) is False
    finally:
        for lock in (a, b, c):
            lock.release()
        engine.dispose()


@pytest.mark.postgres
def test_the_lock_never_travels_back_through_the_pool(pg_url, clock):
    engine = make_engine(pg_url)
    migrate.upgrade(engine)
    a, b = AdvisoryLock(engine), AdvisoryLock(engine)
    try:
        assert a.hold(clock())
        a.release()
        with transaction(make_session_factory(engine)) as session:  # the pool hands out no lock holder
            assert advisory_locks_held(session) == 0
        assert b.hold(clock())
    finally:
        a.release()
        b.release()
        engine.dispose()


@pytest.mark.postgres
def test_daemon_on_postgres_leads_and_says_so(tmp_path, pg_url, clock):
    config = parse_config(CONFIG.format(url=pg_url), source="test.toml", base=tmp_path)
    app = build_app(config, clock=clock)
    first, second = AdvisoryLock(app.engine), AdvisoryLock(app.engine)
    try:
        assert first.hold(clock())  # someone else leads
        daemon = Daemon(app, blocking=False, leadership=second)
        daemon.beat()
        assert not daemon.leading and status_report(app)["daemons"][0]["role"] == "worker"
        first.release()
        daemon.beat()
        assert daemon.leading and status_report(app)["leader"] == daemon.who.process
    finally:
        first.release()
        second.release()
        app.close()


def test_a_leader_whose_job_state_cannot_be_read_steps_aside(tmp_path, clock, monkeypatch):
    import bot.runtime.daemon

    app = build_app(parse_config(CONFIG.format(url="sqlite:///memeloop.db"), source="t.toml", base=tmp_path),
                    clock=clock)
    daemon = Daemon(app, blocking=False)

    def broken(session):
        raise OSError("job state unavailable")

    monkeypatch.setattr(bot.runtime.daemon.jobstate, "load", broken)
    try:
        daemon.elect()
        assert not daemon.leading and _periodic(daemon) == set()
        assert LeaseRow(app.engine, B, lease=LEASE).hold(clock())  # released at once for someone else
    finally:
        app.close()


def test_status_names_the_leader_and_each_process_role(write_config, run_cli):
    from bot.runtime.heartbeat import Identity, write_beat
    from bot.runtime.heartbeat import identity as ident

    config = write_config()
    app = build_app(parse_config(config.read_text(), source=str(config), base=config.parent))
    me = ident("daemon", app.clock())
    other = Identity("daemon@otherhost:7", "daemon", 7, "otherhost", app.clock())
    write_beat(app, me, {}, role="leader")
    write_beat(app, other, {}, role="worker")
    app.close()
    out = run_cli("--config", str(config), "status")
    assert out.code == 0
    assert f"leader (runs the periodic jobs): {me.process}" in out.out
    assert "daemon@otherhost:7 worker pid 7" in out.out
