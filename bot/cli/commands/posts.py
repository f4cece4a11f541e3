"""Posting commands: add a hand-made candidate, approve (and schedule), list posts, retry, cancel,
reschedule, accounts."""
from __future__ import annotations

import logging
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import click

from bot.cli import CliState, actor, config_option, pass_state
from bot.cli.output import emit, format_options
from bot.cli.types import (
    ApproveTime,
    CaptionText,
    DbId,
    ImageFile,
    Limit,
    NoteText,
    PastTime,
    PostTime,
    T,
    WallTime,
    at_in,
)
from feedback.states import POST_STATES

if TYPE_CHECKING:
    from bot.app import App
    from bot.service.review import ReviewResult

log = logging.getLogger(__name__)

POST_COLUMNS = ("id", "state", "account", "candidate_id", "text", "scheduled_at", "attempts", "remote_id",
                "error_class")
ACCOUNT_COLUMNS = ("name", "platform", "handle", "enabled", "paused_until", "pause_reason", "scheduled",
                   "published", "unconfirmed", "failed", "imported")


@click.command("add")
@click.option("--image", "image", required=True, type=ImageFile,
              help="Image file to post (copied into storage.media_dir).")
@click.option("--text", required=True, type=CaptionText, help="The post's text.")
@click.option("--account", help="Account to post it to (default: the only configured account).")
@config_option
@pass_state
def queue_add(state: CliState, image: Path, text: str, account: str | None) -> None:
    """Add a hand-made candidate to the review queue (generator 'manual').

    Example: memeloop queue add --image cat.png --text "me on monday" --account demo
    """
    if not text.strip():
        raise click.BadParameter("the text is empty", param_hint="--text")
    app = state.app()
    candidate_id = app.add_candidate(image, text, account=account, actor=actor())
    detail = app.candidate(candidate_id)
    click.echo(f"added candidate {candidate_id} (manual, account {detail.account or '-'}): {detail.image_path}")


@click.command("approve")
@click.argument("ids", nargs=-1, type=DbId)
@click.option("--all", "all_pending", is_flag=True, help="Approve every pending candidate (of --account).")
@click.option("--at", "at", type=ApproveTime, help="Post at this time (ISO 8601, read in the account's time zone "
                                     "unless it carries an offset or Z; 'now'; or 'best': the hour the account's posts "
                                     "do best, learned, among its best_hours and min_spacing apart); default: the "
                                     "account's next free slot.")
@click.option("--account", help="Account to post to (also filters --all).")
@click.option("--yes", "-y", "yes", is_flag=True, help="With --all: do not ask for confirmation (needed when not "
                                                     "run from a terminal).")
@config_option
@pass_state
def approve(state: CliState, ids: tuple[int, ...], all_pending: bool,
            at: datetime | WallTime | Literal["best"] | None, account: str | None, yes: bool) -> None:
    """Approve candidates and schedule them for posting (--at best: when the account's audience
    engages most, as learned from its own and imported posts). --all asks first (--yes skips it).
    A time without an offset is the account's wall-clock time, as in the web admin.

    Example: memeloop approve 12 15 --at 2026-01-05T19:00
    """
    from feedback import FeedbackError

    if bool(ids) == all_pending:
        raise click.UsageError("give candidate IDs or --all (not both)")
    app = state.app()
    if all_pending:
        ids = tuple(r.id for r in app.queue(statuses=("pending",), account=account, limit=None))
        if not ids:
            click.echo("nothing pending to approve")
            return
        _confirm_all(len(ids), account, yes)
    failed = []
    times: dict[int, datetime | Literal["best"] | None] = {}
    for candidate_id in ids:  # every time read first: one that cannot be refuses them all
        try:
            times[candidate_id] = _at_for(app, at, account or app.candidate(candidate_id).account)
        except FeedbackError as exc:
            failed.append(str(exc))
    who = actor()
    for candidate_id, when in times.items():
        try:
            result = app.approve(candidate_id, actor=who, at=when, account=account)
        except FeedbackError as exc:
            failed.append(str(exc))
            continue
        click.echo(f"candidate {candidate_id} -> post {result.post_id} at {_shown(app, result)}")
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(ids)} not approved: " + "; ".join(failed))


def _at_for(app: App, at: T | WallTime, account: str | None) -> T | datetime:
    """``--at`` for a post of ``account``: without an offset, read in that account's time zone."""
    from bot.config.timefmt import typed_zone

    return at_in(at, typed_zone(app.config, account))


def _shown(app: App, result: ReviewResult) -> str:
    """A scheduled time as stored, in the account's zone, with the zone's name."""
    from bot.config.timefmt import iso, zone_of

    zone = zone_of(app.config, result.account)
    return f"{iso(result.scheduled_at, zone)} ({zone})"


def _confirm_all(count: int, account: str | None, yes: bool) -> None:
    """`approve --all` schedules every pending candidate for posting: ask on a terminal; elsewhere only
    with --yes (a script that forgot it must not post the whole queue)."""
    import sys

    if yes:
        return
    what = f"{count} pending candidate{'s' if count != 1 else ''}" + (f" of {account}" if account else "")
    if not sys.stdin.isatty():
        raise click.UsageError(f"--all would approve and schedule {what} without asking; standard input is not "
                               "a terminal, so add --yes to confirm")
    if not click.confirm(f"Approve and schedule {what} for posting?", default=False):
        raise click.ClickException("nothing approved")


@click.group("posts")
def posts() -> None:
    """Scheduled and published posts.

    Example: memeloop posts list --state failed --json
    """


