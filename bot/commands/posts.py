"""Posting commands: add a hand-made candidate, approve (and schedule), list posts, retry, accounts."""
from __future__ import annotations

import getpass
import hashlib
import logging
from datetime import datetime
from pathlib import Path

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli_types import CaptionText, DbId, ImageFile, IsoTime, Limit
from bot.output import emit, format_options
from generator import GeneratorError

log = logging.getLogger(__name__)

POST_COLUMNS = ("id", "state", "account", "candidate_id", "text", "scheduled_at", "attempts", "remote_id",
                "error_class")
ACCOUNT_COLUMNS = ("name", "platform", "handle", "enabled", "paused_until", "pause_reason", "scheduled",
                   "published", "unconfirmed", "failed")


def _actor() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "admin"


def _store_image(source: Path, media_dir: Path) -> tuple[Path, str, str | None]:
    """Copy the image (upright per its EXIF orientation) into media_dir/manual/<sha256>.<ext>;
    returns path, sha256, perceptual hash. Animated and oversized images are refused."""
    import imagehash

    from generator.imageio import still_file_bytes

    try:
        data, ext, image = still_file_bytes(source)
    except GeneratorError as exc:
        raise click.ClickException(f"--image {exc}") from None
    phash = str(imagehash.phash(image))
    sha = hashlib.sha256(data).hexdigest()
    target = media_dir / "manual" / f"{sha}.{ext}"
    target.parent.mkdir(parents=True, exist_ok=True)
    if not target.exists():
        target.write_bytes(data)
    return target, sha, phash


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
    from feedback.repository import candidates as repo

    app = state.app()
    if account:
        app.config.account(account)
    elif len(app.config.accounts) == 1:
        account = app.config.accounts[0].name
    path, sha, phash = _store_image(image, Path(app.config.storage.media_dir))
    with app.tx() as session:
        row = repo.add_candidate(session, repo.NewCandidate(
            generator="manual", text=text.strip(), account_id=app.account_ids.get(account) if account else None,
            image_path=str(path), image_sha256=sha, image_phash=phash), app.clock())
    click.echo(f"added candidate {row.id} (manual, account {account or '-'}): {path}")


@click.command("approve")
@click.argument("ids", nargs=-1, type=DbId)
@click.option("--all", "all_pending", is_flag=True, help="Approve every pending candidate (of --account).")
@click.option("--at", "at", type=IsoTime, help="Post at this time (ISO 8601, UTC unless an offset is given, or 'now'); "
                                 "default: the account's next free slot.")
@click.option("--account", help="Account to post to (also filters --all).")
@config_option
@pass_state
def approve(state: CliState, ids: tuple[int, ...], all_pending: bool, at: datetime | None,
            account: str | None) -> None:
    """Approve candidates and schedule them for posting.

    Example: memeloop approve 12 15 --at 2026-01-05T19:00
    """
    from bot.publishing import approve_and_schedule
    from feedback import FeedbackError
    from feedback.repository import candidates as repo

    if bool(ids) == all_pending:
        raise click.UsageError("give candidate IDs or --all (not both)")
    when = at
    app = state.app()
    if all_pending:
        with app.tx() as session:
            ids = tuple(r.id for r in repo.list_queue(session, app.clock(), statuses=("pending",),
                                                      account=account, limit=None))
        if not ids:
            click.echo("nothing pending to approve")
            return
    failed = []
    for candidate_id in ids:
        try:
            (post,) = approve_and_schedule(app, [candidate_id], actor=_actor(), at=when, account=account)
        except FeedbackError as exc:
            failed.append(f"{candidate_id}: {exc}")
            continue
        click.echo(f"candidate {candidate_id} -> post {post.id} at {post.scheduled_at:%Y-%m-%d %H:%M} UTC")
    if failed:
        raise click.ClickException(f"{len(failed)} of {len(ids)} not approved: " + "; ".join(failed))


@click.group("posts")
def posts() -> None:
    """Scheduled and published posts.

    Example: memeloop posts list --state failed --json
    """


@posts.command("list")
@click.option("--state", "states", multiple=True, help="State to list (repeatable): scheduled, publishing, "
                                                       "published, failed, unconfirmed, cancelled.")
@click.option("--account", help="Only posts of this account.")
@click.option("--limit", type=Limit, default=50, show_default=True, help="0 = no limit.")
@format_options
@config_option
@pass_state
def posts_list(state: CliState, states: tuple[str, ...], account: str | None, limit: int, fmt: str) -> None:
    """List posts, latest schedule first.

    Example: memeloop posts list --state unconfirmed --state failed --csv
    """
    from feedback.repository import posts as repo

    app = state.app()
    with app.tx() as session:
        rows = repo.list_posts(session, states=states or None, account=account, limit=limit or None)
    emit([r.__dict__ for r in rows], fmt, columns=POST_COLUMNS, title="posts", empty="no posts")


@click.command("retry")
@click.argument("post_id", type=DbId)
@config_option
@pass_state
def retry(state: CliState, post_id: int) -> None:
    """Put a failed or unconfirmed post back in the schedule (now), with a fresh attempt budget.

    Example: memeloop retry 42
    """
    from feedback.repository import posts as repo

    app = state.app()
    now = app.clock()
    actor = _actor()
    with app.tx() as session:
        before = repo.get_post(session, post_id)
        if before.state == "published":
            raise click.ClickException(f"post {post_id} is already published ({before.remote_url or before.remote_id});"
                                       " retrying would post it twice")
        previous = before.state
        repo.reset_to_scheduled(session, post_id, at=now, now=now, reason=f"retry requested by {actor}")
    log.warning("event=post_retry post=%s from_state=%s actor=%s", post_id, previous, actor)
    if previous == "unconfirmed":
        click.echo(f"warning: post {post_id} was unconfirmed; if it did reach the platform it will appear twice",
                   err=True)
    click.echo(f"post {post_id}: {previous} -> scheduled (due now)")


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
    from feedback.repository import accounts as account_repo
    from feedback.repository import posts as repo

    app = state.app()
    enabled = {a.name: a.enabled for a in app.config.accounts}
    with app.tx() as session:
        counts = repo.count_by_account_state(session)
        rows = [{"name": a.name, "platform": a.platform, "handle": a.handle, "enabled": enabled.get(a.name, False),
                 "paused_until": a.paused_until, "pause_reason": a.pause_reason,
                 **{s: counts.get((a.id, s), 0) for s in ("scheduled", "published", "unconfirmed", "failed")}}
                for a in account_repo.list_accounts(session)]
    emit(rows, fmt, columns=ACCOUNT_COLUMNS, title="accounts", empty="no accounts")


@accounts.command("resume")
@click.argument("name")
@config_option
@pass_state
def accounts_resume(state: CliState, name: str) -> None:
    """Lift an account's pause (after fixing credentials or clearing an Instagram challenge).

    Example: memeloop accounts resume insta_main
    """
    from feedback.repository import accounts as account_repo

    app = state.app()
    with app.tx() as session:
        row = account_repo.get_by_name(session, name)
        reason = row.pause_reason
        account_repo.resume(session, row.id)
    log.warning("event=account_resumed account=%s actor=%s", name, _actor())
    click.echo(f"account {name} resumed" + (f" (was paused: {reason})" if reason else " (was not paused)"))
