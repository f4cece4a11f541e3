"""Learned ranking of candidates: Bayesian linear regression with Thompson sampling.

Pure: no database, no clock; randomness comes from the ``rng`` the caller passes in. The
repository turns rows into ``CandidateFeatures``/``Outcome`` values (feedback.learning); this module
never sees SQL.

Model: y = x.w + noise over the named sparse features of feedback.ranking.features, prior
w ~ N(m0, diag(s0^2)), known noise variance. The posterior is kept as precision-form sufficient
statistics (P, b = P m), so ``update`` is exact, incremental and cheap, and the state can be
persisted and folded into later. Drift: the evidence decays by half every ``half_life`` outcomes
(the prior does not), so old preferences fade and uncertainty grows back. A second, short memory
(the same statistics forgetting by half every SHORT_HALF_LIFE outcomes) regresses the long memory's
residuals: a candidate whose short-memory prediction moved further than noise explains takes it
(``Ranker._switch``), so a preference that changed is followed within tens of outcomes while the
rest keep the long memory's precision. Both are exact and incremental: a batch folded at once
gives the same state as its outcomes one by one. Drift that never stops moves every preference a
little, below what one candidate's switch can tell from noise: how much of the short memory's
correction every candidate takes is learnt prequentially (``Ranker._stack``: each reading's residual
from the long memory, before it is folded in, regressed on the correction the short memory predicted
for it), near 0 where the correction only chases noise, towards 1 where it predicts what changed.
Those two sums are the one part of the state a batch does not fold exactly as one by one (a batch's
readings are predicted from the state before it), so a rebuild folds the recent readings in small
batches, as polling does (feedback.learning). A young post's reading
can be folded in early with a low weight and later replaced (``Outcome.replaces``) by its mature
reading: the retraction removes exactly what was added, decayed as it has been since.
The prior mean puts weight on the beam score, so before any feedback the order is the beam order.
Candidates become rows of the design matrix in feedback.ranking.design (``Design``); a batch is
folded in with one Gram product (``Batch.gram``), never row by row.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from feedback.ranking.batch import Batch
from feedback.ranking.design import Design
from feedback.ranking.features import CandidateFeatures
from feedback.ranking.robust import ROBUST_ITERATIONS, ROBUST_MIN_READINGS, huber_weights
from feedback.ranking.sparse import Rows, tri_solve
from feedback.ranking.topics import Topics

# Pseudo-targets (in units of log engagement ratio) and their weights (observation precision
# relative to an engagement reading): a decision is a noisier signal than an audience's response.
DECISION_TARGETS = {"approve": (0.5, 0.5), "reject": (-1.0, 0.5), "edit": (-0.25, 0.25)}
# The beam score is a caption's log-probability: a weak sign of engagement (bench/ranking.py: beam top-1
# barely beats random). Any positive weight orders a cold ranker by it; a large one outvoted what an
# account's imported history taught (bench/warm_start.py, all effects: 1.0 -> 0.25 gave 0.68 -> 0.75 on seeds 1-5).
BEAM_PRIOR_WEIGHT = 0.25
# A target is log((score + k) / (base + k)) with k this share of the base: a ratio whatever the account's
# size. log1p (k = 1) squashed the ratios of an account that gets a few likes a post (at a median of 3, twice
# the engagement read as +0.41 instead of +0.69), so history on such an account taught shrunken effects.
TARGET_OFFSET = 0.05
EXPLAIN_TOP = 4
# Two memories (bench/ranking.py, drift with the other effects): the long one forgets by half every
# ``half_life`` outcomes, the short one every SHORT_HALF_LIFE; a candidate takes the short memory's
# prediction where it differs from the long one's by more than SWITCH_Z sd of what noise would give.
SHORT_HALF_LIFE = 25.0
SWITCH_Z = 1.0
# That noise's variance, as a share of the short memory's evidence: a reading weighs g^age in the
# short memory and its noise g^(2 age), the evidence of a memory that forgets twice as fast (half).
NULL_SHARE = 0.5
# How much of the short memory's correction every candidate takes, learnt prequentially: before a reading
# is folded in, its residual from the long memory is regressed on what the short memory predicted of it
# (sums decaying by half every STACK_HALF_LIFE outcomes, STACK_PRIOR of pseudo-evidence for "none").
STACK_HALF_LIFE = 100.0
STACK_PRIOR = 1.0
STACK_CLIP = 1.0  # residuals clipped (Huber-like): a viral post or a heavy tail would swamp the sums
# Prior sd per feature family: many small content and interaction effects, fewer large main ones.
# A word's weight is what it adds to its topic's (the topic carries what its words share): small.
PRIOR_SD = {"bias": 1.0, "account": 1.0, "topic": 0.5, "word": 0.25, "bigram": 0.25, "template@": 0.3, "tone&": 0.3,
            "fatigue_template": 0.5, "fatigue_words": 0.5, "hash": 0.2, "weekday": 0.25, "length_at": 0.5}


@dataclass(frozen=True, slots=True)
class Applied:
    """An engagement reading as folded into the posterior (kept by the caller to replace it later)."""

    engagement: float
    weight: float
    step: float


@dataclass(frozen=True)
class Outcome:
    features: CandidateFeatures
    engagement: float | None  # robust target (engagement_target); None = not known yet
    decision: str | None  # approve | reject | edit (for the original text) | None
    weight: float = 1.0  # confidence of the engagement reading (a young post's counts less)
    replaces: Applied | None = None  # an earlier reading of the same post, to be taken out


@dataclass(frozen=True, slots=True)
class Effect:
    name: str
    contribution: float  # to the posterior mean, in log engagement ratio
    sd: float  # posterior sd of that contribution
    evidence: float  # (decayed) number of outcomes that carried the feature


@dataclass(frozen=True, slots=True)
class Score:
    mean: float
    sample: float
    explain: tuple[tuple[str, float], ...]  # top contributing features (name, contribution to mean)
    effects: tuple[Effect, ...] = ()

    def as_dict(self) -> dict:
        return {"mean": self.mean, "sample": self.sample, "explain": [list(e) for e in self.explain],
                "effects": [[e.name, e.contribution, e.sd, e.evidence] for e in self.effects]}


@dataclass(frozen=True)
class RankerState:
    """Everything a Ranker is, as plain arrays (what the repository persists)."""

    names: tuple[str, ...]
    precision: np.ndarray
    b: np.ndarray
    prior_precision: np.ndarray
    prior_mean: np.ndarray
    step: float
    observations: int
    settings: tuple[float, float, float, int]  # noise_sd, half_life (0 = none), prior_scale, max_features
    topics: Topics | None = None
    # The short memory (see Ranker): its precision and b, and its half-life (0 = none).
    short_precision: np.ndarray | None = None
    short_b: np.ndarray | None = None
    short_half_life: float = 0.0
    # The prequential stacking sums (see Ranker._stack): sum of w r g and of w g^2, decayed.
    stack: tuple[float, float] = (0.0, 0.0)


def engagement_target(score: float, base: float | None, *, clip: float = 2.5) -> float:
    """Robust target: log ratio to the account's baseline, winsorised at +-``clip`` (a viral post
    teaches "much better", not "a thousand times better"). The offset that keeps a post with no
    engagement finite is TARGET_OFFSET of the base (1 when the base is 0), so the ratio does not
    depend on the account's size."""
    if base is None:
        return 0.0
    k = TARGET_OFFSET * base if base > 0 else 1.0
    return max(-clip, min(clip, math.log(max(score, 0.0) + k) - math.log(base + k)))


