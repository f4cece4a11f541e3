"""Draw classic meme text on an image: bold sans, white fill, black outline, inside text boxes.

Pure: image in, new image out; nothing here reads or writes files except the shipped font.

Rules (generator/RENDERING.md has the long version):
- Each box gets the largest font size at which its word-wrapped text fits (up to a tenth less when
  that lets its lines end phrases, not on "THE" or "HAVE"). Whole words are preferred; a word is
  broken across lines only when that at least doubles the size.
- Text never leaves its box. If it does not fit even at ``MIN_FONT_PX``, the lines that fit are
  kept and the last one ends in an ellipsis (``TextLayout.truncated``).
- Characters the shipped font cannot draw (most emoji, CJK, ...) are removed, as are emoji joiners,
  variation selectors and skin-tone modifiers; what remains is drawn. Nothing left, nothing drawn.
"""
from __future__ import annotations

import logging
import math
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Literal

from PIL import Image, ImageDraw, ImageFont

from generator.captionsplit import lean, split_caption
from generator.fonts import FONT_PATH, covered_codepoints
from generator.types import Box, reading_order

__all__ = [
    "DEFAULT_BOXES",
    "LineBox",
    "TextLayout",
    "clean_text",
    "layout_text",
    "render_meme",
    "split_caption",
]

log = logging.getLogger(__name__)

VAlign = Literal["top", "middle", "bottom"]
PixelBox = tuple[int, int, int, int]

MIN_FONT_PX = 6
# A line may be this much wider than in the most even wrap, and the font this much smaller than the
# largest that fits, when that lets more lines end a phrase ("WHEN / THE FLIGHT SUIT FITS").
PHRASE_SLACK = 0.25
FONT_SLACK = 0.1
ELLIPSIS = "\u2026"
# Classic top/bottom placement when a template has no boxes of its own.
DEFAULT_BOXES: tuple[Box, ...] = (Box(0.03, 0.02, 0.94, 0.25), Box(0.03, 0.73, 0.94, 0.25))
_DEFAULT_VALIGN: tuple[VAlign, ...] = ("top", "bottom")
# Invisible glue of emoji sequences: meaningless once the pictographs around them are gone.
_DROPPED = frozenset({0x200D, *range(0xFE00, 0xFE10), *range(0x1F3FB, 0x1F400)})



@dataclass(frozen=True)
class LineBox:
    """One drawn line: its text, where it is drawn (left-baseline anchor) and its ink box."""

    text: str
    origin: tuple[int, int]
    bbox: PixelBox  # (left, top, right, bottom), right/bottom exclusive, stroke included


@dataclass(frozen=True)
class TextLayout:
    """Where the lines of one text box go. Empty ``lines`` means nothing is drawn."""

    box: PixelBox
    font_size: int
    stroke_width: int
    lines: tuple[LineBox, ...]
    truncated: bool = False


def stroke_for(font_size: int) -> int:
    """Outline width: about a fifteenth of the font size, at least one pixel."""
    return max(1, round(font_size / 15))


@lru_cache(maxsize=512)
def _font(size: int) -> ImageFont.FreeTypeFont:
    # BASIC layout: identical glyph placement with or without libraqm, so goldens stay stable.
    return ImageFont.truetype(str(FONT_PATH), size, layout_engine=ImageFont.Layout.BASIC)


def clean_text(text: str, *, uppercase: bool = True) -> str:
    """NFC, optional upper-casing, characters the font lacks removed, whitespace collapsed."""
    text = unicodedata.normalize("NFC", text)
    if uppercase:
        text = text.upper()
    covered = covered_codepoints()
    kept = []
    for char in text:
        code = ord(char)
        if char.isspace() or unicodedata.category(char) == "Cc":
            kept.append(" ")
        elif code in covered and code not in _DROPPED:
            kept.append(char)
    cleaned = " ".join("".join(kept).split())
    if len(cleaned) < len(" ".join(text.split())):
        log.debug("annotate.clean dropped_chars=%d", len(" ".join(text.split())) - len(cleaned))
    return cleaned


