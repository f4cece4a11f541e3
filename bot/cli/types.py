"""Command-line value types that refuse bad input at the edge with a usage error (exit 2), before
anything reaches the database: ids that fit a 64-bit column, times a scheduler can hold, captions
that are real text, and image paths that are regular files (a FIFO would block the reader forever).
"""
from __future__ import annotations

import stat
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import click

MAX_DB_ID = 2**63 - 1  # BIGINT / SQLite INTEGER
MAX_TEXT = 10_000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=3650)  # as far as a config duration may reach
PAST_GRACE = timedelta(minutes=1)  # a time this little past is "now" typed by hand
T = TypeVar("T")


class DbIdType(click.ParamType):
    """A row id: a whole number from 1 to 2^63-1."""

    name = "id"

    def convert(self, value, param, ctx) -> int:
        if isinstance(value, int) and not isinstance(value, bool):
            number = value
        else:
            try:
                number = int(str(value).strip(), 10)
            except ValueError:
                self.fail(f"{_short(value)} is not an id (a whole number like 42)", param, ctx)
        if not 1 <= number <= MAX_DB_ID:
            self.fail(f"{_short(value)} is not an id (ids run from 1 to {MAX_DB_ID})", param, ctx)
        return number


@dataclass(frozen=True)
class WallTime:
    """A time typed without a UTC offset (``--at 2026-01-05T19:00``): a wall-clock time in the zone of
    the account it is for, read once the command knows that account (``at_in``)."""

    text: str


class IsoTimeType(click.ParamType):
    """An aware UTC datetime from ISO 8601 (UTC unless an offset is given) or 'now', within a range
    a schedule can use: not before 2000, at most ``max_ahead`` from now. ``wall``: a time without an
    offset is a ``WallTime`` instead, for the command to read in the account's zone (``at_in``)."""

    name = "time"

    def __init__(self, max_ahead: timedelta = MAX_AHEAD, *, future: bool = False, wall: bool = False) -> None:
        self.max_ahead = max_ahead
        self.future = future  # a time to post at: one already past is refused, never moved to a slot
        self.wall = wall

    def convert(self, value, param, ctx) -> datetime | WallTime:  # type: ignore[override]
        if isinstance(value, datetime | WallTime):
            return value
        text = str(value).strip()
        if text.lower() == "now":
            return datetime.now(UTC)
        zone = "the account's time zone" if self.wall else "UTC"
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{_short(value)} is not a time; use ISO 8601 like 2026-01-05T19:00 "
                      f"({zone} unless an offset is given) or 'now'", param, ctx)
        if when.tzinfo is None and self.wall:
            return WallTime(text)
        try:
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:59-05:00 is past the last representable UTC time
            when = datetime.max.replace(tzinfo=UTC)
        problem = _time_problem(when, value, self.max_ahead, future=self.future)
        if problem:
            self.fail(problem, param, ctx)
        return when


def at_in(value: T | WallTime, zone: str, *, param_hint: str = "'--at'", future: bool = True) -> T | datetime:
    """``value`` with a ``WallTime`` read in ``zone`` as the web admin reads its time fields
    (bot.config.timefmt.from_wall: a time the clocks skip is refused, a repeated one is its first
    occurrence), then checked as PostTime (``future``) or PastTime checks a time with an offset;
    anything else as it is."""
    from bot.config.timefmt import WallTimeError, from_wall

    if not isinstance(value, WallTime):
        return value
    try:
        when = from_wall(value.text, zone)
    except WallTimeError as exc:
        raise click.BadParameter(str(exc), param_hint=param_hint) from None
    except OverflowError:  # year 1 or 9999 shifted out of what a datetime holds
        when = datetime.max.replace(tzinfo=UTC)
    problem = _time_problem(when, value.text, MAX_AHEAD, future=future)
    if problem:
        raise click.BadParameter(problem, param_hint=param_hint)
    return when


