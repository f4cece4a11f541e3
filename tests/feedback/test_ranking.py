"""The ranker: cold start follows the beam score, evidence moves it, scores explain themselves."""
from __future__ import annotations

import numpy as np
import pytest

from feedback.ranking import CandidateFeatures, Outcome, Ranker, Score, choose_beams, features_of


def _f(template="cat", beam_rank=0, beam_score=-4.0, tone="funny", hour=9, words=5) -> CandidateFeatures:
    return CandidateFeatures(generator="meme", template=template, beam_rank=beam_rank, beam_score=beam_score,
                             tone=tone, audience="general", length_words=words, hashtags=1, hour=hour,
                             account="demo")


def test_features_of_reads_length_and_hashtags_from_the_text():
    f = features_of(generator="post", text="monday again #coffee #mood", account="demo", hour=33)
    assert (f.length_words, f.hashtags, f.hour, f.template) == (2, 2, 9, None)


def test_cold_start_orders_by_beam_score_without_randomness():
    beams = [_f(beam_rank=r, beam_score=-3.0 - r) for r in range(5)]
    scores = Ranker().score(beams, np.random.default_rng(0))
    assert [s.sample for s in scores] == [s.mean for s in scores]
    assert choose_beams(scores, 2) == [0, 1]
    assert scores[0].explain[0][0] == "beam_score"


def test_engagement_teaches_a_preference_over_the_beam_score():
    ranker = Ranker()
    rng = np.random.default_rng(1)
    ranker.update([Outcome(_f(template="dog"), 1.0, None) for _ in range(20)]
                  + [Outcome(_f(template="cat"), -1.0, None) for _ in range(20)])
    cat, dog = ranker.score([_f(template="cat", beam_score=-2.0), _f(template="dog", beam_score=-6.0)], rng)
    assert dog.mean > cat.mean
    assert dog.explain[0][0] == "template=dog" and dog.explain[0][1] > 0
    assert ranker.weights()["template=dog"] > 0.5


def test_review_decisions_count_with_edit_weaker_than_reject():
    approved, rejected, edited = Ranker(), Ranker(), Ranker()
    approved.update([Outcome(_f(tone="dry"), None, "approve")] * 5)
    rejected.update([Outcome(_f(tone="dry"), None, "reject")] * 5)
    edited.update([Outcome(_f(tone="dry"), None, "edit")] * 5)
    rng = np.random.default_rng(2)
    means = [r.score([_f(tone="dry")], rng)[0].mean for r in (approved, rejected, edited)]
    assert means[0] > 0 > means[2] > means[1]
    with pytest.raises(ValueError, match="unknown review decision 'like'"):
        Ranker().update([Outcome(_f(), None, "like")])


def test_thompson_samples_explore_but_are_reproducible_with_a_seed():
    ranker = Ranker()
    ranker.update([Outcome(_f(template="cat"), 0.2, None)])
    items = [_f(template="cat"), _f(template="new")]
    a = ranker.score(items, np.random.default_rng(5))
    b = ranker.score(items, np.random.default_rng(5))
    c = ranker.score(items, np.random.default_rng(6))
    assert a == b and a != c
    assert a[1].sample != a[1].mean  # an unseen template is uncertain, so the sample wanders


def test_choose_beams_prefers_sample_then_mean_then_index():
    scores = [Score(0.1, 0.5, ()), Score(0.9, 0.5, ()), Score(0.0, 0.7, ())]
    assert choose_beams(scores, 2) == [2, 1]
    assert choose_beams(scores, 0) == []
    assert choose_beams(scores, 9) == [2, 1, 0]


def test_simulated_audience_is_learned():
    from bench import ranking as bench

    got = bench.run(seed=3)
    window = slice(400, 500)
    share = sum(got["ranker"][window]) / sum(got["oracle"][window])
    assert share >= 0.85 and share > sum(got["beam_top1"][window]) / sum(got["oracle"][window])
