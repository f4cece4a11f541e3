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

    ``text`` itself is returned when it already fits. A single over-long word is cut mid-word.
    """
    if measure(text) <= limit:
        return text
    cuts = [m.start() for m in re.finditer(r"\s+", text)] or [len(text)]
    low, high, best = 0, len(cuts) - 1, None
    while low <= high:  # prefix weight grows with the cut; the result is re-checked below
        mid = (low + high) // 2
        if measure(_with_ellipsis(text[: cuts[mid]], ellipsis)) <= limit:
            best, low = cuts[mid], mid + 1
        else:
            high = mid - 1
    if best is not None:
        candidate = _with_ellipsis(text[:best], ellipsis)
        if measure(candidate) <= limit:
            return candidate
    end = len(text)
    while end > 0 and measure(_with_ellipsis(text[:end], ellipsis)) > limit:
        end -= 1
    return _with_ellipsis(text[:end], ellipsis) if end else ""


def _with_ellipsis(prefix: str, ellipsis: str) -> str:
    return prefix.rstrip(" \t\n,;:-") + ellipsis


def normalise_for_x(text: str) -> str:
    """NFC (as X stores it) without the characters X refuses."""
    return INVALID_CHARS.sub("", unicodedata.normalize("NFC", text))
