"""Accounts: config is the source of truth; rows are synced at start."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedback import NotFound
from feedback.models import Account


@dataclass(frozen=True)
class AccountSpec:
    name: str
    platform: str
    handle: str | None = None
    hashtag_cap: int = 5


def sync_accounts(session: Session, specs: Iterable[AccountSpec], now: datetime) -> dict[str, int]:
    """Insert or update one row per configured account; returns name -> id. Never deletes (history)."""
    ids: dict[str, int] = {}
    existing = {a.name: a for a in session.scalars(select(Account))}
    for spec in specs:
        row = existing.get(spec.name)
        if row is None:
            row = Account(name=spec.name, platform=spec.platform, handle=spec.handle,
                          hashtag_cap=spec.hashtag_cap, created_at=now)
            session.add(row)
        else:
            row.platform, row.handle, row.hashtag_cap = spec.platform, spec.handle, spec.hashtag_cap
        session.flush()
        ids[spec.name] = row.id
    return ids


def get_by_name(session: Session, name: str) -> Account:
    row = session.scalar(select(Account).where(Account.name == name))
    if row is None:
        raise NotFound(f"account {name!r} is not in the database (is it in the config?)")
    return row


def list_accounts(session: Session) -> list[Account]:
    return list(session.scalars(select(Account).order_by(Account.name)))


def pause(session: Session, account_id: int, until: datetime | None, reason: str,
          now: datetime | None = None) -> None:
    """Pause an account (None = until an admin resumes it). Far-future sentinel keeps queries simple.
    ``now``: when the pause began (each pause is told to the webhooks once)."""
    from datetime import UTC

    stop = until or datetime(9999, 1, 1, tzinfo=UTC)
    session.execute(update(Account).where(Account.id == account_id)
                    .values(paused_until=stop, pause_reason=reason, paused_at=now))


def resume(session: Session, account_id: int) -> None:
    session.execute(update(Account).where(Account.id == account_id)
                    .values(paused_until=None, pause_reason=None, paused_at=None))
