"""Robust fitting of a heavy-tailed batch (feedback/ranking/robust.py, Ranker.update(robust=True))."""
from __future__ import annotations

import numpy as np
import pytest

from feedback.ranking import CandidateFeatures, Outcome, Ranker
from feedback.ranking.robust import HUBER_K, ROBUST_MIN_READINGS, huber_weights


def _f(template: str) -> CandidateFeatures:
    return CandidateFeatures(generator="imported", template=template, beam_rank=None, beam_score=None, tone=None,
                             audience=None, length_words=6, hashtags=0, hour=9, account="a")


def _history(viral: float, n: int = 60, seed: int = 3) -> list[Outcome]:
    """Two templates, "good" 0.5 above "plain", normal noise; one "plain" post went viral."""
    rng = np.random.default_rng(seed)
    out = [Outcome(_f(t), (0.5 if t == "good" else 0.0) + float(rng.normal(0, 0.3)), None)
           for t in ("good", "plain") * (n // 2)]
    out[1] = Outcome(out[1].features, viral, None)
    return out


def _gap(r: Ranker) -> float:
    w = r.weights()
    return w["template=good"] - w["template=plain"] + w["template=good@hour=09h"] - w["template=plain@hour=09h"]


def test_huber_weights_bound_an_outliers_pull_and_leave_the_rest():
    r = np.array([0.1, -0.2, 0.05, 0.3, -0.1, 8.0])
    w = huber_weights(r)
    assert np.all(w[:5] == 1.0) and 0 < w[5] < 0.1
    s = 1.4826 * np.median(np.abs(r - np.median(r)))
    assert w[5] * 8.0 == pytest.approx(HUBER_K * s)  # counts as if it sat k robust sd away, sign kept
    assert np.all(huber_weights(np.zeros(4)) == 1.0) and len(huber_weights(np.zeros(0))) == 0


def test_a_viral_post_does_not_teach_its_template_under_a_robust_fit():
    """A viral "plain" post at the target's clip (+2.5): squared loss lets it wipe out most of what 40
    posts say of "good" over "plain"; Huber's weights keep the gap near the one without it."""
    plain, robust, truth = Ranker(), Ranker(), Ranker()
    plain.update(_history(viral=2.5, n=40))
    applied = robust.update(_history(viral=2.5, n=40), robust=True)
    truth.update(_history(viral=0.0, n=40))
    assert _gap(truth) - _gap(plain) > 0.1 and abs(_gap(robust) - _gap(truth)) < 0.03
    weights = [a.weight for a in applied if a is not None]
    assert weights[1] < 0.25 and weights[1] == min(weights)  # the viral post, and it alone, far down
    assert sum(w == 1.0 for w in weights) >= 0.7 * len(weights)  # the bulk as least squares has it
    assert robust.observations == plain.observations == 40


def test_robust_is_the_plain_fit_with_its_weights_and_leaves_small_batches_alone():
    history = _history(viral=6.0)
    robust = Ranker()
    applied = robust.update(history, robust=True)
    again = Ranker()
    again.update([Outcome(o.features, o.engagement, None, weight=a.weight) for o, a in zip(history, applied) if a])
    assert np.allclose(again.state().precision, robust.state().precision)
    assert np.allclose(again.state().b, robust.state().b)
    few = _history(viral=6.0, n=ROBUST_MIN_READINGS - 2)
    small, plain = Ranker(), Ranker()
    assert [a.weight for a in small.update(few, robust=True) if a] == [1.0] * len(few)
    plain.update(few)
    assert np.array_equal(small.state().b, plain.state().b)
