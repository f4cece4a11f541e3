"""Posting slots: when an account may post next. Pure functions over config values and `now`."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from bot.config import AccountConfig
from bot.errors import UsageError

if TYPE_CHECKING:
    import numpy as np

    from feedback.ranking.timing import Timing


def next_slot(account: AccountConfig, after: datetime) -> datetime:
    """The first posting time of ``account`` strictly after ``after`` (aware UTC in, aware UTC out).

    Slots are either ``post_cron`` or the HH:MM ``post_slots`` in the account's time zone.
    """
    tz = ZoneInfo(account.timezone)
    if account.post_cron:
        from apscheduler.triggers.cron import CronTrigger

        trigger = CronTrigger.from_crontab(account.post_cron, timezone=tz)
        fire = trigger.get_next_fire_time(None, after.astimezone(tz) + timedelta(microseconds=1))
        return fire.astimezone(UTC)
    local = after.astimezone(tz)
    times = sorted((int(s[:2]), int(s[3:])) for s in account.post_slots)
    for day in range(3):
        date = (local + timedelta(days=day)).date()
        for hour, minute in times:
            candidate = datetime(date.year, date.month, date.day, hour, minute, tzinfo=tz)
            if candidate > local:
                return candidate.astimezone(UTC)
    raise ValueError(f"account {account.name!r} has no posting slots")  # config validation prevents this


BEST_HORIZON = timedelta(days=2)  # how far ahead `approve --at best` looks


def allowed_times(account: AccountConfig, after: datetime, scheduled: Sequence[datetime],
                  horizon: timedelta = BEST_HORIZON) -> list[datetime]:
    """Whole hours after ``after`` and within ``horizon`` at which the account may post: one of its
    ``best_hours`` (local) and at least ``min_spacing`` from every post already scheduled."""
    tz = ZoneInfo(account.timezone)
    allowed = set(account.best_hours)
    t = after.astimezone(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
    out = []
    while t <= after + horizon:
        if t.astimezone(tz).hour in allowed and all(abs(t - s) >= account.min_spacing for s in scheduled):
            out.append(t)
        t += timedelta(hours=1)
    return out


def best_time(account: AccountConfig, after: datetime, scheduled: Sequence[datetime], timing: Timing,
              rng: np.random.Generator) -> datetime:
    """The allowed time whose slot (local weekday x hour) is best in one Thompson draw of the
    account's timing model: slots that might be best keep being tried; the spacing is kept."""
    tz = ZoneInfo(account.timezone)
    times = allowed_times(account, after, scheduled) or allowed_times(account, after, scheduled, timedelta(days=8))
    if not times:
        raise UsageError(f"account {account.name!r}: no allowed hour in the next 8 days is "
                         f"{account.min_spacing} away from its scheduled posts (best_hours, min_spacing)")
    slots = [(t.astimezone(tz).weekday(), t.astimezone(tz).hour) for t in times]
    return times[timing.choose(slots, rng)]
