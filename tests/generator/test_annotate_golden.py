"""Golden images: render fixed cases and compare with committed PNGs, with a tolerance.

Regenerate after an intended change (then look at the PNGs before committing):
    MEMELOOP_REGEN_GOLDEN=1 PYTHONPATH=$PWD python -m pytest tests/generator/test_annotate_golden.py
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator.annotate import render_meme
from generator.types import Box

GOLDEN = Path(__file__).with_name("golden")
# FreeType versions anti-alias edges a little differently; a moved or missing word is far bigger.
MAX_MEAN_DIFF = 2.0  # mean absolute difference per channel, 0..255
MAX_BAD_PIXELS = 0.01  # share of pixels differing by more than 64 in some channel


def _base(width: int, height: int, mode: str = "RGB") -> Image.Image:
    """A deterministic gradient with a checker, so outline and fill show against dark and light."""
    y, x = np.mgrid[0:height, 0:width]
    red = (x * 255 // max(width - 1, 1)).astype(np.uint8)
    green = (y * 255 // max(height - 1, 1)).astype(np.uint8)
    blue = np.where(((x // 40) + (y // 40)) % 2 == 0, 200, 60).astype(np.uint8)
    image = Image.fromarray(np.dstack([red, green, blue]), "RGB")
    return image.convert(mode)


CASES = {
    "top_bottom": lambda: render_meme(_base(320, 240), "me when the tests pass, but only on my machine"),
    "single_word": lambda: render_meme(_base(320, 240), "nope"),
    "template_boxes": lambda: render_meme(
        _base(320, 320),
        "the bug\nthe fix\nthe new bug",
        [Box(0.05, 0.05, 0.4, 0.3), Box(0.55, 0.05, 0.4, 0.3), Box(0.1, 0.6, 0.8, 0.35)],
    ),
    "long_word": lambda: render_meme(
        _base(240, 320), "supercalifragilisticexpialidocious", [Box(0.1, 0.1, 0.4, 0.8)]
    ),
    "unicode_and_emoji": lambda: render_meme(_base(320, 240), "Привет, ΚΑΛΗΜΕΡΑ 😂 日本 👍🏻 café"),
    "lowercase_rgba": lambda: render_meme(
        _base(240, 180, "RGBA"), "keep my case. please", uppercase=False
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_render_matches_golden(name: str) -> None:
    rendered = CASES[name]()
    path = GOLDEN / f"{name}.png"
    if os.environ.get("MEMELOOP_REGEN_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        rendered.save(path)
        pytest.skip(f"regenerated {path}")
    expected = Image.open(path)
    assert rendered.mode == expected.mode and rendered.size == expected.size
    diff = np.abs(np.asarray(rendered, dtype=np.int16) - np.asarray(expected, dtype=np.int16))
    mean = float(diff.mean())
    bad = float((diff.max(axis=-1) > 64).mean())
    assert mean <= MAX_MEAN_DIFF and bad <= MAX_BAD_PIXELS, f"{name}: mean={mean:.3f} bad={bad:.4f}"


def test_tolerance_catches_a_different_caption() -> None:
    expected = np.asarray(Image.open(GOLDEN / "top_bottom.png"), dtype=np.int16)
    other = render_meme(_base(320, 240), "me when the tests fail, and only on CI")
    diff = np.abs(np.asarray(other, dtype=np.int16) - expected)
    assert (diff.max(axis=-1) > 64).mean() > MAX_BAD_PIXELS
