"""`memeloop accounts login NAME`: log an Instagram account in at the terminal (2FA and challenge
codes typed by the admin) and save its session file 0600 for the service."""
from __future__ import annotations

import click

from bot.cli import CliState, config_option, pass_state


@click.command("login")
@click.argument("name")
@config_option
@pass_state
def login(state: CliState, name: str) -> None:
    """Log Instagram account NAME in interactively and save its session.

    Example: memeloop accounts login igmain
    """
    from bot.config import ConfigError
    from bot.config.secrets import INSTAGRAM_KEYS, account_secrets
    from bot.publishers.base import PublishError
    from bot.publishers.ig_login import interactive_login

    try:
        config = state.config()
        account = config.account(name)
        if account.platform != "instagram":
            raise click.UsageError(f"account {name!r} is a {account.platform} account; login is for Instagram")
        secrets = account_secrets(config, account, INSTAGRAM_KEYS, None)
    except ConfigError as exc:
        raise click.UsageError(str(exc)) from exc
    from instagrapi import Client

    ig = account.instagram
    assert ig is not None  # platform "instagram" requires the section (bot.config)
    try:
        interactive_login(username=ig.username, password=secrets["password"], session_file=ig.session_file,
                          ask=lambda prompt: click.prompt(prompt, type=str), say=click.echo, client=Client(),
                          proxy=ig.proxy)
    except PublishError as exc:
        raise click.ClickException(str(exc)) from exc
