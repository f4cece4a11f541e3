"""`memeloop stats`: what the audience liked and what the reviewers approved.

Every sub-command reads one of the SQL views of migration 0002 and prints a rich table (with a bar
or sparkline where a picture helps), --json or --csv.
"""
from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli.output import emit, format_options
from bot.cli.types import PositiveLimit
from feedback.dashboard import APPROVAL_GROUPS, DIMENSIONS, bar, sparkline

if TYPE_CHECKING:
    from bot.service.read_models import HourCell

account_option = click.option("--account", help="Only this account.")


def _with_bars(rows: list[dict], fmt: str, column: str = "mean_engagement") -> list[dict]:
    if fmt != "table":
        return rows
    top = max((r[column] or 0 for r in rows), default=0)
    return [r | {"chart": bar(r[column], top)} for r in rows]


@click.group("stats")
def stats() -> None:
    """Dashboard: engagement by time and feature, best and worst posts, approval, model versions.

    Example: memeloop stats by template --json
    """


@stats.command("time")
@account_option
@click.option("--since", metavar="YYYY-MM-DD", help="First day to show.")
@format_options
@config_option
@pass_state
def over_time(state: CliState, account: str | None, since: str | None, fmt: str) -> None:
    """Engagement per publishing day, with a sparkline of the daily mean.

    Example: memeloop stats time --since 2026-01-01 --account demo
    """
    rows = state.app().stats_over_time(account=account, since=since)
    emit(_with_bars(rows, fmt), fmt, title="engagement over time", empty="no published posts yet")
    if fmt == "table" and rows:
        click.echo(f"daily mean  {sparkline([r['mean_engagement'] for r in rows])}")


@stats.command("by")
@click.argument("dimension", type=click.Choice(sorted(DIMENSIONS)))
@account_option
@format_options
@config_option
@pass_state
def by(state: CliState, dimension: str, account: str | None, fmt: str) -> None:
    """Engagement per generator, template, beam-rank, tone, audience, hour (UTC) or account.

    Example: memeloop stats by beam-rank --csv
    """
    rows = state.app().stats_by(dimension, account=account)
    emit(_with_bars(rows, fmt), fmt, title=f"engagement by {dimension}", empty="no published posts yet")


def _posts_command(name: str, bottom: bool):
    @stats.command(name)
    @click.option("-n", "--limit", type=PositiveLimit, default=10, show_default=True)
    @account_option
    @format_options
    @config_option
    @pass_state
    def command(state: CliState, limit: int, account: str | None, fmt: str) -> None:
        rows = state.app().stats_top_posts(limit=limit, bottom=bottom, account=account)
        columns = ("post_id", "account", "published_at", "engagement", "likes", "reposts", "replies",
                   "template", "beam_rank", "text")
        emit(rows, fmt, columns=None if fmt == "json" else columns, title=f"{name} posts",
             empty="no measured posts yet")

    which = "least" if bottom else "most"
    command.help = (f"The {which} engaging posts (newest snapshot of each).\n\n"
                    f"Example: memeloop stats {name} -n 5 --json")
    return command


top = _posts_command("top", bottom=False)
bottom = _posts_command("bottom", bottom=True)


@stats.command("approval")
@click.option("--by", "group", type=click.Choice(APPROVAL_GROUPS), default="generator", show_default=True)
@account_option
@format_options
@config_option
@pass_state
def approval(state: CliState, group: str, account: str | None, fmt: str) -> None:
    """Approval rate (approved / decided) and what the safety and duplicate filters held back.

    Example: memeloop stats approval --by day --json
    """
    rows = state.app().stats_approval(by=group, account=account)
    emit(_with_bars(rows, fmt, "approval_rate"), fmt, title=f"approval by {group}", empty="no candidates yet")


@stats.command("models")
@account_option
@format_options
@config_option
@pass_state
def models(state: CliState, account: str | None, fmt: str) -> None:
    """Model versions side by side: approval rate and mean engagement of what they made.

    Example: memeloop stats models --csv
    """
    rows = state.app().stats_models(account=account)
    emit(_with_bars(rows, fmt), fmt, title="model versions", empty="no candidates yet")


@stats.command("learned")
@click.option("-n", "--limit", type=PositiveLimit, default=12, show_default=True)
@format_options
@config_option
@pass_state
def learned(state: CliState, limit: int, fmt: str) -> None:
    """What the ranker learned, in a reviewer's words with its uncertainty: the strongest effects in
    its latest explanations of the pending queue (the web dashboard's "what the ranker learned").

    Example: memeloop stats learned -n 5
    """
    rows = state.app().ranker_effects(limit=limit)
    if fmt == "table":
        from bot.cli.output import terminal_safe

        if not rows:
            click.echo("nothing learned yet (no scored pending candidates)")
        for r in rows:
            line = r.sentence or f"{r.feature}: {r.weight:+.3f} (no uncertainty stored)"
            click.echo(f"- {terminal_safe(line)}")
        return
    emit(rows, fmt, columns=("feature", "weight", "sd", "evidence", "candidates", "sentence"),
         title="what the ranker learned", empty="nothing learned yet")


@stats.command("imported")
@account_option
@format_options
@config_option
@pass_state
def imported(state: CliState, account: str | None, fmt: str) -> None:
    """The accounts' imported history (`memeloop accounts import-history`): posts, time span and
    where the import stands.

    Example: memeloop stats imported --json
    """
    emit(state.app().stats_imported(account=account), fmt, title="imported history", empty="no accounts")


@stats.command("hours")
@click.option("--account", help="The account (default: the only one configured).")
@format_options
@config_option
@pass_state
def hours(state: CliState, account: str | None, fmt: str) -> None:
    """When the account's posts do best: a weekday x hour heatmap of the learned effect (x the
    account's baseline), from its own and imported posts, with the posts behind each cell. The
    JSON/CSV rows carry every cell with its likely range; `approve --at best` draws from the same model.

    Example: memeloop stats hours --account demo --csv
    """
    app = state.app()
    if account is None:
        if len(app.config.accounts) != 1:
            raise click.UsageError("several accounts are configured: pass --account NAME")
        account = app.config.accounts[0].name
    rows = app.hours(account)
    if fmt != "table":
        emit(rows, fmt)
        return
    click.echo(heatmap_text(rows))


def heatmap_text(rows: Sequence[HourCell]) -> str:
    """Rows of `App.hours` as a text grid over the allowed hours: ratio to baseline and, in brackets,
    the posts behind the cell (a cell without posts only borrows from its neighbours). The two never
    run together: "1.28 (0)", not "1.28.0", which read as one number."""
    hours_shown = sorted({r.hour for r in rows if r.allowed})
    days = list(dict.fromkeys(r.weekday for r in rows))
    cell = {(r.weekday, r.hour): r for r in rows}
    lines = [f"{rows[0].account}: engagement x baseline by local weekday and hour (posts behind it)",
             "     " + "".join(f"{h:>10}" for h in hours_shown)]
    for d in days:
        parts = []
        for h in hours_shown:
            r = cell[d, h]
            parts.append(f"{r.ratio:.2f} ({min(r.posts, 99):.0f})")
        lines.append(f"{d:<5}" + "".join(f"{p:>10}" for p in parts))
    best = max((r for r in rows if r.allowed), key=lambda r: r.ratio)
    lines.append(f"best so far: {best.weekday} {best.hour:02d}:00, {best.ratio:.2f}x baseline (likely "
                 f"{best.low:.2f}x-{best.high:.2f}x, from {best.posts:.0f} posts in that slot)")
    return "\n".join(lines)
