"""The one way a time is shown, in the CLI, the web admin and notices: ISO 8601 to the minute with its
UTC offset, in the account's time zone (``2026-12-06T09:00+01:00``); a time that belongs to no account
(a heartbeat, a generation) in the scheduler's zone. Stored times stay aware UTC; only showing converts."""
from __future__ import annotations

from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    from bot.config import Config

EMPTY = "-"


@lru_cache(maxsize=64)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def iso(value: datetime | None, tz: str | None = None, *, precise: bool = False) -> str:
    """``value`` as ISO 8601 with its offset, in zone ``tz`` (default UTC): to the minute for people,
    with seconds (``precise``: JSON and CSV, what a program reads back); None -> "-"."""
    if value is None:
        return EMPTY
    return value.astimezone(_zone(tz or "UTC")).isoformat(timespec="seconds" if precise else "minutes")


def zone_of(config: Config, account: str | None) -> str:
    """The time zone a time of ``account`` is shown in: the account's, else the scheduler's."""
    if account:
        for acc in config.accounts:
            if acc.name == account:
                return acc.timezone
    return config.scheduler.timezone
