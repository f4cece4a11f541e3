"""`memeloop notify`: test the configured webhooks, watch the daemon from cron, list the outbox."""
from __future__ import annotations

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli.output import emit, format_options
from bot.cli.types import PositiveLimit
from feedback.states import NOTIFICATION_STATES

NOTICE_COLUMNS = ("id", "webhook", "event", "state", "attempts", "created_at", "next_attempt_at", "last_error")


@click.command("test")
@click.option("--webhook", "webhook", help="Only this webhook (its name in [[notifications.webhooks]]).")
@config_option
@pass_state
def notify_test(state: CliState, webhook: str | None) -> None:
    """Send a test notice to every configured webhook (or one) now, and say what each answered.

    Exits 1 when a webhook did not accept it; 2 when one is not configured right (no URL, no secret).

    Example: memeloop notify test --webhook ops
    """
    from bot.errors import ConfigError

    results = state.app().notify_test(webhook)
    for r in results:
        click.echo(f"{r.webhook}: {'ok' if r.ok else 'FAILED'} ({r.detail})")
    bad = [r for r in results if not r.ok]
    if bad:
        if all(r.detail.startswith("notifications.webhooks") for r in bad):
            raise ConfigError("; ".join(r.detail for r in bad))
        raise click.ClickException(f"{len(bad)} of {len(results)} webhook(s) did not accept the test notice")


@click.command("check")
@config_option
@pass_state
def notify_check(state: CliState) -> None:
    """From beside the daemon (e.g. cron every few minutes): tell the webhooks when the daemon's
    heartbeat went stale, and deliver notices that are due. A daemon cannot report its own death.
    In a crontab: */5 * * * * memeloop --config /srv/memeloop/config.toml notify check

    Example: memeloop --config config.toml notify check
    """
    summary = state.app().notify_watch()
    click.echo(f"found={summary.found} stored={summary.stored} sent={summary.sent} retried={summary.retried} "
               f"failed={summary.failed}")


@click.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice(NOTIFICATION_STATES),
              help="Only notices in this state (repeatable).")
@click.option("--limit", type=PositiveLimit, default=50, show_default=True)
@format_options
@config_option
@pass_state
def notify_list(state: CliState, states: tuple[str, ...], limit: int, fmt: str) -> None:
    """The newest notices of the outbox with their delivery state.

    Example: memeloop notify list --state failed
    """
    from bot.config.timefmt import iso

    app = state.app()
    tz = app.config.scheduler.timezone
    rows = [{"id": r.id, "webhook": r.webhook, "event": r.event, "state": r.state, "attempts": r.attempts,
             "created_at": iso(r.created_at, tz), "next_attempt_at": iso(r.next_attempt_at, tz),
             "last_error": r.last_error or "", "title": r.payload.get("title", "")}
            for r in app.notices(limit=limit, states=states or None)]
    emit(rows, fmt, columns=NOTICE_COLUMNS, title="notifications", empty="no notices")
