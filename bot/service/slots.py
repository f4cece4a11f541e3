"""Posting slots: when an account may post next. Pure functions over config values and `now`."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.config import AccountConfig


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
