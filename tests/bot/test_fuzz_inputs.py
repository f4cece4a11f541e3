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
import struct
import tempfile
import zlib
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
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def check_outcome(kind: str, argv: list[str], code: int, err: str) -> None:
    """The contract of every CLI run, whatever the input."""
    assert code in (0, 1, 2), (argv, code, err)
    assert "Traceback" not in err, (argv, err)
    messages = [line for line in err.splitlines() if not LOG_LINE.match(line) and not line.startswith("warning: ")]
    if code == 0:
        assert not any(m.startswith("memeloop: error:") for m in messages), (argv, err)
    else:
        assert len(messages) == 1 and messages[0].startswith("memeloop: error: "), (argv, err)
    OUTCOMES[kind][f"exit{code}"] += 1


# -- a tiny TOML writer for generated values (tomllib only reads) ---------------------------------

def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return "nan" if math.isnan(value) else ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {toml_value(v)}" for k, v in value.items()) + "}"
    raise TypeError(value)


def toml_text(doc: dict[str, dict]) -> str:
    lines = []
    for section, body in doc.items():
        if section == "accounts":
            for account in body:
                lines.append("[[accounts]]")
                lines.extend(f"{json.dumps(k)} = {toml_value(v)}" for k, v in account.items())
            continue
        lines.append(f"[{section}]")
        lines.extend(f"{json.dumps(k)} = {toml_value(v)}" for k, v in body.items())
    return "\n".join(lines) + "\n"


# -- value classes from the issue -------------------------------------------------------------------

DURATION_WORDS = ["inf", "nan", "0", "-1", "1e300", "99999999999w", "0.0001s", "1s", "59s", "90s", "15m", "6h",
                  "7d", "2w", "3650d", "3651d", "soon", "", "1.5h", " 2 m "]
VALID_DURATIONS = ["1s", "90s", "15m", "6h", "7d", "2w", 60, 3600.5]
durations = st.one_of(st.sampled_from(VALID_DURATIONS), st.sampled_from(DURATION_WORDS), st.floats(), st.integers(-2**70, 2**70), st.booleans(),
                      st.just([]), st.sampled_from([1e300, math.inf, -math.inf, math.nan, 0.0001, 60, 3600]))
crons = st.one_of(st.sampled_from(["*/15 * * * *", "0 9,19 * * *"]), st.sampled_from(["0 0 30 2 *", "0 0 29 2 *", "*/5 * * * *", "99 * * * *", "bad", "", "0 9 * * 1-5",
                                   "0 0 31 4 *", "* * * * * *"]), st.text(max_size=20), st.integers())
slots = st.one_of(st.lists(st.sampled_from(["09:00", "25:00", "9:00", "", "23:59", "00:00", "12:60"]), max_size=4),
                  st.just("09:00"), st.integers())
ints = st.one_of(st.integers(1, 20), st.integers(-2**70, 2**70), st.sampled_from([-1, 0, 1, 5, 2**63, 2**64]), st.floats(),
                 st.sampled_from(["4", "many", ""]), st.booleans())
bools = st.one_of(st.booleans(), st.booleans(), st.sampled_from(["yes", "no", "true", 1, 0, ""]))
urls = st.one_of(st.sampled_from([
    "sqlite:///memeloop.db", "sqlite:///:memory:", "mysql://u:hunter22@h/db", "garbage", "::not a url::", "",
    "postgresql+psycopg://u:p%40ss@127.0.0.1:1/x", "sqlite:///taken/x.db", "postgresql+nodriver://h/db",
    "sqlite://", "oracle://u:hunter22@h/db", "sqlite:///sub/dir/m.db"]), st.text(max_size=30))
paths = st.one_of(st.sampled_from(["taken", "media", "taken/x", "", ".", "/dev/null", "out box", "a/b/c"]),
                  st.integers())
delay = st.one_of(st.lists(st.one_of(st.floats(), st.integers(-10, 1000)), max_size=3),
                  st.sampled_from([[-1, -5], [5, 1], [1, 3], [0, 0]]))
