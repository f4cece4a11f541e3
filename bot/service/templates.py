"""The user's meme templates: a folder per template in the data folder's template library.

    <data folder>/templates/<slug>/image.<ext>      the picture, as uploaded (upright)
    <data folder>/templates/<slug>/template.toml    name, image, description, keywords, [[boxes]]
                                                    (boxes in reading order: top to bottom, then
                                                    left to right)

The generators see the configured templates (``[generator.meme] templates`` or the shipped ones) plus
this library. Removing a template deletes its folder only: candidates made on it keep their rendered
images in the media store and their ``templates`` row, so they stay readable.
"""
from __future__ import annotations

import json
import logging
import re
import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.core.modelstore import data_dir
from bot.core.staging import staged_folder
from bot.errors import UsageError

if TYPE_CHECKING:
    from PIL import Image

    from bot.config import Config
    from bot.core.deps import Deps
    from generator.types import Box, Template

log = logging.getLogger(__name__)

LIBRARY = "templates"
TEMPLATE_FILE = "template.toml"
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,47}$")
MAX_BYTES = 20 * 1024 * 1024
MIN_SIDE = 64
MAX_KEYWORDS, MAX_TEXT = 20, 300
# named boxes: fractions of width/height (x, y, w, h)
NAMED_BOXES = {"top": (0.02, 0.02, 0.96, 0.22), "middle": (0.02, 0.39, 0.96, 0.22),
               "bottom": (0.02, 0.76, 0.96, 0.22)}
AUTO_BANDS = 5
MIDDLE_PENALTY = 2.0


class TemplateError(UsageError):
    """A template cannot be added or removed (one line; exit 2 at the CLI)."""


@dataclass(frozen=True)
class TemplateEntry:
    """A template as listed: where it comes from and what its template.toml says."""

    slug: str
    name: str
    image: Path
    boxes: tuple[tuple[float, float, float, float], ...]
    description: str
    keywords: tuple[str, ...]
    source: str  # "library" (the user's, removable) or "configured" (the shipped or configured folder)

    def as_json(self) -> dict:
        return {"slug": self.slug, "name": self.name, "image": str(self.image), "boxes": [list(b) for b in self.boxes],
                "description": self.description, "keywords": list(self.keywords), "source": self.source}


def library_dir(config: Config) -> Path:
    return data_dir(config) / LIBRARY


def configured_dir(config: Config) -> Path:
    from generator.meme.templates import DEMO_DATA_DIR

    return config.generator.meme.templates or DEMO_DATA_DIR


def all_templates(config: Config) -> list[Template]:
    """The configured templates, then the library's (a library template never shadows a configured one)."""
    from generator.meme.templates import load_templates

    templates = load_templates(configured_dir(config))
    library = library_dir(config)
    if library.is_dir() and library.resolve() != configured_dir(config).resolve():
        taken = {t.slug for t in templates}
        templates += [t for t in load_templates(library) if t.slug not in taken]
    return templates


def _entry(folder: Path, source: str) -> TemplateEntry:
    import tomllib

    from generator.meme.templates import load_template

    template = load_template(folder)
    data = tomllib.loads((folder / TEMPLATE_FILE).read_text(encoding="utf-8"))
    raw_description = data.get("description")
    description = raw_description if isinstance(raw_description, str) else ""
    raw = data.get("keywords")
    keywords = tuple(k for k in raw if isinstance(k, str)) if isinstance(raw, list) else ()
    return TemplateEntry(template.slug, template.name, template.image_path,
                         tuple((b.x, b.y, b.w, b.h) for b in template.boxes), description, keywords, source)


def list_templates(config: Config) -> list[TemplateEntry]:
    from generator.meme.templates import template_folders

    out = [_entry(f, "configured") for f in template_folders(configured_dir(config))]
    library = library_dir(config)
    if library.is_dir() and library.resolve() != configured_dir(config).resolve():
        taken = {e.slug for e in out}
        out += [e for e in (_entry(f, "library") for f in template_folders(library)) if e.slug not in taken]
    return out


# --- adding -----------------------------------------------------------------------------------------

def slug_of(name: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:48].strip("-")
    if not SLUG.match(slug):
        raise TemplateError(f"template name {name!r}: needs letters or digits (it becomes the folder name)")
    return slug


def check_image_file(path: Path) -> None:
    """A regular, readable file of sane size; FIFOs, devices and folders are refused before opening."""
    from bot.service.content_checks import file_problem

    problem = file_problem(path, MAX_BYTES, "a template image")
    if problem:
        raise TemplateError(problem)


def read_image(path: Path) -> tuple[bytes, str, Image.Image]:
    """(file bytes, extension, decoded image) of a valid still image; one-line TemplateError otherwise."""
    from generator import DataError
    from generator.imageio import still_file_bytes

    check_image_file(path)
    try:
        data, ext, image = still_file_bytes(path)
    except DataError as exc:
        raise TemplateError(str(exc)) from None
    if min(image.size) < MIN_SIDE:
        raise TemplateError(f"{path}: {image.size[0]}x{image.size[1]} pixels; a template needs at least "
                            f"{MIN_SIDE} pixels on each side")
    return data, ext, image


