"""Fuzz-style proof for issue 16: configs, CLI arguments, data files and images generated from the
classes of input that once crashed, hung or misbehaved. Every run must end with exit code 0, 1 or
2, at most one `memeloop: error:` line on stderr (exactly one on failure), no traceback, no hang
(pytest-timeout), and the database intact: `PRAGMA integrity_check` ok, every row still there.

The CLI runs in-process (bot.cli.main(argv)); the cases where a hang or a real argv matters run as
subprocesses in tests/bot/test_hardening.py. The `*_many` variants are the heavier, slow-marked
runs. Outcome counts print at the end of the module (run with -s to see them).
"""
from __future__ import annotations

import io
import json
import math
import os
import re
import shutil
import sqlite3
import tempfile
import warnings
from collections import Counter, defaultdict
from contextlib import redirect_stderr, redirect_stdout
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from bot.cli import main
from bot.config import Config, ConfigError, parse_config
from tests.bot.fuzz_strategies import (
    caption_lines,
    cli_argv,
    configs,
    header_bomb_png,
    image_files,
    memefly_entries,
    png,
    template_tables,
    toml_text,
)
from tests.conftest import create_database

OUTCOMES: dict[str, Counter] = defaultdict(Counter)
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING|ERROR|CRITICAL) ")
NOW = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
SLOW_SETTINGS = {"suppress_health_check": list(HealthCheck), "deadline": None}


@pytest.fixture(scope="module", autouse=True)
def _report():
    yield
    for kind, counts in sorted(OUTCOMES.items()):
        total = sum(counts.values())
        figures = " ".join(f"{k}={v}" for k, v in sorted(counts.items()))
        print(f"\nfuzz {kind}: cases={total} {figures}")


def run(argv: list[str]) -> tuple[int, str, str]:
    """main(argv) with stdout/stderr captured; a Python warning (which would print to stderr in a
    real run, outside our one-line contract) is appended to stderr as 'Warning: ...'."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")
        code = main(argv)
    shown = [w for w in caught if not issubclass(w.category, DeprecationWarning | PendingDeprecationWarning)]
    return code, out.getvalue(), err.getvalue() + "".join(f"Warning: {w.message}\n" for w in shown)


def check_outcome(kind: str, argv: list[str], code: int, err: str) -> None:
    """The contract of every CLI run, whatever the input."""
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err and "\nWarning: " not in "\n" + err, (argv, err)
    messages = [line for line in err.splitlines() if not LOG_LINE.match(line) and not line.startswith("warning: ")]
    if code == 0:
        assert not any(m.startswith("memeloop: error:") for m in messages), (argv, err)
    else:
        assert len(messages) == 1 and messages[0].startswith("memeloop: error: "), (argv, err)
    OUTCOMES[kind][f"exit{code}"] += 1


def _workdir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="memeloop-fuzz-"))
    (folder / "taken").write_text("a file where a folder belongs")
    return folder


def assert_usable(cfg: Config) -> None:
    """What the daemon and the CLI do with config values later must not fail for an accepted one."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from bot.service.slots import next_slot

    for section in (cfg.scheduler, cfg.publishing, cfg.polling, cfg.generator, cfg.safety, cfg.ranking):
        for value in section.__dict__.values():
            for item in value if isinstance(value, list) else [value]:
                if hasattr(item, "total_seconds"):
                    assert 1 <= item.total_seconds() and NOW + item > NOW
    assert cfg.scheduler.tick.total_seconds() >= 1
    assert cfg.publishing.backoff <= cfg.publishing.max_backoff
    assert cfg.polling.ages
    for acc in cfg.accounts:
        assert next_slot(acc, NOW) > NOW
        for plan in acc.schedules:
            if plan.cron:
                trigger = CronTrigger.from_crontab(plan.cron, timezone=acc.timezone)
            else:
                trigger = IntervalTrigger(seconds=plan.every.total_seconds(), timezone="UTC")
            assert trigger.get_next_fire_time(None, NOW) is not None
        if acc.instagram is not None:
            low, high = acc.instagram.delay_range
            assert 0 <= low <= high < math.inf


def config_case(text: str) -> None:
    folder = _workdir()
    try:
        cfg = parse_config(text, source="fuzz.toml", base=folder, environ={})
    except ConfigError as exc:
        message = str(exc)
        assert message.startswith("fuzz.toml: ") and "\n" not in message and "hunter22" not in message, message
        if '"generate" = {' in text and '"generate" = "' not in text:  # the union error that hid the real problem
            assert "generate: Input should be a valid list" not in message, message
        OUTCOMES["config"]["refused"] += 1
    else:
        assert_usable(cfg)
        OUTCOMES["config"]["accepted"] += 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(120)
