"""Command-line value types that refuse bad input at the edge with a usage error (exit 2), before
anything reaches the database: ids that fit a 64-bit column, times a scheduler can hold, captions
that are real text, and image paths that are regular files (a FIFO would block the reader forever).
"""
from __future__ import annotations

import stat
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

MAX_DB_ID = 2**63 - 1  # BIGINT / SQLite INTEGER
MAX_TEXT = 10_000
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)
MAX_AHEAD = timedelta(days=3650)  # as far as a config duration may reach
PAST_GRACE = timedelta(minutes=1)  # a time this little past is "now" typed by hand


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


class IsoTimeType(click.ParamType):
    """An aware UTC datetime from ISO 8601 (UTC unless an offset is given) or 'now', within a range
    a schedule can use: not before 2000, at most ``max_ahead`` from now."""

    name = "time"

    def __init__(self, max_ahead: timedelta = MAX_AHEAD, *, future: bool = False) -> None:
        self.max_ahead = max_ahead
        self.future = future  # a time to post at: one already past is refused, never moved to a slot

    def convert(self, value, param, ctx) -> datetime:
        if isinstance(value, datetime):
            return value
        now = datetime.now(UTC)
        text = str(value).strip()
        if text.lower() == "now":
            return now
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            self.fail(f"{_short(value)} is not a time; use ISO 8601 like 2026-01-05T19:00 "
                      "(UTC unless an offset is given) or 'now'", param, ctx)
        try:
            when = when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
        except OverflowError:  # e.g. 9999-12-31T23:59-05:00 is past the last representable UTC time
            when = datetime.max.replace(tzinfo=UTC)
        if when < EARLIEST or when > now + self.max_ahead:
            self.fail(f"{_short(value)} is out of range (from {EARLIEST:%Y-%m-%d} to at most "
                      f"{self.max_ahead.days} days from now)", param, ctx)
        if self.future and when < now - PAST_GRACE:
            from bot.config.timefmt import iso

            self.fail(f"{_short(value)} is in the past ({iso(when)}; now {iso(now)}): a post cannot go out before "
                      "now. Give a later time, 'now', or leave --at out for the next free slot", param, ctx)
        return when


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
IsoTime = IsoTimeType()
PostTime = IsoTimeType(future=True)  # when a post goes out: not in the past


class ApproveTimeType(IsoTimeType):
    """A time like IsoTime, or 'best': the account's learned best time to post."""

    def convert(self, value, param, ctx):  # type: ignore[override]  # datetime | "best"
        if isinstance(value, str) and value.strip().lower() == "best":
            return "best"
        return super().convert(value, param, ctx)


ApproveTime = ApproveTimeType(future=True)
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
