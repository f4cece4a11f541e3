"""`memeloop web` (the web admin) and `memeloop users add` (its admin users)."""
from __future__ import annotations

import sys

import click

from bot.cli import CliState, config_option, pass_state


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
@click.option("--reset", is_flag=True, help="Set a new password for an existing user.")
@config_option
@pass_state
def users_add(state: CliState, name: str, password_stdin: bool, reset: bool) -> None:
    """Add a web admin user (the password is asked for, or read from stdin; only its hash is stored).

    Example: memeloop --config config.toml users add ann
    """
    if password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    state.app().add_web_user(name, password, replace=reset)
    click.echo(f"web user {name} {'updated' if reset else 'added'}")
