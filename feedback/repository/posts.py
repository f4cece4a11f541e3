"""Posts: the exactly-once state machine. Every transition is a conditional UPDATE on the expected
state (zero rows = someone else moved the post: report it, never overwrite).

    scheduled --claim--> publishing --ok--> published
    publishing --proved not sent--> scheduled (later) | failed
    publishing --maybe sent / lease expired--> unconfirmed --reconcile--> published | scheduled | failed
    scheduled | failed | unconfirmed --cancel--> cancelled
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedback import Conflict, NotFound
from feedback.db import affected
from feedback.models import POST_STATES, Account, Candidate, Post
from feedback.states import CandidateStatus, PostState

SETTLED = ("published", "cancelled")


@dataclass(frozen=True)
class PostRow:
    """One line of `memeloop posts list`."""

    id: int
    state: str
    account: str
    candidate_id: int
    text: str
    scheduled_at: datetime
    next_attempt_at: datetime
    attempts: int
    remote_id: str | None
    remote_url: str | None
    published_at: datetime | None
    error_class: str | None
    last_error: str | None


def new_marker() -> str:
    return f"ml-{secrets.token_hex(8)}"


def schedule_post(session: Session, *, candidate_id: int, account_id: int, at: datetime, now: datetime) -> Post:
    """A post in state 'scheduled' with a fresh unique marker. A cancelled post of the same candidate
    and account is revived (the row is unique per pair); any other existing post is a Conflict."""
    existing = session.scalar(select(Post).where(Post.candidate_id == candidate_id,
                                                 Post.account_id == account_id))
    if existing is not None:
        if existing.state != PostState.CANCELLED or not _move(
                session, existing.id, from_states=(PostState.CANCELLED,), state=PostState.SCHEDULED,
                scheduled_at=at, next_attempt_at=at, attempts=0, marker=new_marker(), lease_owner=None,
                lease_expires_at=None, error_class=None, last_error=None, updated_at=now):
            raise Conflict(f"candidate {candidate_id} already has post {existing.id} ({existing.state}) "
                           f"for this account")
        return get_post(session, existing.id)
    row = Post(candidate_id=candidate_id, account_id=account_id, state=PostState.SCHEDULED, scheduled_at=at,
               next_attempt_at=at, attempts=0, marker=new_marker(), created_at=now, updated_at=now)
    session.add(row)
    session.flush()
    return row


def post_of(session: Session, candidate_id: int, account_id: int | None = None) -> Post | None:
    """The candidate's post (for ``account_id``; else its most recent one), read fresh."""
    query = select(Post).where(Post.candidate_id == candidate_id)
    if account_id is not None:
        query = query.where(Post.account_id == account_id)
    return session.scalar(query.order_by(Post.id.desc()).limit(1).execution_options(populate_existing=True))


def get_post(session: Session, post_id: int) -> Post:
    row = session.get(Post, post_id, populate_existing=True)
    if row is None:
        raise NotFound(f"post {post_id} does not exist")
    return row


