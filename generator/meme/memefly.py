"""Import a memefly-style JSON data set into our data set layout (a folder per template + captions.jsonl).

memefly's JSON is a list of objects::

    {"meme_id": 10, "meme_name": "bad-luck-brian", "meme_url": "https://.../1bip.jpg",
     "meme_bounding_box": ["left: 4px; top: 4px; width: 480px; height: 144px;", ...],
     "meme_text": ["caption one", "caption two", ...]}

Nothing is downloaded: each template's image must already be on disk in ``images_dir`` (default:
the JSON file's folder), named after the URL's file name or ``<meme_name>.<jpg|jpeg|png|gif|webp>``.
Boxes are CSS pixels of that image; they become fractions, clipped to the image, stored in reading
order (top to bottom, then left to right; memefly lists the bottom box first in most templates).

Bad captions (empty, not text, overlong) and captions whose template has no image are skipped,
counted and named (file, entry, caption index). The output is built in a temporary sibling folder
and moved into place at the end, so a failed import leaves nothing half-made behind.
"""
from __future__ import annotations

import json
import os
import re
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

from generator import DataError
from generator.imageio import still_file_bytes
from generator.meme.data import CAPTIONS_FILE, SkipLog, caption_problem
from generator.types import Box, reading_order

_CSS_RE = re.compile(r"(left|top|width|height)\s*:\s*(-?\d+(?:\.\d+)?)\s*px\b", re.IGNORECASE)
_EXTS = (".jpg", ".jpeg", ".png", ".gif", ".webp")


@dataclass(frozen=True)
class ImportReport:
    out_dir: Path
    templates: int
    captions: int
    skipped: dict[str, int]
    skipped_examples: tuple[str, ...]


def slugify(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def parse_css_box(css: str, width: int, height: int) -> Box:
    """'left: 4px; top: 420px; width: 480px; height: 144px;' -> Box in fractions, clipped to the image."""
    values = {k.lower(): float(v) for k, v in _CSS_RE.findall(css)}
    if set(values) != {"left", "top", "width", "height"}:
        raise DataError(f"box {css!r} needs left, top, width and height in px")
    left, top = min(max(values["left"], 0.0), width), min(max(values["top"], 0.0), height)
    right = min(values["left"] + values["width"], width)
    bottom = min(values["top"] + values["height"], height)
    if right <= left or bottom <= top:
        raise DataError(f"box {css!r} lies outside the {width}x{height} image")
    return Box(left / width, top / height, (right - left) / width, (bottom - top) / height)


def _find_image(entry: dict, slug: str, images_dir: Path) -> Path | None:
    names = []
    url = entry.get("meme_url")
    if isinstance(url, str) and url:
        names.append(Path(urlparse(url).path).name)
    for stem in dict.fromkeys((str(entry.get("meme_name", "")), slug)):
        names.extend(stem + ext for ext in _EXTS)
    return next((images_dir / n for n in names if n and (images_dir / n).is_file()), None)


def _toml_text(name: str, image: str, boxes: list[Box]) -> str:
    lines = [f"name = {json.dumps(name)}", f"image = {json.dumps(image)}"]
    for b in boxes:
        lines += ["", "[[boxes]]", f"x = {b.x:.4f}", f"y = {b.y:.4f}", f"w = {b.w:.4f}", f"h = {b.h:.4f}"]
    return "\n".join(lines) + "\n"


def _template_image(image: Path, where: str, skips: SkipLog) -> tuple[bytes, str, tuple[int, int]] | None:
    """(bytes to store, extension, upright size) of a template image, or None (skipped: unreadable,
    over the pixel limit). Turned upright per EXIF, since the boxes are measured on the upright image."""
    try:
        data, ext, img = still_file_bytes(image, animated="first_frame")
    except DataError as exc:
        skips.add("unreadable image", where, str(exc))
        return None
    return data, ext, img.size


def _listed(entry: dict, key: str, where: str, skips: SkipLog) -> list:
    """entry[key] as a list: missing -> [], one string -> [it] (not one item per character),
    anything else that is not a list -> [] and a skip naming the shape."""
    value = entry.get(key)
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list):
        skips.add(f"bad {key}", where, f"{key} is a {type(value).__name__}, expected a list")
        return []
    return value


