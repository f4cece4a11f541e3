"""X's weighted post length, and trimming text to fit it.

Counting is delegated to ``twitter-text-parser`` (a port of X's own twitter-text, pinned in
requirements.lock): NFC first, code points in U+0000-10FF, U+2000-200D, U+2010-201F and
U+2032-2037 weigh 1, everything else 2, a whole emoji sequence 2, any URL 23. The package imports
``pkg_resources`` (hence setuptools<81); it is imported lazily so that importing
``generator.platforms`` stays cheap.
"""
from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Callable
from functools import lru_cache

X_MAX_WEIGHTED = 280
ELLIPSIS = "\u2026"
# Code points twitter-text rejects outright; nothing a caption needs.
INVALID_CHARS = re.compile("[\ufffe\ufeff\uffff]")


@lru_cache(maxsize=1)
def _parser() -> Callable[[str], object]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="pkg_resources is deprecated", category=UserWarning)
        from twitter_text import parse_tweet
    return parse_tweet


def x_weighted_length(text: str) -> int:
    """Length of ``text`` as X counts it (280 is the limit for a post)."""
    return int(_parser()(text).weightedLength)  # type: ignore[attr-defined]


def trim_to_weight(text: str, limit: int, measure: Callable[[str], int], ellipsis: str = ELLIPSIS) -> str:
    """Longest prefix cut at a word boundary, plus ``ellipsis``, whose measure is <= ``limit``.

    ``text`` itself is returned when it already fits. When the last word boundary that fits would
    keep less than half of ``limit`` (an over-long word, a run of emoji or CJK without spaces), the
    text is cut inside that word instead, never inside an emoji sequence or before a combining mark.
    """
    if measure(text) <= limit:
        return text
    cuts = [m.start() for m in re.finditer(r"\s+", text)]
    best = _last_fitting(cuts, lambda end: measure(_with_ellipsis(text[:end], ellipsis)) <= limit)
    if best is not None and 2 * measure(text[:best]) >= limit:
        return _with_ellipsis(text[:best], ellipsis)
    ends = [i for i in range(1, len(text)) if _can_cut(text, i)]
    end = _last_fitting(ends, lambda e: measure(_with_ellipsis(text[:e], ellipsis)) <= limit)
    if end is None:
        return ""
    return _with_ellipsis(text[:end], ellipsis)


def _last_fitting(ends: list[int], fits: Callable[[int], bool]) -> int | None:
    """The largest of the ascending ``ends`` that fits (prefix weight grows with the end)."""
    low, high, best = 0, len(ends) - 1, None
    while low <= high:
        mid = (low + high) // 2
        if fits(ends[mid]):
            best, low = ends[mid], mid + 1
        else:
            high = mid - 1
    return best


def _can_cut(text: str, i: int) -> bool:
    """Cutting before ``text[i]`` keeps every character whole: not inside a ZWJ sequence, not
    before a combining mark, variation selector or skin-tone modifier."""
    nxt, prev = text[i], text[i - 1]
    if prev == "\u200d" or nxt == "\u200d" or unicodedata.combining(nxt):
        return False
    if "\ufe00" <= nxt <= "\ufe0f" or "\U0001f3fb" <= nxt <= "\U0001f3ff":
        return False
    return not ("\udc00" <= nxt <= "\udfff")


def _with_ellipsis(prefix: str, ellipsis: str) -> str:
    return prefix.rstrip(" \t\n,;:-") + ellipsis


def normalise_for_x(text: str) -> str:
    """NFC (as X stores it) without the characters X refuses."""
    return INVALID_CHARS.sub("", unicodedata.normalize("NFC", text))
