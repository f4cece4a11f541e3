"""Robust weights for heavy-tailed engagement: Huber's, from a fit's residuals.

An account's history holds viral posts (and flops) far beyond what its captions, hours and
templates explain; under squared loss each pulls the effects of its words and template as hard as
its distance, so a handful teach most of what a history says. Huber's weights leave a reading
within ``k`` robust sd of the fit as it is and make one further out count as if it sat ``k`` sd
away (its pull bounded, its sign kept). The scale is the residuals' median absolute deviation, so
nothing depends on the account's size or on the ranker's nominal noise.
"""
from __future__ import annotations

import numpy as np

# Huber's tuning constant: 95% of least squares' efficiency when the noise is normal.
HUBER_K = 1.345
ROBUST_ITERATIONS = 3  # reweighted fits (the weights settle in two or three)
ROBUST_MIN_READINGS = 20  # fewer readings: no robust scale worth the name, the weights stay 1
MAD_TO_SD = 1.4826  # the MAD of normal noise times this is its sd


def huber_weights(residuals: np.ndarray, k: float = HUBER_K) -> np.ndarray:
    """Per residual, min(1, k s / |r|) with s the residuals' robust sd (MAD); all 1 when s is 0."""
    r = np.asarray(residuals, dtype=float)
    if not len(r):
        return np.ones(0)
    s = MAD_TO_SD * float(np.median(np.abs(r - np.median(r))))
    if s <= 0.0:
        return np.ones(len(r))
    far = np.abs(r) > k * s
    out = np.ones(len(r))
    out[far] = k * s / np.abs(r[far])
    return out
