"""Regression tests for issue 16: each input the adversarial pass found crashing, hanging, leaking
the database password or silently misbehaving, pinned by name."""
from __future__ import annotations

import io
import json
import os
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from PIL import Image

from bot.config import ConfigError, parse_config
from tests.bot.publishers.prepared import image_bytes

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = '[[accounts]]\nname = "a"\nplatform = "outbox"\n'
INSTAGRAM = '[[accounts]]\nname = "a"\nplatform = "instagram"\n[accounts.instagram]\nusername = "u"\n'
BIG_ID = str(2**63)


def _config_error(toml: str, base: Path | None = None) -> str:
    with pytest.raises(ConfigError) as err:
        parse_config(toml, source="c.toml", base=base)
    message = str(err.value)
    assert message.startswith("c.toml: ") and "\n" not in message
    return message


# -- config values that used to pass validation and crash (or misbehave) later ------------------

@pytest.mark.parametrize(("toml", "expected"), [
    ("[scheduler]\ntick = inf\n", "scheduler.tick: duration inf is too long"),
    ('[scheduler]\ntick = "99999999999w"\n', "scheduler.tick: duration '99999999999w' is too long"),
    ("[scheduler]\ntick = 1e300\n", "scheduler.tick: duration 1e+300 is too long"),
    ("[scheduler]\ntick = nan\n", "scheduler.tick: duration nan is not a number"),
    ('[scheduler]\ntick = "0.0001s"\n', "scheduler.tick: 0.0001s is out of range (1s to 1h)"),
    (ACCOUNT + 'generate = {every = "99999999999w"}\n', "accounts[0].generate.every: duration"),
    ("[polling]\nages = []\n", "polling.ages: List should have at least 1 item"),
    (ACCOUNT + "post_slots = []\n", "accounts[0]: needs post_slots"),
    (ACCOUNT + 'post_cron = "0 0 30 2 *"\n', "accounts[0].post_cron: cron '0 0 30 2 *' never fires"),
    (ACCOUNT + "generate = []\n", "accounts[0].generate: List should have at least 1 item"),
    ("[ranking]\nseed = -1\n", "ranking.seed: Input should be greater than or equal to 0"),
    (ACCOUNT + 'enabled = "yes"\n', "accounts[0].enabled: Input should be a valid boolean"),
    (INSTAGRAM + "delay_range = [-1, -5]\n", "accounts[0].instagram.delay_range[0]: Input should be greater"),
    (INSTAGRAM + "delay_range = [5, 1]\n", "accounts[0].instagram.delay_range: [5, 1] is not [lowest, highest]"),
    ('[publishing]\nbackoff = "1h"\nmax_backoff = "1m"\n', "publishing: max_backoff (1m) is shorter than backoff (1h)"),
    ('[storage]\nurl = "mysql://u:hunter22@h/db"\n', "storage.url: 'mysql://u:***@h/db': memeloop stores its data in SQLite"),
    ('[storage]\nurl = "postgresql+nodriver://u@h/db"\n', "storage.url: 'postgresql+nodriver://u@h/db': unknown database driver"),
    ('[storage]\nurl = "garbage"\n', "storage.url: 'garbage' is not a database URL"),
])
def test_config_value_refused_at_load_time(toml, expected):
    message = _config_error(toml)
    assert expected in message
    assert "hunter22" not in message


@pytest.mark.parametrize(("inline", "expected"), [
    ('{cron = "bad"}', "accounts[0].generate.cron: 'bad' is not a cron expression"),
    ('{cron = "0 * * * *", every = "1h"}', "accounts[0].generate: give either 'every' or 'cron', not both"),
    ("{colour = 1}", "accounts[0].generate.colour: unknown key"),
    ('{api_token = "x"}', "accounts[0].generate.api_token: secrets are not allowed in the config file"),
])
def test_inline_generate_table_reports_its_real_problem(inline, expected):
    message = _config_error(ACCOUNT + f"generate = {inline}\n")
    assert expected in message and "valid list" not in message


def test_generate_schedule_list_still_names_the_index():
    message = _config_error(ACCOUNT + '[[accounts.generate]]\nevery = "1h"\n[[accounts.generate]]\ncron = "x"\n')
    assert "accounts[0].generate[1].cron: 'x' is not a cron expression" in message


