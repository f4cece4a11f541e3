"""Load a caption data set (template folders + ``captions.jsonl``), skipping bad rows with counts.

``captions.jsonl`` holds one JSON object a line: ``{"template": "<slug>", "text": "<caption>"}``.
Split for validation BY TEMPLATE, so held-out figures measure unseen images.
"""
from __future__ import annotations

import hashlib
import json
import logging
import random
from collections import Counter
from dataclasses import dataclass, field, replace
from pathlib import Path

from PIL import UnidentifiedImageError

from generator import DataError
from generator.imageio import ImageTooLarge, UnreadableImage, open_image
from generator.meme.templates import load_template, template_folders
from generator.meme.vocab import tokenize
from generator.safety import find_topics
from generator.types import Template

log = logging.getLogger(__name__)
CAPTIONS_FILE = "captions.jsonl"
MAX_EXAMPLES = 5
MAX_WORDS = 40  # longer captions are skipped as overlong (memefly's longest has 29 words), never cut


def caption_problem(text: object) -> tuple[str, str] | None:
    """(reason, detail) when a caption value cannot be used, else None.

    A caption about a sensitive topic (generator/data/sensitive_topics.txt: religion, sexuality,
    tragedies, ...) is not used either: scraped meme data is full of them, and a model trained on
    them writes them. Its reason names the topic ("sensitive topic: religion")."""
    if text is None or not isinstance(text, str):
        shown = "null" if text is None else f"{type(text).__name__} {json.dumps(text)[:40]}"
        return "non-text caption", f"caption is {shown}, not text"
    words = len(tokenize(text))
    if not words:
        return "empty caption", "caption is empty" if not text.strip() else f"caption {text!r} has no words"
    if words > MAX_WORDS:
        return "overlong caption", f"caption has {words} words (more than {MAX_WORDS})"
    topics = find_topics(text)
    if topics:
        shown = text if len(text) <= 60 else text[:57] + "..."
        return (f"sensitive topic: {topics[0].topic}",
                f"caption {shown!r} is about " + ", ".join(t.reason for t in topics))
    return None


@dataclass(frozen=True)
class CaptionRow:
    template: str
    text: str
    line: int


@dataclass
class SkipLog:
    """Counts of skipped rows by reason, with the first few offenders named."""

    counts: Counter = field(default_factory=Counter)
    examples: list[str] = field(default_factory=list)

    def add(self, reason: str, where: str, detail: str = "") -> None:
        self.counts[reason] += 1
        if len(self.examples) < MAX_EXAMPLES:
            self.examples.append(f"{where}: {detail or reason}")
        log.debug("skipped reason=%s where=%s", reason, where)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class Dataset:
    templates: tuple[Template, ...]
    captions: tuple[CaptionRow, ...]
    skipped: dict[str, int]
    skipped_examples: tuple[str, ...]
    data_hash: str

    def for_templates(self, slugs: set[str]) -> Dataset:
        return Dataset(tuple(t for t in self.templates if t.slug in slugs),
                       tuple(c for c in self.captions if c.template in slugs),
                       self.skipped, self.skipped_examples, self.data_hash)


def _usable_templates(data_dir: Path, skips: SkipLog) -> dict[str, Template]:
    usable = {}
    for folder in template_folders(data_dir):
        try:
            template = load_template(folder)
            open_image(template.image_path, animated="first_frame")
        except ImageTooLarge as exc:
            skips.add("unreadable image", str(folder), str(exc))
            continue
        except UnreadableImage:
            skips.add("unreadable image", str(folder))
            continue
        except DataError as exc:
            skips.add("bad template", str(folder), str(exc))
            continue
        except (OSError, UnidentifiedImageError, ValueError):
            skips.add("unreadable image", str(folder))
            continue
        usable[template.slug] = template
    return usable


def _read_captions(path: Path, known: dict[str, Template], skips: SkipLog) -> list[CaptionRow]:
    try:
        raw_lines = path.read_bytes().splitlines()
    except OSError as exc:
        raise DataError(f"{path}: cannot read captions ({exc})") from exc
    rows = []
    for n, raw in enumerate(raw_lines, start=1):
        where = f"{path.name}:{n}"
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw.decode("utf-8"))
        except UnicodeDecodeError:
            skips.add("not UTF-8", where)
            continue
        except (json.JSONDecodeError, RecursionError):  # RecursionError: absurdly deep nesting
            skips.add("not JSON", where)
            continue
        if not isinstance(obj, dict):
            skips.add("not an object", where, f"line is a JSON {type(obj).__name__}, not an object")
            continue
        slug, text = obj.get("template"), obj.get("text")
        problem = caption_problem(text)
        if problem:
            skips.add(problem[0], where, problem[1])
        elif slug not in known:
            skips.add("unknown template", where, f"unknown template {slug!r}")
        else:
            rows.append(CaptionRow(slug, str(text).strip(), n))
    return rows


def data_hash(data_dir: Path, templates: dict[str, Template]) -> str:
    """Content hash of the captions file and the template images and toml files."""
    h = hashlib.sha256((data_dir / CAPTIONS_FILE).read_bytes())
    for slug in sorted(templates):
        t = templates[slug]
        h.update(slug.encode())
        h.update(t.image_path.read_bytes())
        h.update((t.image_path.parent / "template.toml").read_bytes())
    return h.hexdigest()[:16]


def load_dataset(data_dir: Path, *, min_templates: int = 2, min_captions: int = 20) -> Dataset:
    """Read and check a data set; bad rows are skipped (counted), too little data is a DataError."""
    skips = SkipLog()
    templates = _usable_templates(data_dir, skips)
    rows = _read_captions(data_dir / CAPTIONS_FILE, templates, skips)
    used = {r.template for r in rows}
    if len(used) < min_templates or len(rows) < min_captions:
        raise DataError(
            f"{data_dir}: too little usable data to train: {len(rows)} captions over {len(used)} templates "
            f"(need >= {min_captions} captions over >= {min_templates} templates); "
            f"skipped {skips.total}: {'; '.join(skips.examples) or 'none'}")
    if skips.total:
        log.warning("skipped rows=%d first=%s", skips.total, skips.examples)
    kept = {s: t for s, t in templates.items() if s in used}
    return Dataset(tuple(kept[s] for s in sorted(kept)), tuple(rows), dict(skips.counts),
                   tuple(skips.examples), data_hash(data_dir, kept))


def split_by_caption(dataset: Dataset, *, val_fraction: float = 0.1, seed: int = 0) -> tuple[Dataset, Dataset]:
    """(train, validation): a share of each template's captions held out (templates stay seen)."""
    rng = random.Random(seed)
    held: set[int] = set()
    for slug in sorted({c.template for c in dataset.captions}):
        lines = [c.line for c in dataset.captions if c.template == slug]
        n_val = min(len(lines) - 1, round(len(lines) * val_fraction))
        held.update(rng.sample(lines, max(0, n_val)))
    keep = tuple(c for c in dataset.captions if c.line not in held)
    val = tuple(c for c in dataset.captions if c.line in held)
    return (replace(dataset, captions=keep), replace(dataset, captions=val))


def split_by_template(dataset: Dataset, *, val_fraction: float = 0.2, seed: int = 0) -> tuple[Dataset, Dataset]:
    """(train, validation): whole templates go to validation, at least one, never all."""
    slugs = [t.slug for t in dataset.templates]
    rng = random.Random(seed)
    rng.shuffle(slugs)
    n_val = min(len(slugs) - 1, max(1, round(len(slugs) * val_fraction)))
    val = set(slugs[:n_val])
    return dataset.for_templates(set(slugs) - val), dataset.for_templates(val)
