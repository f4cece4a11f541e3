"""Alembic environment. The URL comes from (in order): a connection handed in by
feedback.migrate, `-x url=...`, MEMELOOP_DB_URL, or the memeloop config (MEMELOOP_CONFIG)."""
from __future__ import annotations

import os

from alembic import context

from feedback.db import make_engine
from feedback.models import Base

# APScheduler owns its job table; never let autogenerate touch it.
FOREIGN_TABLES = {"apscheduler_jobs"}


# Indexes with per-dialect column ordering (DESC, NULLS LAST) that autogenerate cannot compare:
# declared in the models, made by their migration, checked by the migration tests.
UNCOMPARED_INDEXES = {"ix_candidates_review_order"}


def include_object(obj, name, type_, reflected, compare_to):
    return not (type_ == "table" and name in FOREIGN_TABLES) and not (
        type_ == "index" and name in UNCOMPARED_INDEXES)


def _url() -> str:
    url = context.get_x_argument(as_dictionary=True).get("url") or os.environ.get("MEMELOOP_DB_URL")
    if url:
        return url
    from bot.config import load_config  # only when run as a bare `alembic` command

    return load_config(os.environ.get("MEMELOOP_CONFIG")).storage.url


def _configure(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        include_object=include_object,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )


def run_migrations_online() -> None:
    connection = context.config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    with engine.connect() as conn:
        _configure(conn)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


if context.is_offline_mode():
    context.configure(url=_url(), target_metadata=Base.metadata, literal_binds=True,
                      include_object=include_object)
    with context.begin_transaction():
        context.run_migrations()
else:
    run_migrations_online()