@pytest.mark.parametrize(("toml", "key"), [
    ('[storage]\nmedia_dir = "taken"\n', "storage.media_dir"),
    ('[generator.meme]\nbundle = "taken"\n', "generator.meme.bundle"),
    (ACCOUNT + '[accounts.outbox]\npath = "taken"\n', "accounts[0].outbox.path"),
    ('[storage]\nmedia_dir = "taken/media"\n', "storage.media_dir"),
    ('[storage]\nurl = "sqlite:///taken/x.db"\n', "storage.url"),
])
def test_a_folder_path_that_is_a_file_is_refused(tmp_path, toml, key):
    (tmp_path / "taken").write_text("a file")
    message = _config_error(toml, base=tmp_path)
    assert f"{key}: {tmp_path / 'taken'}" in message and "is not a folder" in message or "is a file" in message


def test_accepted_values_stay_usable():
    cfg = parse_config(ACCOUNT + 'generate = {cron = "*/5 * * * *"}\n[scheduler]\ntick = "1s"\n', source="c")
    assert cfg.accounts[0].schedules[0].cron == "*/5 * * * *" and cfg.scheduler.tick == timedelta(seconds=1)


# -- the database password ---------------------------------------------------------------------

def test_safe_url_masks_the_password():
    from feedback.db import make_engine, safe_url

    assert safe_url("postgresql+psycopg://u:p%40ss@h/db") == "postgresql+psycopg://u:***@h/db"
    assert safe_url("sqlite:///x.db") == "sqlite:///x.db"
    assert "hunter22" not in safe_url("not a url://u:hunter22@h")
    from feedback import FeedbackError

    with pytest.raises(FeedbackError) as err:
        make_engine("nonsense://u:hunter22@")
    assert "hunter22" not in str(err.value)


def test_percent_encoded_password_reaches_alembic_without_configparser():
    from feedback import migrate
    from feedback.db import make_engine

    engine = make_engine("postgresql+psycopg://u:p%40ss%25w%3Ard@127.0.0.1:1/db")
    cfg = migrate.alembic_config(engine)
    assert cfg.attributes["url"].password == "p@ss%w:rd"
    assert cfg.get_main_option("sqlalchemy.url") is None  # never through ConfigParser interpolation


def test_finding_10_in_memory_sqlite_url_is_refused(tmp_path, run_cli):
    cfg = tmp_path / "c.toml"
    cfg.write_text('[storage]\nurl = "sqlite:///:memory:"\n' + ACCOUNT)
    result = run_cli("--config", str(cfg), "queue", "list", "--json")
    assert result.code == 2 and "storage.url" in result.err and "in-memory" in result.err, result.err


def test_db_password_from_environment_or_secrets_file(tmp_path):
    from sqlalchemy.engine import make_url

    from bot.config.secrets import REDACTOR

    url = '[storage]\nurl = "postgresql+psycopg://app@db.example/memeloop"\n'
    cfg = parse_config(url, environ={"MEMELOOP_DB_PASSWORD": "s3cr@t:/%x"})
    assert make_url(cfg.storage.url).password == "s3cr@t:/%x"
    assert "s3cr@t:/%x" in REDACTOR._values
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[storage]\npassword = "from-the-file"\n')
    secrets.chmod(0o600)
    cfg = parse_config(url + f'[secrets]\nfile = "{secrets}"\n', environ={})
    assert make_url(cfg.storage.url).password == "from-the-file"
    plain = parse_config('[storage]\nurl = "sqlite:///x.db"\n', environ={"MEMELOOP_DB_PASSWORD": "unused"})
    assert make_url(plain.storage.url).password is None


@pytest.mark.postgres
def test_password_never_printed_and_percent_password_migrates(pg_url, tmp_path, run_cli):
    from sqlalchemy.engine import make_url

    from feedback import migrate
    from feedback.db import make_engine

    url = make_url(pg_url).set(password="p@ss%w:rd/x").render_as_string(hide_password=False)
    assert "%25" in url
    cfg = tmp_path / "c.toml"
    cfg.write_text(f'[storage]\nurl = "{url}"\n' + ACCOUNT)
    up = run_cli("--config", str(cfg), "db", "upgrade", "--revision", "0001")
    assert up.code == 0, up.err
    assert "p@ss" not in up.out + up.err and "p%40ss" not in up.out + up.err
    outdated = run_cli("--config", str(cfg), "queue", "list")
    assert outdated.code == 2 and "is at revision 0001" in outdated.err and ":***@" in outdated.err
    assert "p%40ss" not in outdated.err and "p@ss" not in outdated.err
    engine = make_engine(url)
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()
    engine.dispose()


