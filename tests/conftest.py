"""Shared fixtures: databases (SQLite and, where reachable, PostgreSQL), a fake clock, the CLI."""
from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings

# CI runs the same examples every time (a red CI must be reproducible); locally each run explores
# new ones. `HYPOTHESIS_PROFILE=dev` forces exploration anywhere.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
settings.register_profile("dev", deadline=None, print_blob=True)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

# Never let a test reach a model hub, and keep TF quiet.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

REPO = Path(__file__).resolve().parents[1]
PG_URL = os.environ.get("MEMELOOP_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@dataclass
class FakeClock:
    """A clock tests move by hand; pass `clock` wherever code asks for `now`."""

    now: datetime = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kwargs: float) -> datetime:
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'memeloop.db'}"


@pytest.fixture
def fresh_db(sqlite_url: str):
    """An engine on an empty SQLite database (no tables)."""
    from feedback.db import make_engine

    engine = make_engine(sqlite_url)
    yield engine
    engine.dispose()


@pytest.fixture
def migrated_db(fresh_db):
    """An engine on a SQLite database upgraded to head."""
    from feedback import migrate

    migrate.upgrade(fresh_db)
    return fresh_db


@pytest.fixture
def sessions(migrated_db):
    from feedback.db import make_session_factory

    return make_session_factory(migrated_db)


def _pg_admin_url() -> str:
    return PG_URL


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A brand-new PostgreSQL database for one test (dropped afterwards); skips with a reason when no
    server answers at MEMELOOP_TEST_PG_URL."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url
    except ImportError:  # pragma: no cover
        pytest.skip("psycopg is not installed")
    admin = make_url(_pg_admin_url())
    name = f"memeloop_t_{uuid.uuid4().hex[:10]}"
    dsn = f"host={admin.host} port={admin.port or 5432} user={admin.username} dbname={admin.database}"
    try:
        conn = psycopg.connect(dsn, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {admin.host}:{admin.port or 5432} ({str(exc).strip()[:80]})")
    with conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield admin.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a config.toml (the example's storage + one outbox account unless given) and return its path."""

    def _write(text: str | None = None, name: str = "config.toml") -> Path:
        body = text if text is not None else (
            '[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n\n'
            '[[accounts]]\nname = "demo"\nplatform = "outbox"\n'
        )
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        return path

    return _write


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys):
    """Run `memeloop ARGS...` in-process through bot.cli.main; returns exit code and captured output."""
    from bot.cli import main

    def _run(*args: str) -> CliResult:
        code = main(list(args))
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run