schedule = st.dictionaries(
    st.sampled_from(["every", "cron", "count", "generator", "tone", "colour", "api_token"]),
    st.one_of(durations, crons, ints, st.sampled_from(["meme", "post", "gif"])), max_size=4)
good_schedule = st.fixed_dictionaries({"every": st.sampled_from(VALID_DURATIONS[1:])}) | st.fixed_dictionaries(
    {"cron": st.sampled_from(["*/15 * * * *", "0 9 * * 1-5"]), "count": st.integers(1, 200)})
generate = st.one_of(good_schedule, st.lists(good_schedule, min_size=1, max_size=2), schedule,
                     st.lists(schedule, max_size=3), st.just([]), st.just("meme"))

sections = {
    "scheduler": {"tick": durations, "misfire_grace": durations, "reconcile_every": durations,
                  "prune_every": durations, "keep_media": durations,
                  "timezone": st.sampled_from(["UTC", "Mars/Olympus", "Europe/Berlin", ""])},
    "publishing": {"backoff": durations, "max_backoff": durations, "lease": durations, "late_window": durations,
                   "max_attempts": ints, "auto_approve": bools},
    "polling": {"ages": st.one_of(st.lists(durations, max_size=3), durations), "batch_size": ints},
    "ranking": {"seed": ints, "baseline_posts": ints, "engagement_age": durations,
                "weights": st.dictionaries(st.sampled_from(["likes", "reposts", "claps"]), st.floats(), max_size=2)},
    "storage": {"url": urls, "media_dir": paths},
    "generator": {"timeout": durations},
    "safety": {"phash_distance": ints, "text_similarity": st.floats(), "dedupe_window": durations},
}
account_keys = {"enabled": bools, "post_slots": slots, "post_cron": crons, "generate": generate,
                "hashtag_cap": ints, "timezone": st.sampled_from(["UTC", "Nowhere/Land", "America/New_York"])}


@st.composite
def configs(draw) -> str:
    doc: dict = {}
    for name in draw(st.lists(st.sampled_from(sorted(sections)), unique=True, max_size=4)):
        keys = sections[name]
        chosen = draw(st.lists(st.sampled_from(sorted(keys)), unique=True, min_size=1, max_size=3))
        doc[name] = {k: draw(keys[k]) for k in chosen}
    accounts = []
    for i in range(draw(st.integers(0, 2))):
        platform = draw(st.sampled_from(["outbox", "outbox", "instagram", "x"]))
        account = {"name": f"acc{i}", "platform": platform}
        for k in draw(st.lists(st.sampled_from(sorted(account_keys)), unique=True, max_size=3)):
            account[k] = draw(account_keys[k])
        if platform == "instagram":
            account["instagram"] = {"username": "u", "delay_range": draw(delay)}
        elif platform == "outbox" and draw(st.booleans()):
            account["outbox"] = {"path": draw(paths)}
        accounts.append(account)
    if accounts:
        doc["accounts"] = accounts
    return toml_text(doc)


def _workdir() -> Path:
    folder = Path(tempfile.mkdtemp(prefix="memeloop-fuzz-"))
    (folder / "taken").write_text("a file where a folder belongs")
    return folder


def assert_usable(cfg: Config) -> None:
    """What the daemon and the CLI do with config values later must not fail for an accepted one."""
    from apscheduler.triggers.cron import CronTrigger
    from apscheduler.triggers.interval import IntervalTrigger

    from bot.slots import next_slot

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

