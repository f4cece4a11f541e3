"""Publishing: approve -> schedule -> claim -> publish -> record, exactly once.

A worker claims one due post (one conditional UPDATE, committed) BEFORE it calls the platform and
records the outcome after. Only errors that prove nothing was posted are retried (with backoff, up
to publishing.max_attempts); anything that may have reached the platform leaves the post
'unconfirmed' until `reconcile_unconfirmed` has looked on the platform.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from threading import Event
from typing import TYPE_CHECKING, Any

from bot.config import AccountConfig, ConfigError
from bot.core.deps import Deps
from bot.core.kinds import content_kind
from bot.publishers.base import (
    AuthError,
    ChallengeRequired,
    DuplicatePost,
    PermanentPublishError,
    Published,
    PublishError,
    RateLimited,
    TransientPublishError,
    backoff_delay,
)
from bot.service.slots import next_slot
from feedback import Conflict
from feedback.models import Post
from feedback.repository import accounts as account_repo
from feedback.repository import candidates as cand_repo
from feedback.repository import posts as posts_repo
from feedback.repository import ratelimits, reviews
from generator import GeneratorError
from generator.alttext import labels_of

if TYPE_CHECKING:
    from PIL import Image
    from sqlalchemy.orm import Session

    from bot.publishers.base import Publisher
    from generator.platforms import PreparedPost

log = logging.getLogger(__name__)

RECONCILE_MARGIN = timedelta(hours=1)  # a match may be this much older than its slot (clock skew, early run)


@dataclass
class PublishSummary:
    published: int = 0
    retried: int = 0
    unconfirmed: int = 0
    failed: int = 0
    paused: int = 0
    post_ids: list[int] = field(default_factory=list)
    retry_at: datetime | None = None  # the earliest time a post of this run was put back for

    @property
    def claimed(self) -> int:
        return self.published + self.retried + self.unconfirmed + self.failed + self.paused

    def count(self, outcome: Outcome) -> None:
        if outcome is Outcome.PUBLISHED:
            self.published += 1
        elif outcome is Outcome.RETRIED:
            self.retried += 1
        elif outcome is Outcome.UNCONFIRMED:
            self.unconfirmed += 1
        elif outcome is Outcome.FAILED:
            self.failed += 1
        else:
            self.paused += 1


class Outcome(StrEnum):
    """How one publish attempt ended (a PublishSummary counter each)."""

    PUBLISHED = "published"
    RETRIED = "retried"
    UNCONFIRMED = "unconfirmed"
    FAILED = "failed"
    PAUSED = "paused"


@dataclass(frozen=True)
class Job:
    """What one publish attempt needs, read in the claiming transaction."""

    post_id: int
    account: str
    account_id: int
    candidate_id: int
    marker: str
    attempts: int
    text: str
    image_path: str | None
    template: str | None
    template_name: str | None
    generator: str
    labels: tuple[str, ...] | None = None  # what a photo may be said to show (alttext.labels_of); None: no photo
    gan: bool = False  # the image is a GAN's (posts; stories of gan:SEED)


def _job_of(session: Session, deps: Deps, post: Post) -> Job:
    cand = cand_repo.get_candidate(session, post.candidate_id)
    name = deps.account_name(post.account_id) or f"#{post.account_id}"
    return Job(post_id=post.id, account=name, account_id=post.account_id, candidate_id=cand.id,
               marker=post.marker, attempts=post.attempts, text=cand.text, image_path=cand.image_path,
               template=cand.template.slug if cand.template else None,
               template_name=cand.template.name if cand.template else None, generator=cand.generator,
               labels=labels_of(cand.params), gan=cand.gan_seed is not None)


def prepare_post(account: AccountConfig, job: Job) -> PreparedPost:
    """The platform-ready post (generator.platforms preflight) from the candidate's rendered image."""
    from PIL import Image

    if not job.image_path:
        raise PermanentPublishError(f"candidate {job.candidate_id} has no image to post")
    try:
        with Image.open(job.image_path) as image:
            image.load()
    except OSError as exc:
        raise PermanentPublishError(f"candidate {job.candidate_id}: cannot read image {job.image_path}: "
                                    f"{exc}") from exc
    alt = describe(job.generator, job.text, template_name=job.template_name, labels=job.labels, image=image,
                   gan=job.gan)
    return prepare_for(account, image, job.text, template_name=job.template_name, alt_text=alt)


