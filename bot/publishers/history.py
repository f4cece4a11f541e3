"""A page of an account's own past posts, as a publisher reads them for `accounts import-history`.

Publishers that can read their account's history implement
``fetch_history(*, since: datetime | None, cursor: str | None, limit: int) -> HistoryPage``:
newest first, at most ``limit`` items, ``cursor`` from the previous page (None = start at the
newest), ``since`` = stop at posts older than this. Counters the network does not report are None.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class HistoryItem:
    remote_id: str
    created_at: datetime  # aware (UTC)
    text: str
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    impressions: int | None = None
    media_count: int = 0
    url: str | None = None


@dataclass(frozen=True)
class HistoryPage:
    items: tuple[HistoryItem, ...]
    next_cursor: str | None  # None: there are no older posts
