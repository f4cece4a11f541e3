"""The read model of one candidate: its full picture (text and history, sibling beams, why it ranks
where it does, posts). Terminal rendering of it lives in the CLI (bot/cli/render.py); what review
does lives in bot/service/review.py."""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.service.read_models import (
    CandidateDetail,
    EffectLine,
    HistoryEntry,
    PostOfCandidate,
    Ranking,
    SiblingBeam,
)
from feedback.models import Candidate
from feedback.repository import candidates as cand_repo
from feedback.repository import reviews


def candidate_detail(session: Session, candidate_id: int, *, now: datetime) -> CandidateDetail:
    """Everything about a candidate (the JSON of `queue show`)."""
    from feedback.ranking.explain import stored_effects, stored_sentences  # numpy: only when shown

    c = cand_repo.get_candidate(session, candidate_id)
    explain = c.predicted_explain or {}
    return CandidateDetail(
        id=c.id, status=c.status, status_reason=c.status_reason, text=c.text,
        original_text=c.original_text, generator=c.generator, model_version=c.model_version,
        account=c.account.name if c.account else None,
        template=c.template.slug if c.template else None, group_key=c.group_key,
        beam_rank=c.beam_rank, beam_score=c.beam_score, tone=c.tone, audience=c.audience,
        gan_seed=c.gan_seed, params=c.params, generation_id=c.generation_id,
        read_as=c.read_as, read_confidence=c.read_confidence, reading=reading_of(c),
        image_path=c.image_path, source_image_path=c.source_image_path,
        image_sha256=c.image_sha256, image_phash=c.image_phash,
        created_at=c.created_at, updated_at=c.updated_at, age=int((now - c.created_at).total_seconds()),
        version=c.version,
        ranking=Ranking(queue_rank=cand_repo.queue_position(session, c), predicted_score=c.predicted_score,
                        posterior_mean=explain.get("mean"), model=explain.get("model"),
                        observations=explain.get("observations"), scored_at=explain.get("scored_at"),
                        explain=explain.get("explain") or _cold_explain(c.beam_score),
                        sentences=stored_sentences(explain),
                        effects=[EffectLine(e.name, e.contribution, e.sd, e.evidence)
                                 for e in stored_effects(explain)]),
        siblings=[SiblingBeam(s.id, s.beam_rank, s.beam_score, s.status, s.predicted_score, s.text)
                  for s in cand_repo.siblings(session, c)],
        history=[HistoryEntry(r.created_at, r.action, r.actor, r.before_text, r.after_text, r.reason)
                 for r in reviews.history(session, c.id)],
        posts=[PostOfCandidate(p.id, p.state, p.scheduled_at, p.remote_url, p.attempts, p.last_error)
               for p in cand_repo.posts_of(session, c.id)],
    )


def reading_of(c: Candidate) -> str | None:
    """What a candidate's photo was read as and how sure, in words (photo captions and stories)."""
    from generator.photo_topics import reading_words

    params = c.params or {}
    return reading_words(c.read_as, c.read_confidence, sure=params.get("sure"), topic=params.get("topic"),
                         source=params.get("topic_source"))


def _cold_explain(beam_score: float | None) -> list[list[Any]]:
    return [["beam_score (not scored by the ranker yet)", beam_score]] if beam_score is not None else []