def maturity(age_s: float, full_age_s: float, *, rate: float = 3.0) -> float:
    """Expected share of its engagement at ``full_age_s`` that a post has reached at ``age_s``."""
    if full_age_s <= 0 or age_s >= full_age_s:
        return 1.0
    return max(1e-3, (1 - math.exp(-rate * max(age_s, 0.0) / full_age_s)) / (1 - math.exp(-rate)))


def prior_of(name: str, scale: float = 1.0) -> tuple[float, float]:
    """(prior mean, prior sd) of a feature's weight."""
    if name == "beam_score":
        return BEAM_PRIOR_WEIGHT, 0.5 * scale
    if name in PRIOR_SD:
        return 0.0, PRIOR_SD[name] * scale
    head = name.split("=", 1)[0]
    if head.startswith("bigram#"):
        return 0.0, PRIOR_SD["bigram"] * scale
    if head.startswith("hash:"):
        return 0.0, PRIOR_SD["hash"] * scale
    if "@" in name:
        return 0.0, PRIOR_SD["template@"] * scale
    if "&" in name:
        return 0.0, PRIOR_SD["tone&"] * scale
    return 0.0, PRIOR_SD.get(head, 0.5) * scale


class Ranker:
    """Posterior over feature weights; grows its feature index as new features appear.

    A feature the posterior has not met yet enters at its prior (independent of the rest), so
    scoring may grow the index without changing what the ranker believes."""

    def __init__(self, *, noise_sd: float = 0.6, half_life: float | None = 200.0, prior_scale: float = 1.0,
                 max_features: int = 600, explore: float = 0.2, topics: Topics | None = None,
                 version: str = "blr-2", short_half_life: float | None = SHORT_HALF_LIFE,
                 switch_z: float = SWITCH_Z, stack_half_life: float | None = STACK_HALF_LIFE) -> None:
        self._gap_cache: tuple[np.ndarray, np.ndarray] | None = None
        self.noise_sd, self.half_life, self.prior_scale = noise_sd, half_life, prior_scale
        # A second posterior over the same features that forgets faster; where it disagrees with
        # the long one beyond what their uncertainties allow, its mean is trusted (``score``).
        self.short_half_life, self.switch_z = (short_half_life if half_life else None), switch_z
        self.stack_half_life = stack_half_life if self.short_half_life else None
        self._stack_sums = (0.0, 0.0)
        self.explore = explore  # scale of the Thompson draw around the mean (1 = the posterior itself;
        # less explores less: measured better at posts 401-500 of bench/ranking.py)
        self.topics = topics  # fixed for the life of the state: it defines what the topic features mean
        self.max_features, self.version = max_features, version
        self.design = Design(topics, max_features)  # feature names -> columns, candidates -> rows
        self._precision = np.zeros((0, 0))
        self._b = np.zeros(0)
        self._short_precision = np.zeros((0, 0))
        self._short_b = np.zeros(0)
        self._p0 = np.zeros(0)  # prior precision per feature
        self._m0 = np.zeros(0)  # prior mean per feature
        self.step = 0.0  # outcomes folded in so far (the clock of forgetting)
        self.observations = 0
        self._cache: tuple[np.ndarray, np.ndarray] | None = None  # (posterior mean, cholesky of P)

    @property
    def names(self) -> list[str]:
        return self.design.names

    @property
    def index(self) -> dict[str, int]:
        return self.design.index

    # -- persistence ----------------------------------------------------------------------------
    def state(self) -> RankerState:
        return RankerState(tuple(self.names), self._precision.copy(), self._b.copy(), self._p0.copy(),
                           self._m0.copy(), self.step, self.observations,
                           (self.noise_sd, self.half_life or 0.0, self.prior_scale, self.max_features),
                           self.topics, self._short_precision.copy() if self.short_half_life else None,
                           self._short_b.copy() if self.short_half_life else None, self.short_half_life or 0.0,
                           self._stack_sums)

    @classmethod
    def from_state(cls, st: RankerState, *, version: str = "blr-2") -> Ranker:
        noise_sd, half_life, prior_scale, max_features = st.settings
        short = st.short_half_life if st.short_precision is not None and st.short_b is not None else 0.0
        r = cls(noise_sd=float(noise_sd), half_life=float(half_life) or None, prior_scale=float(prior_scale),
                max_features=int(max_features), topics=st.topics, version=version, short_half_life=float(short) or None)
        r.design = Design(st.topics, int(max_features), st.names)
        r._precision, r._b = np.array(st.precision, dtype=float), np.array(st.b, dtype=float)
        if r.short_half_life:
            r._short_precision = np.array(st.short_precision, dtype=float)
            r._short_b = np.array(st.short_b, dtype=float)
        r._p0, r._m0 = np.array(st.prior_precision, dtype=float), np.array(st.prior_mean, dtype=float)
        r.step, r.observations = float(st.step), int(st.observations)
        r._stack_sums = (float(st.stack[0]), float(st.stack[1])) if r.stack_half_life else (0.0, 0.0)
        return r

    def encode(self, f: CandidateFeatures) -> dict[str, float]:
        """The reference encoding of a candidate as this ranker sees it (features.encode + topics)."""
        return self.design.reference(f)

    def rows(self, feats: Sequence[CandidateFeatures]) -> Rows:
        """The design matrix of ``feats`` (growing the index as needed; pinned by tests to ``encode``
        and to a row-by-row walk)."""
        return self._encode(feats).matrix()

    def _resize(self) -> None:
        old, size = len(self._b), len(self.names)
        if size == old:
            return
        priors = [prior_of(n, self.prior_scale) for n in self.names[old:]]
        m0 = np.array([m for m, _ in priors])
        p0 = np.array([1.0 / sd ** 2 for _, sd in priors])
        precision = np.zeros((size, size))
        precision[:old, :old] = self._precision
        precision[range(old, size), range(old, size)] = p0
        if self.short_half_life:
            short = np.zeros((size, size))
            short[:old, :old] = self._short_precision
            short[range(old, size), range(old, size)] = p0
            self._short_precision = short
            self._short_b = np.concatenate([self._short_b, p0 * m0])
        if self._cache is not None:  # a new feature is independent of the rest: extend, don't refactor
            mean, chol = self._cache
            grown = np.zeros((size, size))
            grown[:old, :old] = chol
            grown[range(old, size), range(old, size)] = np.sqrt(p0)
            self._cache = (np.concatenate([mean, m0]), grown)
        if self._gap_cache is not None:  # ... and both memories hold it at its prior: no gap
            gap_w, short_chol = self._gap_cache
            grown = np.zeros((size, size))
            grown[:old, :old] = short_chol
            grown[range(old, size), range(old, size)] = np.sqrt(p0)
            self._gap_cache = (np.concatenate([gap_w, np.zeros(size - old)]), grown)
        self._precision = precision
        self._b = np.concatenate([self._b, p0 * m0])
        self._p0, self._m0 = np.concatenate([self._p0, p0]), np.concatenate([self._m0, m0])

    # -- learning -------------------------------------------------------------------------------
    def update(self, outcomes: Iterable[Outcome], *, robust: bool = False) -> list[Applied | None]:
        """Fold outcomes in, oldest first; returns, per outcome, how its engagement was applied.

        ``robust``: the batch's engagement readings are weighted down where they sit far off the fit
        (Huber, feedback.ranking.robust), for a batch whose noise is heavy-tailed (an account's imported
        history: lifetime readings with their viral posts). Their Applied weight is the one folded in."""
        outcomes = list(outcomes)
        scale = self._robust_scale(outcomes) if robust else None
        feats, targets, weights, retract, readings = [], [], [], [], []
        applied: list[Applied | None] = []
        for k, o in enumerate(outcomes):
            if o.replaces is not None:
                retract.append((o.features, o.replaces))
            if o.engagement is not None and math.isfinite(o.engagement) and o.weight > 0:
                weight = float(o.weight) * (1.0 if scale is None else float(scale[k]))
                feats.append(o.features)
                targets.append(float(o.engagement))
                weights.append(weight)
                readings.append(o.replaces is None)  # a later reading of a post: its first one already told
                applied.append(Applied(float(o.engagement), weight, self.step + len(feats)))
            else:
                applied.append(None)
            if o.decision is not None:
                if o.decision not in DECISION_TARGETS:
                    raise ValueError(f"unknown review decision {o.decision!r} "
                                     f"(use one of: {', '.join(DECISION_TARGETS)})")
                target, weight = DECISION_TARGETS[o.decision]
                feats.append(o.features)
                targets.append(target)
                weights.append(weight)
                readings.append(False)
        if feats or retract:
            self._fold(feats, targets, weights, retract, readings)
        return applied

    def _robust_scale(self, outcomes: list[Outcome]) -> np.ndarray:
        """Per outcome, the factor robust.huber_weights gives its engagement reading (1 for the rest):
        a few reweighted fits of the batch, each from the state before it (which is left as it was)."""
        rows = [k for k, o in enumerate(outcomes)
                if o.engagement is not None and math.isfinite(o.engagement) and o.weight > 0]
        scale = np.ones(len(outcomes))
        if len(rows) < ROBUST_MIN_READINGS:  # too few to tell an outlier from the spread
            return scale
        feats = [outcomes[k].features for k in rows]
        y = np.array([float(outcomes[k].engagement) for k in rows])  # type: ignore[arg-type]
        base = np.array([float(outcomes[k].weight) for k in rows])
        X = self._encode(feats).matrix()
        saved = self._snapshot()
        h = np.ones(len(rows))
        for _ in range(ROBUST_ITERATIONS):
            self._fold(feats, y.tolist(), (base * h).tolist(), [], [True] * len(feats))
            h = huber_weights(y - X @ self._posterior()[0])
            self._restore(saved)
        scale[rows] = h
        return scale

    def _snapshot(self) -> tuple:
        return (self._precision.copy(), self._b.copy(), self._short_precision.copy(), self._short_b.copy(),
                self.step, self.observations, self._stack_sums)

    def _restore(self, saved: tuple) -> None:
        # copies: the next fold works on the arrays in place, and the snapshot serves again
        precision, b, short_precision, short_b, self.step, self.observations, self._stack_sums = saved
        self._precision, self._b = precision.copy(), b.copy()
        self._short_precision, self._short_b = short_precision.copy(), short_b.copy()
        self._cache = self._gap_cache = None

    def _fold(self, feats: list[CandidateFeatures], targets: list[float], weights: list[float],
              retract: list[tuple[CandidateFeatures, Applied]], readings: list[bool]) -> None:
        n = len(feats)
        gamma = 0.5 ** (1.0 / self.half_life) if self.half_life else 1.0
        batch = self._encode(feats + [f for f, _ in retract])
        if self.stack_half_life and n:
            self._stack(batch, np.array(targets), np.array(weights) * np.array(readings, dtype=float))
        if gamma < 1.0 and n:
            decay = gamma ** n  # the evidence fades, the prior stays
            self._precision *= decay
            self._precision[np.diag_indices_from(self._precision)] += (1 - decay) * self._p0
            self._b = decay * self._b + (1 - decay) * self._p0 * self._m0
        end = self.step + n
        y = np.array(targets + [a.engagement for _, a in retract])
        s = np.concatenate([np.array(weights) * gamma ** (n - 1 - np.arange(n)),
                            [-a.weight * gamma ** (end - a.step) for _, a in retract]]) / self.noise_sd ** 2
        cols, gram = batch.gram(s)
        self._precision[np.ix_(cols, cols)] += gram
        self._b += batch.project(s * y)
        if self.short_half_life:
            g = 0.5 ** (1.0 / self.short_half_life)
            if n:
                decay = g ** n
                self._short_precision *= decay
                self._short_precision[np.diag_indices_from(self._short_precision)] += (1 - decay) * self._p0
                self._short_b = decay * self._short_b + (1 - decay) * self._p0 * self._m0
            s = np.concatenate([np.array(weights) * g ** (n - 1 - np.arange(n)),
                                [-a.weight * g ** (end - a.step) for _, a in retract]]) / self.noise_sd ** 2
            # readings faded below 1e-16 of a new one are what one at a time would have folded in and
            # decayed to nothing: a rebuild from history leaves them out of the short memory
            start = max(0, n - int(math.log(1e-16) / math.log(g)))
            recent = batch.tail(start)
            cols, gram = recent.gram(s[start:])
            self._short_precision[np.ix_(cols, cols)] += gram
            self._short_b += recent.project(s[start:] * y[start:])
        self.step = end
        self.observations += n
        self._cache = self._gap_cache = None

    def _stack(self, batch: Batch, y: np.ndarray, w: np.ndarray) -> None:
        """Fold the batch's readings into the stacking sums, each predicted from the state before the
        batch: its residual from the long memory r and the short memory's correction g of it."""
        n = len(y)
        h = 0.5 ** (1.0 / self.stack_half_life) if self.stack_half_life else 1.0
        a, b = (v * h ** n for v in self._stack_sums)
        if self.observations and len(self._b):
            mean, _ = self._posterior()
            gap_w, _ = self._gap()
            r, g = np.clip(y - batch.dot(mean)[:n], -STACK_CLIP, STACK_CLIP), batch.dot(gap_w)[:n]
            age = w * h ** (n - 1 - np.arange(n))
            a, b = a + float((age * r * g).sum()), b + float((age * g * g).sum())
        self._stack_sums = (a, b)

    def _trust(self) -> float:
        """The share of the short memory's correction every candidate takes (0..1)."""
        a, b = self._stack_sums
        return min(1.0, max(0.0, a / (b + STACK_PRIOR)))

    # -- posterior ------------------------------------------------------------------------------
    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        """(Long-memory posterior mean, Cholesky factor of its precision)."""
        if self._cache is None:
            chol, mean = _solve(self._precision, self._b)
            self._cache = (mean, chol)
        return self._cache

    def _gap(self) -> tuple[np.ndarray, np.ndarray]:
        """(What the short memory makes of the long memory's residuals, as weights: its posterior
        mean were the long mean its prior mean; Cholesky factor of the short memory's precision)."""
        if self._gap_cache is None:
            mean, _ = self._posterior()
            short_chol, short_mean = _solve(self._short_precision, self._short_b)
            toward = tri_solve(short_chol.T, tri_solve(short_chol, self._p0 * (mean - self._m0), lower=True),
                               lower=False)
            self._gap_cache = (short_mean - mean + toward, short_chol)
        return self._gap_cache

    def _switch(self, X: Rows) -> tuple[np.ndarray, np.ndarray]:
        """Per row of X: how far it takes the short memory's prediction (0..1), and the weights gap.

        The gap is the short memory's regression of the long memory's residuals: were nothing to
        change, x.gap would be noise of variance about NULL_SHARE x'S (P - P0) S x (S, P: the short
        memory's posterior covariance and precision, P0 the prior precision). A row whose gap is
        more than ``switch_z`` sd of that takes the short memory's prediction, fully from one sd
        further."""
        gap_w, short_chol = self._gap()
        gap = X @ gap_w
        dense = X.toarray().T
        v = tri_solve(short_chol.T, tri_solve(short_chol, dense, lower=True), lower=False)  # S x
        var = NULL_SHARE * ((dense * v).sum(axis=0) - (self._p0[:, None] * v ** 2).sum(axis=0))
        return np.clip(np.abs(gap) / np.sqrt(np.maximum(var, 1e-12)) - self.switch_z, 0.0, 1.0), gap_w

    def weights(self) -> dict[str, float]:
        mean, _ = self._posterior()
        return {name: float(mean[i]) for name, i in self.index.items()}

    def weight_sd(self, names: Iterable[str]) -> dict[str, float]:
        """Posterior sd of the named weights (unknown names: the prior sd)."""
        names = list(dict.fromkeys(names))
        known = [n for n in names if n in self.index and self.index[n] < len(self._b)]
        out = {n: prior_of(n, self.prior_scale)[1] for n in names if n not in known}
        sds = self._sd(np.array([self.index[n] for n in known], dtype=np.int64))
        out.update(zip(known, sds.tolist()))
        return out

    def _sd(self, cols: np.ndarray) -> np.ndarray:
        """Posterior sd of the weights of columns ``cols`` (distinct, all in the posterior)."""
        if not len(cols):
            return np.zeros(0)
        _, chol = self._posterior()
        unit = np.zeros((len(self._b), len(cols)))
        unit[cols, np.arange(len(cols))] = 1.0
        half = tri_solve(chol, unit, lower=True)  # Sigma = L^-T L^-1
        return np.sqrt((half ** 2).sum(axis=0))

    def evidence(self, name: str) -> float:
        """How many outcomes (decayed, weighted) carried this feature."""
        i = self.index.get(name)
        if i is None or i >= len(self._b):
            return 0.0
        return max(0.0, float(self._precision[i, i] - self._p0[i]) * self.noise_sd ** 2)

    # -- scoring --------------------------------------------------------------------------------
    def score(self, items: Sequence[CandidateFeatures], rng: np.random.Generator) -> list[Score]:
        """Posterior mean, one Thompson sample (one weights draw for the batch) and the top effects.

        Before any feedback the sample equals the mean, so a cold ranker orders by beam score."""
        X = self._encode(items).matrix()
        mean_w, chol = self._posterior()
        means = X @ mean_w
        samples = means
        alpha, gap_w = np.zeros(len(items)), np.zeros(len(mean_w))
        if self.short_half_life and self.observations and len(mean_w):
            alpha, gap_w = self._switch(X)
            if self.stack_half_life:
                alpha = np.maximum(alpha, self._trust())
            means = means + alpha * (X @ gap_w)
            samples = means
        if self.observations and len(mean_w):
            draw = mean_w + self.explore * tri_solve(chol.T, rng.standard_normal(len(mean_w)), lower=False)
            samples = X @ draw + (means - X @ mean_w)
        at, cols, vals = self._top_effects(X, mean_w, alpha, gap_w)
        sd = np.zeros(len(cols))
        if self.observations and len(cols):
            distinct = np.unique(cols)
            sd = self._sd(distinct)[np.searchsorted(distinct, cols)]
        evidence = np.maximum(0.0, (np.diag(self._precision) - self._p0)[cols] * self.noise_sd ** 2) + 0.0
        names = [self.names[c] for c in cols.tolist()]
        contribution = [round(v, 4) for v in vals.tolist()]
        effects = list(map(Effect, names, contribution, [round(v, 4) for v in (np.abs(X.data[at]) * sd).tolist()],
                           [round(v, 1) for v in evidence.tolist()]))
        explain = list(zip(names, contribution))
        ends = np.cumsum(np.bincount(X.row_ids()[at], minlength=len(items))).tolist()
        return [Score(mean=m, sample=s, explain=tuple(explain[lo:hi]), effects=tuple(effects[lo:hi]))
                for m, s, lo, hi in zip(means.tolist(), samples.tolist(), [0, *ends], ends)]

    def _top_effects(self, X: Rows, mean_w: np.ndarray, alpha: np.ndarray,
                     gap_w: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per row, its EXPLAIN_TOP largest contributions to the mean (bias and zeros left out; ties
        in column order), row by row: their positions in X.data, columns and contributions (a row
        that takes the short memory's mean by ``alpha`` weighs by mean_w + alpha * gap_w)."""
        rows = X.row_ids()
        vals = X.data * (mean_w[X.indices] + alpha[rows] * gap_w[X.indices])
        keep = np.flatnonzero((X.indices != self.index.get("bias", -1)) & (vals != 0.0))
        order = keep[np.lexsort((-np.abs(vals[keep]), rows[keep]))]  # stable: ties stay in column order
        ranked, place = rows[order], np.arange(len(order))
        run_start = np.maximum.accumulate(np.where(np.concatenate([[True], ranked[1:] != ranked[:-1]])[:len(order)],
                                                   place, 0))
        top = order[place - run_start < EXPLAIN_TOP]  # the first EXPLAIN_TOP of each row's run
        return top, X.indices[top], vals[top]

    def _encode(self, feats: Sequence[CandidateFeatures]) -> Batch:
        batch = self.design.encode(feats)
        self._resize()
        return batch


def _solve(precision: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(Cholesky factor L of ``precision``, its mean ``precision^-1 b``)."""
    if not len(b):
        return np.zeros((0, 0)), np.zeros(0)
    chol = np.linalg.cholesky(precision)
    return chol, tri_solve(chol.T, tri_solve(chol, b, lower=True), lower=False)


def choose_beams(scores: Sequence[Score], k_forward: int) -> list[int]:
    """Indices (into ``scores``) of the beams of one image to put forward: best Thompson sample first."""
    if k_forward <= 0:
        return []
    order = sorted(range(len(scores)), key=lambda i: (-scores[i].sample, -scores[i].mean, i))
    return order[:k_forward]

