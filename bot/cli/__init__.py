"""The `memeloop` command line: a thin shell over the library.

Commands live in bot/cli/commands/ and are imported only when used, so `memeloop queue list` never
pays for the ML stack. Library errors become one-line messages: exit 1 when an operation failed,
2 for usage or configuration errors.
"""
from __future__ import annotations

import importlib
import logging
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import click

from bot.config.paths import CONFIG_ENV

if TYPE_CHECKING:
    from bot.app import App
    from bot.config import Config

log = logging.getLogger(__name__)

# name -> "module:attribute" (a click command or group); nested dicts are groups of lazy commands.
COMMANDS: dict[str, str | Mapping[str, str]] = {
    "init": "bot.cli.commands.setup:init_cmd",
    "db": "bot.cli.commands.setup:db",
    "queue": {
        "list": "bot.cli.commands.review:queue_list",
        "show": "bot.cli.commands.review:queue_show",
        "sheet": "bot.cli.commands.review:queue_sheet",
        "add": "bot.cli.commands.posts:queue_add",
    },
    "approve": "bot.cli.commands.posts:approve",
    "cancel": "bot.cli.commands.posts:cancel",
    "reschedule": "bot.cli.commands.posts:reschedule",
    "reject": "bot.cli.commands.review:reject",
    "edit": "bot.cli.commands.review:edit",
    "posts": "bot.cli.commands.posts:posts",
    "retry": "bot.cli.commands.posts:retry",
    "accounts": "bot.cli.commands.posts:accounts",
    "stats": "bot.cli.commands.stats:stats",
    "generate": "bot.cli.commands.service:generate",
    "run": "bot.cli.commands.service:run",
    "status": "bot.cli.commands.service:status",
    "demo": "bot.cli.commands.service:demo",
    "train": {
        "meme": "bot.cli.commands.train_meme:command",
        "pggan": "bot.cli.commands.train_pggan:command",
        "gpt2": "bot.cli.commands.train_gpt2:command",
    },
    "data": {"import-memefly": "bot.cli.commands.train_meme:import_memefly"},
    "web": "bot.cli.commands.web:web",
    "users": {"add": "bot.cli.commands.web:users_add", "list": "bot.cli.commands.web:users_list",
              "remove": "bot.cli.commands.web:users_remove", "role": "bot.cli.commands.web:users_role"},
    "links": {"create": "bot.cli.commands.web:links_create", "list": "bot.cli.commands.web:links_list",
              "revoke": "bot.cli.commands.web:links_revoke"},
    "caption": "bot.cli.commands.content:caption",
    "make": "bot.cli.commands.content:make",
    "story": "bot.cli.commands.content:story",
    "thread": "bot.cli.commands.content:thread",
    "models": {
        "list": "bot.cli.commands.models:models_list",
        "install": "bot.cli.commands.models:models_install",
        "pull": "bot.cli.commands.models:models_pull",
        "verify": "bot.cli.commands.models:models_verify",
        "remove": "bot.cli.commands.models:models_remove",
    },
    "notify": {
        "test": "bot.cli.commands.notify:notify_test",
        "check": "bot.cli.commands.notify:notify_check",
        "list": "bot.cli.commands.notify:notify_list",
    },
    "adapt": {
        "meme": "bot.cli.commands.adapt:adapt_meme",
        "rollback": "bot.cli.commands.adapt:adapt_rollback",
        "show": "bot.cli.commands.adapt:adapt_show",
    },
    "templates": {
        "add": "bot.cli.commands.templates:templates_add",
        "list": "bot.cli.commands.templates:templates_list",
        "remove": "bot.cli.commands.templates:templates_remove",
    },
}

GROUP_HELP = {
    "queue": "Review the candidates the generators made.\n\nExample: memeloop queue list --json",
    "train": "Train the models behind the generators.\n\nExample: memeloop train meme --data DIR --out BUNDLE",
    "data": "Import data sets.\n\nExample: memeloop data import-memefly memes.json --out data/memes",
    "users": "Users of the web admin and their roles (admin, editor, viewer).\n\nExample: memeloop users add ann",
    "links": "Review links: someone without an account approves or rejects one candidate, thread or post.\n\n"
             "Example: memeloop links create candidate 42 --label \"client Ann\"",
    "models": "Your models in the data folder: pulled or installed, named by id in the config.\n\n"
              "Example: memeloop models pull gpt2",
    "notify": "Webhook notifications: test them, watch the daemon from cron, list the outbox.\n\n"
              "Example: memeloop notify test --webhook ops",
    "adapt": "The meme captioner and the caption writer learn from what the audience rewarded (versions kept, rollback).\n\n"
             "Example: memeloop adapt meme",
    "templates": "Your own meme templates (the data folder's template library).\n\n"
                 "Example: memeloop templates add office.jpg --name \"office dog\"",
}


