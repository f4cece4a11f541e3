"""build_app(config): the ONE place where objects are wired together."""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Config, ConfigError
from feedback.clock import utcnow
from feedback.db import display_url, make_engine, make_session_factory, schema_revision, transaction
from feedback.models import SCHEMA_HEAD
from feedback.repository import accounts as account_repo

log = logging.getLogger(__name__)


@dataclass
class App:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    clock: Callable[[], datetime] = utcnow
    account_ids: dict[str, int] = field(default_factory=dict)
    publishers: dict[str, Any] = field(default_factory=dict, repr=False)  # bot.publishing.publisher_for's cache

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One unit of work (commit on success, roll back on error)."""
        with transaction(self.sessions) as session:
            yield session

    def close(self) -> None:
        self.engine.dispose()


def open_database(config: Config, *, auto_create: bool = True) -> Engine:
    """An engine on a schema at head. A new, empty database is migrated; an old one must be upgraded
    explicitly (`memeloop db upgrade`) so nobody's data changes shape behind their back."""
    engine = make_engine(config.storage.url)
    current = schema_revision(engine)
    head = SCHEMA_HEAD
    if current is None and auto_create:
        from feedback import migrate

        migrate.upgrade(engine)
    elif current != head:
        engine.dispose()
        raise ConfigError(f"database {display_url(config.storage.url)} is at revision {current}, the code needs "
                          f"{head}: run `memeloop db upgrade` (back up the file first)")
    return engine


def build_app(config: Config, *, clock: Callable[[], datetime] = utcnow, auto_create: bool = True) -> App:
    engine = open_database(config, auto_create=auto_create)
    app = App(config=config, engine=engine, sessions=make_session_factory(engine), clock=clock)
    with app.tx() as session:
        app.account_ids = account_repo.sync_accounts(session, (
            account_repo.AccountSpec(name=a.name, platform=a.platform, handle=a.handle,
                                     hashtag_cap=a.hashtag_cap)
            for a in config.accounts), clock())
    return app
