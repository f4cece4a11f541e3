"""Small value types shared across the generator package (and read by feedback/ and bot/)."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from generator import DataError


@dataclass(frozen=True)
class Box:
    """A text box as fractions of the image's width and height (0..1, top-left origin)."""

    x: float
    y: float
    w: float
    h: float

    def __post_init__(self) -> None:
        for name in ("x", "y", "w", "h"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise DataError(f"box {name}={value!r} is outside 0..1")
        if self.w <= 0 or self.h <= 0:
            raise DataError(f"box has zero size (w={self.w}, h={self.h})")
        if self.x + self.w > 1.0 + 1e-9 or self.y + self.h > 1.0 + 1e-9:
            raise DataError(f"box {self} reaches past the image edge")

    @classmethod
    def of(cls, raw: object) -> Box:
        """A box from its stored JSON: {"x":..,"y":..,"w":..,"h":..} or [x, y, w, h]."""
        if isinstance(raw, dict):
            return cls(*(float(raw[k]) for k in ("x", "y", "w", "h")))
        if isinstance(raw, list | tuple) and len(raw) == 4:
            return cls(*(float(v) for v in raw))
        raise DataError(f"a text box must be {{x, y, w, h}} or [x, y, w, h], not {raw!r}")

    def to_pixels(self, width: int, height: int) -> tuple[int, int, int, int]:
        """(left, top, right, bottom) in pixels for an image of the given size."""
        left = round(self.x * width)
        top = round(self.y * height)
        return left, top, round((self.x + self.w) * width), round((self.y + self.h) * height)


def reading_order(boxes: Sequence[Box]) -> tuple[Box, ...]:
    """Boxes as a reader takes them: top to bottom, and left to right within a row.

    A box whose top lies above the middle of the first box of the current row joins that row
    (side-by-side panels rarely start at exactly the same height). memefly lists most templates'
    bottom box first; the renderer and the importer both put them in this order."""
    rows: list[list[Box]] = []
    for box in sorted(boxes, key=lambda b: (b.y, b.x)):
        if rows and box.y < rows[-1][0].y + rows[-1][0].h / 2:
            rows[-1].append(box)
        else:
            rows.append([box])
    return tuple(b for row in rows for b in sorted(row, key=lambda b: (b.x, b.y)))


@dataclass(frozen=True)
class Template:
    """A meme template: an image and where its text goes. Loaded from a folder with template.toml."""

    slug: str
    name: str
    image_path: Path
    boxes: tuple[Box, ...] = field(default_factory=tuple)
    description: str = ""  # what the picture is and what it is used to say (text -> meme reads it)
    keywords: tuple[str, ...] = ()  # lowercase words a text about this template tends to use