def auto_boxes(image: Image.Image) -> list[tuple[float, float, float, float]]:
    """Two boxes where the picture is quietest: of five horizontal bands, the two with the least edge
    energy (middle bands counted double) that do not touch, in reading order (text there hides the
    least of the picture)."""
    import numpy as np

    gray = np.asarray(image.convert("L").resize((160, 160)), dtype=np.float32)
    energy = np.abs(np.diff(gray, axis=0))[:, :].mean(axis=1).tolist() + [0.0]
    band = len(energy) // AUTO_BANDS
    # memes put text at the top and bottom: a middle band has to be clearly quieter to be chosen
    prior = [1.0] + [MIDDLE_PENALTY] * (AUTO_BANDS - 2) + [1.0]
    scores = [float(np.mean(energy[i * band:(i + 1) * band])) * prior[i] for i in range(AUTO_BANDS)]
    pairs = [(scores[a] + scores[b], a, b) for a in range(AUTO_BANDS) for b in range(a + 2, AUTO_BANDS)]
    _, first, second = min(pairs)
    height = 1.0 / AUTO_BANDS
    return [(0.02, round(i * height + 0.01, 4), 0.96, round(height - 0.02, 4)) for i in (first, second)]


def parse_boxes(spec: str | None, image: Image.Image) -> list[tuple[float, float, float, float]]:
    """``top,bottom`` (names from NAMED_BOXES), ``auto``, or None/"" (top and bottom), in reading order."""
    if not spec or not spec.strip():
        spec = "top,bottom"
    if spec.strip().lower() == "auto":
        return auto_boxes(image)
    names = [s.strip().lower() for s in spec.split(",") if s.strip()]
    unknown = [n for n in names if n not in NAMED_BOXES]
    if unknown or not names:
        raise TemplateError(f"--boxes {spec!r}: use 'auto' or a comma list of {', '.join(NAMED_BOXES)}")
    if len(set(names)) != len(names):
        raise TemplateError(f"--boxes {spec!r}: a box is named twice")
    return sorted((NAMED_BOXES[n] for n in names), key=lambda b: (b[1], b[0]))


def _clean_words(values: Sequence[str]) -> list[str]:
    out: list[str] = []
    for value in values:
        for word in value.split(","):
            word = " ".join(word.split()).lower()
            if word and word not in out:
                out.append(word[:40])
    if len(out) > MAX_KEYWORDS:
        raise TemplateError(f"{len(out)} keywords; at most {MAX_KEYWORDS}")
    return out


def _toml(name: str, image: str, description: str, keywords: list[str],
          boxes: list[tuple[float, float, float, float]]) -> str:
    lines = [f"name = {json.dumps(name)}", f"image = {json.dumps(image)}",
             f"description = {json.dumps(description)}", f"keywords = {json.dumps(keywords)}", ""]
    for x, y, w, h in boxes:
        lines += ["[[boxes]]", f"x = {x}", f"y = {y}", f"w = {w}", f"h = {h}", ""]
    return "\n".join(lines)


def add_template(config: Config, image_path: Path, *, name: str, boxes: str | None = None,
                 keywords: Sequence[str] = (), description: str = "", force: bool = False) -> TemplateEntry:
    """Validate the image and write a template folder into the library; returns what was written."""
    name = " ".join(name.split())
    if not name:
        raise TemplateError("--name must not be empty")
    slug = slug_of(name)
    taken = {e.slug: e for e in list_templates(config)}
    if slug in taken and (taken[slug].source != "library" or not force):
        hint = "" if taken[slug].source != "library" else " (use --force to replace it)"
        raise TemplateError(f"template {slug!r} already exists ({taken[slug].image.parent}){hint}")
    data, ext, image = read_image(image_path)
    chosen = parse_boxes(boxes, image)
    description = " ".join(description.split())[:MAX_TEXT]
    words = _clean_words(keywords)
    library = library_dir(config)
    with staged_folder(library / slug) as staging:
        (staging / f"image.{ext}").write_bytes(data)
        (staging / TEMPLATE_FILE).write_text(_toml(name, f"image.{ext}", description, words, chosen),
                                             encoding="utf-8")
        _entry(staging, "library")  # what we wrote must load
    log.info("template_added slug=%s boxes=%d keywords=%d", slug, len(chosen), len(words))
    return _entry(library / slug, "library")


def remove_template(config: Config, slug: str) -> Path:
    """Delete a library template's folder. Its candidates keep their rendered images and DB rows."""
    entries = {e.slug: e for e in list_templates(config)}
    entry = entries.get(slug)
    if entry is None:
        raise TemplateError(f"no template {slug!r} (see `memeloop templates list`)")
    if entry.source != "library":
        raise TemplateError(f"template {slug!r} is not in the template library ({entry.image.parent}); only "
                            "templates added with `memeloop templates add` can be removed")
    shutil.rmtree(entry.image.parent)
    log.info("template_removed slug=%s", slug)
    return entry.image.parent


def preview(image_path: Path, boxes: Sequence[Box] | Sequence[tuple[float, float, float, float]], text: str) -> bytes:
    """PNG bytes of ``text`` drawn on the template through the renderer the generators use."""
    import io

    from generator.annotate import render_meme
    from generator.imageio import open_image
    from generator.types import Box as BoxType

    chosen = [b if isinstance(b, BoxType) else BoxType(*b) for b in boxes]
    out = render_meme(open_image(image_path), text, chosen)
    buffer = io.BytesIO()
    out.convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()


def remove_and_keep_candidates(deps: Deps, slug: str) -> Path:
    """``remove_template``, after moving what its candidates still need into the media store: the
    template's picture (an edit re-renders onto it) is stored there and the ``templates`` row and the
    candidates' source image point at that copy."""
    from sqlalchemy import select, update

    from feedback.models import Candidate
    from feedback.models import Template as TemplateRow

    entries = {e.slug: e for e in list_templates(deps.config)}
    entry = entries.get(slug)
    if entry is not None and entry.source == "library":
        with deps.tx() as session:
            row = session.scalar(select(TemplateRow).where(TemplateRow.slug == slug))
            if row is not None:
                kept = deps.media.put_file(entry.image)
                old = row.image_path
                row.image_path = kept.path
                session.execute(update(Candidate).where(Candidate.source_image_path == old)
                                .values(source_image_path=kept.path))
    return remove_template(deps.config, slug)