def layout_text(
    text: str,
    box: PixelBox,
    *,
    valign: VAlign = "middle",
    uppercase: bool = True,
) -> TextLayout:
    """Place ``text`` in the pixel ``box`` (left, top, right, bottom) at the largest size that fits."""
    left, top, right, bottom = box
    width, height = right - left, bottom - top
    cleaned = clean_text(text, uppercase=uppercase)
    if not cleaned or width <= 0 or height <= 0:
        return TextLayout(box, 0, 0, ())
    words = cleaned.split(" ")
    whole = _largest_fit(words, width, height, allow_break=False)
    broken = _largest_fit(words, width, height, allow_break=True)
    if whole is not None and (broken is None or broken[0] < 2 * whole[0]):
        size, lines, truncated = *_phrased(words, *whole, width, height), False
    elif broken is not None:
        size, lines, truncated = *broken, False
    else:
        size, lines = MIN_FONT_PX, _truncate(words, width, height)
        truncated = True
        log.info("annotate.truncated box=%s kept_lines=%d", box, len(lines))
    return _place(lines, size, box, valign, truncated)


def render_meme(
    image: Image.Image,
    text: str,
    boxes: Sequence[Box] | None = None,
    *,
    uppercase: bool = True,
) -> Image.Image:
    """Return a new image with ``text`` drawn in ``boxes`` (default: top and bottom bands).

    The caption is split over the boxes with ``split_caption``, its first words in the box a reader
    sees first (``reading_order``: top to bottom, then left to right), whatever order the boxes are
    listed in. ``image`` is not modified.
    """
    out = _working_copy(image)
    valigns: tuple[VAlign, ...]
    if boxes:
        chosen, valigns = reading_order(boxes), tuple("middle" for _ in boxes)
    else:
        chosen, valigns = DEFAULT_BOXES, _DEFAULT_VALIGN
    draw = ImageDraw.Draw(out)
    white = (255, 255, 255, 255) if out.mode == "RGBA" else (255, 255, 255)
    black = (0, 0, 0, 255) if out.mode == "RGBA" else (0, 0, 0)
    for part, box, valign in zip(split_caption(text, len(chosen)), chosen, valigns):
        layout = layout_text(part, box.to_pixels(*out.size), valign=valign, uppercase=uppercase)
        for line in layout.lines:
            draw.text(
                line.origin,
                line.text,
                font=_font(layout.font_size),
                fill=white,
                stroke_width=layout.stroke_width,
                stroke_fill=black,
                anchor="ls",
            )
    return out


def _working_copy(image: Image.Image) -> Image.Image:
    if image.mode in ("RGB", "RGBA"):
        return image.copy()
    has_alpha = image.mode in ("LA", "PA") or "transparency" in image.info
    return image.convert("RGBA" if has_alpha else "RGB")


@lru_cache(maxsize=8192)
def _ink(text: str, size: int) -> PixelBox:
    """Ink box of ``text`` relative to its left-baseline origin, outline included. Cached: fitting
    tries each line at many sizes, and sibling beams share most of their words."""
    left, top, right, bottom = _font(size).getbbox(text, stroke_width=stroke_for(size), anchor="ls")
    return int(left), int(top), int(right), int(bottom)


def _ink_width(text: str, size: int) -> int:
    left, _top, right, _bottom = _ink(text, size)
    return right - left


def _pitch(size: int) -> int:
    ascent, descent = _font(size).getmetrics()
    return ascent + descent


def _block_extent(lines: Sequence[str], size: int) -> tuple[int, int]:
    """(top, bottom) of the lines' ink, relative to the first baseline."""
    pitch = _pitch(size)
    tops, bottoms = [], []
    for i, line in enumerate(lines):
        _left, top, _right, bottom = _ink(line, size)
        tops.append(i * pitch + top)
        bottoms.append(i * pitch + bottom)
    return min(tops), max(bottoms)