# -- CLI arguments ------------------------------------------------------------------------------

@pytest.fixture
def cfg(write_config, tmp_path):
    (tmp_path / "cat.png").write_bytes(image_bytes())
    return str(write_config())


def _one_line_error(result, code: int = 2) -> str:
    assert result.code == code, (result.code, result.err)
    assert result.err.count("\n") == 1 and result.err.startswith("memeloop: error: ")
    assert "Traceback" not in result.err
    return result.err


@pytest.mark.parametrize("argv", [
    ("approve", BIG_ID), ("reject", BIG_ID, "--reason", "x"), ("edit", BIG_ID, "--text", "x"),
    ("queue", "show", BIG_ID), ("retry", BIG_ID), ("queue", "show", "0"), ("retry", "--", "-1"),
])
def test_ids_beyond_64_bits_are_usage_errors(cfg, run_cli, argv):
    assert "ids run from 1 to 9223372036854775807" in _one_line_error(run_cli("--config", cfg, *argv))


def test_far_future_at_is_refused(cfg, run_cli):
    assert run_cli("--config", cfg, "queue", "add", "--image", str(Path(cfg).parent / "cat.png"),
                   "--text", "x").code == 0
    err = _one_line_error(run_cli("--config", cfg, "approve", "1", "--at", "9999-12-31T23:59:59-05:00"))
    assert "out of range" in err


@pytest.mark.parametrize("text", ["", "   ", "\t\n", "bad \udcff bytes", "nul\x00"])
def test_blank_or_undecodable_text_is_refused_by_edit_and_add(cfg, run_cli, text):
    image = str(Path(cfg).parent / "cat.png")
    assert run_cli("--config", cfg, "queue", "add", "--image", image, "--text", "fine").code == 0
    _one_line_error(run_cli("--config", cfg, "edit", "1", "--text", text))
    _one_line_error(run_cli("--config", cfg, "queue", "add", "--image", image, "--text", text))
    (row,) = json.loads(run_cli("--config", cfg, "queue", "list", "--json").out)
    assert row["text"] == "fine"


def test_invalid_utf8_argv_bytes_in_a_real_process(cfg):
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "bot", "--config", cfg, "edit", "1", "--text", b"caf\xe9"],
                          capture_output=True, env=env, timeout=60, check=False)
    assert proc.returncode == 2 and b"not valid UTF-8" in proc.stderr and b"Traceback" not in proc.stderr


def test_decompression_bomb_png_is_refused_with_the_limit(cfg, run_cli, tmp_path):
    Image.new("1", (20000, 20000)).save(tmp_path / "bomb.png")
    err = _one_line_error(run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "bomb.png"),
                                  "--text", "x"))
    assert "400000000 pixels" in err and "the limit is 67108864 pixels" in err


def test_animated_gif_is_refused_naming_its_frames(cfg, run_cli, tmp_path):
    frames = [Image.new("RGB", (32, 32), (i * 80, 0, 0)) for i in range(3)]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    err = _one_line_error(run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "anim.gif"),
                                  "--text", "x"))
    assert "animated image with 3 frames" in err


def test_db_upgrade_to_an_unknown_revision_is_a_usage_error(cfg, run_cli):
    err = _one_line_error(run_cli("--config", cfg, "db", "upgrade", "--revision", "nonexistent"))
    assert "unknown revision 'nonexistent' (known: 0001" in err


def test_queue_add_from_a_fifo_refuses_without_hanging(cfg, tmp_path):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    env = dict(os.environ, PYTHONPATH=str(REPO))
    proc = subprocess.run([sys.executable, "-m", "bot", "--config", cfg, "queue", "add", "--image", str(fifo),
                           "--text", "x"], capture_output=True, text=True, env=env, timeout=60, check=False)
    assert proc.returncode == 2 and "not a regular file" in proc.stderr
    assert proc.stderr.count("\n") == 1


def test_garbage_storage_url_exits_2(write_config, run_cli):
    cfg = write_config('[storage]\nurl = "::not a url::"\n')
    assert "storage.url" in _one_line_error(run_cli("--config", str(cfg), "queue", "list"))


# -- import ---------------------------------------------------------------------------------------

