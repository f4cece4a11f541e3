"""build_app(config): the ONE place objects are wired, and the front door it returns.

``App`` holds the dependencies object (bot/core/deps.py: engine, publishers, media store, clock,
stop flag, ...) that the use cases take, and exposes one typed method per use case: review
(approve, reject, edit, cancel, retry, reschedule, add by hand), generation (store a run),
content (caption, make, story), publishing (publish what is due, reconcile, sweep missed slots),
polling, and reads (queue, candidate, posts, accounts, stats, the web admin's). Each method raises
the project's typed errors (bot.errors classifies them). The CLI, the daemon, the demo and the web
admin call only this object; the daemon's jobs (bot/runtime/jobs.py) take its deps. The use cases
live in bot/service/, take ``deps`` and call each other directly; they are imported on first use,
so a read-only command never pays for the rest.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from bot.errors import ConfigError
from feedback.clock import utcnow

# Nothing heavier at module level: `queue list` on SQLite reads through App.quick_queue without the
# ORM or pydantic (bench/cli_startup.py); every other door imports what it needs on first use.
if TYPE_CHECKING:
    from sqlalchemy import Engine
    from sqlalchemy.orm import Session, sessionmaker

    from bot.config import Config
    from bot.core.content_models import ContentModels
    from bot.core.deps import Deps
    from bot.core.media import MediaStore
    from bot.core.worker_client import WorkerClient
    from bot.publishers.base import Publisher
    from bot.service.adapt import AdaptationView
    from bot.service.content import CaptionResult, MakeResult
    from bot.service.history_import import ImportResult
    from bot.service.notify import NotifySummary, WebhookCheck
    from bot.service.pipeline import GenerateRequest, GenerateResult, Models
    from bot.service.publishing import PublishSummary
    from bot.service.read_models import (
        AccountSummary,
        BoardPage,
        CandidateDetail,
        Card,
        HourCell,
        PostDetail,
        RankerEffect,
        ScheduledPost,
        SlotChoice,
    )
    from bot.service.review import BulkOutcome, ReviewResult
    from bot.service.review_links import NewLink
    from bot.service.story import StoryResult, Thread
    from bot.service.web_queries import BoardFilter
    from bot.service.web_users import LiveSession, Role
    from feedback.repository.candidates import QueueRow
    from feedback.repository.notifications import Row as NoticeRow
    from feedback.repository.posts import PostRow
    from feedback.repository.review_links import LinkRow
    from feedback.repository.users import UserRow

log = logging.getLogger(__name__)
T = TypeVar("T")


@dataclass
class App:
    """The front door over one Deps (bot/core/deps.py): what the CLI, the daemon and the web admin call."""

    deps: Deps

    # -- plumbing the entry points share (the objects live in Deps) ------------------------------------
    @property
    def config(self) -> Config:
        return self.deps.config

    @property
    def engine(self) -> Engine:
        return self.deps.engine

    @property
    def sessions(self) -> sessionmaker[Session]:
        return self.deps.sessions

    @property
    def media(self) -> MediaStore:
        return self.deps.media

    @property
    def clock(self) -> Callable[[], datetime]:
        return self.deps.clock

    @clock.setter
    def clock(self, clock: Callable[[], datetime]) -> None:  # the daemon's --now and the worker's frozen time
        self.deps.clock = clock

    @property
    def account_ids(self) -> dict[str, int]:
        return self.deps.account_ids

    @property
    def publishers(self) -> dict[str, Publisher]:
        return self.deps.publishers

    @property
    def workers(self) -> dict[str, WorkerClient]:
        return self.deps.workers

    @property
    def stopping(self) -> threading.Event:
        return self.deps.stopping

    @property
    def simulated_clock(self) -> bool:
        return self.deps.simulated_clock

    def tx(self) -> AbstractContextManager[Session]:
        """One unit of work (commit on success, roll back on error)."""
        return self.deps.tx()

    def close(self) -> None:
        self.deps.close()

    def data_dir(self) -> Path:
        return self.deps.data_dir()

    def publisher(self, account: str) -> Publisher:
        return self.deps.publisher(account)

    def worker(self, generator: str) -> WorkerClient:
        return self.deps.worker(generator)

    def content_models(self) -> ContentModels:
        """The content systems' models of this process (caption, make, story): loaded lazily, kept
        warm, retired by the warm-worker limits (bot/core/content_models.py)."""
        return self.deps.content_models()

    # -- review ----------------------------------------------------------------------------------------
    # expected_version: act only if the candidate is still the version the caller showed (else Conflict)
    def approve(self, candidate_id: int, *, actor: str, at: datetime | Literal["best"] | None = None,
                account: str | None = None, expected_version: int | None = None,
                within_rules: bool = False) -> ReviewResult:
        from bot.service import review

        return review.approve(self.deps, candidate_id, actor=actor, at=at, account=account,
                              expected_version=expected_version, within_rules=within_rules)

    def reject(self, candidate_id: int, *, actor: str, reason: str,
               expected_version: int | None = None) -> ReviewResult:
        from bot.service import review

        return review.reject(self.deps, candidate_id, actor=actor, reason=reason, expected_version=expected_version)

    def edit(self, candidate_id: int, *, actor: str, text: str, reason: str | None = None,
             expected_version: int | None = None) -> ReviewResult:
        from bot.service import review

        return review.edit(self.deps, candidate_id, actor=actor, text=text, reason=reason,
                           expected_version=expected_version)

    def bulk_review(self, action: Literal["approve", "reject"], items: list[tuple[int, int | None]], *, actor: str,
                    reason: str | None = None) -> list[BulkOutcome]:
        """Approve or reject several candidates (id, version seen), each through approve / reject; each
        one's outcome reported (bot/service/review.py bulk)."""
        from bot.service import review

        return review.bulk(self.deps, action, items, actor=actor, reason=reason)

    def cancel(self, post_id: int, *, actor: str, reason: str | None = None) -> ReviewResult:
        from bot.service import review

        return review.cancel(self.deps, post_id, actor=actor, reason=reason)

    def retry(self, post_id: int, *, actor: str) -> ReviewResult:
        from bot.service import review

        return review.retry(self.deps, post_id, actor=actor)

    def reschedule(self, post_id: int, *, actor: str, at: datetime, within_rules: bool = False) -> ReviewResult:
        from bot.service import review

        return review.reschedule(self.deps, post_id, actor=actor, at=at, within_rules=within_rules)

    def add_candidate(self, image: Path, text: str, *, account: str | None, actor: str) -> int:
        from bot.service import review

        return review.add_manual(self.deps, image, text, account=account, actor=actor)

    def resume_account(self, name: str, *, actor: str) -> str | None:
        """Lift a pause; returns the reason it was paused for (None: it was not)."""
        from bot.service import review

        reason = review.resume_account(self.deps, name)
        log.warning("event=account_resumed account=%s actor=%s", name, actor)
        return reason

    def import_history(self, name: str, *, since: datetime | None = None, limit: int | None = None,
                       rescan: bool = False) -> ImportResult:
        """Read the account's own past posts with their counters (bot/service/history_import.py);
        ``rescan``: read those read before too, to recognise the templates of stored posts' pictures."""
        from bot.service.history_import import import_history

        return import_history(self.deps, name, since=since, limit=limit, rescan=rescan)

    # -- notifications (bot/service/notify.py) ----------------------------------------------------------
    def notify_run(self) -> NotifySummary:
        """Find what to tell, store it in the outbox, deliver what is due (the daemon's notify job)."""
        from bot.service import notify

        return notify.run(self.deps)

    def notify_watch(self) -> NotifySummary:
        """From beside the daemon (web admin, cron): tell a stale daemon heartbeat, deliver what is due."""
        from bot.service import notify

        return notify.watch(self.deps)

    def notify_test(self, webhook: str | None = None) -> list[WebhookCheck]:
        from bot.service import notify

        return notify.send_test(self.deps, webhook)

    def notices(self, *, limit: int = 50, states: tuple[str, ...] | None = None) -> list[NoticeRow]:
        """The newest outbox rows, secrets scrubbed from their last errors."""
        from bot.service import notify

        return notify.recent(self.deps, limit=limit, states=states)

    def adapt_meme(self, *, strength: float = 1.0) -> AdaptationView:
        """A new adaptation of the meme captioner from the ranker's word effects (bot/service/adapt.py)."""
        from bot.service.adapt import adapt_meme

        return adapt_meme(self.deps, strength=strength)

    def adapt_rollback(self) -> AdaptationView:
        from bot.service.adapt import rollback

        return rollback(self.config)

    def adaptation(self) -> AdaptationView:
        from bot.service.adapt import view

        return view(self.config)

    # -- reads -----------------------------------------------------------------------------------------
    def queue(self, *, statuses: tuple[str, ...] = ("pending",), account: str | None = None,
              limit: int | None = 50, offset: int = 0) -> list[QueueRow]:
        from bot.service import reads

        return reads.queue(self.deps, statuses=statuses, account=account, limit=limit, offset=offset)

    def sheet_rows(self, *, statuses: tuple[str, ...], account: str | None, limit: int | None
                   ) -> list[tuple[QueueRow, str | None]]:
        from bot.service import reads

        return reads.sheet_rows(self.deps, statuses=statuses, account=account, limit=limit)

    @staticmethod
    def quick_queue(config_path: str | None, *, statuses: tuple[str, ...] = ("pending",),
                    account: str | None = None, limit: int | None = 50) -> list[QueueRow] | None:
        """The queue of a SQLite database at the code's schema, read-only through sqlite3 without
        building an App: no ORM, no pydantic (the admin CLI's cold start). None: use queue() on a
        built App, which migrates a new database, explains an old one and validates the config."""
        from bot.service import quick_reads

        return quick_reads.queue(config_path, statuses=statuses, account=account, limit=limit)

    def candidate(self, candidate_id: int) -> CandidateDetail:
        from bot.service import reads

        return reads.candidate(self.deps, candidate_id)

    def posts(self, *, states: tuple[str, ...] | None = None, account: str | None = None,
              limit: int | None = 50) -> list[PostRow]:
        from bot.service import reads

        return reads.posts(self.deps, states=states, account=account, limit=limit)

    def accounts(self) -> list[AccountSummary]:
        from bot.service import reads

        return reads.accounts(self.deps)

    def hours(self, account: str) -> list[HourCell]:
        """The account's learned weekday x hour effects with the evidence behind each (the heatmap
        of `stats hours` and the dashboard)."""
        from bot.service import reads

        return reads.hours(self.deps, account)

    # stats (`memeloop stats`, the demo's summary)
    def stats_over_time(self, *, account: str | None = None, since: str | None = None) -> list[dict[str, Any]]:
        from bot.service import reads

        return reads.stats_over_time(self.deps, account=account, since=since)

    def stats_by(self, dimension: str, *, account: str | None = None) -> list[dict[str, Any]]:
        from bot.service import reads

        return reads.stats_by(self.deps, dimension, account=account)

    def stats_top_posts(self, *, limit: int = 10, bottom: bool = False, account: str | None = None
                        ) -> list[dict[str, Any]]:
        from bot.service import reads

        return reads.stats_top_posts(self.deps, limit=limit, bottom=bottom, account=account)

    def stats_approval(self, *, by: str = "generator", account: str | None = None) -> list[dict[str, Any]]:
        from bot.service import reads

        return reads.stats_approval(self.deps, by=by, account=account)

    def stats_models(self, *, account: str | None = None) -> list[dict[str, Any]]:
        from bot.service import reads

        return reads.stats_models(self.deps, account=account)

    def stats_imported(self, *, account: str | None = None) -> list[dict[str, Any]]:
        """The accounts' imported history (`stats imported`)."""
        from bot.service import reads

        return reads.stats_imported(self.deps, account=account)

    def ranker_effects(self, *, limit: int = 12) -> list[RankerEffect]:
        """What the ranker learned (`stats learned`, the dashboard)."""
        from bot.service import reads

        return reads.ranker_effects(self.deps, limit=limit)

    def counts(self) -> tuple[dict[str, int], dict[str, int]]:
        """(candidates by status, posts by state)."""
        from bot.service import reads

        return reads.counts(self.deps)

    # -- web admin (reads in bot/service/reads.py over bot/service/web_queries.py) --------------------------
    def board(self, flt: BoardFilter, *, limit: int = 24, offset: int = 0) -> BoardPage:
        from bot.service import reads

        return reads.board(self.deps, flt, limit=limit, offset=offset)

    def card(self, candidate_id: int) -> Card:
        from bot.service import reads

        return reads.card(self.deps, candidate_id)

    def image_path(self, candidate_id: int) -> str | None:
        from bot.service import reads

        return reads.image_path(self.deps, candidate_id)

    def free_slots(self, account: str, *, n: int = 4) -> list[datetime]:
        from bot.service import reads

        return reads.free_slots(self.deps, account, n=n)

    def schedule(self, *, start: datetime, end: datetime, account: str | None = None) -> list[ScheduledPost]:
        from bot.service import reads

        return reads.schedule(self.deps, start=start, end=end, account=account)

    def slot_candidates(self, account: str, *, limit: int = 12) -> list[SlotChoice]:
        """Approved candidates not yet on ``account``, then the first pending ones: what fills an empty slot."""
        from bot.service import reads

        return reads.slot_candidates(self.deps, account, limit=limit)

    def post_detail(self, post_id: int) -> PostDetail:
        from bot.service import reads

        return reads.post_detail(self.deps, post_id)

    def dashboard(self, *, account: str | None = None) -> dict[str, list[dict[str, Any]]]:
        from bot.service import reads

        return reads.dashboard(self.deps, account=account)

    def dashboard_signature(self) -> tuple:
        from bot.service import reads

        return reads.dashboard_signature(self.deps)

    # -- web admin users, sessions and review links (bot/service/web_users.py, review_links.py) ------------
    def add_web_user(self, name: str, password: str, *, replace: bool = False, role: str = "admin") -> None:
        from bot.service.web_users import add_user

        add_user(self.deps, name, password, replace=replace, role=role)

    def check_web_login(self, name: str, password: str) -> bool:
        from bot.service.web_users import check_login

        return check_login(self.deps, name, password)

    def web_users(self) -> list[UserRow]:
        from bot.service.web_users import list_users

        return list_users(self.deps)

    def remove_web_user(self, name: str, *, actor: str) -> None:
        from bot.service.web_users import remove_user

        remove_user(self.deps, name)
        log.warning("event=web_user_removed user=%s actor=%s", name, actor)

    def set_web_role(self, name: str, role: str, *, actor: str) -> Role:
        """Returns the old role."""
        from bot.service.web_users import set_role

        old = set_role(self.deps, name, role)
        log.warning("event=web_user_role user=%s role=%s was=%s actor=%s", name, role, old, actor)
        return old

    def start_web_session(self, user: str, *, now: datetime) -> str:
        from bot.service.web_users import start_session

        return start_session(self.deps, user, now=now)

    def web_session(self, token: str, *, now: datetime) -> LiveSession | None:
        from bot.service.web_users import live_session

        return live_session(self.deps, token, now=now)

    def set_web_flash(self, session_id: int, flash: str | None) -> None:
        from bot.service.web_users import set_flash

        set_flash(self.deps, session_id, flash)

    def end_web_session(self, token: str) -> None:
        from bot.service.web_users import end_session

        end_session(self.deps, token)

    def end_web_sessions_of(self, user: str) -> int:
        """Log ``user`` out everywhere; returns how many sessions ended."""
        from bot.service.web_users import end_sessions_of

        return end_sessions_of(self.deps, user)

    def create_review_link(self, kind: str, target: int, *, label: str, actor: str, now: datetime,
                           ttl: timedelta | None = None) -> NewLink:
        from bot.service import review_links

        return review_links.create(self.deps, kind=kind, target=target, label=label, created_by=actor, now=now,
                                   ttl=ttl or review_links.DEFAULT_TTL)

    def review_links(self) -> list[LinkRow]:
        from bot.service import review_links

        return review_links.listing(self.deps)

    def revoke_review_link(self, link_id: int, *, actor: str, now: datetime) -> LinkRow:
        from bot.service import review_links

        return review_links.revoke(self.deps, link_id, actor=actor, now=now)

    def open_review_link(self, token: str, *, now: datetime) -> LinkRow:
        """The open link; LinkGone (used, revoked, expired, unknown) otherwise."""
        from bot.service import review_links

        return review_links.open_link(self.deps, token, now=now)

    def decide_review_link(self, token: str, decision: str, *, comment: str | None, now: datetime,
                           expected_version: int | None = None) -> ReviewResult:
        from bot.service import review_links

        return review_links.decide(self.deps, token, decision, comment=comment, now=now,
                                   expected_version=expected_version)

    # -- generation, publishing, polling -------------------------------------------------------------
    def store_generation(self, req: GenerateRequest, *, models: Models | None = None) -> GenerateResult:
        from bot.service.pipeline import run_generation

        return run_generation(self.deps, req, models=models)

    def generation_shortfall(self, generation_id: int, asked: int) -> str | None:
        """Why run ``generation_id`` queued fewer than ``asked`` candidates, in words (None: it did not)."""
        from bot.service.content import generation_made

        return generation_made(self.deps, generation_id, asked)[1]

    # -- template library and the writer's voice (bot/service/templates.py, bot/service/voice.py) --------
    def remove_template(self, slug: str) -> Path:
        """Remove a template of the library; its candidates keep what they need (in the media store)."""
        from bot.service.templates import remove_and_keep_candidates

        return remove_and_keep_candidates(self.deps, slug)

    def account_captions(self, account: str) -> list[str]:
        """Texts of the account's published posts, oldest first (what `train gpt2 --from-account` reads)."""
        from bot.service.voice import account_captions

        return account_captions(self.deps, account)

    # -- content systems (bot/service/content.py, bot/service/story.py) ------------------------------------------------
    def caption(self, photos: list[Path], *, tone: str | None, audience: str | None, account: str | None,
                n: int = 5, seed: int | None = None, topic: str | None = None, about: str | None = None,
                **models: Any) -> CaptionResult:
        """Captions in a tone for the user's own photos (about a topic or the owner's words), into review."""
        from bot.service import content

        return content.caption_photos(self.deps, photos, tone=tone, audience=audience, account=account, n=n,
                                      seed=seed, topic=topic, about=about, **models)

    def make(self, text: str, *, account: str | None, template: str | None = None, seed: int | None = None,
             matcher: Any = None) -> MakeResult:
        """A meme from a text: the template it is most like (learned map), queued with 3 alternatives."""
        from bot.service import content

        return content.make_meme(self.deps, text, account=account, template=template, seed=seed, matcher=matcher)

    def story(self, image: str | None, *, parts: int = 3, tone: str | None = None, audience: str | None = None,
              account: str | None = None, topic: str | None = None, seed: int | None = None,
              template: str | None = None, from_library: bool = False, **models: Any) -> StoryResult:
        """A story thread of 2-6 parts from an image (a file, a template slug or gan:SEED; or only a
        template of the library with ``template``, or with ``from_library`` when ``image`` is the
        slug: never a path, as the web form asks), into review."""
        from bot.service import story

        return story.new_story(self.deps, image, parts=parts, tone=tone, audience=audience, account=account,
                               topic=topic, seed=seed, template=template, from_library=from_library, **models)

    def thread(self, candidate_id: int) -> Thread:
        from bot.service import story

        return story.thread(self.deps, candidate_id)

    def continue_thread(self, candidate_id: int, *, actor: str, parts: int = 1, steer: str | None = None,
                        seed: int | None = None, writer: Any = None,
                        expected_version: int | None = None) -> tuple[ReviewResult, Thread]:
        from bot.service import story

        return story.continue_story(self.deps, candidate_id, actor=actor, parts=parts, steer=steer, seed=seed,
                                    writer=writer, expected_version=expected_version)

    def edit_thread_part(self, candidate_id: int, position: int, text: str, *, actor: str,
                         expected_version: int | None = None) -> ReviewResult:
        from bot.service import story

        return story.edit_part(self.deps, candidate_id, position, text, actor=actor,
                               expected_version=expected_version)

    def approve_thread(self, candidate_id: int, *, actor: str, at: datetime | None = None,
                       account: str | None = None) -> ReviewResult:
        from bot.service import story

        return story.approve_thread(self.deps, candidate_id, actor=actor, at=at, account=account)

    def publish_due(self, *, owner: str, limit: int | None = None) -> PublishSummary:
        from bot.service.publishing import publish_due

        return publish_due(self.deps, owner=owner, limit=limit, stop=self.deps.stopping)

    def reconcile(self) -> int:
        from bot.service.publishing import reconcile_unconfirmed

        return reconcile_unconfirmed(self.deps)

    def sweep_missed(self) -> int:
        from bot.service.publishing import sweep_missed

        return sweep_missed(self.deps)

    def poll(self) -> int:
        from bot.service.polling import poll_due

        return poll_due(self.deps)