def _wrap(words: Sequence[str], size: int, width: int, allow_break: bool) -> list[str] | None:
    """Greedy word wrap; ``None`` when a word (or, when breaking, one character) is too wide."""
    lines: list[str] = []
    current = ""
    for word in words:
        candidate = f"{current} {word}" if current else word
        if _ink_width(candidate, size) <= width:
            current = candidate
            continue
        if current:
            lines.append(current)
        if _ink_width(word, size) <= width:
            current = word
            continue
        if not allow_break:
            return None
        chunks = _break_word(word, size, width)
        if chunks is None:
            return None
        lines.extend(chunks[:-1])
        current = chunks[-1]
    if current:
        lines.append(current)
    return lines


def _phrased(words: Sequence[str], size: int, lines: list[str], width: int, height: int) -> tuple[int, list[str]]:
    """The balanced wrap (``_balanced``) at ``size``, the largest size that fits, or at a size down to
    ``FONT_SLACK`` smaller whose lines lean less on the next line: the largest size with the least."""
    best = (size, _balanced(lines, size, width, height))
    least = _leaning(best[1])
    for smaller in range(size - 1, max(MIN_FONT_PX, math.ceil(size * (1 - FONT_SLACK))) - 1, -1):
        if least == 0:
            break
        fit = _fit(words, smaller, width, height, allow_break=False)
        if fit is None:
            continue
        wrap = _balanced(fit, smaller, width, height)
        if _leaning(wrap) < least:
            best, least = (smaller, wrap), _leaning(wrap)
    return best


def _leaning(lines: Sequence[str]) -> int:
    return sum(lean(line) for line in lines[:-1]) + (len(lines) > 1 and " " not in lines[-1])


def _balanced(lines: list[str], size: int, width: int, height: int) -> list[str]:
    """The same words on the same number of lines, as even as they go, breaking after a word that ends
    a phrase: greedy wrapping fills the first lines, can leave one word alone on the last ("MONDAY
    MORNING INBOX / VS") and ends lines wherever the width runs out ("WHEN THE / FLIGHT SUIT FITS").

    Of the wraps whose widest line is at most ``PHRASE_SLACK`` wider than the most even wrap's (and
    fits ``width``), the one whose lines lean least on the next line (``captionsplit.lean``: an article
    is worse than a preposition, an auxiliary or a conjunction; a word alone on the last line counts
    as a preposition would: "ME WHEN / THE TESTS PASS," over "ME WHEN THE TESTS / PASS,"), then the
    most even. Same lines, so
    the same font size; kept only if the block still fits ``height``."""
    words = " ".join(lines).split(" ")
    n, k = len(words), len(lines)
    if k < 2 or n <= k:
        return lines
    widths: dict[tuple[int, int], int] = {}

    def line_width(i: int, j: int) -> int:
        if (i, j) not in widths:
            widths[i, j] = _ink_width(" ".join(words[i:j]), size)
        return widths[i, j]

    def leaning(i: int, j: int) -> int:
        if j == n:  # the box's own end is the caption splitter's; a word left alone there counts as one
            return int(j - i == 1)
        return lean(" ".join(words[i:j]))

    even = _wrap_dp(n, k, line_width, lambda i, j: 0, width)
    if even is None:
        return lines
    cap = min(width, int(even[0][1] * (1 + PHRASE_SLACK)))
    found = _wrap_dp(n, k, line_width, leaning, cap)
    greedy_cost = (_leaning(lines), max(_ink_width(line, size) for line in lines))
    if found is None or found[0] >= greedy_cost:
        return lines
    out = [" ".join(words[i:j]) for i, j in zip(found[1], found[1][1:])]
    top, bottom = _block_extent(out, size)
    return out if bottom - top <= height else lines


