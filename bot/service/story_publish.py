"""Publishing a story thread: every part exactly once, in order, resuming at the next part.

The post row is claimed, settled and reconciled like any other (bot.service.publishing); inside one claim
the parts go out one by one. Each part has its own row (post_parts): it is marked 'sending' and
committed BEFORE the platform is called, and 'published' with its remote id right after. So after
a crash (or a kill -9) between parts, the next attempt skips the published parts and continues
with the next one; a part left 'sending' (the crash hit while it was in flight) is looked up on the
platform by its marker or text and only sent again when it is not there.

A publisher that takes threads (``Publisher.threads``: X, Mastodon, Bluesky; the outbox records the
same chain) gets a reply chain, each part answering the previous one. Instagram cannot chain posts of
one image: the thread goes out as ONE caption with its numbered parts (the carousel is not built yet).
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.core.kinds import content_kind, platform_texts
from bot.publishers.base import (
    DuplicatePost,
    PermanentPublishError,
    Published,
    PublishError,
    TransientPublishError,
    takes_threads,
)
from feedback.repository import threads

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.config import AccountConfig
    from bot.core.deps import Deps
    from bot.publishers.base import MetricsReading, Publisher, RemotePost
    from bot.service.publishing import Job
    from feedback.models import Post
    from feedback.polling import Counts
    from generator.platforms import PreparedPost

log = logging.getLogger(__name__)
LOOKBACK = timedelta(days=2)


def as_single_post(job: Job, platform: str) -> Job:
    """The thread as one post holding every numbered part (a platform without reply chains)."""
    return replace(job, text=platform_texts(content_kind(job.generator), job.text, platform, threads=False)[0])


def _text_only(platform: str, text: str) -> PreparedPost:
    from generator.platforms import PreparedPost

    return PreparedPost(platform, b"", "", text, "", 0, 0, ())


def publish_thread(deps: Deps, job: Job, account: AccountConfig, publisher: Publisher) -> Published:
    """Send the parts not yet out, as a reply chain; returns the first part as the post's remote id.
    Errors propagate to the caller's failure handling once the part's own state is recorded."""
    from bot.service.publishing import prepare_post

    if not takes_threads(publisher):
        raise PermanentPublishError(f"post {job.post_id}: {publisher.platform} takes no threads; "
                                    "it gets the thread as one post")

    texts = platform_texts(content_kind(job.generator), job.text, account.platform, threads=True)
    with deps.tx() as session:
        rows = [(r.id, r.position, r.state, r.marker, r.remote_id, r.remote_url, r.published_at)
                for r in threads.post_parts(session, job.post_id, len(texts), job.marker, deps.clock())]
    if len(rows) != len(texts):
        raise PermanentPublishError(f"post {job.post_id}: {len(rows)} parts were started but the thread now has "
                                    f"{len(texts)}; cancel it and approve it again")
    out: list[Published] = []
    for part_id, position, state, marker, remote_id, url, published_at in rows:
        if state == "published":
            out.append(Published(remote_id or "", url, published_at or deps.clock()))
            continue
        previous = out[-1].remote_id if out else None
        if state == "sending":
            found = _look_up(publisher, marker, texts[position], since=job_since(deps, job))
            if found is not None:
                out.append(_settle_part(deps, part_id, found.remote_id, found.url, found.created_at, job, position))
                continue
        post = prepare_post(account, replace(job, text=texts[0])) if position == 0 else \
            _text_only(account.platform, texts[position])
        with deps.tx() as session:
            threads.mark_sending(session, part_id, deps.clock())
        meta = {"post_id": job.post_id, "candidate_id": job.candidate_id, "template": job.template,
                "generator": job.generator, "part": position + 1, "parts": len(texts)}
        try:
            result = publisher.publish(post, marker=marker, meta=meta, reply_to=previous)
        except PublishError as exc:
            maybe_sent = isinstance(exc, DuplicatePost) or (isinstance(exc, TransientPublishError) and exc.maybe_sent)
            if not maybe_sent:  # provably not posted: the part may go out on the next attempt
                with deps.tx() as session:
                    threads.mark_pending(session, part_id, deps.clock())
            raise
        out.append(_settle_part(deps, part_id, result.remote_id, result.url, result.published_at, job, position,
                                notes=result.notes))
    first = out[0]
    notes = tuple(n for p in out for n in p.notes)
    return Published(first.remote_id, first.url, first.published_at, notes)


def job_since(deps: Deps, job: Job) -> datetime:
    """How far back a part left 'sending' is looked for (a retry comes within the lease + backoff)."""
    return deps.clock() - LOOKBACK


def _settle_part(deps: Deps, part_id: int, remote_id: str, url: str | None, published_at: datetime, job: Job,
                 position: int, notes: tuple[str, ...] = ()) -> Published:
    with deps.tx() as session:
        threads.mark_published(session, part_id, remote_id=remote_id, url=url, published_at=published_at,
                               now=deps.clock())
    log.info("event=thread_part_published post=%s part=%d remote_id=%s", job.post_id, position + 1, remote_id)
    return Published(remote_id, url, published_at, notes)


def _look_up(publisher: Publisher, marker: str, text: str, *, since: datetime) -> RemotePost | None:
    from bot.publishers.matching import find_match

    remote = publisher.find_recent(since=since, limit=100)
    return find_match(remote, marker=marker, texts={_normal(text)}, since=since, taken=set())


def _normal(text: str) -> str:
    from bot.publishers.matching import normalise

    return normalise(text)


def reconcile_thread(deps: Deps, post: Post, job: Job, remote: Sequence[RemotePost], now: datetime) -> int:
    """An unconfirmed thread: parts found on the platform count as out; all out -> published (as its
    first part), else due again to resume at the next part (failed once out of attempts)."""
    from bot.service.publishing import _settle_published
    from feedback.repository import posts as posts_repo

    all_out = settle_thread(deps, post, job, remote, now) == "published"
    with deps.tx() as session:
        if all_out:
            first = threads.parts_of(session, post.id)[0]
            result = Published(remote_id=first.remote_id or "", url=first.remote_url,
                               published_at=first.published_at or now)
            moved = _settle_published(session, post.id, post.candidate_id, owner=None, result=result, now=now)
            outcome = "published"
        elif post.lease_expires_at is not None and post.lease_expires_at > now:
            return 0
        elif post.attempts >= deps.config.publishing.max_attempts:
            moved, outcome = posts_repo.mark_failed(
                session, post.id, owner=None, error_class="not_found", now=now, from_states=("unconfirmed",),
                error=f"thread not complete after {post.attempts} attempts"), "failed"
        else:
            moved, outcome = posts_repo.mark_retry(
                session, post.id, owner=None, at=now, error_class="resume", now=now, from_states=("unconfirmed",),
                error="thread incomplete; resumes at its next part"), "resume"
    log.info("event=reconciled post=%s account=%s outcome=%s thread=yes moved=%s", post.id, job.account, outcome,
             moved)
    return int(moved)


def settle_thread(deps: Deps, post: Post, job: Job, remote: Sequence[RemotePost], now: datetime) -> str:
    """Reconciliation of an unconfirmed thread, part by part: parts left 'sending' that are on the
    platform become published; then the post is published (every part out) or due again (it
    resumes at the next part). Returns the outcome."""
    from bot.publishers.matching import find_match

    texts = platform_texts(content_kind(job.generator), job.text, deps.config.account(job.account).platform,
                           threads=True)
    with deps.tx() as session:
        rows = threads.parts_of(session, post.id)
        for row in rows:
            if row.state != "sending" or row.position >= len(texts):
                continue
            found = find_match(remote, marker=row.marker, texts={_normal(texts[row.position])},
                               since=post.scheduled_at - LOOKBACK, taken=set())
            if found is not None:
                threads.mark_published(session, row.id, remote_id=found.remote_id, url=found.url,
                                       published_at=found.created_at, now=now)
        states = [r.state for r in threads.parts_of(session, post.id)]
    if rows and len(states) == len(texts) and all(s == "published" for s in states):
        return "published"
    return "resume"


# -- engagement: polled per part, rolled up per thread ----------------------------------------

def part_remote_ids(session: Session, post_ids: Sequence[int]) -> dict[int, list[str]]:
    """Remote ids of every published part, by post, for the posts that are threads."""
    from sqlalchemy import select

    from feedback.models import PostPart

    out: dict[int, list[str]] = {}
    rows = session.execute(select(PostPart.post_id, PostPart.remote_id).where(
        PostPart.post_id.in_(list(post_ids)), PostPart.state == "published").order_by(PostPart.post_id,
                                                                                     PostPart.position))
    for post_id, remote_id in rows:
        if remote_id:
            out.setdefault(post_id, []).append(remote_id)
    return out


def roll_up(readings: Sequence[MetricsReading | None], remote_ids: Sequence[str]
            ) -> tuple[Counts, dict[str, Any]]:
    """A thread's counts: each counter summed over its parts (unknown where no part knows it), and
    the per-part readings kept in the snapshot's raw JSON."""
    from feedback.polling import COUNT_FIELDS, Counts

    known = [r for r in readings if r is not None]
    totals = {}
    for name in COUNT_FIELDS:
        values = [getattr(Counts.of(r), name) for r in known]
        values = [v for v in values if v is not None]
        totals[name] = sum(values) if values else None
    parts = [{"remote_id": rid, **({k: getattr(Counts.of(r), k) for k in COUNT_FIELDS} if r is not None else {})}
             for rid, r in zip(remote_ids, readings)]
    return Counts(**totals), {"thread_parts": parts}
