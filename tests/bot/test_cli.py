from __future__ import annotations

import json
import subprocess
import sys

import click
import pytest

from bot.cli import COMMANDS, cli


def _walk(command: click.Command, path: tuple[str, ...] = ()):
    yield path, command
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            assert sub is not None, name
            yield from _walk(sub, (*path, name))


# The whole command surface, written out: a command that disappears (or a module that stops
# importing) fails here instead of silently vanishing from `memeloop --help`.
EXPECTED_COMMANDS = {
    "accounts", "accounts list", "accounts login", "accounts resume", "approve", "cancel", "data", "data import-memefly", "db",
    "db current", "db upgrade", "demo", "edit", "generate", "init", "posts", "posts list", "queue", "queue add",
    "queue list", "queue sheet", "queue show", "reject", "reschedule", "retry", "run", "stats", "stats approval",
    "stats by", "stats bottom", "stats learned", "stats models", "stats time", "stats top", "status", "train", "train gpt2",
    "train meme", "train pggan", "users", "users add", "users list", "users remove", "users role", "web",
    "links", "links create", "links list", "links revoke",
    "caption", "make", "story", "thread", "thread show", "thread continue", "thread steer", "thread edit",
    "thread approve", "models", "models list", "models install", "models pull", "models verify", "models remove",
    "templates", "templates add", "templates list", "templates remove",
}


def test_every_registered_command_module_loads():
    found = {" ".join(path) for path, _ in _walk(cli) if path}
    assert found >= EXPECTED_COMMANDS, sorted(EXPECTED_COMMANDS - found)
    assert set(cli.list_commands(click.Context(cli))) == set(COMMANDS)


def test_a_command_module_that_fails_to_import_is_an_error_not_a_missing_command(monkeypatch):
    from bot.cli import LazyGroup

    group = LazyGroup(name="t", lazy={"broken": "bot.cli.commands.no_such_module:cmd"})
    with pytest.raises(ModuleNotFoundError):
        group.list_commands(click.Context(group))


def test_every_command_has_help_with_an_example():
    missing = []
    for path, command in _walk(cli):
        if not command.help or "Example: memeloop" not in command.help:
            missing.append(" ".join(path) or "memeloop")
    assert not missing, f"commands without an 'Example: memeloop ...' line in their help: {missing}"


def test_init_writes_config_and_migrated_database(tmp_path, run_cli):
    result = run_cli("init", str(tmp_path / "bot"))
    assert result.code == 0, result.err
    config = tmp_path / "bot" / "config.toml"
    assert config.is_file() and (tmp_path / "bot" / "memeloop.db").is_file()
    again = run_cli("init", str(tmp_path / "bot"))
    assert again.code == 1 and "already exists" in again.err
    current = run_cli("--config", str(config), "db", "current")
    assert "up_to_date=yes" in current.out


def test_queue_list_json_is_an_empty_array_on_a_new_database(write_config, run_cli):
    config = write_config()
    result = run_cli("--config", str(config), "queue", "list", "--json")
    assert result.code == 0, result.err
    assert json.loads(result.out) == []


def test_config_option_after_the_command(write_config, run_cli):
    config = write_config()
    result = run_cli("queue", "list", "--json", "--config", str(config))
    assert result.code == 0 and json.loads(result.out) == []


def test_usage_error_exits_2(run_cli):
    result = run_cli("queue", "list", "--limit", "-3")
    assert result.code == 2


def test_unknown_status_is_a_usage_error(write_config, run_cli):
    result = run_cli("--config", str(write_config()), "queue", "list", "--status", "bogus")
    assert result.code == 2  # a usage error, as the README says
    assert "'bogus' is not one of 'pending', 'approved', 'rejected', 'filtered', 'duplicate', 'posted'" in result.err


def test_outdated_database_asks_for_upgrade(write_config, run_cli):
    config = write_config()
    assert run_cli("--config", str(config), "queue", "list").code == 0
    import sqlite3

    db = config.parent / "memeloop.db"
    with sqlite3.connect(db) as conn:
        conn.execute("UPDATE alembic_version SET version_num = 'older'")
    result = run_cli("--config", str(config), "queue", "list")
    assert result.code == 2 and "memeloop db upgrade" in result.err


HEAVY = ("tensorflow", "keras", "torch", "transformers", "tweepy", "instagrapi")


@pytest.mark.parametrize("args", [["queue", "list", "--json"], ["--help"]])
def test_admin_cli_imports_no_ml_framework(write_config, args):
    config = write_config()
    code = (
        "import sys\nfrom bot.cli import main\n"
        f"rc = main(['--config', {str(config)!r}, *{args!r}])\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print('LOADED', loaded, 'RC', rc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "LOADED [] RC 0" in out


def test_ctx_exit_code_is_the_process_exit_code():
    from bot.cli import main

    @cli.command("exit-three", hidden=True)
    @click.pass_context
    def exit_three(ctx):
        """Exits 3.

        Example: memeloop exit-three
        """
        ctx.exit(3)

    try:
        assert main(["exit-three"]) == 3
    finally:
        cli.commands.pop("exit-three")


def test_queue_list_on_sqlite_loads_neither_the_orm_nor_pydantic(write_config, run_cli, tmp_path, monkeypatch):
    """The admin CLI's cold start: a read-only listing goes through sqlite3 (feedback.queue_sql), once
    its config text has been validated (the first run does that and caches it by content hash)."""
    import subprocess
    import sys

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    config = write_config()
    assert run_cli("--config", str(config), "queue", "add", "--image", str(_png(tmp_path)), "--text", "hi").code == 0
    assert run_cli("--config", str(config), "queue", "list").code == 0  # validates the config, once
    code = ("import sys, json\nfrom bot.cli import main\n"
            f"main(['--config', {str(config)!r}, 'queue', 'list', '--json'])\n"
            "print(sorted(m for m in ('sqlalchemy.orm', 'pydantic', 'rich', 'numpy') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    listed, loaded = out.stdout.rsplit("\n", 2)[-3], out.stdout.strip().splitlines()[-1]
    assert loaded == "[]", out.stdout
    assert '"text": "hi"' in out.stdout and listed


def _png(tmp_path):
    from PIL import Image

    path = tmp_path / "a.png"
    Image.new("RGB", (32, 32), "red").save(path)
    return path
