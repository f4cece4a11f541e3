"""Test-only helper of the duplicate guard: the perceptual hash of a PIL image (the pipeline's is
bot.core.media's)."""
from __future__ import annotations

from typing import Any


def phash_of(image: Any) -> str:
    """Perceptual hash (hex) of a PIL image, as stored in candidates.image_phash."""
    import imagehash

    return str(imagehash.phash(image))
