"""Learned ranking of candidates: Bayesian linear regression with Thompson sampling.

Pure: no database, no clock; randomness comes from the ``rng`` the caller passes in. The
repository turns rows into ``CandidateFeatures``/``Outcome`` values (feedback.learning); this module
never sees SQL.

Model: target y = engagement normalised by the account's baseline (log ratio), or a pseudo-target
for a reviewer decision. y = x.w + noise, prior w ~ N(m0, tau^2 I), known noise variance; the
posterior stays Gaussian (precision-form sufficient statistics), so ``update`` is exact and cheap.
The prior mean puts weight on the beam score, so before any feedback the order is the beam order
(cold start); evidence moves it from there.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

# Pseudo-targets (in units of log engagement ratio) and their weights (observation precision
# relative to an engagement reading): a decision is a noisier signal than an audience's response.
DECISION_TARGETS = {"approve": (0.5, 0.5), "reject": (-1.0, 0.5), "edit": (-0.25, 0.25)}
BEAM_SCALE = 5.0  # beam scores are summed log-probs; this keeps their feature near unit size
BEAM_PRIOR_WEIGHT = 1.0
EXPLAIN_TOP = 4


@dataclass(frozen=True)
class CandidateFeatures:
    generator: str
    template: str | None
    beam_rank: int | None
    beam_score: float | None
    tone: str | None
    audience: str | None
    length_words: int
    hashtags: int
    hour: int
    account: str


@dataclass(frozen=True)
class Outcome:
    features: CandidateFeatures
    engagement: float | None  # normalised: log(engagement / account baseline); None = not known yet
    decision: str | None  # approve | reject | edit (for the original text) | None


@dataclass(frozen=True)
class Score:
    mean: float
    sample: float
    explain: tuple[tuple[str, float], ...]  # top contributing features (name, contribution to mean)

    def as_dict(self) -> dict:
        return {"mean": self.mean, "sample": self.sample, "explain": [list(e) for e in self.explain]}


def features_of(*, generator: str, text: str, account: str, hour: int, template: str | None = None,
                beam_rank: int | None = None, beam_score: float | None = None, tone: str | None = None,
                audience: str | None = None) -> CandidateFeatures:
    """Features of a caption as it would be posted (length and hashtags are read from the text).

    ``hour`` is the planned posting hour (UTC), e.g. of the account's next slot."""
    words = text.split()
    hashtags = sum(1 for w in words if w.startswith("#") and len(w) > 1)
    return CandidateFeatures(generator=generator, template=template, beam_rank=beam_rank,
                             beam_score=beam_score, tone=tone, audience=audience,
                             length_words=len(words) - hashtags, hashtags=hashtags, hour=hour % 24,
                             account=account)


def encode(f: CandidateFeatures) -> dict[str, float]:
    """Sparse feature vector: one-hot categories plus a few scaled numbers."""
    x = {
        "bias": 1.0,
        f"generator={f.generator}": 1.0,
        f"template={f.template or '-'}": 1.0,
        f"tone={f.tone or '-'}": 1.0,
        f"audience={f.audience or '-'}": 1.0,
        f"account={f.account}": 1.0,
        f"hour={f.hour // 3 * 3:02d}h": 1.0,  # 3-hour bands: enough resolution, far fewer weights
        f"length={_length_band(f.length_words)}": 1.0,
        f"hashtags={min(f.hashtags, 4)}": 1.0,
    }
    if f.beam_rank is not None:
        x[f"beam_rank={min(f.beam_rank, 4)}"] = 1.0
    if f.beam_score is not None and math.isfinite(f.beam_score):
        x["beam_score"] = max(-3.0, min(3.0, f.beam_score / BEAM_SCALE + 1.0))
    return x


def _length_band(words: int) -> str:
    for top, name in ((4, "short"), (9, "medium"), (15, "long")):
        if words <= top:
            return name
    return "very_long"


