"""Reads that need no built Deps: the queue of a SQLite file straight through sqlite3 (no ORM, no
pydantic, no config validation), for the admin CLI's cold start. Reached through App.quick_queue."""
from __future__ import annotations

from datetime import UTC, datetime

from bot.config.paths import storage_url
from feedback.queue_sql import QueueRow, read_queue, sqlite_file


def queue(config_path: str | None, *, statuses: tuple[str, ...], account: str | None, limit: int | None
          ) -> list[QueueRow] | None:
    """None when the storage is not a plain SQLite file, the file is missing or its schema is not the
    code's: the caller then takes the full path."""
    url = storage_url(config_path)
    db = sqlite_file(url) if url else None
    if db is None:
        return None
    return read_queue(db, datetime.now(UTC), statuses, account=account, limit=limit)
