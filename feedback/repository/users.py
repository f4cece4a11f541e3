"""Web admin users (names, password hashes, roles) and their logged-in sessions (only a hash of each
session's token). Hashing and the meaning of roles live with the web admin's use cases."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from feedback import Conflict, NotFound
from feedback.db import affected
from feedback.models import WebSession, WebUser


@dataclass(frozen=True)
class UserRow:
    name: str
    role: str
    created_at: datetime
    last_login_at: datetime | None
    sessions: int


@dataclass(frozen=True)
class SessionRow:
    """A live session: who (None: the one-time token's operator), their role now, and its flash message."""

    id: int
    user: str | None
    role: str | None
    seen_at: datetime
    flash: str | None


def add_user(session: Session, name: str, password_hash: str, *, now: datetime, replace: bool = False,
             role: str = "admin") -> WebUser:
    """A new user; an existing name is a Conflict unless ``replace`` (a password reset, role kept)."""
    row = session.scalars(select(WebUser).where(WebUser.name == name)).one_or_none()
    if row is not None and not replace:
        raise Conflict(f"web user {name!r} already exists (use --reset to set a new password)")
    if row is None:
        row = WebUser(name=name, password_hash=password_hash, created_at=now, role=role)
        session.add(row)
    else:
        row.password_hash = password_hash
    session.flush()
    return row


def _user(session: Session, name: str) -> WebUser:
    row = session.scalars(select(WebUser).where(WebUser.name == name)).one_or_none()
    if row is None:
        raise NotFound(f"there is no web user named {name!r} (see `memeloop users list`)")
    return row


def password_hash(session: Session, name: str) -> str | None:
    return session.scalars(select(WebUser.password_hash).where(WebUser.name == name)).one_or_none()


def mark_login(session: Session, name: str, *, now: datetime) -> int | None:
    """Record the login; returns the user's id (None: no such user)."""
    session.execute(update(WebUser).where(WebUser.name == name).values(last_login_at=now))
    return session.scalar(select(WebUser.id).where(WebUser.name == name))


def list_users(session: Session) -> list[UserRow]:
    live = (select(WebSession.user_id, func.count().label("n")).group_by(WebSession.user_id).subquery())
    rows = session.execute(select(WebUser.name, WebUser.role, WebUser.created_at, WebUser.last_login_at,
                                  func.coalesce(live.c.n, 0))
                           .outerjoin(live, live.c.user_id == WebUser.id).order_by(WebUser.name)).all()
    return [UserRow(*r) for r in rows]


def count_role(session: Session, role: str) -> int:
    return session.scalar(select(func.count()).select_from(WebUser).where(WebUser.role == role)) or 0


def role_of(session: Session, name: str) -> str:
    return _user(session, name).role


def set_role(session: Session, name: str, role: str) -> str:
    """The new role; returns the old one."""
    row = _user(session, name)
    old, row.role = row.role, role
    session.flush()
    return old


def remove_user(session: Session, name: str) -> None:
    """The user and every session of theirs."""
    row = _user(session, name)
    session.execute(delete(WebSession).where(WebSession.user_id == row.id))
    session.delete(row)
    session.flush()


# -- sessions ---------------------------------------------------------------------------------------

def add_session(session: Session, token_hash: str, *, user_id: int | None, now: datetime, expires_at: datetime
                ) -> None:
    session.add(WebSession(token_hash=token_hash, user_id=user_id, created_at=now, seen_at=now,
                           expires_at=expires_at))
    session.flush()


def live_session(session: Session, token_hash: str, *, now: datetime, idle_before: datetime
                 ) -> SessionRow | None:
    """The session with this token hash if it has neither expired nor been idle since ``idle_before``;
    an expired or idle one is deleted."""
    row = session.execute(select(WebSession.id, WebUser.name, WebUser.role, WebSession.seen_at, WebSession.flash,
                                 WebSession.expires_at, WebSession.user_id)
                          .outerjoin(WebUser, WebUser.id == WebSession.user_id)
                          .where(WebSession.token_hash == token_hash)).one_or_none()
    if row is None:
        return None
    if row.expires_at <= now or row.seen_at < idle_before:
        session.execute(delete(WebSession).where(WebSession.id == row.id))
        return None
    if row.user_id is not None and row.name is None:  # its user is gone
        return None
    return SessionRow(row.id, row.name, row.role, row.seen_at, row.flash)


def touch_session(session: Session, session_id: int, *, now: datetime) -> None:
    session.execute(update(WebSession).where(WebSession.id == session_id).values(seen_at=now))


def set_flash(session: Session, session_id: int, flash: str | None) -> None:
    session.execute(update(WebSession).where(WebSession.id == session_id).values(flash=flash))


def drop_session(session: Session, token_hash: str) -> None:
    session.execute(delete(WebSession).where(WebSession.token_hash == token_hash))


def drop_sessions_of(session: Session, name: str | None) -> int:
    """Every session of ``name`` (None: of the one-time token's operator); returns how many."""
    who = WebSession.user_id.is_(None) if name is None else WebSession.user_id == _user(session, name).id
    return affected(session.execute(delete(WebSession).where(who)))


def prune_sessions(session: Session, *, now: datetime, idle_before: datetime) -> int:
    return affected(session.execute(delete(WebSession).where(
        (WebSession.expires_at <= now) | (WebSession.seen_at < idle_before))))
