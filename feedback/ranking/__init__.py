"""Learned ranking of candidates (pure: no database, no clock, seeded RNG passed in).

features: what the ranker sees of a candidate; design: those features as the rows of a design
matrix (names -> columns, batched on integer arrays); model: the Bayesian ranker with Thompson
sampling; explain: what it learned, in sentences a reviewer reads.
"""
from feedback.ranking.batch import Batch
from feedback.ranking.design import Design
from feedback.ranking.explain import describe, sentences, stored_effects, stored_sentences
from feedback.ranking.features import (
    BEAM_SCALE,
    CandidateFeatures,
    Recent,
    content_words,
    encode,
    features_of,
    novelty,
)
from feedback.ranking.model import (
    BEAM_PRIOR_WEIGHT,
    DECISION_TARGETS,
    EXPLAIN_TOP,
    STACK_HALF_LIFE,
    Applied,
    Effect,
    Outcome,
    Ranker,
    RankerState,
    Score,
    choose_beams,
    engagement_target,
    maturity,
)
from feedback.ranking.topics import Topics, fit_topics
from feedback.ranking.words import word_effects

__all__ = ["BEAM_PRIOR_WEIGHT", "BEAM_SCALE", "DECISION_TARGETS", "EXPLAIN_TOP", "STACK_HALF_LIFE", "Applied", "Batch", "CandidateFeatures", "Design",
           "Effect", "Outcome", "Ranker", "RankerState", "Recent", "Score", "Topics", "choose_beams", "content_words",
           "describe", "encode", "engagement_target", "features_of", "fit_topics", "maturity", "novelty",
           "sentences", "stored_effects", "stored_sentences", "word_effects"]