@settings(max_examples=120, suppress_health_check=[HealthCheck.too_slow])
@given(text=configs())
def test_fuzz_configs_load_or_refuse_in_one_line(text):
    config_case(text)


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=3000, **SLOW_SETTINGS)
@given(text=configs())
def test_fuzz_configs_many(text):
    config_case(text)


def config_cli_case(text: str) -> None:
    folder = _workdir()
    try:
        path = folder / "config.toml"
        path.write_text(text, encoding="utf-8")
        for argv in (["--config", str(path), "queue", "list", "--json"], ["--config", str(path), "accounts", "list"]):
            code, _out, err = run(argv)
            check_outcome("config_cli", argv, code, err)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(180)
@settings(max_examples=12, suppress_health_check=[HealthCheck.too_slow])
@given(text=configs())
def test_fuzz_configs_through_the_cli(text):
    config_cli_case(text)


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=150, **SLOW_SETTINGS)
@given(text=configs())
def test_fuzz_configs_through_the_cli_many(text):
    config_cli_case(text)


# -- CLI arguments against one populated database ------------------------------------------------

@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """A config, a database with candidates in several states and a post, and odd files to point at."""
    folder = tmp_path_factory.mktemp("fuzzdb")
    config = folder / "config.toml"
    config.write_text('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n\n'
                      '[[accounts]]\nname = "demo"\nplatform = "outbox"\n', encoding="utf-8")
    create_database(config)  # as `memeloop init` leaves it
    files = folder / "files"
    files.mkdir()
    (files / "ok.png").write_bytes(png())
    (files / "notes.txt").write_text("hello")
    (files / "bomb.png").write_bytes(header_bomb_png(30000, 30000))
    (files / "empty.png").write_bytes(b"")
    (files / "truncated.png").write_bytes(png(300, 300)[:200])
    frames = [Image.new("RGB", (32, 32), (i * 80, 0, 0)) for i in range(3)]
    frames[0].save(files / "anim.gif", save_all=True, append_images=frames[1:])
    os.mkfifo(files / "fifo.png")
    (files / "dir.png").mkdir()
    for text in ("first", "second", "third \x1b[2J", "fourth"):
        code, _, err = run(["--config", str(config), "queue", "add", "--image", str(files / "ok.png"), "--text", text])
        assert code == 0, err
    assert run(["--config", str(config), "approve", "1", "--at", "2030-01-01T00:00"])[0] == 0
    assert run(["--config", str(config), "reject", "2", "--reason", "no"])[0] == 0
    return {"config": str(config), "db": folder / "memeloop.db", "files": files,
            "rows": _rows(folder / "memeloop.db")}


def _rows(db: Path) -> dict[str, set[int]]:
    with sqlite3.connect(db) as conn:
        return {t: {r[0] for r in conn.execute(f"SELECT id FROM {t}")} for t in ("candidates", "posts", "reviews")}


def assert_database_intact(db: Path, before: dict[str, set[int]]) -> None:
    with sqlite3.connect(db) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    after = _rows(db)
    for table, ids in before.items():
        assert ids <= after[table], f"rows lost from {table}: {sorted(ids - after[table])}"


def cli_case(populated: dict, argv: list[str]) -> None:
    argv = [str(populated["files"] / a.removeprefix("@files/")) if a.startswith("@files/") else a for a in argv]
    full = ["--config", populated["config"], *argv]
    code, _out, err = run(full)
    check_outcome("cli", full, code, err)
    if argv[:2] == ["db", "upgrade"] and code == 0:  # keep the schema at head for the next example
        assert run(["--config", populated["config"], "db", "upgrade"])[0] == 0
    assert_database_intact(populated["db"], populated["rows"])


@pytest.mark.timeout(300)
@settings(max_examples=150, suppress_health_check=[HealthCheck.too_slow])
@given(argv=cli_argv())
def test_fuzz_cli_arguments(populated, argv):
    cli_case(populated, argv)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@settings(max_examples=1500, **SLOW_SETTINGS)
@given(argv=cli_argv())
def test_fuzz_cli_arguments_many(populated, argv):
    cli_case(populated, argv)


# -- data files: memefly JSON --------------------------------------------------------------------

@pytest.fixture(scope="module")
def image_folder(tmp_path_factory):
    folder = tmp_path_factory.mktemp("memefly")
    Image.new("RGB", (200, 100), "white").save(folder / "kid.png")
    (folder / "bomb.png").write_bytes(header_bomb_png(40000, 40000))
    frames = [Image.new("RGB", (32, 32), (i * 80, 0, 0)) for i in range(2)]
    frames[0].save(folder / "anim.gif", save_all=True, append_images=frames[1:])
    return folder