def _wrap_dp(
    n: int, k: int, width: Callable[[int, int], int], leaning: Callable[[int, int], int], cap: int
) -> tuple[tuple[int, int], list[int]] | None:
    """The wrap of n words on k lines, none wider than ``cap``, that minimises (total leaning of the
    lines, widest line), as (that cost, the k + 1 line starts with n last); None if none fits ``cap``.
    Exact: a prefix with the smaller cost stays smaller once the same lines follow it."""
    worst = (10**9, 10**9)
    # best[c][j]: the least cost of words[:j] on c lines; cut[c][j]: where its last line starts
    best = [[worst] * (n + 1) for _ in range(k + 1)]
    cut = [[0] * (n + 1) for _ in range(k + 1)]
    best[0][0] = (0, 0)
    for c in range(1, k + 1):
        for j in range(c, n - (k - c) + 1):
            for i in range(c - 1, j):
                if best[c - 1][i] == worst or width(i, j) > cap:
                    continue
                cost = (best[c - 1][i][0] + leaning(i, j), max(best[c - 1][i][1], width(i, j)))
                if cost < best[c][j]:
                    best[c][j], cut[c][j] = cost, i
    if best[k][n] == worst:
        return None
    starts, j = [n], n
    for c in range(k, 0, -1):
        j = cut[c][j]
        starts.append(j)
    return best[k][n], starts[::-1]


def _break_word(word: str, size: int, width: int) -> list[str] | None:
    chunks: list[str] = []
    rest = word
    while rest:
        cut = len(rest)
        while cut > 0 and _ink_width(rest[:cut], size) > width:
            cut -= 1
        if cut == 0:
            return None
        chunks.append(rest[:cut])
        rest = rest[cut:]
    return chunks


def _fit(words: Sequence[str], size: int, width: int, height: int, allow_break: bool) -> list[str] | None:
    lines = _wrap(words, size, width, allow_break)
    if not lines:
        return None
    top, bottom = _block_extent(lines, size)
    return lines if bottom - top <= height else None


def _largest_fit(
    words: Sequence[str], width: int, height: int, *, allow_break: bool
) -> tuple[int, list[str]] | None:
    """Binary search for the largest size that fits; the answer is always re-checked to fit."""
    best: tuple[int, list[str]] | None = None
    low, high = MIN_FONT_PX, max(MIN_FONT_PX, height)
    while low <= high:
        size = (low + high) // 2
        lines = _fit(words, size, width, height, allow_break)
        if lines is None:
            high = size - 1
        else:
            best, low = (size, lines), size + 1
    return best


def _truncate(words: Sequence[str], width: int, height: int) -> list[str]:
    """At the smallest size: keep the lines that fit and mark the cut with an ellipsis."""
    lines = _wrap(words, MIN_FONT_PX, width, allow_break=True) or []
    kept: list[str] = []
    for line in lines:
        top, bottom = _block_extent([*kept, line], MIN_FONT_PX)
        if bottom - top > height:
            break
        kept.append(line)
    while kept:
        last = kept[-1]
        while last and _ink_width(last + ELLIPSIS, MIN_FONT_PX) > width:
            last = last[:-1].rstrip()
        candidate = [*kept[:-1], last + ELLIPSIS] if last else kept[:-1]
        top, bottom = _block_extent(candidate, MIN_FONT_PX) if candidate else (0, 0)
        if candidate and bottom - top <= height:
            return candidate
        kept = kept[:-1]
    return []


def _place(lines: Sequence[str], size: int, box: PixelBox, valign: VAlign, truncated: bool) -> TextLayout:
    left, top, right, bottom = box
    stroke = stroke_for(size)
    if not lines:
        return TextLayout(box, size, stroke, (), truncated)
    block_top, block_bottom = _block_extent(lines, size)
    spare = (bottom - top) - (block_bottom - block_top)
    offset = {"top": 0, "middle": spare // 2, "bottom": spare}[valign]
    first_baseline = top + offset - block_top
    pitch = _pitch(size)
    placed = []
    for i, line in enumerate(lines):
        ink_left, ink_top, ink_right, ink_bottom = _ink(line, size)
        x = left + ((right - left) - (ink_right - ink_left)) // 2 - ink_left
        y = first_baseline + i * pitch
        bbox = (x + ink_left, y + ink_top, x + ink_right, y + ink_bottom)
        placed.append(LineBox(line, (x, y), bbox))
    return TextLayout(box, size, stroke, tuple(placed), truncated)