def claim_due(session: Session, *, owner: str, now: datetime, lease: timedelta,
              account_ids: Sequence[int] | None = None, limit: int = 1) -> list[Post]:
    """Move up to ``limit`` due posts to 'publishing' under ``owner``'s lease with ONE conditional
    UPDATE. The caller commits before calling the platform. On PostgreSQL the pick uses
    FOR UPDATE SKIP LOCKED so concurrent workers never wait on, or take, the same row."""
    paused = select(Account.id).where(Account.paused_until.is_not(None), Account.paused_until > now)
    # Only an approved candidate's post goes out: a reject that raced the schedule can never publish.
    pick = (select(Post.id)
            .join(Candidate, Candidate.id == Post.candidate_id)
            .where(Post.state == "scheduled", Post.next_attempt_at <= now, Post.account_id.not_in(paused),
                   Candidate.status == CandidateStatus.APPROVED)
            .order_by(Post.next_attempt_at, Post.id)
            .limit(limit)
            .with_for_update(skip_locked=True, of=Post))
    if account_ids is not None:
        pick = pick.where(Post.account_id.in_(list(account_ids)))
    # A CTE runs once. As a plain IN (subquery) PostgreSQL may re-run the locking pick while the
    # UPDATE proceeds, skip the rows this very statement just changed, and claim more than `limit`.
    picked = pick.cte("pick").prefix_with("MATERIALIZED", dialect="postgresql")
    claimed = session.execute(
        update(Post)
        .where(Post.id.in_(select(picked.c.id)), Post.state == "scheduled")
        .values(state="publishing", lease_owner=owner, lease_expires_at=now + lease,
                attempts=Post.attempts + 1, updated_at=now)
        .returning(Post.id)
        .execution_options(synchronize_session=False)
    ).scalars().all()
    if not claimed:
        return []
    return list(session.scalars(select(Post).where(Post.id.in_(claimed)).order_by(Post.next_attempt_at, Post.id)
                                .execution_options(populate_existing=True)))


def _move(session: Session, post_id: int, *, from_states: tuple[str, ...], owner: str | None = None,
          **values: Any) -> bool:
    """The one conditional UPDATE every transition goes through; False when the post was elsewhere."""
    query = update(Post).where(Post.id == post_id, Post.state.in_(from_states))
    if owner is not None:
        query = query.where(Post.lease_owner == owner)
    result = session.execute(query.values(**values).execution_options(synchronize_session=False))
    return affected(result) == 1


def mark_published(session: Session, post_id: int, *, owner: str | None, remote_id: str, url: str | None,
                   published_at: datetime, now: datetime, note: str | None = None) -> bool:
    """Publishing (under ``owner``'s lease) or unconfirmed -> published. Proof of publication wins
    over a lost lease, so an unconfirmed post is settled too. ``note``: what was given up on the way
    (kept in last_error, with no error class: the post itself succeeded)."""
    values: dict[str, Any] = {"state": "published", "remote_id": remote_id, "remote_url": url,
                                 "published_at": published_at,
              "lease_owner": None, "lease_expires_at": None, "error_class": None,
              "last_error": note[:2000] if note else None, "updated_at": now}
    return (_move(session, post_id, from_states=("publishing",), owner=owner, **values)
            or _move(session, post_id, from_states=("unconfirmed",), **values))


def mark_retry(session: Session, post_id: int, *, owner: str | None, at: datetime, error_class: str,
               error: str, now: datetime, refund_attempt: bool = False,
               from_states: tuple[str, ...] = ("publishing",)) -> bool:
    """Proved not sent -> scheduled again at ``at``. ``refund_attempt`` for waits that are not the
    post's fault (rate limit, paused account)."""
    values = {"state": "scheduled", "next_attempt_at": at, "lease_owner": None, "lease_expires_at": None,
              "error_class": error_class, "last_error": error[:2000], "updated_at": now}
    if refund_attempt:
        values["attempts"] = Post.attempts - 1
    return _move(session, post_id, from_states=from_states, owner=owner, **values)


def mark_failed(session: Session, post_id: int, *, owner: str | None, error_class: str, error: str,
                now: datetime, from_states: tuple[str, ...] = ("publishing",)) -> bool:
    return _move(session, post_id, from_states=from_states, owner=owner, state="failed", lease_owner=None,
                 lease_expires_at=None, error_class=error_class, last_error=error[:2000], updated_at=now)


def mark_unconfirmed(session: Session, post_id: int, *, owner: str | None, error_class: str, error: str,
                     now: datetime, settle_after: datetime) -> bool:
    """Maybe sent -> unconfirmed. Nobody may conclude "not sent" before ``settle_after`` (kept in
    lease_expires_at) so a slow platform gets time to show the post."""
    return _move(session, post_id, from_states=("publishing",), owner=owner, state="unconfirmed",
                 lease_owner=None, lease_expires_at=settle_after, error_class=error_class,
                 last_error=error[:2000], updated_at=now)


