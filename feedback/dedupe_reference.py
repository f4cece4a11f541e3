"""The reference path of the duplicate guard: one query per draft, every earlier candidate of the
window compared with plain Python. ``feedback.dedupe.find_duplicates`` (one query per run, a
vectorised prefilter) must give the same verdicts; tests/feedback/test_dedupe.py pins the two
together and bench/scale.py measures one against the other. Nothing in the service calls it."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from feedback.dedupe import caption_similarity, duplicate_reason, hamming, other_templates
from feedback.repository import dedupe as dedupe_repo


def find_duplicate(session: Session, *, image_phash: str | None, text: str, now: datetime,
                   window: timedelta, phash_distance: int, text_similarity: float,
                   group_key: str | None = None, template_id: int | None = None) -> str | None:
    """A reason naming the earlier candidate this one nearly repeats, or None (one query per draft,
    every pair compared: the reference for ``find_duplicates``)."""
    for earlier in dedupe_repo.recent_fingerprints(session, since=now - window):
        if group_key is not None and earlier.group_key == group_key:
            continue
        if other_templates(template_id, earlier.template_id):
            continue
        if image_phash and earlier.image_phash:
            distance = hamming(image_phash, earlier.image_phash)
            if distance is not None and distance <= phash_distance:
                return duplicate_reason(earlier.candidate_id, earlier.posted, distance=distance,
                                        phash_distance=phash_distance)
        similarity = caption_similarity(text, earlier.text)
        if similarity >= text_similarity:
            return duplicate_reason(earlier.candidate_id, earlier.posted, earlier.text, similarity=similarity,
                                    text_similarity=text_similarity)
    return None
