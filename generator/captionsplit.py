"""Split a caption into the pieces that go into a meme's text boxes, at a natural break."""
from __future__ import annotations

import re

# Strongest break first; within a tier the cut closest to the middle wins.
_BREAK_TIERS: tuple[re.Pattern[str], ...] = (
    re.compile(r"(?<=[.!?\u2026])\s+"),
    re.compile(r"(?<=[;:,])\s+"),
    re.compile(
        r"\s+(?=(?:when|but|because|until|unless|while|whereas|except|and then)\b)", re.IGNORECASE
    ),
    re.compile(r"\s+"),
)


def split_caption(text: str, parts: int) -> list[str]:
    """Split ``text`` into exactly ``parts`` pieces (top to bottom), padding with "" when short.

    Explicit line breaks in ``text`` are honoured first. Then the longest piece is cut again until
    there are enough: at a sentence end, else after ``,`` ``;`` ``:``, else before "when", "but",
    "because"... (never as the first word), else at the space nearest the middle. A single word is
    never cut, so "NOPE" split in two gives ``["NOPE", ""]``.
    """
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    if parts == 1:
        return [_squash(text)]
    pieces = [_squash(line) for line in text.splitlines() if line.strip()]
    if len(pieces) > parts:
        pieces = pieces[: parts - 1] + [" ".join(pieces[parts - 1 :])]
    while len(pieces) < parts:
        index = _longest_splittable(pieces)
        if index is None:
            break
        pieces[index : index + 1] = _split_in_two(pieces[index])
    return pieces + [""] * (parts - len(pieces))


def _squash(text: str) -> str:
    return " ".join(text.split())


def _longest_splittable(pieces: list[str]) -> int | None:
    candidates = [i for i, piece in enumerate(pieces) if " " in piece]
    if not candidates:
        return None
    return max(candidates, key=lambda i: len(pieces[i]))


def _split_in_two(piece: str) -> list[str]:
    for pattern in _BREAK_TIERS:
        cuts = [m for m in pattern.finditer(piece) if 0 < m.start() and m.end() < len(piece)]
        if cuts:
            best = min(cuts, key=lambda m: abs(m.start() - (len(piece) - m.end())))
            return [piece[: best.start()], piece[best.end() :]]
    return [piece]
