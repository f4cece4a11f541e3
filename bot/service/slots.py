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


def hour_ranges(hours: Sequence[int]) -> str:
    """[8, 9, 10, 14] -> "08-10, 14" (whole hours, as best_hours lists them)."""
    spans: list[list[int]] = []
    for h in sorted(set(hours)):
        if spans and h == spans[-1][1] + 1:
            spans[-1][1] = h
        else:
            spans.append([h, h])
    return ", ".join(f"{a:02d}" if a == b else f"{a:02d}-{b:02d}" for a, b in spans)


def target_problem(account: AccountConfig, at: datetime, *, now: datetime,
                   near: Sequence[tuple[int, datetime]] = ()) -> str | None:
    """Why ``at`` is no time for a post of ``account`` (None: it is fine): in the past, outside the
    account's allowed hours (``best_hours``, local), or closer than ``min_spacing`` to one of its
    other posts (``near``: (post id, time) of those within the spacing, nearest first)."""
    tz = ZoneInfo(account.timezone)
    local = at.astimezone(tz)
    if at < now:
        return "that is in the past"
    if local.hour not in account.best_hours:
        return (f"{local:%H:%M} is outside {account.name}'s allowed hours ({hour_ranges(account.best_hours)} "
                f"{account.timezone}; best_hours)")
    for post_id, other in near:
        if abs(other - at) < account.min_spacing:
            gap = int(abs(other - at).total_seconds() // 60)
            return (f"post {post_id} is at {other.astimezone(tz):%Y-%m-%d %H:%M}, {gap} min away; {account.name} keeps "
                    f"{_duration(account.min_spacing)} between posts (min_spacing)")
    return None


def _duration(value: timedelta) -> str:
    minutes = int(value.total_seconds() // 60)
    return f"{minutes // 60} h" + (f" {minutes % 60} min" if minutes % 60 else "") if minutes >= 60 else f"{minutes} min"


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