class LazyGroup(click.Group):
    """A group whose sub-commands are imported on first use. A registered command that cannot be
    imported is an error that names it, never a command that silently disappears."""

    def __init__(self, *args, lazy: Mapping[str, str | Mapping[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        names.update(name for name in self.lazy if self._load(name) is not None)
        return sorted(names)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        return super().get_command(ctx, name) or self._load(name)

    def _load(self, name: str) -> click.Command | None:
        target = self.lazy.get(name)
        if target is None:
            return None
        if not isinstance(target, str):
            group = LazyGroup(name=name, lazy=target, help=GROUP_HELP.get(name))
            return group if group.list_commands(click.Context(group)) else None
        module_name, attr = target.split(":")
        command = importlib.import_module(module_name).__dict__.get(attr)
        if not isinstance(command, click.Command):
            raise TypeError(f"command {name!r}: {target} is not a click command")
        return command


@dataclass
class CliState:
    """What every command can ask for; built lazily so `--help` never opens a database."""

    config_path: str | None = None
    _config: Config | None = field(default=None, repr=False)
    _app: App | None = field(default=None, repr=False)

    def config(self) -> Config:
        if self._config is None:
            from bot.config import load_config

            self._config = load_config(self.config_path)
        return self._config

    def app(self) -> App:
        """The wired application (bot.app.App) for this config, on an existing database at head (only
        `memeloop init` and `memeloop db upgrade` create one)."""
        if self._app is None:
            from bot.app import build_app

            self._app = build_app(self.config(), auto_create=False)
        return self._app


def config_option(fn):
    """`--config PATH` on every leaf command too (it overrides the one given before the command)."""

    def remember(ctx: click.Context, _param, value):
        if value:
            ctx.ensure_object(CliState).config_path = value
        return value

    return click.option("--config", "config_path_override", type=click.Path(dir_okay=False),
                        expose_value=False, callback=remember, is_eager=True,
                        help=f"Config file (default: ${CONFIG_ENV} or ./config.toml).")(fn)


def pass_state(fn):
    return click.pass_obj(fn)


def actor() -> str:
    """Who is acting, for the audit log: $MEMELOOP_ACTOR, else the login name."""
    import getpass
    import os

    if os.environ.get("MEMELOOP_ACTOR"):
        return os.environ["MEMELOOP_ACTOR"][:64]
    try:
        return getpass.getuser()[:64]
    except (KeyError, OSError):
        return "admin"


actor_option = click.option("--actor", default=actor, show_default="$MEMELOOP_ACTOR or your login",
                            help="Name recorded in the audit log.")


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--config", "config_path", type=click.Path(dir_okay=False), envvar=CONFIG_ENV,
              help=f"Config file (default: ${CONFIG_ENV} or ./config.toml).")
@click.option("-v", "--verbose", count=True, help="More log output (-vv for debug).")
@click.version_option(package_name="memeloop", prog_name="memeloop")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, verbose: int) -> None:
    """memeloop: generate post candidates, review them, post them, learn from engagement.

    Example: memeloop --config demo/config.toml queue list --json
    """
    ctx.obj = CliState(config_path=config_path)
    from bot.core.logs import configure_logging

    configure_logging(verbosity=verbose)


def _error(message: str) -> None:
    click.echo(f"memeloop: error: {message}", err=True)


def _usage_line(exc: click.UsageError) -> str:
    """Click's usage error as one line: the problem, then where to read the command's help."""
    where = exc.ctx.command_path if exc.ctx is not None else "memeloop"
    return f"{' '.join(exc.format_message().split())} (see '{where} --help')"


def main(argv: Sequence[str] | None = None) -> int:
    """Console-script entry point. Returns (and exits with) 0, 1 or 2; never shows a traceback for
    an error the library knows about."""
    from bot.errors import classify

    try:
        result = cli.main(args=list(argv) if argv is not None else None, prog_name="memeloop",
                          standalone_mode=False)
        # without standalone mode click hands back ctx.exit(N) codes as the return value
        code = result if isinstance(result, int) else 0
    except click.exceptions.Exit as exc:
        code = exc.exit_code
    except click.exceptions.Abort:
        _error("aborted")
        code = 1
    except click.UsageError as exc:
        _error(_usage_line(exc))
        code = 2
    except click.ClickException as exc:
        _error(exc.format_message())
        code = exc.exit_code
    except KeyboardInterrupt:
        _error("interrupted")
        code = 130
    except Exception as exc:  # the one place an error is turned into a message (bot.errors.classify)
        kind = classify(exc)
        if kind is not None:
            _error(str(exc))
            code = kind.exit_code
        elif isinstance(exc, UnicodeEncodeError):  # undecodable argv bytes reaching the database or a file
            _error("an argument is not valid UTF-8 text")
            code = 2
        else:
            from sqlalchemy.exc import SQLAlchemyError

            if not isinstance(exc, SQLAlchemyError | OSError):
                raise
            _error(f"{type(exc).__name__}: {str(exc).splitlines()[0]}")
            code = 1
    if argv is None:
        sys.exit(code)
    return code

