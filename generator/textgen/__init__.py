"""GPT-2 captions with tone/audience/topic control. Importing this package does not import torch."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.textgen.writer import Writer


def bundle_choices(path: str | Path | None = None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(tones, audiences) a caption bundle was trained with, from its memeloop.json alone (no model
    loads), so a request can be checked before anything heavy happens."""
    import json

    from generator import BundleError

    folder = Path(__file__).resolve().parent / "demo_bundle" if path is None else Path(path)
    meta_path = folder / "memeloop.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        tones, audiences = tuple(map(str, meta["tones"])), tuple(map(str, meta["audiences"]))
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise BundleError(f"caption bundle {folder}: cannot read tones and audiences from {meta_path.name} "
                          f"({exc})") from None
    return tones, audiences


def bundle_topics(path: str | Path | None = None) -> tuple[str, ...]:
    """The writer topics a caption bundle knows, from its memeloop.json alone (as Writer.topics:
    ("general",) when the bundle names none)."""
    import json

    from generator import BundleError

    folder = Path(__file__).resolve().parent / "demo_bundle" if path is None else Path(path)
    meta_path = folder / "memeloop.json"
    try:
        meta = json.loads(meta_path.read_text(encoding="utf-8"))
        return tuple(map(str, meta.get("topics") or ("general",)))
    except (OSError, ValueError, AttributeError, TypeError) as exc:
        raise BundleError(f"caption bundle {folder}: cannot read topics from {meta_path.name} ({exc})") from None


def load_writer(path: str | Path | None = None, **options) -> Writer:
    """Load a caption bundle folder; None loads the demo bundle in generator/textgen/demo_bundle."""
    from generator.textgen.writer import load_writer as _load

    return _load(path, **options)


__all__ = ["bundle_choices", "bundle_topics", "load_writer"]