def _png(width: int = 64, height: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


def header_bomb_png(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with almost no data behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.fixture(scope="module")
def populated(tmp_path_factory):
    """A config, a database with candidates in several states and a post, and odd files to point at."""
    folder = tmp_path_factory.mktemp("fuzzdb")
    config = folder / "config.toml"
    config.write_text('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n\n'
                      '[[accounts]]\nname = "demo"\nplatform = "outbox"\n', encoding="utf-8")
    files = folder / "files"
    files.mkdir()
    (files / "ok.png").write_bytes(_png())
    (files / "notes.txt").write_text("hello")
    (files / "bomb.png").write_bytes(header_bomb_png(30000, 30000))
    (files / "empty.png").write_bytes(b"")
    (files / "truncated.png").write_bytes(_png(300, 300)[:200])
    frames = [Image.new("RGB", (32, 32), (i * 80, 0, 0)) for i in range(3)]
    frames[0].save(files / "anim.gif", save_all=True, append_images=frames[1:])
    os.mkfifo(files / "fifo.png")
    (files / "dir.png").mkdir()
    for text in ("first", "second", "third \x1b[2J", "fourth"):
        code, _, err = run(["--config", str(config), "queue", "add", "--image", str(files / "ok.png"), "--text", text])
        assert code == 0, err
    assert run(["--config", str(config), "approve", "1", "--at", "2026-01-01T00:00"])[0] == 0
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


ids = st.one_of(st.integers(-5, 8), st.sampled_from([2**63 - 1, 2**63, 2**64, 10**30]), st.integers(),
                st.sampled_from(["1e3", "0x10", "abc", "", " 3 ", "３", "1.0", "-0"])).map(str)
texts = st.one_of(st.text(max_size=40), st.sampled_from(["", " ", "\t\n", "ok caption", "bad \udcff bytes", "nul\x00",
                                                          "\x1b[2J\x1b]0;title\x07", "[bold]x[/bold]", "\u202eevil",
                                                          "x" * 20_000]))
times = st.one_of(st.datetimes(timezones=st.sampled_from([UTC, None])).map(lambda d: d.isoformat()),
                  st.sampled_from(["now", "9999-12-31T23:59:59-05:00", "0001-01-01T00:00+14:00", "tomorrow", "",
                                   "2026-01-05T19:00", "2026-13-01", "2026-01-05T19:00+25:00"]), st.text(max_size=12))
names = st.one_of(st.sampled_from(["demo", "nobody", "", "\udcff"]), st.text(max_size=10))
statuses = st.sampled_from(["pending", "approved", "rejected", "filtered", "duplicate", "posted", "bogus", ""])
image_names = st.sampled_from(["ok.png", "notes.txt", "bomb.png", "empty.png", "truncated.png", "anim.gif",
                               "fifo.png", "dir.png", "missing.png", "/dev/null", "/dev/zero"])


@st.composite
def cli_argv(draw) -> list[str]:
    command = draw(st.sampled_from(["show", "approve", "reject", "edit", "retry", "list", "add", "posts", "accounts",
                                    "resume", "upgrade", "current"]))
    if command == "show":
        return ["queue", "show", draw(ids), "--no-image", *draw(st.sampled_from([[], ["--json"]]))]
    if command == "approve":
        extra = ["--at", draw(times)] if draw(st.booleans()) else []
        return ["approve", *draw(st.lists(ids, min_size=1, max_size=3)), *extra]
    if command == "reject":
        return ["reject", *draw(st.lists(ids, min_size=1, max_size=2)), "--reason", draw(texts)]
    if command == "edit":
        return ["edit", draw(ids), "--text", draw(texts)]
    if command == "retry":
        return ["retry", draw(ids)]
    if command == "list":
        argv = ["queue", "list", "--limit", draw(st.sampled_from(["0", "3", "-1", "x", str(2**70)]))]
        for status in draw(st.lists(statuses, max_size=2)):
            argv += ["--status", status]
        return argv + draw(st.sampled_from([[], ["--json"], ["--csv"], ["--account", "nobody"]]))
    if command == "add":
        name = draw(image_names)
        return ["queue", "add", "--image", name if name.startswith("/") else f"@files/{name}", "--text", draw(texts)]
    if command == "posts":
        return ["posts", "list", "--state", draw(st.sampled_from(["scheduled", "failed", "x"]))]
    if command == "accounts":
        return ["accounts", "list", *draw(st.sampled_from([[], ["--json"]]))]
    if command == "resume":
        return ["accounts", "resume", draw(names)]
    if command == "upgrade":
        return ["db", "upgrade", "--revision", draw(st.sampled_from(["head", "nonexistent", "0001", "+1", "-1",
                                                                     "base", ""]))]
    return ["db", "current"]


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

json_leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=20))
json_any = st.recursive(json_leaf, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                           st.dictionaries(st.text(max_size=8), inner, max_size=4)),
                        max_leaves=12)