def open_database(config: Config, *, auto_create: bool = True) -> Engine:
    """An engine on a schema at head. ``auto_create`` (`memeloop init`, the demo, tests): a new, empty
    database is migrated. Without it (every other command) a missing or empty database is an error
    naming it: a moved or deleted SQLite file is never silently re-created empty. An old schema must
    be upgraded explicitly (`memeloop db upgrade`) so nobody's data changes shape behind their back."""
    from bot.config.checks import sqlite_file
    from feedback.db import make_engine, safe_url, schema_revision
    from feedback.models import SCHEMA_HEAD

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
    from bot.core.deps import Deps
    from bot.core.media import MediaStore
    from feedback.db import make_session_factory
    from feedback.repository import accounts as account_repo
    from feedback.repository import weights as weight_repo

    media = MediaStore.open(config.storage.media_dir)
    engine = open_database(config, auto_create=auto_create)
    deps = Deps(config=config, engine=engine, sessions=make_session_factory(engine), media=media, clock=clock)
    with deps.tx() as session:
        deps.account_ids = account_repo.sync_accounts(session, (
            account_repo.AccountSpec(name=a.name, platform=a.platform, handle=a.handle,
                                     hashtag_cap=a.hashtag_cap)
            for a in config.accounts), clock())
        weight_repo.sync_weights(session, {str(k): v for k, v in config.ranking.weights.items()})
    return App(deps)