def prepare_for(account: AccountConfig, image: Image.Image, text: str, *, template_name: str | None = None,
                alt_text: str | None = None) -> PreparedPost:
    """The account's platform preflight of (image, text): the ONE call both publishing and the
    generation pipeline's publishability gate make. Raises generator.PreflightError."""
    from generator.platforms import prepare

    options: dict[str, object] = {"alt_text": alt_text}
    if account.platform in ("x", "mastodon", "bluesky"):
        options["template_name"] = template_name
    elif account.platform == "instagram":
        options["hashtag_cap"] = account.hashtag_cap
    return prepare(account.platform, image, text, **options)


def describe(generator: str, text: str, **what: Any) -> str:
    """Alt text for a candidate's image (generator.alttext): per kind, no hashtags."""
    from generator.alttext import describe as alt

    return alt(generator, text, **what)


# -- publish -------------------------------------------------------------------------------------

def _claim_one(deps: Deps, owner: str, now: datetime, account_ids: Sequence[int]) -> Job | None:
    with deps.tx() as session:
        claimed = posts_repo.claim_due(session, owner=owner, now=now, lease=deps.config.publishing.lease,
                                       account_ids=account_ids, limit=1)
        if not claimed:
            return None
        return _job_of(session, deps, claimed[0])


def publish_due(deps: Deps, *, owner: str, now: datetime | None = None, limit: int | None = None,
                stop: Event | None = None) -> PublishSummary:
    """Claim and publish due posts one at a time until none is due, ``limit`` were handled, or
    ``stop`` is set (checked between claims, never in the middle of one)."""
    summary = PublishSummary()
    enabled = [deps.account_ids[a.name] for a in deps.config.accounts if a.enabled and a.name in deps.account_ids]
    while limit is None or summary.claimed < limit:
        if stop is not None and stop.is_set():
            break
        job = _claim_one(deps, owner, now or deps.clock(), enabled)
        if job is None:
            break
        summary.post_ids.append(job.post_id)
        outcome, retry_at = _publish_job(deps, job, owner)
        summary.count(outcome)
        if retry_at is not None:
            summary.retry_at = min(summary.retry_at or retry_at, retry_at)
    if summary.claimed:
        log.info("event=publish_due owner=%s published=%d retried=%d unconfirmed=%d failed=%d paused=%d",
                 owner, summary.published, summary.retried, summary.unconfirmed, summary.failed, summary.paused)
    return summary


def _publish_job(deps: Deps, job: Job, owner: str) -> tuple[Outcome, datetime | None]:
    """One attempt; returns the PublishSummary field to count it under, and the retry time if any."""
    acc = deps.config.account(job.account)
    publisher = None
    try:
        publisher = deps.publisher(job.account)
        if content_kind(job.generator).thread:  # part by part (bot/service/story_publish.py)
            from bot.service import story_publish

            if publisher.threads:
                result = story_publish.publish_thread(deps, job, acc, publisher)
                _record_published(deps, job, owner, result, publisher)
                return Outcome.PUBLISHED, None
            job = story_publish.as_single_post(job, acc.platform)
        prepared = prepare_post(acc, job)
        meta = {"post_id": job.post_id, "candidate_id": job.candidate_id, "template": job.template,
                "generator": job.generator}
        result = publisher.publish(prepared, marker=job.marker, meta=meta)
    except PublishError as exc:
        return _record_failure(deps, job, owner, exc, publisher)
    except ConfigError as exc:  # missing secrets: the account cannot post until the admin fixes it
        return _record_failure(deps, job, owner, AuthError(str(exc)), publisher)
    except GeneratorError as exc:  # preflight: this image/text can never be made valid for the platform
        return _record_failure(deps, job, owner, PermanentPublishError(f"preflight: {exc}"), publisher)
    _record_published(deps, job, owner, result, publisher)
    return Outcome.PUBLISHED, None


def _store_rate_limits(session: Session, deps: Deps, account_id: int, publisher: Publisher | None, now: datetime) -> None:
    if publisher is None:
        return
    for reading in publisher.drain_rate_limits():
        ratelimits.record(session, account_id=account_id, endpoint=reading.endpoint, limit=reading.limit,
                          remaining=reading.remaining, reset_at=reading.reset_at, now=now)


def _settle_published(session: Session, job_post_id: int, candidate_id: int, *, owner: str | None, result: Published,
                      now: datetime) -> bool:
    note = "; ".join(result.notes) or None
    moved = posts_repo.mark_published(session, job_post_id, owner=owner, remote_id=result.remote_id,
                                      url=result.url, published_at=result.published_at, now=now, note=note)
    if note:
        log.warning("event=published_with_note post=%s note=%s", job_post_id, note)
    if moved:
        try:
            reviews.mark(session, candidate_id, status="posted", actor="publisher", now=now,
                         reason=f"post {job_post_id} published as {result.remote_id}", allowed_from=("approved",))
        except Conflict as exc:  # the post is out either way; say so rather than undo it
            log.warning("event=candidate_not_marked_posted candidate=%s reason=%s", candidate_id, exc)
    return moved