class Ranker:
    """Posterior over feature weights; grows its feature index as new categories appear."""

    def __init__(self, *, prior_sd: float = 1.0, noise_sd: float = 0.5, version: str = "blr-1") -> None:
        self.prior_sd = prior_sd
        self.noise_sd = noise_sd
        self.version = version
        self.index: dict[str, int] = {}
        self._precision = np.zeros((0, 0))
        self._b = np.zeros(0)  # precision @ posterior mean
        self.observations = 0
        self._cache: tuple[np.ndarray, np.ndarray] | None = None

    # -- learning -------------------------------------------------------------------------------
    def update(self, outcomes: Iterable[Outcome]) -> None:
        """Fold outcomes into the posterior (an engagement and a decision on one outcome both count)."""
        rows: list[tuple[dict[str, float], float, float]] = []
        for o in outcomes:
            x = encode(o.features)
            if o.engagement is not None and math.isfinite(o.engagement):
                rows.append((x, float(o.engagement), 1.0))
            if o.decision is not None:
                if o.decision not in DECISION_TARGETS:
                    raise ValueError(f"unknown review decision {o.decision!r} "
                                     f"(use one of: {', '.join(DECISION_TARGETS)})")
                target, weight = DECISION_TARGETS[o.decision]
                rows.append((x, target, weight))
        if not rows:
            return
        for x, _, _ in rows:
            self._grow(x)
        X = np.zeros((len(rows), len(self.index)))
        y = np.zeros(len(rows))
        wts = np.zeros(len(rows))
        for r, (x, target, weight) in enumerate(rows):
            for name, value in x.items():
                X[r, self.index[name]] = value
            y[r], wts[r] = target, weight
        scale = wts / self.noise_sd ** 2
        self._precision += (X * scale[:, None]).T @ X
        self._b += X.T @ (scale * y)
        self.observations += len(rows)
        self._cache = None

    def _grow(self, x: dict[str, float]) -> None:
        new = [name for name in x if name not in self.index]
        if not new:
            return
        old = len(self.index)
        for name in new:
            self.index[name] = len(self.index)
        size = len(self.index)
        precision = np.zeros((size, size))
        precision[:old, :old] = self._precision
        b = np.zeros(size)
        b[:old] = self._b
        prior_precision = 1.0 / self.prior_sd ** 2
        for name in new:
            i = self.index[name]
            precision[i, i] = prior_precision
            b[i] = prior_precision * self._prior_mean(name)
        self._precision, self._b, self._cache = precision, b, None

    @staticmethod
    def _prior_mean(name: str) -> float:
        return BEAM_PRIOR_WEIGHT if name == "beam_score" else 0.0

    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        if self._cache is None:
            if not self.index:
                self._cache = (np.zeros(0), np.zeros((0, 0)))
            else:
                cov = np.linalg.inv(self._precision)
                cov = (cov + cov.T) / 2
                self._cache = (cov @ self._b, cov)
        return self._cache

    def weights(self) -> dict[str, float]:
        mean, _ = self._posterior()
        return {name: float(mean[i]) for name, i in self.index.items()}

    # -- scoring --------------------------------------------------------------------------------
    def score(self, items: Sequence[CandidateFeatures], rng: np.random.Generator) -> list[Score]:
        """Posterior mean, one Thompson sample (shared weights draw for the batch) and an explanation.

        Before any feedback the sample equals the mean, so a cold ranker orders by beam score."""
        mean_w, cov = self._posterior()
        draw = None
        if self.observations and len(mean_w):
            draw = rng.multivariate_normal(mean_w, cov, method="cholesky")
        scores = []
        for item in items:
            x = encode(item)
            contributions = {}
            for name, value in x.items():
                i = self.index.get(name)
                w = mean_w[i] if i is not None else self._prior_mean(name)
                contributions[name] = value * float(w)
            mean = sum(contributions.values())
            if draw is None:
                sample = mean
            else:
                sample = sum(value * float(draw[self.index[n]]) if n in self.index
                             else value * self._prior_mean(n) for n, value in x.items())
            top = sorted(((n, c) for n, c in contributions.items() if n != "bias" and c != 0.0),
                         key=lambda nc: -abs(nc[1]))[:EXPLAIN_TOP]
            scores.append(Score(mean=float(mean), sample=float(sample),
                                explain=tuple((n, round(c, 4)) for n, c in top)))
        return scores


def choose_beams(scores: Sequence[Score], k_forward: int) -> list[int]:
    """Indices (into ``scores``) of the beams of one image to put forward: best Thompson sample first."""
    if k_forward <= 0:
        return []
    order = sorted(range(len(scores)), key=lambda i: (-scores[i].sample, -scores[i].mean, i))
    return order[:k_forward]


def order_by_sample(scores: Sequence[Score]) -> list[int]:
    """Review-queue order for a batch: all indices, best sample first."""
    return choose_beams(scores, len(scores))
