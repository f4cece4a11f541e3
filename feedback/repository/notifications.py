"""The webhook outbox (table notifications) and the reads that find what to tell.

A row is one notice for one webhook; (webhook, key) is unique, so an event found by two scans, two
processes or two runs is stored once. Delivery claims a row with one conditional UPDATE (a lease), as
posts are claimed, so two processes never send the same row at the same time.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from feedback.db import affected
from feedback.models import Account, Candidate, Heartbeat, Notification, Post
from feedback.repository.leadership import LEASE_ROLE
from feedback.states import CandidateStatus, NotificationState, PostState


@dataclass(frozen=True)
class Row:
    id: int
    webhook: str
    event: str
    key: str
    payload: dict[str, Any]
    state: str
    attempts: int
    next_attempt_at: datetime
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None


def _row(n: Notification) -> Row:
    return Row(n.id, n.webhook, n.event, n.key, dict(n.payload or {}), n.state, n.attempts, n.next_attempt_at,
               n.last_error, n.created_at, n.sent_at)


def add(session: Session, *, webhook: str, event: str, key: str, payload: dict[str, Any], now: datetime) -> bool:
    """Store a notice unless this webhook already has one with this key; True when stored."""
    exists = select(Notification.id).where(Notification.webhook == webhook, Notification.key == key)
    if session.scalar(exists) is not None:
        return False
    try:
        with session.begin_nested():
            session.add(Notification(webhook=webhook, event=event, key=key[:200], payload=payload,
                                     state=NotificationState.PENDING, attempts=0, next_attempt_at=now,
                                     created_at=now))
    except IntegrityError:  # another process stored it between our look and our insert
        return False
    return True


def known(session: Session, keys: list[str]) -> set[tuple[str, str]]:
    """(webhook, key) of the stored notices among ``keys`` (one read per 500 keys)."""
    out: set[tuple[str, str]] = set()
    for i in range(0, len(keys), 500):
        chunk = keys[i:i + 500]
        out |= {(w, k) for w, k in session.execute(select(Notification.webhook, Notification.key)
                                                     .where(Notification.key.in_(chunk)))}
    return out


def add_many(session: Session, rows: list[tuple[str, str, str, dict[str, Any]]], *, now: datetime) -> int:
    """Store (webhook, event, key, payload) rows not stored yet; the ones another process stored first are
    skipped. Returns how many were stored."""
    try:
        with session.begin_nested():
            session.add_all(Notification(webhook=w, event=e, key=k[:200], payload=p, state=NotificationState.PENDING,
                                         attempts=0, next_attempt_at=now, created_at=now) for w, e, k, p in rows)
        return len(rows)
    except IntegrityError:  # a race with another scanner: one by one, skipping what it stored
        return sum(add(session, webhook=w, event=e, key=k, payload=p, now=now) for w, e, k, p in rows)


def due_ids(session: Session, *, now: datetime, limit: int) -> list[int]:
    rows = session.scalars(
        select(Notification.id).where(Notification.state == NotificationState.PENDING,
                                      Notification.next_attempt_at <= now,
                                      or_(Notification.lease_expires_at.is_(None),
                                          Notification.lease_expires_at <= now))
        .order_by(Notification.next_attempt_at, Notification.id).limit(limit))
    return list(rows)


def claim(session: Session, notice_id: int, *, now: datetime, lease: timedelta) -> Row | None:
    """Take one due row for a delivery attempt (None: someone else has it or it is no longer due)."""
    moved = affected(session.execute(
        update(Notification).where(Notification.id == notice_id, Notification.state == NotificationState.PENDING,
                                   or_(Notification.lease_expires_at.is_(None), Notification.lease_expires_at <= now))
        .values(lease_expires_at=now + lease, attempts=Notification.attempts + 1)))
    if not moved:
        return None
    row = session.get(Notification, notice_id)
    assert row is not None
    session.refresh(row)
    return _row(row)


def sent(session: Session, notice_id: int, *, now: datetime) -> None:
    session.execute(update(Notification).where(Notification.id == notice_id)
                    .values(state=NotificationState.SENT, sent_at=now, lease_expires_at=None, last_error=None))


def retry(session: Session, notice_id: int, *, at: datetime, error: str) -> None:
    session.execute(update(Notification).where(Notification.id == notice_id)
                    .values(next_attempt_at=at, lease_expires_at=None, last_error=error[:1000]))


def give_up(session: Session, notice_id: int, *, error: str) -> None:
    session.execute(update(Notification).where(Notification.id == notice_id)
                    .values(state=NotificationState.FAILED, lease_expires_at=None, last_error=error[:1000]))


def prune(session: Session, *, before: datetime) -> int:
    """Forget sent and given-up notices created before ``before`` (pending ones stay)."""
    return affected(session.execute(delete(Notification).where(
        Notification.state != NotificationState.PENDING, Notification.created_at < before)))


def recent(session: Session, *, limit: int, states: tuple[str, ...] | None = None) -> list[Row]:
    query = select(Notification).order_by(Notification.id.desc()).limit(limit)
    if states:
        query = query.where(Notification.state.in_(states))
    return [_row(n) for n in session.scalars(query)]


def count_by_state(session: Session) -> dict[str, int]:
    rows = session.execute(select(Notification.state, func.count()).group_by(Notification.state)).all()
    return {state: int(n) for state, n in rows}


def latest(session: Session, event: str) -> Row | None:
    n = session.scalar(select(Notification).where(Notification.event == event)
                       .order_by(Notification.created_at.desc(), Notification.id.desc()).limit(1))
    return _row(n) if n is not None else None


# -- what to tell ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Waiting:
    """Candidates waiting for review: how many per account (None: no account) and the newest id."""

    per_account: dict[str | None, int]
    newest_id: int

    @property
    def total(self) -> int:
        return sum(self.per_account.values())


def waiting_for_review(session: Session) -> Waiting | None:
    # grouped on the candidates' status index alone; the few account names are read after
    rows = session.execute(
        select(Candidate.account_id, func.count(Candidate.id), func.max(Candidate.id))
        .where(Candidate.status == CandidateStatus.PENDING).group_by(Candidate.account_id)).all()
    if not rows:
        return None
    names: dict[int, str] = {i: n for i, n in session.execute(select(Account.id, Account.name))}
    per: dict[str | None, int] = {}
    for account_id, count, _ in rows:
        name = names.get(account_id) if account_id is not None else None
        per[name] = per.get(name, 0) + int(count)
    return Waiting(per, max(int(newest) for _, _, newest in rows))


@dataclass(frozen=True)
class PostIssue:
    post_id: int
    account: str
    candidate_id: int
    text: str
    state: str
    attempts: int
    error_class: str | None
    last_error: str | None
    scheduled_at: datetime
    updated_at: datetime


def _issues(session: Session, *conditions: Any) -> list[PostIssue]:
    rows = session.execute(
        select(Post.id, Account.name, Post.candidate_id, Candidate.text, Post.state, Post.attempts, Post.error_class,
               Post.last_error, Post.scheduled_at, Post.updated_at)
        .join(Account, Account.id == Post.account_id).join(Candidate, Candidate.id == Post.candidate_id)
        .where(*conditions).order_by(Post.id).limit(200)).all()
    return [PostIssue(post_id=r[0], account=r[1], candidate_id=r[2], text=r[3], state=r[4], attempts=r[5],
                      error_class=r[6], last_error=r[7], scheduled_at=r[8], updated_at=r[9]) for r in rows]


def failed_posts(session: Session, *, since: datetime) -> list[PostIssue]:
    """Posts that failed (for good) at or after ``since``."""
    return _issues(session, Post.state == PostState.FAILED, Post.updated_at >= since)


def unconfirmed_posts(session: Session, *, older_than: datetime, since: datetime) -> list[PostIssue]:
    """Posts unconfirmed since before ``older_than`` (and not before ``since``)."""
    return _issues(session, Post.state == PostState.UNCONFIRMED, Post.updated_at <= older_than,
                   Post.updated_at >= since)


@dataclass(frozen=True)
class Paused:
    account: str
    paused_until: datetime
    paused_at: datetime | None
    reason: str | None


def paused_accounts(session: Session, *, now: datetime) -> list[Paused]:
    rows = session.scalars(select(Account).where(Account.paused_until.is_not(None), Account.paused_until > now)
                           .order_by(Account.name))
    return [Paused(a.name, a.paused_until, a.paused_at, a.pause_reason) for a in rows if a.paused_until]


@dataclass(frozen=True)
class Silent:
    """A process whose heartbeat stopped: it died or hangs (a clean stop removes its row)."""

    process: str
    role: str
    beat_at: datetime
    started_at: datetime


def silent_processes(session: Session, *, beat_before: datetime, since: datetime,
                     except_process: str | None = None) -> list[Silent]:
    rows = session.scalars(select(Heartbeat).where(Heartbeat.role != LEASE_ROLE, Heartbeat.beat_at < beat_before,
                                                   Heartbeat.beat_at >= since).order_by(Heartbeat.process))
    return [Silent(h.process, h.role, h.beat_at, h.started_at) for h in rows if h.process != except_process]
