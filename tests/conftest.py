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


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    """One SQLite file migrated to head per test session; databases of tests start as copies of it."""
    from feedback import migrate
    from feedback.db import make_engine

    path = tmp_path_factory.mktemp("template") / "migrated.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    engine.dispose()
    import sqlite3

    with sqlite3.connect(path) as conn:  # fold the WAL into the file: a copy is then complete
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return path


@pytest.fixture(scope="session")
def pg_template() -> Iterator[str]:
    """One PostgreSQL database migrated to head per session (dropped at the end): each test's database
    is CREATE DATABASE ... TEMPLATE it."""
    psycopg, admin, dsn = _pg_admin()
    from feedback import migrate
    from feedback.db import make_engine

    name = f"memeloop_tpl_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    engine = make_engine(admin.set(database=name).render_as_string(hide_password=False))
    migrate.upgrade(engine)
    engine.dispose()
    try:
        yield name
    finally:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def backend() -> str:
    """Which database the repository suite runs on (tests/feedback/conftest.py parametrises it)."""
    return "sqlite"


@pytest.fixture
def migrated_db(backend: str, sqlite_url: str, request):
    """An engine on a database at head: a copy of the session's migrated template (SQLite file copy,
    or PostgreSQL CREATE DATABASE ... TEMPLATE), not a migration per test."""
    import shutil

    from feedback.db import make_engine

    if backend == "sqlite":
        if os.environ.get("MEMELOOP_TEST_MIGRATE_EACH"):
            from feedback import migrate

            migrate.upgrade(engine := make_engine(sqlite_url))
        else:
            shutil.copyfile(request.getfixturevalue("sqlite_template"), sqlite_url.removeprefix("sqlite:///"))
            engine = make_engine(sqlite_url)
        yield engine
        engine.dispose()
        return
    template = request.getfixturevalue("pg_template")
    url = request.getfixturevalue("pg_url")
    psycopg, _admin, dsn = _pg_admin()
    name = url.rsplit("/", 1)[-1]
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE "{name}"')
        conn.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
    engine = make_engine(url)
    yield engine
    engine.dispose()


@pytest.fixture
def sessions(migrated_db):
    from feedback.db import make_session_factory

    return make_session_factory(migrated_db)


def _pg_admin_url() -> str:
    return PG_URL


def _pg_admin():
    """psycopg, the admin URL and its DSN; skips with a reason when no server answers."""
    try:
        import psycopg
        from sqlalchemy.engine import make_url
    except ImportError:  # pragma: no cover
        pytest.skip("psycopg is not installed")
    admin = make_url(_pg_admin_url())
    dsn = f"host={admin.host} port={admin.port or 5432} user={admin.username} dbname={admin.database}"
    try:
        psycopg.connect(dsn, autocommit=True, connect_timeout=3).close()
    except psycopg.OperationalError as exc:
        pytest.skip(f"no PostgreSQL server at {admin.host}:{admin.port or 5432} ({str(exc).strip()[:80]})")
    return psycopg, admin, dsn


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


def create_database(config_path: Path) -> None:
    """The migrated database a valid SQLite config names, if it does not exist yet (tests of bad
    configs pass through untouched: their command reports the problem)."""
    from bot.app import open_database
    from bot.config import ConfigError, load_config
    from bot.config.checks import sqlite_file

    try:
        config = load_config(config_path)
    except ConfigError:
        return
    path = sqlite_file(config.storage.url)
    if path is not None and not path.exists():
        open_database(config).dispose()


@pytest.fixture
def write_config(tmp_path: Path):
    """Write a config.toml (the example's storage + one outbox account unless given) and return its path."""

    def _write(text: str | None = None, name: str = "config.toml", *, database: bool = True) -> Path:
        body = text if text is not None else (
            '[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n\n'
            '[[accounts]]\nname = "demo"\nplatform = "outbox"\n'
        )
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        if database:  # as `memeloop init` leaves it: only init and `db upgrade` create a database
            create_database(path)
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


@pytest.fixture(autouse=True)
def _config_validation_cache_stays_in_the_test_tree(monkeypatch, tmp_path_factory):
    """`queue list` caches "this config text is valid" under $XDG_CACHE_HOME: never in the real home."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path_factory.getbasetemp() / "xdg-cache"))


@pytest.fixture(autouse=True)
def _new_sqlite_databases_start_from_the_template(request, monkeypatch, sqlite_template):
    """A service built in-process on a new, empty SQLite file (build_app migrates it) starts from a
    copy of the session's migrated template instead of running every migration again. The migration
    tests themselves (tests/feedback/test_migrations.py) always migrate for real."""
    if request.module.__name__.endswith("test_migrations") or os.environ.get("MEMELOOP_TEST_MIGRATE_EACH"):
        return  # MEMELOOP_TEST_MIGRATE_EACH=1: the old way, for measuring what the template saves
    import shutil

    from feedback import migrate

    real = migrate.upgrade

    def upgrade(engine, revision: str = "head") -> None:
        database = engine.url.database or ""
        if (revision == "head" and engine.dialect.name == "sqlite" and database not in ("", ":memory:")
                and not Path(f"{database}-wal").exists() and (not Path(database).exists()
                                                               or Path(database).stat().st_size == 0)):
            engine.dispose()
            shutil.copyfile(sqlite_template, database)
            return
        real(engine, revision)

    monkeypatch.setattr(migrate, "upgrade", upgrade)
