"""The review queue: list, show, approve, reject, edit."""
from __future__ import annotations

import click

from bot.cli import CliState, config_option, pass_state
from bot.output import emit, format_options, human_age

QUEUE_COLUMNS = ("rank", "id", "predicted_score", "text", "generator", "account", "age")


@click.command("list")
@click.option("--status", "statuses", multiple=True, default=("pending",), show_default=True,
              help="Status to list (repeatable): pending, approved, rejected, filtered, duplicate, posted.")
@click.option("--account", help="Only candidates for this account.")
@click.option("--limit", type=click.IntRange(min=0), default=50, show_default=True, help="0 = no limit.")
@format_options
@config_option
@pass_state
def queue_list(state: CliState, statuses: tuple[str, ...], account: str | None, limit: int, fmt: str) -> None:
    """List candidates in review order (best predicted score first).

    Example: memeloop queue list --status pending --status filtered --json
    """
    from feedback.repository import candidates as repo

    app = state.app()
    with app.tx() as session:
        rows = repo.list_queue(session, app.clock(), statuses=statuses, account=account, limit=limit or None)
    data = [r.as_dict() | {"age": human_age(r.age_s)} for r in rows]
    emit(data, fmt, columns=QUEUE_COLUMNS, title="review queue", empty="the queue is empty")
