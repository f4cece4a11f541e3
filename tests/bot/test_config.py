from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.config import ConfigError, load_config, parse_config, parse_duration

REPO = Path(__file__).resolve().parents[2]


def test_example_config_loads_and_resolves_paths_against_its_folder(tmp_path):
    target = tmp_path / "cfg" / "config.toml"
    target.parent.mkdir()
    target.write_text((REPO / "config.example.toml").read_text())
    cfg = load_config(target)
    assert cfg.storage.url == f"sqlite:///{target.parent / 'memeloop.db'}"
    assert cfg.storage.media_dir == target.parent / "media"
    demo = cfg.account("demo")
    assert demo.outbox is not None
    assert demo.platform == "outbox" and demo.outbox.path == target.parent / "outbox"
    assert demo.schedules[0].every == timedelta(hours=6)
    assert cfg.generator.meme.bundle is None  # "" = shipped demo bundle


def test_packaged_example_is_the_top_level_file():
    from bot.cli.commands.setup import example_config_text

    assert example_config_text() == (REPO / "config.example.toml").read_text()


@pytest.mark.parametrize(
    ("toml", "expected"),
    [
        ('[storage]\nurll = "x"\n', "storage.urll: unknown key"),
        ('[publishing]\nmax_attempts = "many"\n', "publishing.max_attempts:"),
        ('[[accounts]]\nname = "a"\nplatform = "myspace"\n', "accounts[0].platform:"),
        ('[[accounts]]\nname = "a"\nplatform = "outbox"\npost_cron = "99 * * * *"\n',
         "accounts[0].post_cron: '99 * * * *' is not a cron expression"),
        ('[[accounts]]\nname = "a"\nplatform = "outbox"\npost_slots = ["25:00"]\n',
         "accounts[0].post_slots[0]: '25:00' is not a time of day"),
        ('[scheduler]\ntick = "soon"\n', "scheduler.tick: 'soon' is not a duration"),
        ('[scheduler]\ntimezone = "Mars/Olympus"\n', "scheduler.timezone: 'Mars/Olympus' is not a known time zone"),
        ('[[accounts]]\nname = "a"\nplatform = "x"\n[accounts.x]\napi_key = "sekret"\n',
         "accounts[0].x.api_key: secrets are not allowed in the config file"),
        ('[[accounts]]\nname = "a"\nplatform = "instagram"\n', "needs an [accounts.instagram] section"),
        ('[[accounts]]\nname = "a"\nplatform = "outbox"\n[[accounts]]\nname = "a"\nplatform = "outbox"\n',
         "account name 'a' is used twice"),
        ('[[accounts]]\nname = "a"\nplatform = "outbox"\nhashtag_cap = 31\n', "accounts[0].hashtag_cap:"),
        ("[storage\n", "not valid TOML"),
    ],
)
def test_bad_config_names_key_and_problem(toml, expected):
    with pytest.raises(ConfigError) as err:
        parse_config(toml, source="bad.toml")
    message = str(err.value)
    assert message.startswith("bad.toml: ")
    assert expected in message
    assert "\n" not in message


def test_missing_config_file_says_how_to_fix(tmp_path, monkeypatch):
    monkeypatch.delenv("MEMELOOP_CONFIG", raising=False)
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError, match="config.toml not found .*memeloop init"):
        load_config(None)


def test_config_path_from_environment(write_config, monkeypatch):
    path = write_config()
    monkeypatch.setenv("MEMELOOP_CONFIG", str(path))
    assert load_config(None).path == path.resolve()


@pytest.mark.parametrize(("text", "seconds"), [("90s", 90), ("15m", 900), ("6h", 21600), ("7d", 604800),
                                                ("1.5h", 5400), (30, 30)])
def test_parse_duration(text, seconds):
    assert parse_duration(text).total_seconds() == seconds


@pytest.mark.parametrize("bad", ["", "6 hours", "-1h", "0s", True])
def test_parse_duration_rejects(bad):
    with pytest.raises(ValueError):
        parse_duration(bad)


def test_bad_config_exits_2_with_one_line_and_no_traceback(write_config, run_cli):
    path = write_config('[[accounts]]\nname = "a"\nplatform = "myspace"\n')
    result = run_cli("--config", str(path), "queue", "list")
    assert result.code == 2
    assert "Traceback" not in result.err
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and "accounts[0].platform" in lines[0]
