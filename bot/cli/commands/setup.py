"""`memeloop init` and `memeloop db ...`."""
from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from bot.cli import CliState, config_option, pass_state
from bot.config import load_config


def example_config_text() -> str:
    return resources.files("bot").joinpath("config.example.toml").read_text(encoding="utf-8")


@click.command("init")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--force", is_flag=True, help="Overwrite an existing config.toml.")
def init_cmd(directory: Path, force: bool) -> None:
    """Write a working config.toml and an empty, migrated database into DIRECTORY.

    Example: memeloop init mybot && memeloop --config mybot/config.toml queue list
    """
    from bot.app import open_database
    from feedback.db import safe_url

    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "config.toml"
    if target.exists() and not force:
        raise click.ClickException(f"{target} already exists (use --force to overwrite)")
    target.write_text(example_config_text(), encoding="utf-8")
    config = load_config(target)
    open_database(config).dispose()
    click.echo(f"wrote {target}")
    click.echo(f"database {safe_url(config.storage.url)} is ready")
    click.echo(f"next: memeloop --config {target} queue list")


@click.group("db")
def db() -> None:
    """Database schema commands (Alembic migrations).

    Example: memeloop --config config.toml db upgrade
    """


def _engine(state: CliState, *, create: bool = False):
    """Only `db upgrade` may create the database (a SQLite file that is not there is an error otherwise)."""
    from bot.config.checks import sqlite_file
    from feedback.db import make_engine

    url = state.config().storage.url
    path = sqlite_file(url)
    if path is not None and not create and not path.is_file():
        from bot.config import ConfigError

        raise ConfigError(f"storage.url: the database file {path} does not exist (create it with "
                          "`memeloop db upgrade`)")
    return make_engine(url)


@db.command("upgrade")
@click.option("--revision", default="head", show_default=True, help="Target revision.")
@config_option
@pass_state
def db_upgrade(state: CliState, revision: str) -> None:
    """Upgrade the database schema (back up a SQLite file first: it is one file).

    Example: memeloop --config config.toml db upgrade
    """
    from feedback import migrate

    try:
        migrate.check_revision(revision)
    except migrate.UnknownRevision as exc:
        raise click.BadParameter(str(exc), param_hint="--revision") from None
    engine = _engine(state, create=True)
    before = migrate.current_revision(engine)
    known = migrate.revisions_oldest_first()
    target = next((rev for rev in known if rev.startswith(revision)), None)
    if before in known and target is not None and known.index(target) < known.index(before):
        engine.dispose()
        raise click.BadParameter(f"the database is at {before}, newer than {target}: `db upgrade` never goes "
                                 "back (nothing was changed)", param_hint="--revision")
    migrate.upgrade(engine, revision)
    after = migrate.current_revision(engine)
    engine.dispose()
    click.echo(f"database upgraded: {before or 'empty'} -> {after}" if after != before
               else f"database already at {after}: nothing to do")


@db.command("current")
@config_option
@pass_state
def db_current(state: CliState) -> None:
    """Print the schema revision of the database and the one the code expects.

    Example: memeloop --config config.toml db current
    """
    from feedback import migrate

    engine = _engine(state)
    current = migrate.current_revision(engine)
    engine.dispose()
    head = migrate.head_revision()
    click.echo(f"current={current or 'empty'} head={head} up_to_date={'yes' if current == head else 'no'}")
