"""Near-duplicate guard: a new candidate too close to a recent one (image or caption) is dropped.

Images are compared by perceptual hash (imagehash phash, stored as hex), captions by normalised
text similarity (the larger of token Jaccard and a character-level ratio, so both a reordered and a
lightly retyped caption count). Beams of the same image (one group key) are never each other's
duplicates: they are alternatives for the reviewer.
"""
from __future__ import annotations

import re
import unicodedata
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlalchemy.orm import Session

from feedback.repository import dedupe as dedupe_repo

_WORD = re.compile(r"[a-z0-9#@']+")


def phash_of(image) -> str:
    """Perceptual hash (hex) of a PIL image, as stored in candidates.image_phash."""
    import imagehash

    return str(imagehash.phash(image))


def hamming(a: str, b: str) -> int | None:
    """Bit distance of two hex hashes; None when they cannot be compared (other sizes or not hex)."""
    if len(a) != len(b):
        return None
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except ValueError:
        return None


def normalise_text(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _WORD.findall(folded)


def caption_similarity(a: str, b: str) -> float:
    ta, tb = normalise_text(a), normalise_text(b)
    if not ta and not tb:
        return 1.0
    if not ta or not tb:
        return 0.0
    sa, sb = set(ta), set(tb)
    jaccard = len(sa & sb) / len(sa | sb)
    ratio = SequenceMatcher(None, " ".join(ta), " ".join(tb), autojunk=False).ratio()
    return max(jaccard, ratio)


def find_duplicate(session: Session, *, image_phash: str | None, text: str, now: datetime,
                   window: timedelta, phash_distance: int, text_similarity: float,
                   group_key: str | None = None) -> str | None:
    """A reason naming the earlier candidate this one nearly repeats, or None."""
    for earlier in dedupe_repo.recent_fingerprints(session, since=now - window):
        if group_key is not None and earlier.group_key == group_key:
            continue
        what = "post of candidate" if earlier.posted else "candidate"
        if image_phash and earlier.image_phash:
            distance = hamming(image_phash, earlier.image_phash)
            if distance is not None and distance <= phash_distance:
                return (f"near-duplicate of {what} {earlier.candidate_id}: image hash distance {distance} "
                        f"<= {phash_distance}")
        similarity = caption_similarity(text, earlier.text)
        if similarity >= text_similarity:
            return (f"near-duplicate of {what} {earlier.candidate_id}: caption similarity {similarity:.2f} "
                    f">= {text_similarity:.2f} ({_short(earlier.text)!r})")
    return None


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
