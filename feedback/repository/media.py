"""Media files of candidates: which ones may be deleted (old and never going to be posted)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from feedback.models import Candidate

DISPOSABLE = ("rejected", "filtered", "duplicate")


def prunable_media(session: Session, *, before: datetime, limit: int = 1000) -> list[tuple[int, str]]:
    """(candidate id, image path) of disposable candidates older than ``before`` that still name a file
    no kept candidate shares (a GAN image can back several captions)."""
    kept = select(Candidate.image_path).where(Candidate.status.not_in(DISPOSABLE),
                                              Candidate.image_path.is_not(None))
    query = (select(Candidate.id, Candidate.image_path)
             .where(Candidate.status.in_(DISPOSABLE), Candidate.created_at < before,
                    Candidate.image_path.is_not(None), Candidate.image_path.not_in(kept))
             .order_by(Candidate.id).limit(limit))
    return [(cid, path) for cid, path in session.execute(query) if path is not None]


def forget_media(session: Session, candidate_ids: Sequence[int], now: datetime) -> None:
    """The files are gone; keep the hashes (for duplicate checks) but drop the paths."""
    if candidate_ids:
        session.execute(update(Candidate).where(Candidate.id.in_(list(candidate_ids)))
                        .values(image_path=None, updated_at=now)
                        .execution_options(synchronize_session=False))