def _record_published(deps: Deps, job: Job, owner: str, result: Published, publisher: Publisher) -> None:
    now = deps.clock()
    with deps.tx() as session:
        moved = _settle_published(session, job.post_id, job.candidate_id, owner=owner, result=result, now=now)
        _store_rate_limits(session, deps, job.account_id, publisher, now)
    if not moved:
        log.error("event=published_but_moved post=%s remote_id=%s hint=someone_else_changed_the_post",
                  job.post_id, result.remote_id)
    log.info("event=post_published post=%s account=%s remote_id=%s", job.post_id, job.account, result.remote_id)


def _record_failure(deps: Deps, job: Job, owner: str, exc: PublishError,
                    publisher: Publisher | None) -> tuple[Outcome, datetime | None]:
    now = deps.clock()
    cfg = deps.config.publishing
    error = str(exc)
    at = None
    with deps.tx() as session:
        _store_rate_limits(session, deps, job.account_id, publisher, now)
        if isinstance(exc, AuthError | ChallengeRequired):
            until = exc.pause_until if isinstance(exc, ChallengeRequired) else None
            account_repo.pause(session, job.account_id, until, error, now)
            outcome, moved = Outcome.PAUSED, posts_repo.mark_retry(
                session, job.post_id, owner=owner, at=now, error_class=exc.error_class, error=error, now=now,
                refund_attempt=True)
        elif isinstance(exc, RateLimited):
            at = exc.retry_at
            outcome, moved = Outcome.RETRIED, posts_repo.mark_retry(
                session, job.post_id, owner=owner, at=exc.retry_at, error_class=exc.error_class, error=error,
                now=now, refund_attempt=True)
        elif isinstance(exc, TransientPublishError) and exc.maybe_sent or isinstance(exc, DuplicatePost):
            # DuplicatePost: maybe our own earlier attempt; reconciliation looks before anyone decides
            settle = now + (cfg.lease if isinstance(exc, TransientPublishError) else timedelta(0))
            outcome, moved = Outcome.UNCONFIRMED, posts_repo.mark_unconfirmed(
                session, job.post_id, owner=owner, error_class=exc.error_class, error=error, now=now,
                settle_after=settle)
        elif isinstance(exc, TransientPublishError) and job.attempts < cfg.max_attempts:
            at = now + backoff_delay(job.attempts, cfg.backoff, cfg.max_backoff)
            outcome, moved = Outcome.RETRIED, posts_repo.mark_retry(
                session, job.post_id, owner=owner, at=at, error_class=exc.error_class, error=error, now=now)
        else:
            if isinstance(exc, TransientPublishError):
                error = f"gave up after {job.attempts} attempts: {error}"
            outcome, moved = Outcome.FAILED, posts_repo.mark_failed(
                session, job.post_id, owner=owner, error_class=exc.error_class, error=error, now=now)
    level = logging.WARNING if outcome in (Outcome.PAUSED, Outcome.FAILED, Outcome.UNCONFIRMED) else logging.INFO
    log.log(level, "event=publish_%s post=%s account=%s error_class=%s moved=%s error=%s", outcome, job.post_id,
            job.account, exc.error_class, moved, error)
    return outcome, at if outcome is Outcome.RETRIED else None


# -- reconcile + sweep ---------------------------------------------------------------------------

def reconcile_unconfirmed(deps: Deps, *, now: datetime | None = None) -> int:
    """Settle posts whose fate is unknown by looking on the platform: found (by marker, or by text
    since shortly before its slot) -> published; not there -> scheduled again (or failed when out of
    attempts, or when the platform called it a duplicate of someone else's post). Returns how many
    were settled. Expired leases become unconfirmed first."""
    now = now or deps.clock()
    release_dead_owners(deps, now=now)
    with deps.tx() as session:
        expired = posts_repo.expire_leases(session, now=now)
        waiting = posts_repo.unconfirmed(session)
        jobs = {p.id: _job_of(session, deps, p) for p in waiting}
    if expired:
        log.warning("event=leases_expired count=%d", expired)
    settled = 0
    for account_id in sorted({p.account_id for p in waiting}):
        posts = [p for p in waiting if p.account_id == account_id]
        name = jobs[posts[0].id].account
        if name not in {a.name for a in deps.config.accounts}:
            continue
        publisher = None
        try:
            publisher = deps.publisher(name)
            since = min(p.scheduled_at for p in posts) - RECONCILE_MARGIN
            remote = publisher.find_recent(since=since, limit=max(100, 3 * len(posts)))
        except (PublishError, ConfigError) as exc:
            log.warning("event=reconcile_skipped account=%s error=%s", name, exc)
            with deps.tx() as session:
                _store_rate_limits(session, deps, account_id, publisher, now)
            continue
        with deps.tx() as session:
            _store_rate_limits(session, deps, account_id, publisher, now)
            taken = posts_repo.remote_ids_taken(session, account_id)
        for post in posts:
            settled += _settle_one(deps, post, jobs[post.id], remote, taken, now, threads=publisher.threads)
    return settled


