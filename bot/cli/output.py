"""Render listings as a rich table, JSON or CSV (every listing supports all three)."""
from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

FORMATS = ("table", "json", "csv")

# C0 controls but tab and newline, DEL, C1 controls, and the bidi overrides that reorder what a
# reader sees: a caption must never clear the screen, retitle the window or hide text.
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")


def terminal_safe(text: str) -> str:
    """``text`` with control and bidi-override characters shown as visible escapes (ESC -> \\x1b)."""
    return _UNSAFE.sub(lambda m: _visible(m.group()), text)


def _visible(char: str) -> str:
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def table_text(value: Any) -> str:
    """A value for a rich table or line: terminal-safe, and rich markup in it shown literally."""
    from rich.markup import escape

    return escape(terminal_safe(str(value)))


def format_options(fn):
    fn = click.option("--csv", "fmt", flag_value="csv", help="Print CSV.")(fn)
    fn = click.option("--json", "fmt", flag_value="json", help="Print a JSON array.")(fn)
    return click.option("--table", "fmt", flag_value="table", default=True, hidden=True)(fn)


def _plain(value: Any, tz: str | None = None) -> Any:
    """JSON and CSV: a time in full ISO 8601 (seconds and offset) in the row's zone (bot.config.timefmt)."""
    if isinstance(value, datetime):
        from bot.config.timefmt import iso

        return iso(value, tz, precise=True)
    return value


def _csv_cell(value: Any, tz: str | None = None) -> Any:
    """A CSV cell that cannot drive the terminal it is printed to (terminal_safe: ESC -> \\x1b)."""
    value = _plain(value, tz)
    return terminal_safe(value) if isinstance(value, str) else value


Zone = Callable[[Mapping[str, Any]], str]


def emit(items: Sequence[Mapping[str, Any] | DataclassInstance], fmt: str, *, columns: Sequence[str] | None = None,
         title: str | None = None, empty: str = "nothing to show", zone: Zone | None = None) -> None:
    """Rows (mappings, or read models: their fields in order are the columns) as a table, JSON or CSV.
    ``zone``: the time zone a row's times are shown in (its account's: bot.config.timefmt.zone_of);
    default UTC."""
    from bot.service.read_models import as_row

    rows = [as_row(r) for r in items]
    columns = list(columns or (rows[0].keys() if rows else []))

    def tz(row: Mapping[str, Any]) -> str | None:
        return zone(row) if zone is not None else None

    if fmt == "json":
        click.echo(json.dumps([{k: _plain(v, tz(r)) for k, v in r.items()} for r in rows], indent=2, default=str))
        return
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(buf, fieldnames=columns, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({k: _csv_cell(row.get(k), tz(row)) for k in columns})
        click.echo(buf.getvalue(), nl=False)
        return
    from rich.console import Console
    from rich.table import Table

    console = Console()
    if not rows:
        console.print(f"[dim]{empty}[/dim]")
        return
    table = Table(title=title, show_lines=False)
    for col in columns:
        table.add_column(col, overflow="fold")
    for row in rows:
        table.add_row(*(_cell(row.get(c), tz(row)) for c in columns))
    console.print(table)


def _cell(value: Any, tz: str | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3f}"
    if isinstance(value, datetime):
        from bot.config.timefmt import iso

        return iso(value, tz)
    return table_text(value)


def human_age(seconds: int) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
