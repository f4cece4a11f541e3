"""ORM models: the one picture of the schema. Every change here comes with an Alembic revision."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from feedback.db import UTCDateTime
from feedback.fingerprint import fingerprint
from feedback.schema import SCHEMA_HEAD  # noqa: F401 (re-exported: the head these models correspond to)
from feedback.states import CANDIDATE_STATUSES, GENERATION_STATUSES, NOTIFICATION_STATES, POST_STATES

if TYPE_CHECKING:
    from sqlalchemy.engine.default import DefaultExecutionContext

# Stable constraint names so Alembic batch migrations on SQLite can find them again.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PLATFORMS = ("outbox", "x", "instagram", "mastodon", "bluesky")
# photo: captions for a user's photo; textmeme: a text placed on its best template; story: a thread
GENERATORS = ("meme", "post", "manual", "photo", "textmeme", "story")
PART_STATES = ("pending", "sending", "published")


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict] = {datetime: UTCDateTime(), dict[str, Any]: JSON, list[Any]: JSON}


class Account(Base):
    __tablename__ = "accounts"
    __table_args__ = (CheckConstraint(_in("platform", PLATFORMS), name="platform"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    platform: Mapped[str] = mapped_column(String(16))
    handle: Mapped[str | None] = mapped_column(String(128))
    hashtag_cap: Mapped[int] = mapped_column(Integer, default=5)
    paused_until: Mapped[datetime | None]
    pause_reason: Mapped[str | None] = mapped_column(Text)
    paused_at: Mapped[datetime | None]  # when the current pause began (one notice per pause)
    created_at: Mapped[datetime]


class Template(Base):
    __tablename__ = "templates"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(128), unique=True)
    name: Mapped[str] = mapped_column(String(256))
    image_path: Mapped[str] = mapped_column(Text)
    image_sha256: Mapped[str] = mapped_column(String(64))
    boxes: Mapped[list[Any]] = mapped_column(default=list)
    created_at: Mapped[datetime]


class Generation(Base):
    __tablename__ = "generations"
    __table_args__ = (
        CheckConstraint(_in("generator", GENERATORS), name="generator"),
        CheckConstraint(_in("status", GENERATION_STATUSES), name="status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    generator: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(64), default="")
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    seed: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[str] = mapped_column(String(16), default="running")
    error: Mapped[str | None] = mapped_column(Text)
    timings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


def _text_norm_default(context: DefaultExecutionContext) -> str:
    return fingerprint(context.get_current_parameters()["text"])[0]


def _text_tokens_default(context: DefaultExecutionContext) -> bytes:
    return fingerprint(context.get_current_parameters()["text"])[1]


class Candidate(Base):
    __tablename__ = "candidates"
    __table_args__ = (
        CheckConstraint(_in("status", CANDIDATE_STATUSES), name="status"),
        CheckConstraint(_in("generator", GENERATORS), name="generator"),
        Index("ix_candidates_status_score", "status", "predicted_score"),
        Index("ix_candidates_group_key", "group_key"),
        Index("ix_candidates_created_at", "created_at"),
        # Covering indexes for the dashboard's approval views (migration 0002).
        Index("ix_candidates_stats", "account_id", "generator", "model_version", "status"),
        Index("ix_candidates_stats_day", "account_id", "created_at", "status"),
        # The review order, walked by the web admin's board pages (migration 0007).
        Index("ix_candidates_review_order", "status", text("predicted_score DESC"), text("beam_score DESC"),
              "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    generation_id: Mapped[int | None] = mapped_column(ForeignKey("generations.id"))
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    template_id: Mapped[int | None] = mapped_column(ForeignKey("templates.id"))
    generator: Mapped[str] = mapped_column(String(16))
    model_version: Mapped[str] = mapped_column(String(64), default="")
    group_key: Mapped[str | None] = mapped_column(String(64))
    beam_rank: Mapped[int | None]
    beam_score: Mapped[float | None] = mapped_column(Float)
    text: Mapped[str] = mapped_column(Text)
    original_text: Mapped[str] = mapped_column(Text)
    # The duplicate guard's fingerprint of ``text`` (feedback.fingerprint; migration 0010): computed
    # on insert, rewritten by an edit, NULL (= compute from the text) after any other text change.
    text_norm: Mapped[str | None] = mapped_column(Text, default=_text_norm_default)
    text_tokens: Mapped[bytes | None] = mapped_column(LargeBinary, default=_text_tokens_default)
    tone: Mapped[str | None] = mapped_column(String(32))
    audience: Mapped[str | None] = mapped_column(String(32))
    gan_seed: Mapped[int | None] = mapped_column(BigInteger)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    image_path: Mapped[str | None] = mapped_column(Text)
    source_image_path: Mapped[str | None] = mapped_column(Text)
    image_sha256: Mapped[str | None] = mapped_column(String(64))
    image_phash: Mapped[str | None] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    status_reason: Mapped[str | None] = mapped_column(Text)
    # The pipeline gate that refused it (migration i23a): preflight | truth | internals | fluency |
    # siblings | safety; NULL when none did (and for candidates stored before the gates).
    filter_gate: Mapped[str | None] = mapped_column(String(16))
    offers_used: Mapped[list[str] | None] = mapped_column(JSON)  # the brand profile's offers it carries
    predicted_score: Mapped[float | None] = mapped_column(Float)
    predicted_explain: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # a photo caption's or story's reading of its photo: the class or topic, and how sure (0..1)
    read_as: Mapped[str | None] = mapped_column(String(200))
    read_confidence: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    version: Mapped[int] = mapped_column(Integer, default=1)

    account: Mapped[Account | None] = relationship()
    template: Mapped[Template | None] = relationship()


class Review(Base):
    """Append-only audit log of every human (or demo auto-) decision on a candidate."""

    __tablename__ = "reviews"

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    action: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(64))
    before_text: Mapped[str | None] = mapped_column(Text)
    after_text: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]


class Post(Base):
    __tablename__ = "posts"
    __table_args__ = (
        UniqueConstraint("candidate_id", "account_id", name="uq_posts_candidate_account"),
        CheckConstraint(_in("state", POST_STATES), name="state"),
        Index("ix_posts_state_due", "state", "next_attempt_at"),
        Index("ix_posts_account_state", "account_id", "state"),
        # The poll selection and the duplicate guard read only recent posts (migration 0004).
        Index("ix_posts_published_at", "published_at"),
        Index("ix_posts_scheduled_at", "scheduled_at"),
        # An account's latest scheduled post: where approve's next free slot starts (migration 0007).
        Index("ix_posts_account_state_scheduled", "account_id", "state", "scheduled_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    state: Mapped[str] = mapped_column(String(16), default="scheduled")
    scheduled_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime]
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_expires_at: Mapped[datetime | None]
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    marker: Mapped[str] = mapped_column(String(64), unique=True)
    remote_id: Mapped[str | None] = mapped_column(String(128))
    remote_url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    error_class: Mapped[str | None] = mapped_column(String(64))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    candidate: Mapped[Candidate] = relationship()
    account: Mapped[Account] = relationship()


class ThreadPart(Base):
    """One part of a story thread (generator 'story') as the writer wrote it, with what regenerates
    it (seed, steer). The thread as reviewed and posted is the candidate's text: its parts joined by
    blank lines, so every review action (edit included) keeps working on it (migration 0009)."""

    __tablename__ = "thread_parts"
    __table_args__ = (UniqueConstraint("candidate_id", "position", name="uq_thread_parts_candidate_position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"))
    position: Mapped[int]
    original_text: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class PostPart(Base):
    """Publishing state of one thread part of one post: each part goes out exactly once, in order,
    and a publish that stopped between parts resumes at the first part not yet out."""

    __tablename__ = "post_parts"
    __table_args__ = (UniqueConstraint("post_id", "position", name="uq_post_parts_post_position"),
                      CheckConstraint(_in("state", PART_STATES), name="state"))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    position: Mapped[int]
    state: Mapped[str] = mapped_column(String(16), default="pending")
    marker: Mapped[str] = mapped_column(String(80), unique=True)
    remote_id: Mapped[str | None] = mapped_column(String(128))
    remote_url: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class _Counts:
    """Engagement counters of one reading; NULL = unknown or hidden by the platform (never -1)."""

    likes: Mapped[int | None]
    reposts: Mapped[int | None]
    replies: Mapped[int | None]
    quotes: Mapped[int | None]
    impressions: Mapped[int | None]
    bookmarks: Mapped[int | None]
    comments: Mapped[int | None]
    views: Mapped[int | None]


class MetricSnapshot(_Counts, Base):
    """One poll of one post. Counts are NULL when unknown or hidden (never -1). Never overwritten."""

    __tablename__ = "metric_snapshots"
    __table_args__ = (Index("ix_metric_snapshots_post_taken", "post_id", "taken_at"),
                      Index("ix_metric_snapshots_post_age", "post_id", "age_s"))

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"))
    taken_at: Mapped[datetime]
    age_s: Mapped[int]
    raw: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class PostMetricsLatest(_Counts, Base):
    """Each post's newest snapshot, kept by a database trigger on metric_snapshots inserts (migration
    0002) so the dashboard reads one row per post. Derived data: never written by the code."""

    __tablename__ = "post_metrics_latest"

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True, autoincrement=False)
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("metric_snapshots.id"))
    taken_at: Mapped[datetime]
    age_s: Mapped[int]


class PostOutcome(_Counts, Base):
    """Each published post's engagement at the learning age, kept as snapshots arrive (migration
    0005): the first snapshot at or after ``ranking.engagement_age``, or while the post is younger,
    its newest one (``final`` false). ``features``/``target``/``weight``/``applied_step`` record how
    the reading was folded into the learning state, so a maturer reading can replace it exactly."""

    __tablename__ = "post_outcomes"
    __table_args__ = (Index("ix_post_outcomes_account_published", "account_id", "published_at"),)

    post_id: Mapped[int] = mapped_column(ForeignKey("posts.id"), primary_key=True, autoincrement=False)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    published_at: Mapped[datetime]
    snapshot_id: Mapped[int] = mapped_column(ForeignKey("metric_snapshots.id"))
    age_s: Mapped[int]
    final: Mapped[bool]
    features: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    target: Mapped[float | None] = mapped_column(Float)
    weight: Mapped[float | None] = mapped_column(Float)
    applied_step: Mapped[float | None] = mapped_column(Float)


class ImportedPost(_Counts, Base):
    """One of an account's own posts from before memeloop (or beside it), read by `memeloop accounts
    import-history` with its public counters at ``read_at`` (NULL = not reported, never -1). Not a
    candidate and never in the post state machine: the ranker learns from it (warm start) and the
    best-time model from when it went out (migration i25)."""

    __tablename__ = "imported_posts"
    __table_args__ = (UniqueConstraint("account_id", "remote_id", name="uq_imported_posts_account_remote"),
                      Index("ix_imported_posts_account_created", "account_id", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    remote_id: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime]
    text: Mapped[str] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    media_count: Mapped[int] = mapped_column(Integer, default=0)
    read_at: Mapped[datetime]
    imported_at: Mapped[datetime]
    # the library template its picture was recognised as (NULL: no picture, unreadable, or none), and
    # the best template's score when a picture was compared (migration r25_warm)
    template: Mapped[str | None] = mapped_column(String(128))
    template_score: Mapped[float | None] = mapped_column(Float)
    # the tone and audience its caption reads as (generator/textgen/style.py, the writer's labels); NULL:
    # not sure, or not read yet (migration r25_style)
    tone: Mapped[str | None] = mapped_column(String(32))
    audience: Mapped[str | None] = mapped_column(String(32))


class HistoryImport(Base):
    """Where an account's history import stands: the cursor of the next page while a run is
    unfinished (limit reached, rate limited, stopped), and the newest post a finished pass reached,
    so the next run only reads what is newer (migration i25)."""

    __tablename__ = "history_imports"

    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"), primary_key=True, autoincrement=False)
    cursor: Mapped[str | None] = mapped_column(Text)
    since: Mapped[datetime | None]
    newest_at: Mapped[datetime | None]  # the newest post of the pass in progress
    done_until: Mapped[datetime | None]  # every post up to here was read by a finished pass
    imported: Mapped[int] = mapped_column(Integer, default=0)
    skipped_own: Mapped[int] = mapped_column(Integer, default=0)
    resume_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime]


class LearningState(Base):
    """The ranker's persisted sufficient statistics (one row per model), folded into incrementally.

    ``fingerprint`` names the settings it was learned under (engagement weights and age, baseline
    size, model version): a change rebuilds it from post_outcomes once."""

    __tablename__ = "learning_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    state: Mapped[bytes] = mapped_column(LargeBinary)
    last_review_id: Mapped[int] = mapped_column(Integer, default=0)
    observations: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime]


class RateLimit(Base):
    __tablename__ = "rate_limits"
    __table_args__ = (UniqueConstraint("account_id", "endpoint", name="uq_rate_limits_account_endpoint"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id"))
    endpoint: Mapped[str] = mapped_column(String(128))
    limit: Mapped[int | None]
    remaining: Mapped[int | None]
    reset_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class Heartbeat(Base):
    __tablename__ = "heartbeats"

    process: Mapped[str] = mapped_column(String(128), primary_key=True)
    role: Mapped[str] = mapped_column(String(32))
    pid: Mapped[int]
    host: Mapped[str] = mapped_column(String(128))
    started_at: Mapped[datetime]
    beat_at: Mapped[datetime]
    jobs: Mapped[dict[str, Any]] = mapped_column(default=dict)


class JobState(Base):
    """Per periodic scheduler job: its trigger's signature and its last and next run (bot.runtime.daemon)."""

    __tablename__ = "job_state"

    id: Mapped[str] = mapped_column(String(128), primary_key=True)
    signature: Mapped[str] = mapped_column(String(512))
    last_run_at: Mapped[datetime | None]
    next_run_at: Mapped[datetime | None]
    updated_at: Mapped[datetime]


class EngagementWeight(Base):
    """The configured engagement weights (ranking.weights), synced at start like accounts, so the
    dashboard's SQL views compute engagement exactly as the ranker does."""

    __tablename__ = "engagement_weights"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    weight: Mapped[float] = mapped_column(Float)


class WebUser(Base):
    """An admin of the web admin: a name and a salted password hash (bot/web/auth.py), never the password."""

    __tablename__ = "web_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime]
    last_login_at: Mapped[datetime | None]
    # admin (everything, users, accounts), editor (review, edit, schedule), viewer (read only)
    role: Mapped[str] = mapped_column(String(16), server_default="admin")


class WebSession(Base):
    """A logged-in web session: only the SHA-256 of the cookie's random token is stored. No user
    (NULL) is the operator who logged in with the one-time token printed at start (an admin)."""

    __tablename__ = "web_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("web_users.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    seen_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    flash: Mapped[str | None] = mapped_column(Text)


class ReviewLink(Base):
    """A review link for one candidate, thread or post: its holder approves or rejects once, without an
    account. Only the SHA-256 of its random token is stored; it expires and can be revoked."""

    __tablename__ = "review_links"
    __table_args__ = (CheckConstraint("kind IN ('candidate', 'thread', 'post')", name="kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    label: Mapped[str] = mapped_column(String(48))
    kind: Mapped[str] = mapped_column(String(16))
    candidate_id: Mapped[int] = mapped_column(ForeignKey("candidates.id"), index=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("posts.id"))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]
    used_at: Mapped[datetime | None]
    decision: Mapped[str | None] = mapped_column(String(16))
    comment: Mapped[str | None] = mapped_column(Text)


class _RawCounters:
    """The raw engagement counters the dashboard tables keep (0 when unknown; weights apply when read)."""

    likes: Mapped[int] = mapped_column(BigInteger)
    reposts: Mapped[int] = mapped_column(BigInteger)
    replies: Mapped[int] = mapped_column(BigInteger)
    quotes: Mapped[int] = mapped_column(BigInteger)
    bookmarks: Mapped[int] = mapped_column(BigInteger)
    comments: Mapped[int] = mapped_column(BigInteger)


class PostFacts(_RawCounters, Base):
    """One row per published post: breakdown keys (NULL stored as '' or -1), the newest snapshot's
    raw counters (0 when unknown) and engagement under the current weights. Derived data, kept by
    triggers (migration 0008) from posts, candidates and post_metrics_latest; never written by the
    code except the weight refresh."""

    __tablename__ = "post_facts"
    __table_args__ = (
        Index("ix_post_facts_engagement", "engagement"),
        Index("ix_post_facts_account", "account_id", "engagement"),
        Index("ix_post_facts_generator", "account_id", "generator", "engagement"),
        Index("ix_post_facts_template", "account_id", "template_id", "engagement"),
        Index("ix_post_facts_beam_rank", "account_id", "beam_rank", "engagement"),
        Index("ix_post_facts_tone", "account_id", "tone", "engagement"),
        Index("ix_post_facts_audience", "account_id", "audience", "engagement"),
        Index("ix_post_facts_hour", "account_id", "hour", "engagement"),
        Index("ix_post_facts_day", "account_id", "day", "engagement"),
        Index("ix_post_facts_model", "account_id", "generator", "model_version", "engagement"),
    )

    post_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    account_id: Mapped[int]
    generator: Mapped[str] = mapped_column(String(64))
    model_version: Mapped[str] = mapped_column(String(64))
    template_id: Mapped[int]
    beam_rank: Mapped[int]
    tone: Mapped[str] = mapped_column(String(32))
    audience: Mapped[str] = mapped_column(String(32))
    day: Mapped[str] = mapped_column(String(10))
    hour: Mapped[int]
    measured: Mapped[int]
    engagement: Mapped[float | None] = mapped_column(Float)


class EngagementRollup(_RawCounters, Base):
    """Per dashboard breakdown (dimension), account and key: post count, measured count and the sum
    of each raw counter (weights apply when read), and the best post's engagement. Kept by
    triggers on post_facts (migration 0008)."""

    __tablename__ = "engagement_rollup"

    dimension: Mapped[str] = mapped_column(String(16), primary_key=True)
    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    k_int: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    k_text: Mapped[str] = mapped_column(String(64), primary_key=True)
    k_text2: Mapped[str] = mapped_column(String(64), primary_key=True)
    posts: Mapped[int] = mapped_column(BigInteger)
    measured: Mapped[int] = mapped_column(BigInteger)
    best: Mapped[float | None] = mapped_column(Float)


class ApprovalRollup(Base):
    """Reviewer decisions counted per account/generator/model version (kind 'model') and per
    account/day (kind 'day'); account 0 = none. Kept by triggers on candidates and reviews."""

    __tablename__ = "approval_rollup"

    kind: Mapped[str] = mapped_column(String(8), primary_key=True)
    account_id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    generator: Mapped[str] = mapped_column(String(16), primary_key=True)
    model_version: Mapped[str] = mapped_column(String(64), primary_key=True)
    day: Mapped[str] = mapped_column(String(10), primary_key=True)
    candidates: Mapped[int] = mapped_column(BigInteger)
    approved: Mapped[int] = mapped_column(BigInteger)
    rejected: Mapped[int] = mapped_column(BigInteger)
    pending: Mapped[int] = mapped_column(BigInteger)
    filtered: Mapped[int] = mapped_column(BigInteger)
    duplicate: Mapped[int] = mapped_column(BigInteger)
    edited: Mapped[int] = mapped_column(BigInteger)


class Notification(Base):
    """The durable outbox of webhook notices (bot/service/notify.py): one row per (webhook, event key),
    so an event found twice is told once; delivered by a scheduled job with retries and backoff. The
    payload is the event's data with every known secret value replaced (never a token or password)."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("webhook", "key", name="uq_notifications_webhook_key"),
        CheckConstraint(_in("state", NOTIFICATION_STATES), name="state"),
        Index("ix_notifications_state_due", "state", "next_attempt_at"),
        Index("ix_notifications_event_created", "event", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    webhook: Mapped[str] = mapped_column(String(40))
    event: Mapped[str] = mapped_column(String(32))
    key: Mapped[str] = mapped_column(String(200))
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    state: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_expires_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]