def _time_problem(when: datetime, value: object, max_ahead: timedelta, *, future: bool) -> str | None:
    now = datetime.now(UTC)
    if when < EARLIEST or when > now + max_ahead:
        return (f"{_short(value)} is out of range (from {EARLIEST:%Y-%m-%d} to at most "
                f"{max_ahead.days} days from now)")
    if future and when < now - PAST_GRACE:
        from bot.config.timefmt import iso

        return (f"{_short(value)} is in the past ({iso(when)}; now {iso(now)}): a post cannot go out before "
                "now. Give a later time, 'now', or leave --at out for the next free slot")
    return None


class TextType(click.ParamType):
    """Text for a caption or a note: valid Unicode (no undecodable bytes), no NUL, at most
    ``max_length`` characters, and (unless ``allow_blank``) not empty or only whitespace.
    Returned stripped of surrounding whitespace."""

    name = "text"

    def __init__(self, *, allow_blank: bool = False, max_length: int = MAX_TEXT) -> None:
        self.allow_blank, self.max_length = allow_blank, max_length

    def convert(self, value, param, ctx) -> str:
        text = str(value)
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:  # undecodable argv bytes arrive as lone surrogates
            self.fail("is not valid UTF-8 text", param, ctx)
        if "\x00" in text:
            self.fail("contains a NUL character", param, ctx)
        if not self.allow_blank and not text.strip():
            self.fail("the text is empty", param, ctx)
        if len(text) > self.max_length:
            self.fail(f"is {len(text)} characters long; the limit is {self.max_length}", param, ctx)
        return text.strip()


class ImageFileType(click.ParamType):
    """An existing regular file (not a folder, FIFO, socket or device) to read an image from."""

    name = "image"

    def convert(self, value, param, ctx) -> Path:
        path = Path(value)
        try:
            mode = path.stat().st_mode
        except FileNotFoundError:
            self.fail(f"{path} does not exist", param, ctx)
        except OSError as exc:
            self.fail(f"{path} cannot be read ({exc.strerror or exc})", param, ctx)
        except ValueError:  # an embedded NUL
            self.fail(f"{_short(value)} is not a file name", param, ctx)
        if stat.S_ISDIR(mode):
            self.fail(f"{path} is a folder, not an image file", param, ctx)
        if not stat.S_ISREG(mode):
            self.fail(f"{path} is not a regular file (a FIFO, socket or device)", param, ctx)
        return path


def _short(value: object, limit: int = 40) -> str:
    text = repr(str(value))
    return text if len(text) <= limit else text[:limit] + "..."


DbId = DbIdType()
PostTime = IsoTimeType(future=True, wall=True)  # when a post goes out: not in the past; no offset: account's zone
PastTime = IsoTimeType(wall=True)  # a time to read from (--since); no offset: the account's zone (at_in)


class ApproveTimeType(IsoTimeType):
    """A time like PostTime, or 'best': the account's learned best time to post."""

    def convert(self, value, param, ctx):  # type: ignore[override]  # datetime | "best"
        if isinstance(value, str) and value.strip().lower() == "best":
            return "best"
        return super().convert(value, param, ctx)


ApproveTime = ApproveTimeType(future=True, wall=True)
CaptionText = TextType()
NoteText = TextType()
ImageFile = ImageFileType()
MAX_LIMIT = 1_000_000
Limit = click.IntRange(0, MAX_LIMIT)  # a listing's --limit; 0 = no limit
PositiveLimit = click.IntRange(1, MAX_LIMIT)
Seed = click.IntRange(0, MAX_DB_ID)  # stored in a 64-bit column; numpy refuses negative seeds


def bad_data_is_usage(fn):
    """For the training commands: a data set, corpus or image folder that cannot be used is bad input
    (exit 2, as the README promises), not a failure of the program (exit 1)."""
    import functools

    @functools.wraps(fn)
    def run(*args, **kwargs):
        from bot.errors import UsageError
        from generator import DataError

        try:
            return fn(*args, **kwargs)
        except DataError as exc:
            raise UsageError(str(exc)) from None

    return run


def power_of_two(_ctx: click.Context, _param: click.Parameter, value: int) -> int:
    if value < 4 or value & (value - 1):
        raise click.BadParameter(f"{value} is not a power of two >= 4 (e.g. 32, 64, 128)")
    return value
