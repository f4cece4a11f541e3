"""Turn stored engagement and review decisions into a fitted ranker, and re-score the queue with it.

Engagement: each published post's weighted counts at ``engagement_age``, normalised by the median of
the account's previous ``baseline_posts`` posts (so a small and a large account teach the same
lesson). Decisions: approve is positive, reject negative, edit a weak negative for the original text.
"""
from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

import numpy as np
from sqlalchemy.orm import Session

from feedback.polling import baseline, engagement_score, normalise
from feedback.ranking import CandidateFeatures, Outcome, Ranker, Score, features_of
from feedback.repository import candidates as candidate_repo
from feedback.repository import metrics as metrics_repo

log = logging.getLogger(__name__)


def facts_features(facts: metrics_repo.CandidateFacts, *, hour: int, text: str | None = None) -> CandidateFeatures:
    return features_of(generator=facts.generator, text=facts.text if text is None else text,
                       account=facts.account or "-", hour=hour, template=facts.template,
                       beam_rank=facts.beam_rank, beam_score=facts.beam_score, tone=facts.tone,
                       audience=facts.audience)


def engagement_outcomes(rows: Sequence[metrics_repo.PostEngagement], *, weights: Mapping[str, float],
                        baseline_posts: int) -> list[Outcome]:
    """Pure: rows oldest first -> outcomes with engagement normalised by the account's recent baseline."""
    history: dict[str, list[float]] = defaultdict(list)
    outcomes = []
    for row in rows:
        if row.counts is None:
            continue
        score = engagement_score(row.counts, weights)
        if score is None:
            continue
        account = row.facts.account or "-"
        base = baseline(history[account][-baseline_posts:])
        history[account].append(score)
        if base is None:
            continue  # an account's first post has nothing to be compared with
        outcomes.append(Outcome(facts_features(row.facts, hour=row.published_at.hour),
                                normalise(score, base), None))
    return outcomes


def decision_outcomes(rows: Sequence[metrics_repo.ReviewFacts]) -> list[Outcome]:
    """Pure: an edit teaches about the text before the edit; approve/reject about the text judged."""
    outcomes = []
    for row in rows:
        text = row.before_text if row.action == "edit" else (row.after_text or row.before_text)
        features = facts_features(row.facts, hour=row.created_at.hour, text=text)
        outcomes.append(Outcome(features, None, row.action))
    return outcomes


def load_ranker(session: Session, *, weights: Mapping[str, float], engagement_age: timedelta,
                baseline_posts: int, now: datetime) -> Ranker:
    """A ranker fitted on everything the database knows up to ``now``."""
    ranker = Ranker()
    engagement = engagement_outcomes(metrics_repo.engagement_at_age(session, age=engagement_age, now=now),
                                     weights=weights, baseline_posts=baseline_posts)
    decisions = decision_outcomes(metrics_repo.review_decisions(session, now=now))
    ranker.update(engagement)
    ranker.update(decisions)
    log.info("ranker loaded engagement_outcomes=%d decision_outcomes=%d features=%d",
             len(engagement), len(decisions), len(ranker.index))
    return ranker


def rescore_pending(session: Session, ranker: Ranker, rng: np.random.Generator, *, now: datetime) -> int:
    """Refresh predicted_score/explanation of every pending candidate (the review-queue order)."""
    pending = candidate_repo.pending_facts(session)
    if not pending:
        return 0
    hours = metrics_repo.publish_hours(session, [p.facts.candidate_id for p in pending])
    items = [facts_features(p.facts, hour=hours.get(p.facts.candidate_id, now).hour) for p in pending]
    scores = ranker.score(items, rng)
    updated = 0
    for p, score in zip(pending, scores):
        predicted, explain = prediction(score, ranker, now=now)
        updated += candidate_repo.set_prediction(session, p.facts.candidate_id, version=p.version,
                                                 score=predicted, explain=explain)
    return updated


def prediction(score: Score, ranker: Ranker, *, now: datetime) -> tuple[float, dict]:
    """What a candidate stores: predicted_score (the Thompson sample, so the review order keeps
    exploring) and predicted_explain (mean, sample, top features, model, evidence, time)."""
    return score.sample, {**score.as_dict(), "model": ranker.version, "observations": ranker.observations,
                          "scored_at": now.isoformat()}
