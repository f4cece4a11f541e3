"""The font memeloop draws meme text with, and which characters it can draw.

We ship DejaVu Sans Condensed Bold (Bitstream Vera / Arev licence, see LICENSE-DejaVu.txt): a bold
sans that covers Latin, Greek and Cyrillic, condensed so more words fit a line, as Impact does.
It has no emoji and no CJK; ``covered_codepoints`` lets the renderer drop what it cannot draw
instead of printing empty boxes.
"""
from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

from generator import DataError

FONT_PATH = Path(__file__).with_name("DejaVuSansCondensed-Bold.ttf")


@lru_cache(maxsize=4)
def covered_codepoints(path: Path = FONT_PATH) -> frozenset[int]:
    """Code points the font's Unicode cmap maps to a real glyph (not .notdef)."""
    data = path.read_bytes()
    try:
        return frozenset(_parse_cmap(data))
    except (struct.error, IndexError) as exc:
        raise DataError(f"{path}: cannot read the font's cmap table ({exc})") from exc


def _parse_cmap(data: bytes) -> set[int]:
    num_tables = struct.unpack_from(">H", data, 4)[0]
    cmap_offset = None
    for i in range(num_tables):
        tag, _checksum, offset, _length = struct.unpack_from(">4sIII", data, 12 + 16 * i)
        if tag == b"cmap":
            cmap_offset = offset
    if cmap_offset is None:
        raise DataError("font has no cmap table")
    count = struct.unpack_from(">H", data, cmap_offset + 2)[0]
    subtables: dict[tuple[int, int], int] = {}
    for i in range(count):
        platform, encoding, offset = struct.unpack_from(">HHI", data, cmap_offset + 4 + 8 * i)
        subtables[(platform, encoding)] = cmap_offset + offset
    # Prefer the full-repertoire table (format 12) over the BMP-only one (format 4).
    for key in ((3, 10), (0, 4), (3, 1), (0, 3)):
        if key in subtables:
            start = subtables[key]
            fmt = struct.unpack_from(">H", data, start)[0]
            if fmt == 12:
                return _format12(data, start)
            if fmt == 4:
                return _format4(data, start)
    raise DataError("font has no Unicode cmap subtable of format 4 or 12")


def _format4(data: bytes, start: int) -> set[int]:
    seg_count = struct.unpack_from(">H", data, start + 6)[0] // 2
    ends = struct.unpack_from(f">{seg_count}H", data, start + 14)
    starts_at = start + 16 + 2 * seg_count
    starts = struct.unpack_from(f">{seg_count}H", data, starts_at)
    deltas = struct.unpack_from(f">{seg_count}h", data, starts_at + 2 * seg_count)
    range_offsets_at = starts_at + 4 * seg_count
    range_offsets = struct.unpack_from(f">{seg_count}H", data, range_offsets_at)
    covered: set[int] = set()
    for seg, (first, last) in enumerate(zip(starts, ends)):
        for code in range(first, last + 1):
            if code == 0xFFFF:
                continue
            if range_offsets[seg] == 0:
                glyph = (code + deltas[seg]) & 0xFFFF
            else:
                where = range_offsets_at + 2 * seg + range_offsets[seg] + 2 * (code - first)
                glyph = struct.unpack_from(">H", data, where)[0]
                glyph = (glyph + deltas[seg]) & 0xFFFF if glyph else 0
            if glyph:
                covered.add(code)
    return covered


def _format12(data: bytes, start: int) -> set[int]:
    groups = struct.unpack_from(">I", data, start + 12)[0]
    covered: set[int] = set()
    for i in range(groups):
        first, last, glyph = struct.unpack_from(">III", data, start + 16 + 12 * i)
        covered.update(code for n, code in enumerate(range(first, last + 1)) if glyph + n)
    return covered
