"""Hypothesis strategies for tests/bot/test_fuzz_inputs.py: the classes of input issue 16 found
crashing or misbehaving (durations, crons, URLs, paths, ids, texts, times, memefly JSON shapes,
images with odd modes, orientations, frames, truncation and lying headers)."""
from __future__ import annotations

import io
import json
import math
import struct
import zlib
from datetime import UTC

from hypothesis import strategies as st
from PIL import Image

# -- a tiny TOML writer for generated values (tomllib only reads) ---------------------------------

def toml_value(value: object) -> str:
    if value is None:  # TOML has no null
        return '""'
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


def png(width: int = 64, height: int = 48) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), (200, 40, 40)).save(buf, "PNG")
    return buf.getvalue()


def header_bomb_png(width: int, height: int) -> bytes:
    """A PNG whose header claims width x height pixels, with almost no data behind it."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


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
                                    "resume", "upgrade", "current", "cancel", "reschedule"]))
    if command == "cancel":
        return ["cancel", *draw(st.lists(ids, min_size=1, max_size=2))]
    if command == "reschedule":
        return ["reschedule", draw(ids), "--at", draw(times)]
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


box_values = st.one_of(st.floats(), st.integers(-5, 5), st.text(max_size=6), st.sampled_from([0.1, 0.5, "0.2", True]))
good_template = st.just({"name": "A template", "image": "image.png", "boxes": [{"x": 0.0, "y": 0.0, "w": 1.0, "h": 0.3}]})
odd_template = st.fixed_dictionaries(
    {"name": st.one_of(st.just("A template"), json_any), "image": st.sampled_from(["image.png", "missing.png", ""])},
    optional={"boxes": st.one_of(
        st.lists(st.dictionaries(st.sampled_from(["x", "y", "w", "h"]), box_values, min_size=3), max_size=3),
        st.just([{"x": 0.0, "y": 0.0, "w": 1.0, "h": 0.3}]), box_values)})
template_tables = st.one_of(good_template, good_template, odd_template)
good_caption = st.builds(lambda text: json.dumps({"template": "t0", "text": text}).encode(),
                         st.text(alphabet="abcdefgh ", min_size=3, max_size=30).filter(str.strip))
caption_lines = st.one_of(
    good_caption, good_caption,
    st.builds(lambda slug, text: json.dumps({"template": slug, "text": text}).encode(),
              st.sampled_from(["t0", "t1", "nope"]), st.one_of(st.text(max_size=30), json_any)),
    st.binary(max_size=30), json_any.map(lambda v: json.dumps(v).encode()),
    st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n))
