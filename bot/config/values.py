"""Value types of the config file: durations, cron expressions, time zones, HH:MM slots.

Each rejects what would crash or silently misbehave later (an infinite or overflowing duration, a
cron that never fires, a tick so short the scheduler floods), with a message naming the problem.
"""
from __future__ import annotations

import math
import re
from datetime import timedelta
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}
MAX_DURATION = timedelta(days=3650)  # beyond this, schedulers and datetime arithmetic overflow


def shown(value: object, limit: int = 40) -> str:
    """repr(value), cut short: a message names the value, it does not echo a megabyte of it."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def parse_duration(value: str | float | timedelta) -> timedelta:
    """'90s', '15m', '6h', '7d', '2w' or a number of seconds."""
    if isinstance(value, timedelta):
        return value
    if isinstance(value, bool):
        raise ValueError("expected a duration like '6h', not a boolean")  # noqa: TRY004 (pydantic needs ValueError)
    if isinstance(value, int | float):
        try:
            seconds = float(value)
        except OverflowError:  # an int beyond any float
            seconds = math.inf if value > 0 else -math.inf
    else:
        match = _DURATION.match(str(value))
        if not match:
            raise ValueError(f"{shown(value)} is not a duration (use e.g. '90s', '15m', '6h', '7d')")
        seconds = float(match.group(1)) * _UNITS[match.group(2)]
    if math.isnan(seconds):
        raise ValueError(f"duration {shown(value)} is not a number")
    if seconds <= 0:
        raise ValueError(f"duration {shown(value)} must be positive")
    if seconds > MAX_DURATION.total_seconds():
        raise ValueError(f"duration {shown(value)} is too long (at most {MAX_DURATION.days}d)")
    return timedelta(seconds=seconds)


def between(low: timedelta, high: timedelta = MAX_DURATION):
    """A check that a parsed duration lies in [low, high], saying so in duration words."""

    def check(value: timedelta) -> timedelta:
        if not low <= value <= high:
            raise ValueError(f"{words(value)} is out of range ({words(low)} to {words(high)})")
        return value

    return AfterValidator(check)


def words(value: timedelta) -> str:
    seconds = value.total_seconds()
    for unit in ("w", "d", "h", "m"):
        if seconds >= _UNITS[unit] and seconds % _UNITS[unit] == 0:
            return f"{int(seconds // _UNITS[unit])}{unit}"
    return f"{seconds:g}s"


def _check_cron(value: str) -> str:
    from datetime import UTC, datetime

    from apscheduler.triggers.cron import CronTrigger

    if not isinstance(value, str):
        raise ValueError(f"{shown(value)} is not a cron expression (a string: minute hour day month weekday)")  # noqa: TRY004
    try:
        trigger = CronTrigger.from_crontab(value, timezone="UTC")
    except ValueError as exc:
        raise ValueError(f"{shown(value)} is not a cron expression (minute hour day month weekday): {exc}") from None
    if trigger.get_next_fire_time(None, datetime.now(UTC)) is None:
        raise ValueError(f"cron {shown(value)} never fires (no such date)")
    return value


def _check_timezone(value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{shown(value)} is not a known time zone (e.g. 'UTC', 'Europe/Berlin')") from None
    return value


def _check_slot(value: str) -> str:
    match = re.fullmatch(r"([01]\d|2[0-3]):([0-5]\d)", value)
    if not match:
        raise ValueError(f"{shown(value)} is not a time of day HH:MM")
    return value


def as_list(value: object) -> object:
    """An inline table (one schedule) is a list of one, so errors name its real problem."""
    return [value] if isinstance(value, dict) else value


Duration = Annotated[timedelta, BeforeValidator(parse_duration)]
Tick = Annotated[Duration, between(timedelta(seconds=1), timedelta(hours=1))]
Interval = Annotated[Duration, between(timedelta(seconds=1))]  # a periodic job; the tick bounds how often it can run
ShortDuration = Annotated[Duration, between(timedelta(seconds=1))]
Cron = Annotated[str, BeforeValidator(_check_cron)]
TimeZone = Annotated[str, BeforeValidator(_check_timezone)]
Slot = Annotated[str, BeforeValidator(_check_slot)]