def release_dead_owners(deps: Deps, *, now: datetime) -> int:
    """Posts claimed by a process of this host that is gone (bot.core.owners: host + pid + start time)
    go to reconcile at once instead of waiting out their lease; other hosts' leases keep the lease rule."""
    from bot.core.owners import gone_on_this_host

    with deps.tx() as session:
        dead = sorted(o for o in posts_repo.publishing_owners(session) if gone_on_this_host(o))
        ids = posts_repo.release_to_reconcile(
            session, owners=dead, now=now, error_class="owner_gone",
            reason="its publishing process on this host is gone; reconcile looks on the platform")
    if ids:
        log.warning("event=dead_owner_leases_released owners=%s posts=%s", ",".join(dead), ids)
    return len(ids)


def release_in_flight(deps: Deps, *, owner: str) -> list[int]:
    """On a stop that could not wait for a platform call: this process's publishing posts become
    unconfirmed, settled by the next reconcile at once (found on the platform -> published; not
    there -> scheduled again). The call may still finish before the process exits: mark_published
    settles an unconfirmed post too."""
    now = deps.clock()
    with deps.tx() as session:
        ids = posts_repo.release_to_reconcile(
            session, owners=[owner], now=now, error_class="stopped",
            reason="the service stopped during the platform call; reconcile looks on the platform")
    if ids:
        log.warning("event=publish_released_on_stop owner=%s posts=%s", owner, ids)
    return ids


def _settle_one(deps: Deps, post: Post, job: Job, remote: Sequence, taken: set[str], now: datetime, *,
                threads: bool) -> int:
    from bot.publishers.matching import expected_texts, find_match

    if content_kind(job.generator).thread:  # a thread is settled part by part
        from bot.service import story_publish

        if threads:  # the account's publisher took it as a chain
            return story_publish.reconcile_thread(deps, post, job, remote, now)
    texts = expected_texts(job.text, lambda: prepare_post(deps.config.account(job.account), job).text)
    match = find_match(remote, marker=post.marker, texts=texts, since=post.scheduled_at - RECONCILE_MARGIN,
                       taken=taken)
    cfg = deps.config.publishing
    with deps.tx() as session:
        if match is not None:
            result = Published(remote_id=match.remote_id, url=match.url, published_at=match.created_at)
            moved = _settle_published(session, post.id, post.candidate_id, owner=None, result=result, now=now)
            taken.add(match.remote_id)
            outcome = "published"
        elif post.lease_expires_at is not None and post.lease_expires_at > now:
            return 0  # the platform may still be catching up; look again next time
        elif post.error_class == "duplicate" or post.attempts >= cfg.max_attempts:
            why = ("the platform refused it as a duplicate and it is not among our recent posts"
                   if post.error_class == "duplicate" else f"not on the platform after {post.attempts} attempts")
            moved = posts_repo.mark_failed(session, post.id, owner=None, error_class="not_found", error=why,
                                           now=now, from_states=("unconfirmed",))
            outcome = "failed"
        else:
            moved = posts_repo.mark_retry(session, post.id, owner=None, at=now, error_class="not_found",
                                          error="not on the platform; scheduled again", now=now,
                                          from_states=("unconfirmed",))
            outcome = "rescheduled"
    log.info("event=reconciled post=%s account=%s outcome=%s moved=%s", post.id, job.account, outcome, moved)
    return int(moved)


def sweep_missed(deps: Deps, *, now: datetime | None = None) -> int:
    """Slots that passed while the service was down: a post still within publishing.late_window is
    left due (it goes out late); older ones move to the account's next slot. Returns how many moved."""
    now = now or deps.clock()
    moved = 0
    with deps.tx() as session:
        for post in posts_repo.missed(session, before=now - deps.config.publishing.late_window):
            name = deps.account_name(post.account_id)
            if name is None:
                continue
            at = next_slot(deps.config.account(name), now)
            if posts_repo.reschedule(session, post.id, at=at, now=now):
                moved += 1
                log.info("event=post_moved_to_next_slot post=%s account=%s missed=%s at=%s", post.id, name,
                         post.scheduled_at.isoformat(), at.isoformat())
    return moved
