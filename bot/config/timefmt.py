"""The one way a time is shown, in the CLI, the web admin and notices: ISO 8601 to the minute with its
UTC offset, in the account's time zone (``2026-12-06T09:00+01:00``); a time that belongs to no account
(a heartbeat, a generation) in the scheduler's zone. Stored times stay aware UTC; only showing converts.

A wall-clock time a person types (the web admin's date-and-time fields, the CLI's ``--at`` without an
offset) is read in the same zone (``from_wall``, ``typed_zone``). Daylight saving: a time the clocks skip (02:30 on a spring-forward night) is refused
with the gap named; a time that happens twice (an autumn-back hour) is its FIRST occurrence, the one
with the summer offset, and what was scheduled is shown with its offset so the choice is visible."""
from __future__ import annotations

from datetime import UTC, datetime
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


class WallTimeError(ValueError):
    """A typed wall-clock time that is not one: unreadable, or inside a daylight-saving gap."""


def from_wall(raw: str, tz: str) -> datetime:
    """``'YYYY-MM-DDTHH:MM'`` read in zone ``tz`` (or with its own UTC offset) as an aware UTC time."""
    try:
        at = datetime.fromisoformat(raw)
    except ValueError:
        raise WallTimeError(f"{raw[:40]!r} is not a date and time (YYYY-MM-DDTHH:MM, in {tz})") from None
    if at.tzinfo is not None:
        return at.astimezone(UTC)
    zone = _zone(tz)
    first = at.replace(tzinfo=zone, fold=0)
    back = first.astimezone(UTC).astimezone(zone)
    if back.replace(tzinfo=None) != at:  # the wall clock never shows this time: it jumps over it
        raise WallTimeError(f"{at:%Y-%m-%d %H:%M} does not exist in {tz}: the clocks go forward over it "
                            f"that night. Choose a time outside the gap (e.g. {back:%H:%M})")
    return first.astimezone(UTC)


def to_wall(value: datetime | None, tz: str) -> str:
    """An aware time as a date-and-time field's value in zone ``tz`` (``'YYYY-MM-DDTHH:MM'``)."""
    return "" if value is None else value.astimezone(_zone(tz)).strftime("%Y-%m-%dT%H:%M")


def zone_of(config: Config, account: str | None) -> str:
    """The time zone a time of ``account`` is shown in: the account's, else the scheduler's."""
    if account:
        for acc in config.accounts:
            if acc.name == account:
                return acc.timezone
    return config.scheduler.timezone


def typed_zone(config: Config, account: str | None) -> str:
    """The zone a time typed for ``account`` is read in: the account's; no account with exactly one
    configured (it is the one a post goes to): that one's; else the scheduler's."""
    if account is None and len(config.accounts) == 1:
        account = config.accounts[0].name
    return zone_of(config, account)