def expire_leases(session: Session, *, now: datetime) -> int:
    """Publishing posts whose worker vanished (crash, kill, hang) become unconfirmed."""
    result = session.execute(
        update(Post)
        .where(Post.state == "publishing", Post.lease_expires_at < now)
        .values(state="unconfirmed", lease_owner=None, error_class="lease_expired",
                last_error="the publishing worker stopped before recording an outcome", updated_at=now)
        .execution_options(synchronize_session=False))
    return affected(result)


def publishing_owners(session: Session) -> set[str]:
    """The lease owners of posts being published now."""
    return set(session.scalars(select(Post.lease_owner).where(Post.state == "publishing",
                                                              Post.lease_owner.is_not(None)).distinct()))


def release_to_reconcile(session: Session, *, owners: Sequence[str], now: datetime, error_class: str,
                         reason: str) -> list[int]:
    """Publishing posts of ``owners`` (a stopped or dead process) -> unconfirmed, to be settled by the
    next reconcile at once (nothing to wait for: their worker is gone). Returns their ids."""
    if not owners:
        return []
    return list(session.execute(
        update(Post)
        .where(Post.state == "publishing", Post.lease_owner.in_(list(owners)))
        .values(state="unconfirmed", lease_owner=None, lease_expires_at=now, error_class=error_class,
                last_error=reason[:2000], updated_at=now)
        .returning(Post.id)
        .execution_options(synchronize_session=False)).scalars())


def retry(session: Session, post_id: int, *, at: datetime, now: datetime, reason: str) -> bool:
    """Failed or unconfirmed -> scheduled at ``at`` with a fresh attempt budget (conditional)."""
    return _move(session, post_id, from_states=(PostState.FAILED, PostState.UNCONFIRMED), state=PostState.SCHEDULED,
                 next_attempt_at=at, attempts=0, lease_owner=None, lease_expires_at=None, error_class="admin_retry",
                 last_error=reason, updated_at=now)


def reset_to_scheduled(session: Session, post_id: int, *, at: datetime, now: datetime, reason: str) -> Post:
    """Admin retry: failed or unconfirmed -> scheduled with a fresh attempt budget."""
    row = get_post(session, post_id)
    if row.state not in ("failed", "unconfirmed"):
        raise Conflict(f"post {post_id} is {row.state}; only failed or unconfirmed posts can be retried")
    if not _move(session, post_id, from_states=(row.state,), state="scheduled", next_attempt_at=at,
                 attempts=0, lease_owner=None, lease_expires_at=None, error_class="admin_retry",
                 last_error=reason, updated_at=now):
        raise Conflict(f"post {post_id} was changed by someone else; look again and retry")
    return get_post(session, post_id)


def cancel(session: Session, post_id: int, *, now: datetime, reason: str,
           from_states: tuple[str, ...] = (PostState.SCHEDULED, PostState.FAILED)) -> bool:
    """Not claimed (scheduled or failed) -> cancelled; False when the post was elsewhere by then."""
    return _move(session, post_id, from_states=from_states, state=PostState.CANCELLED,
                 lease_owner=None, lease_expires_at=None, error_class="cancelled", last_error=reason,
                 updated_at=now)


def hold(session: Session, post_id: int, *, now: datetime) -> bool:
    """Touch an unclaimed (scheduled or failed) post, so a change to its candidate commits only if no
    worker claimed the post first (PostgreSQL waits on the claim's row lock, then sees the new state)."""
    return _move(session, post_id, from_states=(PostState.SCHEDULED, PostState.FAILED), updated_at=now)


def reschedule(session: Session, post_id: int, *, at: datetime, now: datetime) -> bool:
    """A scheduled post moves to ``at`` (a slot missed during downtime, or a reviewer's new time)."""
    return _move(session, post_id, from_states=("scheduled",), scheduled_at=at, next_attempt_at=at,
                 updated_at=now)


