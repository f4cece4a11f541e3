"""The review queue: list, show, sheet, reject, edit (approve lives in bot.cli.commands.posts)."""
from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from bot.cli import CliState, actor_option, config_option, pass_state
from bot.cli.output import emit, format_options, human_age
from bot.cli.types import CaptionText, DbId, Limit, NoteText, PositiveLimit
from feedback.states import CANDIDATE_STATUSES

QUEUE_COLUMNS = ("rank", "id", "predicted_score", "text", "generator", "account", "age")
REASON_COLUMNS = ("rank", "id", "status", "status_reason", "text", "generator", "account", "age")


@click.command("list")
@click.option("--status", "statuses", multiple=True, default=("pending",), show_default=True,
              type=click.Choice(CANDIDATE_STATUSES), help="Status to list (repeatable).")
@click.option("--account", help="Only candidates for this account.")
@click.option("--limit", type=Limit, default=50, show_default=True, help="0 = no limit.")
@format_options
@config_option
@pass_state
def queue_list(state: CliState, statuses: tuple[str, ...], account: str | None, limit: int, fmt: str) -> None:
    """List candidates in review order (best predicted score first).

    Filtered and duplicate candidates are kept with the reason they were held back.

    Example: memeloop queue list --status pending --status filtered --json
    """
    from bot.app import App

    # a plain SQLite file at the code's schema is read without building the App (cold start)
    rows = App.quick_queue(state.config_path, statuses=statuses, account=account, limit=limit or None)
    if rows is None:
        rows = state.app().queue(statuses=statuses, account=account, limit=limit or None)
    data = [r.as_dict() | {"age": human_age(r.age_s)} for r in rows]
    columns = QUEUE_COLUMNS if set(statuses) <= {"pending", "approved"} else REASON_COLUMNS
    emit(data, fmt, columns=columns, title="review queue", empty="the queue is empty")


@click.command("show")
@click.argument("candidate_id", type=DbId)
@click.option("--image/--no-image", "inline", default=None,
              help="Draw the image inline (default: when the terminal supports it).")
@click.option("--json", "as_json", is_flag=True, help="Print everything as one JSON object.")
@config_option
@pass_state
def queue_show(state: CliState, candidate_id: int, inline: bool | None, as_json: bool) -> None:
    """Everything about one candidate: text and history, its sibling beams, why it ranks where it
    does, and its image (the file path always; inline in kitty/iTerm2-compatible terminals).

    Example: memeloop queue show 42
    """
    from bot.cli.render import print_detail

    detail = state.app().candidate(candidate_id)
    if as_json:
        from bot.service.read_models import as_row

        click.echo(json.dumps(as_row(detail), indent=2, default=str))
        return
    print_detail(detail)
    if detail.image_path:
        from bot.cli.render import inline_image

        click.echo(f"image: {detail.image_path}")
        escape = inline_image(Path(detail.image_path), force=inline)
        if escape:
            sys.stdout.write(escape + "\n")
            sys.stdout.flush()


@click.command("sheet")
@click.option("--status", "statuses", multiple=True, default=("pending",), show_default=True,
              type=click.Choice(CANDIDATE_STATUSES), help="Status to include (repeatable).")
@click.option("--account", help="Only candidates for this account.")
@click.option("--limit", type=PositiveLimit, default=48, show_default=True)
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder for sheet.png and sheet.html (default: MEDIA_DIR/sheets).")
@config_option
@pass_state
def queue_sheet(state: CliState, statuses: tuple[str, ...], account: str | None, limit: int,
                out_dir: Path | None) -> None:
    """Write a contact sheet (PNG and HTML) of the queue in review order.

    Example: memeloop queue sheet --limit 24 --out /tmp/sheet
    """
    from bot.cli.render import write_sheet

    app = state.app()
    rows = app.sheet_rows(statuses=statuses, account=account, limit=limit)
    if not rows:
        click.echo("the queue is empty; no sheet written")
        return
    png, html = write_sheet(rows, out_dir or app.media.folder("sheets"))
    click.echo(f"sheet_png={png}\nsheet_html={html}\ncandidates={len(rows)}")


@click.command("reject")
@click.argument("candidate_ids", type=DbId, nargs=-1, required=True)
@click.option("--reason", required=True, type=NoteText, help="Why (kept in the audit log; teaches the ranker).")
@actor_option
@config_option
@pass_state
def reject(state: CliState, candidate_ids: tuple[int, ...], reason: str, actor: str) -> None:
    """Reject candidates (pending, filtered, duplicate or approved-but-not-yet-published).

    An approved candidate's scheduled post is cancelled with it; once its post is being published,
    unconfirmed or published the reject is refused (the message says why and what to do). Each id is
    its own transaction: the others still go through when one was moved meanwhile.

    Example: memeloop reject 12 13 --reason "not funny"
    """
    from feedback import FeedbackError

    app = state.app()
    failures = []
    for cid in candidate_ids:
        try:
            result = app.reject(cid, actor=actor, reason=reason)
        except FeedbackError as exc:
            failures.append(str(exc))
            continue
        cancelled = f"; post {result.post_id} cancelled" if result.post_state == "cancelled" else ""
        click.echo(f"rejected {cid} (was {result.before}){cancelled}")
    if failures:
        raise click.ClickException("; ".join(failures))


@click.command("edit")
@click.argument("candidate_id", type=DbId)
@click.option("--text", "new_text", required=True, type=CaptionText, help="The new caption.")
@click.option("--reason", type=NoteText, help="Optional note for the audit log.")
@actor_option
@config_option
@pass_state
def edit(state: CliState, candidate_id: int, new_text: str, reason: str | None, actor: str) -> None:
    """Change a candidate's caption; a meme is re-rendered and the history keeps the old text. An
    approved candidate whose post is not yet claimed stays approved and goes out as edited; any
    other goes back to pending for review.

    Example: memeloop edit 42 --text "when the build is green on the first try"
    """
    if not new_text.strip():
        raise click.BadParameter("the text is empty", param_hint="--text")
    result = state.app().edit(candidate_id, actor=actor, text=new_text.strip(), reason=reason)
    still = f"; still approved, post {result.post_id} goes out as edited" if result.after == "approved" else ""
    click.echo(f"edited {candidate_id}" + (f"; image {result.image_path}" if result.image_path else "") + still)