def _memefly(tmp_path: Path, entry: dict, image: Image.Image | None = None) -> Path:
    (image or Image.new("RGB", (200, 100), "white")).save(tmp_path / "kid.png")
    path = tmp_path / "memes.json"
    path.write_text(json.dumps([entry | {"meme_name": "kid"}]))
    return path


def test_import_box_with_a_malformed_number_is_a_bad_box(tmp_path):
    from generator.meme.memefly import import_memefly

    report = import_memefly(_memefly(tmp_path, {"meme_text": ["a caption"], "meme_bounding_box": [
        "left: 1.2.3px; top: 0px; width: 10px; height: 10px;"]}), tmp_path / "out")
    assert report.skipped == {"bad box": 1} and report.captions == 1


def test_import_string_meme_text_and_box_are_one_item_each(tmp_path):
    from generator.meme.memefly import import_memefly

    report = import_memefly(_memefly(tmp_path, {
        "meme_text": "one whole caption", "meme_bounding_box": "left: 0px; top: 0px; width: 200px; height: 50px;"}),
        tmp_path / "out")
    assert report.captions == 1 and report.skipped == {}
    rows = (tmp_path / "out" / "captions.jsonl").read_text().splitlines()
    assert [json.loads(r)["text"] for r in rows] == ["one whole caption"]
    assert (tmp_path / "out" / "kid" / "template.toml").read_text().count("[[boxes]]") == 1


def test_import_a_number_where_a_list_belongs_is_named(tmp_path):
    from generator.meme.memefly import import_memefly

    report = import_memefly(_memefly(tmp_path, {"meme_text": ["ok"], "meme_bounding_box": 7}), tmp_path / "out")
    assert report.skipped == {"bad meme_bounding_box": 1}


def test_import_deeply_nested_json_is_a_one_line_error(tmp_path, run_cli):
    path = tmp_path / "deep.json"
    path.write_text("[" * 100_000 + "]" * 100_000)
    err = _one_line_error(run_cli("data", "import-memefly", str(path), "--out", str(tmp_path / "o")), code=2)
    assert "nested too deeply" in err


def test_import_decompression_bomb_template_is_skipped_with_the_limit(tmp_path):
    from generator import DataError
    from generator.meme.memefly import import_memefly

    with pytest.raises(DataError, match="the limit is 67108864 pixels"):
        import_memefly(_memefly(tmp_path, {"meme_text": ["x"]}, Image.new("1", (20000, 20000))), tmp_path / "out")


# -- images ---------------------------------------------------------------------------------------

def _oriented_jpeg(path: Path) -> None:
    """800x400 pixels stored, left quarter blue; EXIF orientation 6 = display turned 90 degrees
    clockwise, so upright it is 400x800 with the blue part on top."""
    image = Image.new("RGB", (800, 400), (230, 20, 20))
    image.paste((20, 20, 230), (0, 0, 200, 400))
    exif = Image.Exif()
    exif[0x0112] = 6
    image.save(path, "JPEG", exif=exif, quality=95)


def _blue_on_top(image: Image.Image) -> bool:
    rgb = image.convert("RGB")
    top, bottom = rgb.getpixel((rgb.width // 2, rgb.height // 8)), rgb.getpixel((rgb.width // 2, rgb.height * 7 // 8))
    assert isinstance(top, tuple) and isinstance(bottom, tuple)
    return top[2] > 150 > top[0] and bottom[0] > 150 > bottom[2]


def test_exif_orientation_6_is_published_rotated_on_every_platform(cfg, run_cli, tmp_path):
    from bot.app import build_app
    from bot.config import AccountConfig, load_config
    from bot.service.publishing import Job, prepare_post, publish_due

    _oriented_jpeg(tmp_path / "turned.jpg")
    added = run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "turned.jpg"), "--text", "up")
    assert added.code == 0, added.err
    stored = Path(added.out.strip().rsplit(": ", 1)[1])
    with Image.open(stored) as img:
        assert img.size == (400, 800) and _blue_on_top(img)
    assert run_cli("--config", cfg, "approve", "1", "--at", "now").code == 0
    app = build_app(load_config(cfg))
    assert publish_due(app.deps, owner="t").published == 1
    app.close()
    (media,) = (tmp_path / "outbox" / "posts").glob("*.png")
    with Image.open(media) as img:
        assert img.height > img.width and _blue_on_top(img)
    job = Job(post_id=1, account="a", account_id=1, candidate_id=1, marker="m", attempts=0, text="up",
              image_path=str(stored), template=None, template_name=None, generator="manual")
    for account in (AccountConfig(name="a", platform="x"),
                    AccountConfig(name="a", platform="instagram", instagram={"username": "u"})):
        post = prepare_post(account, job)
        with Image.open(io.BytesIO(post.media)) as img:
            assert _blue_on_top(img), account.platform