def unconfirmed(session: Session, *, account_id: int | None = None) -> list[Post]:
    query = select(Post).where(Post.state == "unconfirmed").order_by(Post.scheduled_at, Post.id)
    if account_id is not None:
        query = query.where(Post.account_id == account_id)
    return list(session.scalars(query.execution_options(populate_existing=True)))


def missed(session: Session, *, before: datetime) -> list[Post]:
    """Scheduled posts never attempted whose time was before ``before``."""
    return list(session.scalars(select(Post).where(Post.state == "scheduled", Post.attempts == 0,
                                                   Post.next_attempt_at < before)
                                .order_by(Post.next_attempt_at, Post.id)))


def latest_scheduled_at(session: Session, account_id: int) -> datetime | None:
    return session.scalar(select(Post.scheduled_at).where(Post.account_id == account_id,
                                                          Post.state.in_(("scheduled", "publishing")))
                          .order_by(Post.scheduled_at.desc()).limit(1))


def scheduled_times(session: Session, account_id: int, *, after: datetime) -> list[datetime]:
    """When the account's posts that are still to go out (or going) are planned, from ``after`` on."""
    return list(session.scalars(select(Post.scheduled_at).where(Post.account_id == account_id,
                                                                Post.state.in_(("scheduled", "publishing")),
                                                                Post.scheduled_at >= after)))


def scheduled_near(session: Session, account_id: int, *, at: datetime, within: timedelta,
                   exclude: int | None = None) -> list[tuple[int, datetime]]:
    """(id, time) of the account's posts still to go out (or going) less than ``within`` from ``at``,
    nearest first; ``exclude``: the post being moved."""
    query = select(Post.id, Post.scheduled_at).where(
        Post.account_id == account_id, Post.state.in_(("scheduled", "publishing")),
        Post.scheduled_at > at - within, Post.scheduled_at < at + within)
    if exclude is not None:
        query = query.where(Post.id != exclude)
    rows = [(pid, t) for pid, t in session.execute(query)]
    return sorted(rows, key=lambda r: abs(r[1] - at))


def remote_ids_taken(session: Session, account_id: int) -> set[str]:
    return set(session.scalars(select(Post.remote_id).where(Post.account_id == account_id,
                                                            Post.remote_id.is_not(None))))


def _check_states(states: Sequence[str]) -> None:
    unknown = [s for s in states if s not in POST_STATES]
    if unknown:
        raise NotFound(f"unknown post state {unknown[0]!r} (use one of: {', '.join(POST_STATES)})")


def list_posts(session: Session, *, states: Sequence[str] | None = None, account: str | None = None,
               limit: int | None = None) -> list[PostRow]:
    """Posts, newest schedule first."""
    query = (select(Post, Account.name, Candidate.text)
             .join(Account, Post.account_id == Account.id)
             .join(Candidate, Post.candidate_id == Candidate.id)
             .order_by(Post.scheduled_at.desc(), Post.id.desc()))
    if states:
        _check_states(states)
        query = query.where(Post.state.in_(list(states)))
    if account:
        query = query.where(Account.name == account)
    if limit:
        query = query.limit(limit)
    return [PostRow(id=p.id, state=p.state, account=name, candidate_id=p.candidate_id, text=text,
                    scheduled_at=p.scheduled_at, next_attempt_at=p.next_attempt_at, attempts=p.attempts,
                    remote_id=p.remote_id, remote_url=p.remote_url, published_at=p.published_at,
                    error_class=p.error_class, last_error=p.last_error)
            for p, name, text in session.execute(query)]


def count_by_state(session: Session) -> dict[str, int]:
    from sqlalchemy import func

    return dict(session.execute(select(Post.state, func.count()).group_by(Post.state)).all())


def count_by_account_state(session: Session) -> dict[tuple[int, str], int]:
    from sqlalchemy import func

    rows = session.execute(select(Post.account_id, Post.state, func.count()).group_by(Post.account_id, Post.state))
    return {(account_id, state): n for account_id, state, n in rows}
