"""`memeloop web` (the web admin), `memeloop users` (who may use it, with which role) and
`memeloop links` (review links for someone without an account)."""
from __future__ import annotations

import sys
from datetime import timedelta

import click

from bot.cli import CliState, actor_option, config_option, pass_state
from bot.cli.output import emit, format_options

ROLES = ("admin", "editor", "viewer")


@click.command("web")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to listen on (the default: this machine only).")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True, help="Port to listen on.")
@config_option
@pass_state
def web(state: CliState, host: str, port: int) -> None:
    """Serve the web admin: review board, schedule, posts, accounts and the engagement dashboard.

    Prints a one-time login link; users made with `memeloop users add` log in with their password.
    Stops on Ctrl-C or SIGTERM.

    Example: memeloop --config demo-data/config.toml web --port 8080
    """
    from bot.web.serve import serve

    app = state.app()
    try:
        serve(app, host=host, port=port, say=click.echo)
    finally:
        app.close()


@click.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--reset", is_flag=True, help="Set a new password for an existing user (logs them out everywhere).")
@click.option("--role", type=click.Choice(ROLES), default="admin", show_default=True,
              help="admin: everything, users and accounts; editor: review, edit, schedule; viewer: read only.")
@config_option
@pass_state
def users_add(state: CliState, name: str, password_stdin: bool, reset: bool, role: str) -> None:
    """Add a web admin user (the password is asked for, or read from stdin; only its hash is stored).

    Example: memeloop --config config.toml users add bob --role editor
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    state.app().add_web_user(name, password, replace=reset, role=role)
    click.echo(f"web user {name} {'updated' if reset else f'added as {role}'}")


@click.command("list")
@format_options
@config_option
@pass_state
def users_list(state: CliState, fmt: str) -> None:
    """List the web admin's users with their role, last login and live sessions.

    Example: memeloop users list --json
    """
    rows = [{"name": u.name, "role": u.role, "created_at": u.created_at, "last_login_at": u.last_login_at,
             "sessions": u.sessions} for u in state.app().web_users()]
    emit(rows, fmt, columns=["name", "role", "created_at", "last_login_at", "sessions"], title="web users",
         empty="no web users (add one with `memeloop users add NAME`)")


@click.command("remove")
@click.argument("name")
@actor_option
@config_option
@pass_state
def users_remove(state: CliState, name: str, actor: str) -> None:
    """Remove a web user; their sessions end at once. The only admin cannot be removed.

    Example: memeloop users remove bob
    """
    state.app().remove_web_user(name, actor=actor)
    click.echo(f"web user {name} removed; their sessions ended")


@click.command("role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@actor_option
@config_option
@pass_state
def users_role(state: CliState, name: str, role: str, actor: str) -> None:
    """Give a web user another role (it applies at their next request). The only admin stays admin.

    Example: memeloop users role bob viewer
    """
    old = state.app().set_web_role(name, role, actor=actor)
    click.echo(f"web user {name} is {role} now (was {old.value})")


@click.command("create")
@click.argument("kind", type=click.Choice(("candidate", "thread", "post")))
@click.argument("target", type=click.IntRange(min=1))
@click.option("--label", required=True, help="Who the link is for; the audit log records link:LABEL.")
@click.option("--days", type=click.IntRange(1, 90), default=7, show_default=True, help="How long the link works.")
@click.option("--base-url", default="http://127.0.0.1:8080", show_default=True,
              help="Where the web admin is reached from outside (the link starts with it).")
@actor_option
@config_option
@pass_state
def links_create(state: CliState, kind: str, target: int, label: str, days: int, base_url: str, actor: str
                 ) -> None:
    """Make a review link: its holder approves or rejects one candidate, thread or post once, without an
    account. The link is printed once; only its hash is stored.

    Example: memeloop links create post 12 --label "client Ann" --days 3
    """
    app = state.app()
    made = app.create_review_link(kind, target, label=label, actor=actor, now=app.clock(), ttl=timedelta(days=days))
    click.echo(f"{base_url.rstrip('/')}/r/{made.token}")
    click.echo(f"link {made.link.id} for {kind} {target} ({made.link.label}) expires "
               f"{made.link.expires_at:%Y-%m-%d %H:%M} UTC; it is shown only this once", err=True)


@click.command("list")
@format_options
@config_option
@pass_state
def links_list(state: CliState, fmt: str) -> None:
    """List review links: what they are for, their state (open, used, revoked, expired) and decision.

    Example: memeloop links list --json
    """
    app = state.app()
    now = app.clock()
    rows = [{"id": r.id, "kind": r.kind, "candidate": r.candidate_id, "post": r.post_id, "label": r.label,
             "created_by": r.created_by, "expires_at": r.expires_at, "state": r.state(now), "decision": r.decision,
             "comment": r.comment} for r in app.review_links()]
    emit(rows, fmt, title="review links", empty="no review links (make one with `memeloop links create`)")


@click.command("revoke")
@click.argument("link_id", type=click.IntRange(min=1))
@actor_option
@config_option
@pass_state
def links_revoke(state: CliState, link_id: int, actor: str) -> None:
    """Revoke a review link: it opens nothing from now on.

    Example: memeloop links revoke 3
    """
    app = state.app()
    app.revoke_review_link(link_id, actor=actor, now=app.clock())
    click.echo(f"review link {link_id} revoked")