boxes = st.one_of(st.sampled_from(["left: 1.2.3px; top: 0px; width: 10px; height: 10px;",
                                   "left: 0px; top: 0px; width: 100px; height: 40px;",
                                   "left: -5px; top: 1e9px; width: 9999999999999999999999px; height: 1px;",
                                   "left: nope", ""]), json_any)


@st.composite
def memefly_entries(draw) -> list:
    """Mostly well-formed entries with one or two fields replaced by something odd."""
    entries = []
    for _ in range(draw(st.integers(0, 3))):
        entry = {"meme_name": draw(st.sampled_from(["kid", "kid", "anim", "bomb", "missing"])),
                 "meme_bounding_box": ["left: 0px; top: 0px; width: 200px; height: 40px;"],
                 "meme_text": draw(st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=4))}
        for key in draw(st.lists(st.sampled_from(sorted(entry)), unique=True, max_size=2)):
            entry[key] = draw({"meme_name": json_any, "meme_bounding_box": st.one_of(st.lists(boxes, max_size=3), boxes),
                               "meme_text": st.one_of(st.text(max_size=20), json_any)}[key])
        entries.append(entry)
    return draw(st.one_of(st.just(entries), st.just(entries), json_any.map(lambda v: [v]), st.just({"not": "a list"})))


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

FORMATS = {"PNG": ("RGB", "RGBA", "L", "P", "1", "I;16"), "JPEG": ("RGB", "L", "CMYK"), "GIF": ("P", "L"),
           "WEBP": ("RGB", "RGBA"), "BMP": ("RGB", "L"), "TIFF": ("RGB", "CMYK", "L")}


@st.composite
def image_files(draw) -> tuple[bytes, tuple[int, int] | None]:
    """(file bytes, the upright size a successful add must store, or None when refusal is expected)."""
    kind = draw(st.sampled_from(["image", "image", "image", "bomb", "garbage"]))
    if kind == "bomb":
        return header_bomb_png(draw(st.integers(8193, 60000)), draw(st.integers(8193, 60000))), None
    if kind == "garbage":
        return draw(st.binary(max_size=64)), None
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    mode = draw(st.sampled_from(FORMATS[fmt]))
    width, height = draw(st.integers(1, 400)), draw(st.integers(1, 400))
    orientation = draw(st.sampled_from([None, 1, 2, 3, 4, 5, 6, 7, 8]))
    frames = draw(st.integers(1, 3)) if fmt in ("GIF", "PNG", "WEBP") else 1
    images = [Image.new(mode, (width, height), draw(st.integers(0, 255))) for _ in range(frames)]
    kwargs: dict = {}
    if orientation is not None and fmt in ("JPEG", "PNG", "WEBP", "TIFF"):
        exif = Image.Exif()
        exif[0x0112] = orientation
        kwargs["exif"] = exif
    if frames > 1:
        kwargs.update(save_all=True, append_images=images[1:], duration=100)
    buf = io.BytesIO()
    images[0].save(buf, fmt, **kwargs)
    data = buf.getvalue()
    if draw(st.booleans()) and draw(st.booleans()):
        return data[: draw(st.integers(0, max(0, len(data) - 1)))], None  # truncated
    turned = "exif" in kwargs and orientation in (5, 6, 7, 8)
    return data, ((height, width) if turned else (width, height)) if frames == 1 else None


def image_case(populated: dict, image: tuple[bytes, tuple[int, int] | None]) -> None:
    from bot.config import AccountConfig
    from bot.publishing import Job, prepare_post
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
