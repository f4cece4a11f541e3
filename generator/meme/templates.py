"""Meme templates as data: a folder per template holding an image and ``template.toml``.

``template.toml``::

    name = "Judgemental Cat"
    image = "image.jpg"
    description = "A cat looking judgemental: pets, attitude, judging people"   # optional
    keywords = ["cat", "judge", "nap"]   # optional: words a text about this template uses
    [[boxes]]          # optional, fractions of the image's width and height
    x = 0.02
    y = 0.02
    w = 0.96
    h = 0.22
"""
from __future__ import annotations

import tomllib
from pathlib import Path

from generator import DataError
from generator.types import Box, Template

DEMO_DATA_DIR = Path(__file__).resolve().parent / "demo_data"
TEMPLATE_FILE = "template.toml"


def load_template(folder: Path) -> Template:
    """Read one template folder; DataError names the file and the problem."""
    path = folder / TEMPLATE_FILE
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise DataError(f"{path}: cannot read template ({exc})") from exc
    except RecursionError:
        raise DataError(f"{path}: cannot read template (nested too deeply)") from None
    name, image = data.get("name"), data.get("image")
    if not isinstance(name, str) or not name.strip():
        raise DataError(f"{path}: key 'name' must be a non-empty string")
    if not isinstance(image, str) or not image.strip():
        raise DataError(f"{path}: key 'image' must be a file name")
    raw_boxes = data.get("boxes", [])
    if not isinstance(raw_boxes, list):
        raise DataError(f"{path}: 'boxes' must be an array of tables ([[boxes]])")
    boxes = []
    for i, raw in enumerate(raw_boxes):
        try:
            boxes.append(Box(*(float(raw[k]) for k in ("x", "y", "w", "h"))))
        except (KeyError, TypeError, ValueError) as exc:
            raise DataError(f"{path}: boxes[{i}] needs numeric x, y, w, h ({exc})") from exc
        except DataError as exc:
            raise DataError(f"{path}: boxes[{i}]: {exc}") from exc
    description, keywords = _words_about(path, data)
    return Template(slug=folder.name, name=name.strip(), image_path=folder / image, boxes=tuple(boxes),
                    description=description, keywords=keywords)


def _words_about(path: Path, data: dict) -> tuple[str, tuple[str, ...]]:
    """The optional description (a string) and keywords (an array of strings), tidied."""
    description = data.get("description", "")
    if not isinstance(description, str):
        raise DataError(f"{path}: key 'description' must be a string")
    keywords = data.get("keywords", [])
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise DataError(f"{path}: key 'keywords' must be an array of strings")
    tidy = (" ".join(k.lower().split()) for k in keywords)
    return " ".join(description.split()), tuple(dict.fromkeys(k for k in tidy if k))


def template_folders(data_dir: Path) -> list[Path]:
    """Sub-folders of ``data_dir`` that hold a template.toml, sorted by name (= slug)."""
    if not data_dir.is_dir():
        raise DataError(f"{data_dir}: data folder does not exist")
    return sorted(p for p in data_dir.iterdir() if p.is_dir() and (p / TEMPLATE_FILE).is_file())


def load_templates(data_dir: Path | None = None) -> list[Template]:
    """All templates under ``data_dir`` (None = the shipped demo data), sorted by slug."""
    return [load_template(folder) for folder in template_folders(data_dir or DEMO_DATA_DIR)]
