"""Deps: what a use case needs, built once by build_app(config) and passed explicitly.

The engine and its transactions, the clock, the config, account resolution, the media store, the
publishers (built lazily, once per account), the warm worker clients (one per generator), the warm
content models (caption, make, story), the ranker and learning settings (built once from config),
the stop flag and the data folder. Use cases in
bot/service/ take ``deps: Deps`` and never see the front door (bot.app.App) that calls them.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.core.media import MediaStore
from feedback.clock import utcnow
from feedback.db import transaction

if TYPE_CHECKING:
    from bot.config import AccountConfig, Config
    from bot.core.content_models import ContentModels
    from bot.core.worker_client import WorkerClient
    from bot.publishers.base import Publisher
    from feedback.learning import Settings
    from feedback.ranking import Ranker


@dataclass
class Deps:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    media: MediaStore
    clock: Callable[[], datetime] = utcnow
    account_ids: dict[str, int] = field(default_factory=dict)
    publishers: dict[str, Publisher] = field(default_factory=dict, repr=False)
    stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    workers: dict[str, WorkerClient] = field(default_factory=dict, repr=False)  # generator.warm_worker
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _learning: Settings | None = field(default=None, repr=False)
    _content: ContentModels | None = field(default=None, repr=False)

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One unit of work (commit on success, roll back on error)."""
        with transaction(self.sessions) as session:
            yield session

    def close(self) -> None:
        for client in self.workers.values():
            client.close()
        self.workers.clear()
        if self._content is not None:
            self._content.close()
        self.engine.dispose()

    @property
    def simulated_clock(self) -> bool:
        return self.clock is not utcnow

    def data_dir(self) -> Path:
        return self.config.data_dir()

    # -- accounts --------------------------------------------------------------------------------------
    def account_name(self, account_id: int) -> str | None:
        return next((n for n, i in self.account_ids.items() if i == account_id), None)

    def resolve_account(self, account: str | None, *, account_id: int | None = None) -> AccountConfig | None:
        """The account a use case acts for: the one named (ConfigError names an unknown one), else the
        row's account (``account_id``), else the only configured account; None when that leaves a choice."""
        if account:
            return self.config.account(account)
        if account_id is not None:
            name = self.account_name(account_id)
            if name is not None:
                return self.config.account(name)
        if len(self.config.accounts) == 1:
            return self.config.accounts[0]
        return None

    # -- collaborators built once ----------------------------------------------------------------------
    def publisher(self, account: str) -> Publisher:
        """The account's publisher, built once from config + secrets."""
        with self._lock:
            if account not in self.publishers:
                from bot.publishers.factory import build_publisher

                self.publishers[account] = build_publisher(self.config, self.config.account(account),
                                                           clock=self.clock)
            return self.publishers[account]

    def forget_publisher(self, account: str) -> None:
        """Drop a cached publisher (it may remember why it stopped): the next use builds it afresh."""
        with self._lock:
            self.publishers.pop(account, None)

    def worker(self, generator: str) -> WorkerClient:
        """The generator's warm worker client (started on first use, closed by close())."""
        with self._lock:
            if generator not in self.workers:
                from bot.core.worker_client import Limits, WorkerClient

                cfg = self.config.generator
                client = WorkerClient(str(self.config.path), generator, threads=cfg.threads,
                                      limits=Limits(cfg.worker_max_runs, cfg.worker_max_rss_mb),
                                      log_path=self.data_dir() / "logs" / f"worker-{generator}.log")
                client.stop = self.stopping
                self.workers[generator] = client
            return self.workers[generator]

    def content_models(self) -> ContentModels:
        """The content systems' models of this process (caption, make, story): loaded lazily, kept
        warm, retired by the warm-worker limits (bot/core/content_models.py)."""
        with self._lock:
            if self._content is None:
                from bot.core.content_models import ContentModels

                self._content = ContentModels(self.config)
            return self._content

    def learning(self) -> Settings:
        """How engagement becomes learning (config `ranking` + each account's time zone), built once."""
        if self._learning is None:
            from feedback.learning import Settings

            cfg = self.config.ranking
            self._learning = Settings({str(k): v for k, v in cfg.weights.items()}, cfg.engagement_age,
                                      cfg.baseline_posts, {acc.name: acc.timezone for acc in self.config.accounts})
        return self._learning

    def ranker(self, session: Session) -> Ranker:
        from feedback.learning import load_ranker

        s = self.learning()
        return load_ranker(session, weights=s.weights, engagement_age=s.engagement_age,
                           baseline_posts=s.baseline_posts, now=self.clock(), timezones=s.timezones)
