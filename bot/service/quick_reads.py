"""Reads that need no built Deps: the queue of a SQLite file straight through sqlite3 (no ORM, no
pydantic once the config text is known valid), for the admin CLI's cold start. Reached through
App.quick_queue."""
from __future__ import annotations

from datetime import UTC, datetime

from bot.config.paths import known_valid, remember_valid, storage_url
from feedback.queue_sql import QueueRow, read_queue, sqlite_file


def queue(config_path: str | None, *, statuses: tuple[str, ...], account: str | None, limit: int | None
          ) -> list[QueueRow] | None:
    """None when the storage is not a plain SQLite file, the file is missing or its schema is not the
    code's: the caller then takes the full path. The config is fully validated once per config text
    (ConfigError names the key; cached by content hash, bot.config.paths.known_valid)."""
    url = storage_url(config_path)
    db = sqlite_file(url) if url else None
    if db is None:
        return None
    if not known_valid(config_path):
        from bot.config import load_config

        load_config(config_path)
        remember_valid(config_path)
    return read_queue(db, datetime.now(UTC), statuses, account=account, limit=limit)