@posts.command("list")
@click.option("--state", "states", multiple=True, type=click.Choice(POST_STATES), help="State to list (repeatable).")
@click.option("--account", help="Only posts of this account.")
@click.option("--limit", type=Limit, default=50, show_default=True, help="0 = no limit.")
@format_options
@config_option
@pass_state
def posts_list(state: CliState, states: tuple[str, ...], account: str | None, limit: int, fmt: str) -> None:
    """List posts, latest schedule first.

    Example: memeloop posts list --state unconfirmed --state failed --csv
    """
    from bot.config.timefmt import zone_of

    app = state.app()
    rows = app.posts(states=states or None, account=account, limit=limit or None)
    emit([r.__dict__ for r in rows], fmt, columns=POST_COLUMNS, title="posts", empty="no posts",
         zone=lambda row: zone_of(app.config, row.get("account")))


@click.command("retry")
@click.argument("post_id", type=DbId)
@config_option
@pass_state
def retry(state: CliState, post_id: int) -> None:
    """Put a failed or unconfirmed post back in the schedule (now), with a fresh attempt budget.

    Example: memeloop retry 42
    """
    result = state.app().retry(post_id, actor=actor())
    if result.post_before == "unconfirmed":
        click.echo(f"warning: post {post_id} was unconfirmed; if it did reach the platform it will appear twice",
                   err=True)
    click.echo(f"post {post_id}: {result.post_before} -> {result.post_state} (due now)")


@click.command("cancel")
@click.argument("post_ids", type=DbId, nargs=-1, required=True)
@click.option("--reason", type=NoteText, help="Why (kept in the audit log).")
@config_option
@pass_state
def cancel(state: CliState, post_ids: tuple[int, ...], reason: str | None) -> None:
    """Unschedule posts: each is cancelled and its candidate goes back to the review queue.

    A post that is being published, unconfirmed or published cannot be cancelled.

    Example: memeloop cancel 42 --reason "wrong day"
    """
    from feedback import FeedbackError

    app, failures = state.app(), []
    for post_id in post_ids:
        try:
            result = app.cancel(post_id, actor=actor(), reason=reason)
        except FeedbackError as exc:
            failures.append(str(exc))
            continue
        click.echo(f"post {post_id} cancelled; candidate {result.candidate_id} is {result.after} again")
    if failures:
        raise click.ClickException("; ".join(failures))


@click.command("reschedule")
@click.argument("post_id", type=DbId)
@click.option("--at", "at", required=True, type=PostTime, help="New time (ISO 8601, read in the account's time zone "
                                                                "unless it carries an offset or Z; or 'now').")
@config_option
@pass_state
def reschedule(state: CliState, post_id: int, at: datetime | WallTime) -> None:
    """Move a scheduled post to another time (without an offset: the account's wall-clock time).

    Example: memeloop reschedule 42 --at 2026-01-06T09:00
    """
    app = state.app()
    when = _at_for(app, at, app.post_detail(post_id).account) if isinstance(at, WallTime) else at
    result = app.reschedule(post_id, actor=actor(), at=when)
    click.echo(f"post {post_id} scheduled at {_shown(app, result)}")


@click.group("accounts")
def accounts() -> None:
    """Configured accounts and their pause state.

    Example: memeloop accounts list --json
    """


@accounts.command("list")
@format_options
@config_option
@pass_state
def accounts_list(state: CliState, fmt: str) -> None:
    """List accounts with pause state and post counts.

    Example: memeloop accounts list
    """
    from bot.config.timefmt import zone_of

    app = state.app()
    emit(app.accounts(), fmt, columns=ACCOUNT_COLUMNS, title="accounts", empty="no accounts",
         zone=lambda row: zone_of(app.config, row.get("name")))


def _login_command() -> None:
    from bot.cli.commands.accounts_login import login

    accounts.add_command(login)


_login_command()


@accounts.command("resume")
@click.argument("name")
@config_option
@pass_state
def accounts_resume(state: CliState, name: str) -> None:
    """Lift an account's pause (after fixing credentials or clearing an Instagram challenge).

    Example: memeloop accounts resume insta_main
    """
    reason = state.app().resume_account(name, actor=actor())
    click.echo(f"account {name} resumed" + (f" (was paused: {reason})" if reason else " (was not paused)"))


@accounts.command("import-history")
@click.argument("name")
@click.option("--since", type=PastTime, help="Only posts created at or after this time: ISO 8601 like 2026-01-01 "
              "or 2026-01-01T09:00, in the account's time zone (its `timezone` in the config) unless an offset "
              "is given (2026-01-01T09:00+00:00).")
@click.option("--limit", type=Limit, default=0, help="Read at most this many posts this run (0 = all; run again "
                                                      "to continue).")
@click.option("--rescan", is_flag=True, help="Read the posts imported before again too, and recognise the template "
                                             "of each whose picture was never compared (posts imported before "
                                             "templates were recognised); nothing else of a stored post changes.")
@config_option
@pass_state
def accounts_import_history(state: CliState, name: str, since: datetime | WallTime | None, limit: int,
                            rescan: bool) -> None:
    """Import the account's own past posts with their likes, reposts and replies, so the ranker and
    the best posting time start from the account's history instead of cold. Safe to repeat: a post
    is stored once, an unfinished run continues where it stopped, memeloop's own posts are skipped.
    A finished import reads only newer posts the next time; --rescan reads them all again to fill in
    the templates of posts imported before their pictures were compared.

    Example: memeloop accounts import-history x_main --since 2026-01-01 --limit 500
    """
    from bot.config.timefmt import typed_zone

    app = state.app()
    since = at_in(since, typed_zone(app.config, name), param_hint="'--since'", future=False)
    result = app.import_history(name, since=since, limit=limit or None, rescan=rescan)
    click.echo(f"account {name}: {result.message}")
    if result.resume_at is not None:
        click.get_current_context().exit(1)