# -- terminal output ------------------------------------------------------------------------------

def test_queue_list_and_show_escape_control_sequences(cfg, run_cli, tmp_path):
    evil = "clear\x1b[2J title\x1b]0;pwned\x07 [bold]markup[/bold] \u202eevil"
    assert run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "cat.png"), "--text", "ok").code == 0
    db = sqlite3.connect(tmp_path / "memeloop.db")
    with db:
        db.execute("UPDATE candidates SET text = ? WHERE id = 1", (evil,))
    db.close()
    for argv in (("queue", "list"), ("queue", "show", "1", "--no-image")):
        result = run_cli("--config", cfg, *argv)
        assert result.code == 0, result.err
        assert "\x1b" not in result.out and "\x07" not in result.out and "\u202e" not in result.out
        assert "\\x1b" in result.out.replace("\n", "") or "\\x1" in result.out
    shown = run_cli("--config", cfg, "queue", "show", "1", "--no-image")
    assert "[bold]markup[/bold]" in shown.out and "\\x1b[2J" in shown.out


# -- found by tests/bot/test_fuzz_inputs.py ------------------------------------------------------

@pytest.mark.parametrize("revision", ["", " ", "0001@head", "heads:x"])
def test_odd_revision_names_are_usage_errors(cfg, run_cli, revision):
    assert "unknown revision" in _one_line_error(run_cli("--config", cfg, "db", "upgrade", "--revision", revision))


def test_revision_prefix_and_relative_steps_still_work(cfg, run_cli):
    from feedback import migrate

    first = migrate.revisions_oldest_first()[0]
    assert migrate.check_revision(first) == first
    assert migrate.check_revision("+1") == "+1" and migrate.check_revision("head") == "head"
    with pytest.raises(migrate.UnknownRevision):
        migrate.check_revision("")  # matches every revision; Alembic's own parser asserts on it
    assert run_cli("--config", cfg, "db", "upgrade", "--revision", "head").code == 0


@pytest.mark.parametrize("argv", [("queue", "list", "--limit", str(2**70)), ("posts", "list", "--limit", str(2**64)),
                                  ("generate", "--account", "demo", "--seed", "-1")])
def test_numbers_beyond_the_database_are_usage_errors(cfg, run_cli, argv):
    _one_line_error(run_cli("--config", cfg, *argv))


def test_undecodable_argument_anywhere_is_a_usage_error(cfg, run_cli):
    assert "not valid UTF-8" in _one_line_error(run_cli("--config", cfg, "accounts", "resume", "\udcff"))


def test_tiff_is_refused_for_posting(cfg, run_cli, tmp_path):
    Image.new("RGB", (64, 32)).save(tmp_path / "scan.tif", "TIFF")
    err = _one_line_error(run_cli("--config", cfg, "queue", "add", "--image", str(tmp_path / "scan.tif"),
                                  "--text", "x"))
    assert "TIFF images are not supported" in err


def test_deeply_nested_caption_line_and_template_are_refused_not_crashed(tmp_path):
    from generator import DataError
    from generator.meme.data import load_dataset
    from generator.meme.templates import load_template

    for slug in ("t0", "t1"):
        (tmp_path / slug).mkdir()
        Image.new("RGB", (64, 48), "white").save(tmp_path / slug / "image.png")
        (tmp_path / slug / "template.toml").write_text('name = "T"\nimage = "image.png"\n')
    rows = [json.dumps({"template": "t0", "text": "a fine caption"}), "[" * 200_000 + "]" * 200_000]
    (tmp_path / "captions.jsonl").write_text("\n".join(rows))
    dataset = load_dataset(tmp_path, min_templates=1, min_captions=1)
    assert dataset.skipped == {"not JSON": 1} and len(dataset.captions) == 1
    (tmp_path / "t1" / "template.toml").write_text("boxes = " + "[" * 200_000 + "]" * 200_000)
    with pytest.raises(DataError, match="nested too deeply"):
        load_template(tmp_path / "t1")
