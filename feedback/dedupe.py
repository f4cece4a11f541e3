"""Near-duplicate guard: a new candidate too close to a recent one (image or caption) is dropped.

Images are compared by perceptual hash (imagehash phash, stored as hex), captions by normalised
text similarity (the larger of token Jaccard and a character-level ratio, so both a reordered and a
lightly retyped caption count). Beams of the same image (one group key) are never each other's
duplicates: they are alternatives for the reviewer. A meme is its template and its caption: the same
text on another template is a new meme, so captions of two different templates are not compared.

``find_duplicates`` checks a run's drafts with one query and a vectorised prefilter (upper bounds of
both similarities, see feedback.dedupe_index) over the captions' fingerprints stored with them
(feedback.fingerprint, migration 0010), so nothing of the window is normalised per run; the
one-draft reference path it is tested against is feedback.dedupe_reference.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from difflib import SequenceMatcher

from sqlalchemy.orm import Session

from feedback.fingerprint import normalise_text
from feedback.repository import dedupe as dedupe_repo


def hamming(a: str, b: str) -> int | None:
    """Bit distance of two hex hashes; None when they cannot be compared (other sizes or not hex)."""
    if len(a) != len(b):
        return None
    try:
        return (int(a, 16) ^ int(b, 16)).bit_count()
    except ValueError:
        return None


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


def other_templates(template_id: int | None, earlier_template_id: int | None) -> bool:
    """Two memes on different templates are different memes, whatever their captions."""
    return template_id is not None and earlier_template_id is not None and template_id != earlier_template_id


@dataclass(frozen=True)
class DraftPrint:
    """What the guard needs of a draft: its caption, its image hash (None = do not compare images)."""

    text: str
    image_phash: str | None = None
    group_key: str | None = None
    template_id: int | None = None  # a meme's template (feedback templates.id): other templates never match


def find_duplicates(session: Session, drafts: Sequence[DraftPrint], *, now: datetime, window: timedelta,
                    phash_distance: int, text_similarity: float) -> list[str | None]:
    """The one-draft reference check for each draft (same reasons), reading the window once per session.

    The recent rows (their stored fingerprints, feedback.fingerprint) are read on the first call in a
    session and kept on it; later calls in the same session (the next image of the same run) read only
    the candidates added since."""
    from feedback.dedupe_index import RecentIndex

    since = now - window
    cache = session.info.setdefault("memeloop.dedupe", {})
    index = cache.get(since)
    if index is None:
        index = cache[since] = RecentIndex(dedupe_repo.recent_print_rows(session, since=since),
                                           lambda ids: dedupe_repo.texts_of(session, ids))
    else:
        index.prepend(dedupe_repo.recent_print_rows(session, since=since, after_id=index.max_id))
    return index.match([(d.text, d.image_phash, d.group_key, d.template_id) for d in drafts],
                       phash_distance=phash_distance,
                       text_similarity=text_similarity)


def duplicate_reason(candidate_id: int, posted: bool, text: str = "", *, distance: int | None = None,
                     phash_distance: int = 0, similarity: float | None = None, text_similarity: float = 0.0) -> str:
    """Why a draft is dropped: the earlier candidate (or post) it repeats and by how much."""
    what = "post of candidate" if posted else "candidate"
    if distance is not None:
        return f"near-duplicate of {what} {candidate_id}: image hash distance {distance} <= {phash_distance}"
    return (f"near-duplicate of {what} {candidate_id}: caption similarity {similarity:.2f} "
            f">= {text_similarity:.2f} ({_short(text)!r})")


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"
