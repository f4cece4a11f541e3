"""Web admin users: names and password hashes (hashing itself lives with the web admin)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedback import Conflict
from feedback.models import WebUser


def add_user(session: Session, name: str, password_hash: str, *, now: datetime, replace: bool = False) -> WebUser:
    """A new user; an existing name is a Conflict unless ``replace`` (a password reset)."""
    row = session.scalars(select(WebUser).where(WebUser.name == name)).one_or_none()
    if row is not None and not replace:
        raise Conflict(f"web user {name!r} already exists (use --reset to set a new password)")
    if row is None:
        row = WebUser(name=name, password_hash=password_hash, created_at=now)
        session.add(row)
    else:
        row.password_hash = password_hash
    session.flush()
    return row


def password_hash(session: Session, name: str) -> str | None:
    return session.scalars(select(WebUser.password_hash).where(WebUser.name == name)).one_or_none()


def mark_login(session: Session, name: str, *, now: datetime) -> None:
    session.execute(update(WebUser).where(WebUser.name == name).values(last_login_at=now))

