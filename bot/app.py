"""build_app(config): the ONE place objects are wired, and the service object it returns.

``App`` owns the engine, the publishers, the media store, the clock and the stop flag, and exposes
every use case as a method: review (approve, reject, edit, cancel, retry, reschedule, add by hand),
generation (store a run), publishing (publish what is due, reconcile, sweep missed slots), polling
(poll, re-rank), reads (queue, candidate, posts, accounts, stats) and the scheduler's jobs. Each
method owns its transaction and raises the project's typed errors (feedback.FeedbackError and its
Conflict/NotFound/Refused, ConfigError, PublishError, GeneratorError, bot.errors.UsageError).
The CLI, the daemon, the demo and the web admin call only this object; only the CLI turns errors
into messages and exit codes. The use cases themselves live in their modules (bot/service/review.py,
bot/service/publishing.py, bot/service/polling.py, bot/service/pipeline.py, bot/runtime/jobs.py) and are imported on first use, so
a read-only command never pays for the rest.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Config, ConfigError
from bot.core.media import MediaStore
from feedback.clock import utcnow
from feedback.db import make_engine, make_session_factory, safe_url, schema_revision, transaction
from feedback.models import SCHEMA_HEAD
from feedback.repository import accounts as account_repo
from feedback.repository import weights as weight_repo

if TYPE_CHECKING:
    from bot.core.content_models import ContentModels
    from bot.publishers.base import Publisher
    from bot.runtime.jobs import GenerateOutcome
    from bot.runtime.worker import WorkerClient
    from bot.service.content import CaptionResult, MakeResult
    from bot.service.history_import import ImportResult
    from bot.service.pipeline import GenerateRequest, GenerateResult, Models
    from bot.service.publishing import PublishSummary
    from bot.service.review import ReviewResult
    from bot.service.story import StoryResult, Thread
    from bot.service.web_queries import BoardFilter, BoardPage
    from feedback.ranking import Ranker
    from feedback.repository.candidates import QueueRow
    from feedback.repository.posts import PostRow

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class App:
    config: Config
    engine: Engine
    sessions: sessionmaker[Session]
    media: MediaStore
    clock: Callable[[], datetime] = utcnow
    account_ids: dict[str, int] = field(default_factory=dict)
    publishers: dict[str, Publisher] = field(default_factory=dict, repr=False)
    stopping: threading.Event = field(default_factory=threading.Event, repr=False)
    _publishers_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    workers: dict[str, WorkerClient] = field(default_factory=dict, repr=False)  # generator.warm_worker
    _content: ContentModels | None = field(default=None, repr=False)

    # -- plumbing ------------------------------------------------------------------------------------
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

    def account_name(self, account_id: int) -> str | None:
        return next((n for n, i in self.account_ids.items() if i == account_id), None)

    def data_dir(self) -> Path:
        return self.config.path.parent if self.config.path is not None else Path.cwd()

    def publisher(self, account: str) -> Publisher:
        """The account's publisher, built once per App from config + secrets."""
        with self._publishers_lock:
            if account not in self.publishers:
                from bot.publishers.factory import build_publisher

                self.publishers[account] = build_publisher(self.config, self.config.account(account),
                                                           clock=self.clock)
            return self.publishers[account]

    def worker(self, generator: str) -> WorkerClient:
        """The generator's warm worker client, one per App (started on first use, closed by close())."""
        with self._publishers_lock:
            if generator not in self.workers:
                from bot.runtime.worker import Limits, WorkerClient

                cfg = self.config.generator
                client = WorkerClient(str(self.config.path), generator, threads=cfg.threads,
                                      limits=Limits(cfg.worker_max_runs, cfg.worker_max_rss_mb),
                                      log_path=self.data_dir() / "logs" / f"worker-{generator}.log")
                client.stop = self.stopping
                self.workers[generator] = client
            return self.workers[generator]

    def content_models(self) -> ContentModels:
        """The content systems' models of this process (caption, make, story): loaded lazily, kept
        warm, retired by the warm-worker limits (bot/content_models.py)."""
        with self._publishers_lock:
            if self._content is None:
                from bot.core.content_models import ContentModels

                self._content = ContentModels(self.config)
            return self._content

    def ranker(self, session: Session) -> Ranker:
        from feedback.learning import load_ranker

        cfg = self.config.ranking
        return load_ranker(session, weights={str(k): v for k, v in cfg.weights.items()},
                           engagement_age=cfg.engagement_age, baseline_posts=cfg.baseline_posts, now=self.clock(),
                           timezones={acc.name: acc.timezone for acc in self.config.accounts})

    # -- review ----------------------------------------------------------------------------------------
    # expected_version: act only if the candidate is still the version the caller showed (else Conflict)
    def approve(self, candidate_id: int, *, actor: str, at: datetime | Literal["best"] | None = None,
                account: str | None = None, expected_version: int | None = None) -> ReviewResult:
        from bot.service import review

        return review.approve(self, candidate_id, actor=actor, at=at, account=account,
                              expected_version=expected_version)

    def reject(self, candidate_id: int, *, actor: str, reason: str,
               expected_version: int | None = None) -> ReviewResult:
        from bot.service import review

        return review.reject(self, candidate_id, actor=actor, reason=reason, expected_version=expected_version)

    def edit(self, candidate_id: int, *, actor: str, text: str, reason: str | None = None,
             expected_version: int | None = None) -> ReviewResult:
        from bot.service import review

        return review.edit(self, candidate_id, actor=actor, text=text, reason=reason,
                           expected_version=expected_version)

    def cancel(self, post_id: int, *, actor: str, reason: str | None = None) -> ReviewResult:
        from bot.service import review

        return review.cancel(self, post_id, actor=actor, reason=reason)

    def retry(self, post_id: int, *, actor: str) -> ReviewResult:
        from bot.service import review

        return review.retry(self, post_id, actor=actor)

    def reschedule(self, post_id: int, *, actor: str, at: datetime) -> ReviewResult:
        from bot.service import review

        return review.reschedule(self, post_id, actor=actor, at=at)

    def add_candidate(self, image: Path, text: str, *, account: str | None, actor: str) -> int:
        from bot.service import review

        return review.add_manual(self, image, text, account=account, actor=actor)

    def resume_account(self, name: str, *, actor: str) -> str | None:
        """Lift a pause; returns the reason it was paused for (None: it was not)."""
        with self.tx() as session:
            row = account_repo.get_by_name(session, name)
            reason = row.pause_reason
            account_repo.resume(session, row.id)
        with self._publishers_lock:  # a cached publisher may remember why it stopped: start it afresh
            self.publishers.pop(name, None)
        log.warning("event=account_resumed account=%s actor=%s", name, actor)
        return reason

    def import_history(self, name: str, *, since: datetime | None = None, limit: int | None = None
                       ) -> ImportResult:
        """Read the account's own past posts with their counters (bot/history_import.py)."""
        from bot.service.history_import import import_history

        return import_history(self, name, since=since, limit=limit)

    # -- reads -----------------------------------------------------------------------------------------
    def queue(self, *, statuses: tuple[str, ...] = ("pending",), account: str | None = None,
              limit: int | None = 50, offset: int = 0) -> list[QueueRow]:
        from feedback.repository import candidates as cand_repo

        with self.tx() as session:
            return cand_repo.list_queue(session, self.clock(), statuses=statuses, account=account, limit=limit,
                                        offset=offset)

    def sheet_rows(self, *, statuses: tuple[str, ...], account: str | None, limit: int | None
                   ) -> list[tuple[QueueRow, str | None]]:
        from feedback.repository import candidates as cand_repo

        with self.tx() as session:
            return cand_repo.sheet_rows(session, self.clock(), statuses=statuses, account=account, limit=limit)

    def candidate(self, candidate_id: int) -> dict[str, Any]:
        from bot.service.review_view import candidate_detail

        with self.tx() as session:
            return candidate_detail(session, candidate_id, now=self.clock())

    def posts(self, *, states: tuple[str, ...] | None = None, account: str | None = None,
              limit: int | None = 50) -> list[PostRow]:
        from feedback.repository import posts as posts_repo

        with self.tx() as session:
            return posts_repo.list_posts(session, states=states or None, account=account, limit=limit)

    def accounts(self) -> list[dict[str, Any]]:
        from feedback.repository import history as history_repo
        from feedback.repository import posts as posts_repo

        enabled = {a.name: a.enabled for a in self.config.accounts}
        with self.tx() as session:
            counts = posts_repo.count_by_account_state(session)
            imported = {r["account"]: r["imported"] for r in history_repo.summary(session)}
            return [{"name": a.name, "platform": a.platform, "handle": a.handle, "enabled": enabled.get(a.name, False),
                     "paused_until": a.paused_until, "pause_reason": a.pause_reason,
                     **{s: counts.get((a.id, s), 0) for s in ("scheduled", "published", "unconfirmed", "failed")},
                     "imported": imported.get(a.name, 0)}
                    for a in account_repo.list_accounts(session)]

    def hours(self, account: str) -> list[dict[str, Any]]:
        """The account's learned weekday x hour effects with the evidence behind each (the heatmap
        of `stats hours` and the dashboard)."""
        import numpy as np

        from feedback.learning import Settings, timing_observations
        from feedback.ranking.timing import WEEKDAYS, Timing

        acc = self.config.account(account)
        cfg = self.config.ranking
        settings = Settings({str(k): v for k, v in cfg.weights.items()}, cfg.engagement_age, cfg.baseline_posts,
                            {a.name: a.timezone for a in self.config.accounts})
        with self.tx() as session:
            timing = Timing(timing_observations(session, account, settings))
        return [{"account": account, "weekday": WEEKDAYS[c.weekday], "hour": c.hour, "ratio": round(c.ratio, 3),
                 "low": round(float(np.exp(c.mean - c.sd)), 3), "high": round(float(np.exp(c.mean + c.sd)), 3),
                 "posts": round(c.evidence, 1), "allowed": c.allowed}
                for c in timing.cells(acc.best_hours)]

    def stats(self, query: Callable[..., T], **kwargs: Any) -> T:
        """One read-only query (feedback.repository.stats, counts) in its own transaction."""
        with self.tx() as session:
            return query(session, **kwargs)

    # -- web admin (reads in bot/service/web_queries.py, users in bot/web/auth.py) ------------------------------
    def board(self, flt: BoardFilter, *, limit: int = 24, offset: int = 0) -> BoardPage:
        from bot.service import web_queries

        with self.tx() as session:
            return web_queries.board(session, flt, limit=limit, offset=offset)

    def web_read(self, query: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """One bot.service.web_queries read (card, image_path, schedule, post_detail, dashboard, ...) in its transaction."""
        with self.tx() as session:
            return query(session, *args, **kwargs)

    def add_web_user(self, name: str, password: str, *, replace: bool = False) -> None:
        from bot.web.auth import add_user

        add_user(self, name, password, replace=replace)

    def check_web_login(self, name: str, password: str) -> bool:
        from bot.web.auth import check_login

        return check_login(self, name, password)

    # -- generation, publishing, polling -------------------------------------------------------------
    def store_generation(self, req: GenerateRequest, *, models: Models | None = None) -> GenerateResult:
        from bot.service.pipeline import run_generation

        return run_generation(self, req, models=models)

    # -- content systems (bot/service/content.py, bot/service/story.py) ------------------------------------------------
    def caption(self, photos: list[Path], *, tone: str | None, audience: str | None, account: str | None,
                n: int = 5, seed: int | None = None, **models: Any) -> CaptionResult:
        """Captions in a tone for the user's own photos, into the review queue."""
        from bot.service import content

        return content.caption_photos(self, photos, tone=tone, audience=audience, account=account, n=n,
                                      seed=seed, **models)

    def make(self, text: str, *, account: str | None, template: str | None = None, seed: int | None = None,
             matcher: Any = None) -> MakeResult:
        """A meme from a text: the template it is most like (learned map), queued with 3 alternatives."""
        from bot.service import content

        return content.make_meme(self, text, account=account, template=template, seed=seed, matcher=matcher)

    def story(self, image: str | None, *, parts: int = 3, tone: str | None = None, audience: str | None = None,
              account: str | None = None, topic: str | None = None, seed: int | None = None,
              template: str | None = None, from_library: bool = False, **models: Any) -> StoryResult:
        """A story thread of 2-6 parts from an image (a file, a template slug or gan:SEED; or only a
        template of the library with ``template``, or with ``from_library`` when ``image`` is the
        slug: never a path, as the web form asks), into review."""
        from bot.service import story

        return story.new_story(self, image, parts=parts, tone=tone, audience=audience, account=account,
                               topic=topic, seed=seed, template=template, from_library=from_library, **models)

    def thread(self, candidate_id: int) -> Thread:
        from bot.service import story

        return story.thread(self, candidate_id)

    def continue_thread(self, candidate_id: int, *, actor: str, parts: int = 1, steer: str | None = None,
                        seed: int | None = None, writer: Any = None) -> tuple[ReviewResult, Thread]:
        from bot.service import story

        return story.continue_story(self, candidate_id, actor=actor, parts=parts, steer=steer, seed=seed,
                                    writer=writer)

    def edit_thread_part(self, candidate_id: int, position: int, text: str, *, actor: str) -> ReviewResult:
        from bot.service import story

        return story.edit_part(self, candidate_id, position, text, actor=actor)

    def approve_thread(self, candidate_id: int, *, actor: str, at: datetime | None = None,
                       account: str | None = None) -> ReviewResult:
        from bot.service import story

        return story.approve_thread(self, candidate_id, actor=actor, at=at, account=account)

    def publish_due(self, *, owner: str, limit: int | None = None) -> PublishSummary:
        from bot.service.publishing import publish_due

        return publish_due(self, owner=owner, limit=limit, stop=self.stopping)

    def reconcile(self) -> int:
        from bot.service.publishing import reconcile_unconfirmed

        return reconcile_unconfirmed(self)

    def sweep_missed(self) -> int:
        from bot.service.publishing import sweep_missed

        return sweep_missed(self)

    def poll(self) -> int:
        from bot.service.polling import poll_due

        return poll_due(self)

    def rerank(self) -> int:
        from bot.service.polling import rescore

        return rescore(self, self.clock())

    # -- scheduler jobs (bound methods: nothing is pickled, nothing is global) -----------------------
    def job_generate(self, account: str, schedule: int = 0) -> GenerateOutcome | None:
        from bot.runtime import jobs

        return jobs.run_job(self, f"generate account={account} schedule={schedule}",
                            lambda: jobs.run_generate_child(self, account, schedule))

    def job_publish(self) -> datetime | None:
        from bot.runtime import jobs

        return jobs.run_job(self, "publish", lambda: jobs.publish(self))

    def job_poll(self) -> int | None:
        from bot.runtime import jobs

        return jobs.run_job(self, "poll", self.poll)

    def job_reconcile(self) -> int | None:
        from bot.runtime import jobs

        return jobs.run_job(self, "reconcile", self.reconcile)

    def job_prune(self) -> int | None:
        from bot.runtime import jobs

        return jobs.run_job(self, "prune", lambda: jobs.prune_media(self))

    def job_auto_approve(self) -> int | None:
        from bot.runtime import jobs

        return jobs.run_job(self, "auto_approve",
                            lambda: jobs.auto_approve(self) if self.config.publishing.auto_approve else 0)


def open_database(config: Config, *, auto_create: bool = True) -> Engine:
    """An engine on a schema at head. ``auto_create`` (`memeloop init`, the demo, tests): a new, empty
    database is migrated. Without it (every other command) a missing or empty database is an error
    naming it: a moved or deleted SQLite file is never silently re-created empty. An old schema must
    be upgraded explicitly (`memeloop db upgrade`) so nobody's data changes shape behind their back."""
    from bot.config.checks import sqlite_file

    path = sqlite_file(config.storage.url)
    if path is not None and not auto_create and not path.is_file():
        raise ConfigError(f"storage.url: the database file {path} does not exist (was it moved or deleted?). "
                          "Create one with `memeloop init` or `memeloop db upgrade`")
    engine = make_engine(config.storage.url)
    current = schema_revision(engine)
    if current is None and auto_create:
        from feedback import migrate

        migrate.upgrade(engine)
    elif current is None:
        engine.dispose()
        raise ConfigError(f"storage.url: the database {safe_url(config.storage.url)} has no memeloop tables. "
                          "Create them with `memeloop db upgrade`")
    elif current != SCHEMA_HEAD:
        engine.dispose()
        raise ConfigError(f"database {safe_url(config.storage.url)} is at revision {current}, the code needs "
                          f"{SCHEMA_HEAD}: run `memeloop db upgrade` (back up the file first)")
    return engine


def build_app(config: Config, *, clock: Callable[[], datetime] = utcnow, auto_create: bool = True) -> App:
    media = MediaStore.open(config.storage.media_dir)
    engine = open_database(config, auto_create=auto_create)
    app = App(config=config, engine=engine, sessions=make_session_factory(engine), media=media, clock=clock)
    with app.tx() as session:
        app.account_ids = account_repo.sync_accounts(session, (
            account_repo.AccountSpec(name=a.name, platform=a.platform, handle=a.handle,
                                     hashtag_cap=a.hashtag_cap)
            for a in config.accounts), clock())
        weight_repo.sync_weights(session, {str(k): v for k, v in config.ranking.weights.items()})
    return app
