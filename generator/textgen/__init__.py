"""GPT-2 captions with tone/audience/topic control. Importing this package does not import torch."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.textgen.writer import Writer


def load_writer(path: str | Path | None = None, **options) -> Writer:
    """Load a caption bundle folder; None loads the demo bundle in generator/textgen/demo_bundle."""
    from generator.textgen.writer import load_writer as _load

    return _load(path, **options)


__all__ = ["load_writer"]