def data_case(image_folder: Path, entries: object, nested: int) -> None:
    folder = Path(tempfile.mkdtemp(prefix="memeloop-fuzz-"))
    try:
        path = folder / "memes.json"
        text = json.dumps(entries) if not nested else "[" * nested + "]" * nested
        path.write_text(text, encoding="utf-8")
        argv = ["data", "import-memefly", str(path), "--out", str(folder / "out"), "--images", str(image_folder)]
        code, _out, err = run(argv)
        check_outcome("data", argv, code, err)
        if code == 0:
            from generator.meme.templates import load_templates

            assert load_templates(folder / "out")  # what was written loads back
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(180)
@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow])
@given(entries=memefly_entries(), nested=st.sampled_from([0, 0, 0, 0, 50, 200_000]))
def test_fuzz_memefly_import(image_folder, entries, nested):
    data_case(image_folder, entries, nested)


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=600, **SLOW_SETTINGS)
@given(entries=memefly_entries(), nested=st.sampled_from([0, 0, 0, 0, 50, 200_000]))
def test_fuzz_memefly_import_many(image_folder, entries, nested):
    data_case(image_folder, entries, nested)


# -- images through queue add and platform preflight ----------------------------------------------

def image_case(populated: dict, image: tuple[bytes, tuple[int, int] | None]) -> None:
    from bot.config import AccountConfig
    from bot.service.publishing import Job, prepare_post
    from generator import GeneratorError

    data, upright = image
    folder = Path(tempfile.mkdtemp(prefix="memeloop-fuzz-"))
    try:
        source = folder / "upload.img"
        source.write_bytes(data)
        argv = ["--config", populated["config"], "queue", "add", "--image", str(source), "--text", "fuzzed"]
        code, out, err = run(argv)
        check_outcome("image", argv, code, err)
        assert_database_intact(populated["db"], populated["rows"])
        if code != 0:
            return
        stored = Path(out.strip().rsplit(": ", 1)[1])
        with Image.open(stored) as img:
            img.load()  # the decoded size, not the header's: some decoders turn the image as they load
            if upright is not None:
                assert img.size == upright
            assert not getattr(img, "is_animated", False)
        job = Job(post_id=1, account="demo", account_id=1, candidate_id=1, marker="m", attempts=0, text="fuzzed",
                  image_path=str(stored), template=None, template_name=None, generator="manual")
        for account in (AccountConfig(name="demo", platform="outbox"), AccountConfig(name="demo", platform="x")):
            try:
                prepare_post(account, job)
                OUTCOMES["image_preflight"]["prepared"] += 1
            except GeneratorError:
                OUTCOMES["image_preflight"]["refused"] += 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(300)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(image=image_files())
def test_fuzz_images_through_queue_add(populated, image):
    image_case(populated, image)


@pytest.mark.slow
@pytest.mark.timeout(1800)
@settings(max_examples=600, **SLOW_SETTINGS)
@given(image=image_files())
def test_fuzz_images_through_queue_add_many(populated, image):
    image_case(populated, image)


# -- data files: a caption data set (template.toml + captions.jsonl) -------------------------------

def dataset_case(templates: list[dict], lines: list[bytes]) -> None:
    from generator import DataError
    from generator.meme.data import load_dataset

    folder = Path(tempfile.mkdtemp(prefix="memeloop-fuzz-"))
    try:
        for i, table in enumerate(templates):
            (folder / f"t{i}").mkdir()
            Image.new("RGB", (64, 48), "white").save(folder / f"t{i}" / "image.png")
            (folder / f"t{i}" / "template.toml").write_text(toml_text({"": table}).split("\n", 1)[1])
        (folder / "captions.jsonl").write_bytes(b"\n".join(lines))
        try:
            dataset = load_dataset(folder, min_templates=1, min_captions=1)
        except DataError as exc:
            assert "\n" not in str(exc)
            OUTCOMES["dataset"]["refused"] += 1
        else:
            assert dataset.captions and all(c.text.strip() for c in dataset.captions)
            OUTCOMES["dataset"]["loaded"] += 1
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@pytest.mark.timeout(120)
@settings(max_examples=40, suppress_health_check=[HealthCheck.too_slow])
@given(templates=st.lists(template_tables, min_size=1, max_size=2), lines=st.lists(caption_lines, min_size=1, max_size=6))
def test_fuzz_caption_data_sets(templates, lines):
    dataset_case(templates, lines)


@pytest.mark.slow
@pytest.mark.timeout(900)
@settings(max_examples=500, **SLOW_SETTINGS)
@given(templates=st.lists(template_tables, min_size=1, max_size=2), lines=st.lists(caption_lines, min_size=1, max_size=6))
def test_fuzz_caption_data_sets_many(templates, lines):
    dataset_case(templates, lines)
