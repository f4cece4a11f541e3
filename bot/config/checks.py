"""Checks of a loaded config that need more than its own values: the database URL (parseable, a
backend we support, its driver installed), paths that exist but are the wrong kind, and the
database password, which may come from the environment or the secrets file instead of the TOML.
"""
from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, quote_plus

if TYPE_CHECKING:
    from bot.config.model import Config

DB_PASSWORD_ENV = "MEMELOOP_DB_PASSWORD"
BACKENDS = ("sqlite", "postgresql")
URL_EXAMPLE = "e.g. sqlite:///memeloop.db or postgresql+psycopg://user@host/dbname"


def check_database_url(url: str) -> str:
    """``url`` if SQLAlchemy can parse it, it names SQLite or PostgreSQL, and its driver imports."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    from feedback.db import safe_url

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        raise ValueError(f"{safe_url(url)!r} is not a database URL ({URL_EXAMPLE})") from None
    shown = safe_url(parsed)
    if parsed.get_backend_name() not in BACKENDS:
        raise ValueError(f"{shown!r}: memeloop stores its data in SQLite or PostgreSQL, not "
                         f"{parsed.get_backend_name()!r} ({URL_EXAMPLE})")
    try:
        parsed.get_dialect().import_dbapi()
    except NoSuchModuleError:
        raise ValueError(f"{shown!r}: unknown database driver {parsed.drivername!r} ({URL_EXAMPLE})") from None
    except ImportError as exc:
        raise ValueError(f"{shown!r}: the database driver for {parsed.drivername!r} is not installed "
                         f"({exc.name or exc})") from None
    database = parsed.database or ""
    if parsed.get_backend_name() == "sqlite" and (database in ("", ":memory:") or "mode=memory" in database):
        raise ValueError(f"{shown!r} is an in-memory database: each process (CLI, daemon, web) would see its "
                         "own empty one. Use a file, e.g. sqlite:///memeloop.db")
    return url


def _paths(cfg: Config) -> Iterator[tuple[str, Path | None, bool]]:
    """(config key, path, must be a folder) for every path the service creates or reads."""
    yield "storage.media_dir", cfg.storage.media_dir, True
    yield "generator.meme.bundle", cfg.generator.meme.bundle, True
    yield "generator.meme.templates", cfg.generator.meme.templates, True
    yield "generator.post.gan_bundle", cfg.generator.post.gan_bundle, True
    yield "generator.post.writer_bundle", cfg.generator.post.writer_bundle, True
    yield "logging.file", cfg.logging.file, False
    yield "secrets.file", cfg.secrets.file, False
    for i, acc in enumerate(cfg.accounts):
        if acc.outbox is not None:
            yield f"accounts[{i}].outbox.path", acc.outbox.path, True
        if acc.instagram is not None:
            yield f"accounts[{i}].instagram.session_file", acc.instagram.session_file, False
    database = sqlite_file(cfg.storage.url)
    if database is not None:
        yield "storage.url", database, False


def sqlite_file(url: str) -> Path | None:
    """The file of a SQLite URL (None: another database)."""
    from sqlalchemy.engine import make_url

    parsed = make_url(url)
    name = parsed.database or ""
    if parsed.get_backend_name() != "sqlite" or not name or name == ":memory:" or name.startswith("file:"):
        return None
    return Path(name)


def path_problem(path: Path, want_dir: bool) -> str | None:
    """Why ``path`` cannot be used as a folder (want_dir) or a file, or None when it can."""
    if path.exists():
        if want_dir and not path.is_dir():
            return f"{path} exists and is not a folder"
        if not want_dir and path.is_dir():
            return f"{path} is a folder, not a file"
        return None
    for parent in path.parents:
        if parent.exists():
            return None if parent.is_dir() else f"{parent} (in {path}) is a file, not a folder"
    return None


def check_paths(cfg: Config, source: str) -> None:
    from bot.config import ConfigError

    for key, path, want_dir in _paths(cfg):
        problem = path_problem(path, want_dir) if path is not None else None
        if problem:
            raise ConfigError(f"{source}: {key}: {problem}")


def db_password(cfg: Config, environ: Mapping[str, str]) -> str | None:
    """The database password from $MEMELOOP_DB_PASSWORD, else [storage] password in the secrets file."""
    value = environ.get(DB_PASSWORD_ENV)
    if value:
        return value
    if cfg.secrets.file is None:
        return None
    from bot.config import ConfigError
    from bot.config.secrets import read_secrets_file

    storage = read_secrets_file(cfg.secrets.file).get("storage", {})
    value = storage.get("password") if isinstance(storage, dict) else None
    if value is not None and not isinstance(value, str):
        raise ConfigError(f"secrets.file {cfg.secrets.file}: [storage] password must be a string")
    return value or None


def with_db_password(cfg: Config, environ: Mapping[str, str] = os.environ) -> Config:
    """``cfg`` with the database password in storage.url: $MEMELOOP_DB_PASSWORD wins over the
    secrets file, which wins over a password written in the URL itself.

    SQLite has no password, so nothing is read for it. The value is registered with the log
    redaction filter; everything that prints the URL masks it (feedback.db.safe_url)."""
    from sqlalchemy.engine import make_url

    from bot.config.secrets import REDACTOR

    parsed = make_url(cfg.storage.url)
    if parsed.get_backend_name() == "sqlite":
        return cfg
    password = db_password(cfg, environ) or (str(parsed.password) if parsed.password else None)
    if password is None:
        return cfg
    for shown in (password, quote(password, safe=""), quote_plus(password)):  # as typed, and as in a URL
        REDACTOR.register(shown)
    url = parsed.set(password=password).render_as_string(hide_password=False)
    return cfg.model_copy(update={"storage": cfg.storage.model_copy(update={"url": url})})