def _read_entries(json_path: Path) -> object:
    """The parsed JSON; unreadable, invalid or absurdly nested files are one DataError."""
    try:
        return json.loads(json_path.read_text(encoding="utf-8"))
    except RecursionError:
        raise DataError(f"{json_path}: cannot read memefly JSON (nested too deeply)") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise DataError(f"{json_path}: cannot read memefly JSON ({exc})") from exc


def _import_entry(entry: object, n: int, images_dir: Path, out_dir: Path, skips: SkipLog, file: str) -> list[dict]:
    where = f"{file} entry {n}"
    if not isinstance(entry, dict):
        skips.add("no meme_name", where)
        return []
    name = entry.get("meme_name")
    if not isinstance(name, str) or not slugify(name):
        skips.add("no meme_name", where)
        return []
    slug, where = slugify(name), f"{file} entry {n} ({name})"
    texts = _listed(entry, "meme_text", where, skips)
    image = _find_image(entry, slug, images_dir)
    if image is None:
        for _ in texts:
            skips.add("no template image", where, f"no image for {name!r} in {images_dir}")
        return []
    loaded = _template_image(image, where, skips)
    if loaded is None:
        return []
    data, ext, (width, height) = loaded
    boxes = []
    for css in _listed(entry, "meme_bounding_box", where, skips):
        try:
            boxes.append(parse_css_box(str(css), width, height))
        except DataError as exc:
            skips.add("bad box", where, str(exc))
    folder = out_dir / slug
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"image.{ext}").write_bytes(data)
    # memefly lists the bottom box first in most templates; store them as they are read
    (folder / "template.toml").write_text(_toml_text(name, f"image.{ext}", list(reading_order(boxes))),
                                          encoding="utf-8")
    rows = []
    for j, text in enumerate(texts):
        problem = caption_problem(text)
        if problem:
            skips.add(problem[0], f"{where} caption {j}", problem[1])
        else:
            rows.append({"template": slug, "text": " ".join(text.split())})
    return rows


def _check_out_dir(out_dir: Path) -> None:
    if out_dir.exists() and (not out_dir.is_dir() or any(out_dir.iterdir())):
        raise DataError(f"{out_dir}: output folder exists and is not empty; choose a new --out")


def import_memefly(json_path: Path, out_dir: Path, images_dir: Path | None = None) -> ImportReport:
    """Convert memefly JSON (+ local images) into a data set folder; bad entries skipped and counted.

    Built in a temporary sibling folder and moved into place at the end: a failure leaves nothing behind.
    """
    json_path, out_dir = Path(json_path), Path(out_dir)
    entries = _read_entries(json_path)
    if not isinstance(entries, list):
        raise DataError(f"{json_path}: expected a JSON list of memes, got {type(entries).__name__}")
    _check_out_dir(out_dir)
    out_dir.parent.mkdir(parents=True, exist_ok=True)
    partial = out_dir.parent / f".{out_dir.name}.partial-{os.getpid()}"
    shutil.rmtree(partial, ignore_errors=True)
    try:
        report = _import_into(entries, json_path, partial, Path(images_dir or json_path.parent))
        if out_dir.exists():
            out_dir.rmdir()  # checked empty above
        partial.rename(out_dir)
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return ImportReport(out_dir, *report)


def _import_into(entries: list, json_path: Path, out: Path, images_dir: Path) -> tuple:
    out.mkdir()
    skips, rows, templates = SkipLog(), [], 0
    for n, entry in enumerate(entries):
        got = _import_entry(entry, n, images_dir, out, skips, json_path.name)
        templates += bool(got)
        rows.extend(got)
    if not rows:
        raise DataError(f"{json_path}: nothing importable; {'; '.join(skips.examples) or 'no entries'}")
    with open(out / CAPTIONS_FILE, "w", encoding="utf-8") as fh:
        fh.writelines(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    return templates, len(rows), dict(skips.counts), tuple(skips.examples)
