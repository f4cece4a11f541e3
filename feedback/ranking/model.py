"""Learned ranking of candidates: Bayesian linear regression with Thompson sampling.

Pure: no database, no clock; randomness comes from the ``rng`` the caller passes in. The
repository turns rows into ``CandidateFeatures``/``Outcome`` values (feedback.learning); this module
never sees SQL.

Model: y = x.w + noise over the named sparse features of feedback.ranking.features, prior
w ~ N(m0, diag(s0^2)), known noise variance. The posterior is kept as precision-form sufficient
statistics (P, b = P m), so ``update`` is exact, incremental and cheap, and the state can be
persisted and folded into later. Drift: the evidence decays by half every ``half_life`` outcomes
(the prior does not), so old preferences fade and uncertainty grows back. A young post's reading
can be folded in early with a low weight and later replaced (``Outcome.replaces``) by its mature
reading: the retraction removes exactly what was added, decayed as it has been since.
The prior mean puts weight on the beam score, so before any feedback the order is the beam order.
"""
from __future__ import annotations

import math
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.linalg import cho_solve, solve_triangular
from scipy.sparse import coo_matrix, csr_matrix

from feedback.ranking.features import (
    BIGRAM_BUCKETS,
    BIGRAM_VALUE,
    CandidateFeatures,
    bigram_name,
    encode,
    numeric,
    structured,
    structured_key,
)
from feedback.ranking.topics import Topics

# Pseudo-targets (in units of log engagement ratio) and their weights (observation precision
# relative to an engagement reading): a decision is a noisier signal than an audience's response.
DECISION_TARGETS = {"approve": (0.5, 0.5), "reject": (-1.0, 0.5), "edit": (-0.25, 0.25)}
BEAM_PRIOR_WEIGHT = 1.0
EXPLAIN_TOP = 4
HASH_BUCKETS = 64  # features past max_features share these (named hash:<n>)
# Prior sd per feature family: many small content and interaction effects, fewer large main ones.
# A word's weight is what it adds to its topic's (the topic carries what its words share): small.
PRIOR_SD = {"bias": 1.0, "account": 1.0, "topic": 0.5, "word": 0.25, "bigram": 0.25, "template@": 0.3, "tone&": 0.3,
            "fatigue_template": 0.5, "fatigue_words": 0.5, "hash": 0.2}


@dataclass(frozen=True)
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


@dataclass(frozen=True)
class Effect:
    name: str
    contribution: float  # to the posterior mean, in log engagement ratio
    sd: float  # posterior sd of that contribution
    evidence: float  # (decayed) number of outcomes that carried the feature


@dataclass(frozen=True)
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


def engagement_target(score: float, base: float | None, *, clip: float = 2.5) -> float:
    """Robust target: log ratio to the account's baseline, winsorised at +-``clip`` (a viral post
    teaches "much better", not "a thousand times better")."""
    if base is None:
        return 0.0
    return max(-clip, min(clip, math.log1p(score) - math.log1p(base)))


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
                 version: str = "blr-2") -> None:
        self.noise_sd, self.half_life, self.prior_scale = noise_sd, half_life, prior_scale
        self.explore = explore  # scale of the Thompson draw around the mean (1 = the posterior itself;
        # less explores less: measured better at posts 401-500 of bench/ranking.py)
        self.topics = topics  # fixed for the life of the state: it defines what the topic features mean
        self._topic_of = topics.lookup() if topics is not None else {}
        self.max_features, self.version = max_features, version
        self.names: list[str] = []
        self.index: dict[str, int] = {}
        self._precision = np.zeros((0, 0))
        self._b = np.zeros(0)
        self._p0 = np.zeros(0)  # prior precision per feature
        self._m0 = np.zeros(0)  # prior mean per feature
        self.step = 0.0  # outcomes folded in so far (the clock of forgetting)
        self.observations = 0
        self._cache: tuple[np.ndarray, np.ndarray] | None = None  # (posterior mean, cholesky of P)
        self._key_cols: tuple[dict[tuple, list[int]], ...] = ({}, {}, {})
        self._word_cols: dict[str, int] = {}
        self._pair_cols: dict[tuple[str, str], int] = {}
        self._topic_cols: dict[str, int] = {}  # word -> column of its topic (filled with _word_cols)
        self._wid: dict[str, int] = {}  # word -> id (design-matrix arrays)
        self._wlist: list[str] = []
        self._bucket_of: dict[int, int] = {}  # pair of word ids -> hashed bigram bucket

    # -- persistence ----------------------------------------------------------------------------
    def state(self) -> RankerState:
        return RankerState(tuple(self.names), self._precision.copy(), self._b.copy(), self._p0.copy(),
                           self._m0.copy(), self.step, self.observations,
                           (self.noise_sd, self.half_life or 0.0, self.prior_scale, self.max_features),
                           self.topics)

    @classmethod
    def from_state(cls, st: RankerState, *, version: str = "blr-2") -> Ranker:
        noise_sd, half_life, prior_scale, max_features = st.settings
        r = cls(noise_sd=float(noise_sd), half_life=float(half_life) or None, prior_scale=float(prior_scale),
                max_features=int(max_features), topics=st.topics, version=version)
        r.names = list(st.names)
        r.index = {n: i for i, n in enumerate(r.names)}
        r._precision, r._b = np.array(st.precision, dtype=float), np.array(st.b, dtype=float)
        r._p0, r._m0 = np.array(st.prior_precision, dtype=float), np.array(st.prior_mean, dtype=float)
        r.step, r.observations = float(st.step), int(st.observations)
        return r

    def encode(self, f: CandidateFeatures) -> dict[str, float]:
        """The reference encoding of a candidate as this ranker sees it (features.encode + topics)."""
        x = encode(f)
        for t in {self._topic_of[w] for w in f.words if w in self._topic_of}:
            x[t] = 1.0
        return x

    # -- features -> columns --------------------------------------------------------------------
    def _col(self, name: str) -> int:
        i = self.index.get(name)
        if i is None:
            if len(self.names) >= self.max_features and not name.startswith("hash:"):
                return self._col(f"hash:{zlib.crc32(name.encode()) % HASH_BUCKETS}")
            i = self.index[name] = len(self.names)
            self.names.append(name)
        return i

    def _rows(self, feats: Sequence[CandidateFeatures]) -> csr_matrix:
        """The design matrix of ``feats`` (the values of features.encode, pinned by a test), growing
        the index as needed. The hot path of update and score, built as arrays: only the rows where
        something unseen first appears are walked one by one (in order, so columns are numbered as
        a row-by-row walk would number them); words and word pairs become integer ids, deduplicated
        per row with np.unique; each pair's hashed bucket is computed once per ranker."""
        n = len(feats)
        keys = [structured_key(f) for f in feats]
        lens = [len(f.words) for f in feats]
        wid = self._word_ids([w for f in feats for w in f.words])
        rows = np.repeat(np.arange(n), lens)
        nexts = np.flatnonzero(rows[1:] == rows[:-1]) if len(rows) else np.zeros(0, dtype=np.int64)
        pair_rows, buckets = rows[nexts], self._pair_buckets(wid[nexts], wid[nexts + 1])
        num = [(r, name, value) for r, f in enumerate(feats) for name, value in numeric(f)]
        for r in self._unseen_rows(keys, rows, wid, pair_rows, buckets, num):
            self._register(feats[r], keys[r])
        pair_cols = self._bucket_table()[buckets]
        self._resize()
        F = len(self.names)
        parts_r, parts_c, parts_v = [], [], []
        ones_r: list[int] = []
        ones_c: list[int] = []
        for r, key in enumerate(keys):
            cols = self._key_cols[0][key[0]] + self._key_cols[1][key[1]] + self._key_cols[2][key[2]]
            ones_c += cols
            ones_r += [r] * len(cols)
        parts_r.append(np.array(ones_r, dtype=np.int64))
        parts_c.append(np.array(ones_c, dtype=np.int64))
        parts_v.append(np.ones(len(ones_c)))
        words = _distinct(rows * len(self._wlist) + wid)
        w_rows, w_ids = words // max(len(self._wlist), 1), words % max(len(self._wlist), 1)
        wcol, tcol = self._word_tables()
        parts_r.append(w_rows)
        parts_c.append(wcol[w_ids])
        parts_v.append(np.ones(len(w_rows)))
        has = tcol[w_ids] >= 0
        for rr, cc, value in ((w_rows[has], tcol[w_ids][has], 1.0), (pair_rows, pair_cols, BIGRAM_VALUE)):
            u = _distinct(rr * F + cc)  # a topic (a bucket) counts once per caption
            parts_r.append(u // F)
            parts_c.append(u % F)
            parts_v.append(np.full(len(u), value))
        parts_r.append(np.array([r for r, _, _ in num], dtype=np.int64))
        parts_c.append(np.array([self._col(name) for _, name, _ in num], dtype=np.int64))
        parts_v.append(np.array([v for _, _, v in num], dtype=float))
        X = coo_matrix((np.concatenate(parts_v), (np.concatenate(parts_r), np.concatenate(parts_c))),
                       shape=(n, F)).tocsr()
        X.sum_duplicates()
        return X

    def _word_ids(self, flat: list[str]) -> np.ndarray:
        ids, known = self._wid, self._wlist
        for w in dict.fromkeys(flat):
            if w not in ids:
                ids[w] = len(known)
                known.append(w)
        return np.array([ids[w] for w in flat], dtype=np.int64)

    def _word_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """Per word id: its column and its topic's column (-1: none yet)."""
        return (np.array([self._word_cols.get(w, -1) for w in self._wlist], dtype=np.int64),
                np.array([self._topic_cols.get(w, -1) for w in self._wlist], dtype=np.int64))

    def _pair_buckets(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Hashed bucket of each word pair (the crc is computed once per distinct pair per ranker)."""
        codes = a * (1 << 32) + b
        uniq = _distinct(codes)
        inverse = np.searchsorted(uniq, codes)
        cache, words = self._bucket_of, self._wlist
        for code in uniq.tolist():
            if code not in cache:
                cache[code] = int(bigram_name(words[code >> 32], words[code & 0xFFFFFFFF]).split("#")[1])
        return np.array([cache[c] for c in uniq.tolist()], dtype=np.int64)[inverse].reshape(-1)

    def _bucket_table(self) -> np.ndarray:
        return np.array([self._known_col(f"bigram#{k}") for k in range(BIGRAM_BUCKETS)], dtype=np.int64)

    def _known_col(self, name: str) -> int:
        """The column ``_col`` would give ``name`` without creating one (-1 if it would)."""
        i = self.index.get(name)
        if i is None and len(self.names) >= self.max_features and not name.startswith("hash:"):
            return self._known_col(f"hash:{zlib.crc32(name.encode()) % HASH_BUCKETS}")
        return -1 if i is None else i

    def _unseen_rows(self, keys: list, rows: np.ndarray, wid: np.ndarray, pair_rows: np.ndarray,
                     buckets: np.ndarray, num: list[tuple[int, str, float]]) -> list[int]:
        """Rows where a structured key, word, pair bucket or numeric feature without a column
        first appears (a superset is harmless: walking a row with nothing new creates nothing)."""
        out: set[int] = set()
        for group, cache in enumerate(self._key_cols):
            new_keys = dict.fromkeys(k[group] for k in keys if k[group] not in cache)
            if new_keys:
                first_row = {k[group]: r for r, k in reversed(list(enumerate(keys)))}
                out.update(first_row[k] for k in new_keys)
        wcol, _ = self._word_tables()
        for found, values, at in ((wcol[wid] < 0, wid, rows), (self._bucket_table()[buckets] < 0, buckets, pair_rows)):
            order = np.argsort(values[found], kind="stable")
            out.update(at[found][order[_changes(values[found][order])]].tolist())
        first_num: dict[str, int] = {}
        for r, name, _ in num:
            first_num.setdefault(name, r)
        out.update(r for name, r in first_num.items() if self._known_col(name) < 0)
        return sorted(out)

    def _register(self, f: CandidateFeatures, key: tuple) -> None:
        """Give a row's features their columns in the order a row-by-row walk meets them."""
        for group, k in enumerate(key):
            if k not in self._key_cols[group]:
                self._key_col(group, k)
        distinct = dict.fromkeys(f.words)
        for w in distinct:
            if w not in self._word_cols:
                self._word_col(w)
        for p in zip(f.words, f.words[1:]):
            if p not in self._pair_cols:
                self._pair_col(p)
        for name, _ in numeric(f):
            self._col(name)

    def _key_col(self, group: int, key: tuple) -> list[int]:
        fixed = self._key_cols[group][key] = [self._col(n) for n in structured(group, key)]
        return fixed

    def _word_col(self, word: str) -> int:
        c = self._word_cols[word] = self._col("word=" + word)
        if word in self._topic_of:
            self._topic_cols[word] = self._col(self._topic_of[word])
        return c

    def _pair_col(self, pair: tuple[str, str]) -> int:
        c = self._pair_cols[pair] = self._col(bigram_name(*pair))
        return c

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
        if self._cache is not None:  # a new feature is independent of the rest: extend, don't refactor
            mean, chol = self._cache
            grown = np.zeros((size, size))
            grown[:old, :old] = chol
            grown[range(old, size), range(old, size)] = np.sqrt(p0)
            self._cache = (np.concatenate([mean, m0]), grown)
        self._precision = precision
        self._b = np.concatenate([self._b, p0 * m0])
        self._p0, self._m0 = np.concatenate([self._p0, p0]), np.concatenate([self._m0, m0])

    # -- learning -------------------------------------------------------------------------------
    def update(self, outcomes: Iterable[Outcome]) -> list[Applied | None]:
        """Fold outcomes in, oldest first; returns, per outcome, how its engagement was applied."""
        feats, targets, weights, retract = [], [], [], []
        applied: list[Applied | None] = []
        for o in outcomes:
            if o.replaces is not None:
                retract.append((o.features, o.replaces))
            if o.engagement is not None and math.isfinite(o.engagement) and o.weight > 0:
                feats.append(o.features)
                targets.append(float(o.engagement))
                weights.append(float(o.weight))
                applied.append(Applied(float(o.engagement), float(o.weight), self.step + len(feats)))
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
        if feats or retract:
            self._fold(feats, targets, weights, retract)
        return applied

    def _fold(self, feats: list[CandidateFeatures], targets: list[float], weights: list[float],
              retract: list[tuple[CandidateFeatures, Applied]]) -> None:
        n = len(feats)
        gamma = 0.5 ** (1.0 / self.half_life) if self.half_life else 1.0
        X = self._rows(feats + [f for f, _ in retract])
        if gamma < 1.0 and n:
            decay = gamma ** n  # the evidence fades, the prior stays
            self._precision *= decay
            self._precision[np.diag_indices_from(self._precision)] += (1 - decay) * self._p0
            self._b = decay * self._b + (1 - decay) * self._p0 * self._m0
        end = self.step + n
        y = np.array(targets + [a.engagement for _, a in retract])
        s = np.concatenate([np.array(weights) * gamma ** (n - 1 - np.arange(n)),
                            [-a.weight * gamma ** (end - a.step) for _, a in retract]]) / self.noise_sd ** 2
        scaled = X.copy()
        scaled.data *= np.repeat(s, np.diff(X.indptr))  # row r times s[r]
        self._precision += (X.T @ scaled).toarray()
        self._b += X.T @ (s * y)
        self.step = end
        self.observations += n
        self._cache = None

    # -- posterior ------------------------------------------------------------------------------
    def _posterior(self) -> tuple[np.ndarray, np.ndarray]:
        if self._cache is None:
            chol = np.linalg.cholesky(self._precision) if self.names else np.zeros((0, 0))
            mean = cho_solve((chol, True), self._b) if self.names else np.zeros(0)
            self._cache = (mean, chol)
        return self._cache

    def weights(self) -> dict[str, float]:
        mean, _ = self._posterior()
        return {name: float(mean[i]) for name, i in self.index.items()}

    def weight_sd(self, names: Iterable[str]) -> dict[str, float]:
        """Posterior sd of the named weights (unknown names: the prior sd)."""
        names = list(dict.fromkeys(names))
        known = [n for n in names if n in self.index and self.index[n] < len(self._b)]
        out = {n: prior_of(n, self.prior_scale)[1] for n in names if n not in known}
        if known:
            _, chol = self._posterior()
            unit = np.zeros((len(self._b), len(known)))
            unit[[self.index[n] for n in known], range(len(known))] = 1.0
            half = solve_triangular(chol, unit, lower=True)  # Sigma = L^-T L^-1
            out.update({n: float(math.sqrt(v)) for n, v in zip(known, (half ** 2).sum(axis=0))})
        return out

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
        X = self._rows(items)
        mean_w, chol = self._posterior()
        means = X @ mean_w
        samples = means
        if self.observations and len(mean_w):
            draw = mean_w + self.explore * solve_triangular(chol.T, rng.standard_normal(len(mean_w)), lower=False)
            samples = X @ draw
        bias = self.index.get("bias", -1)
        tops = []
        for r in range(len(items)):
            lo, hi = X.indptr[r], X.indptr[r + 1]
            cols, xv = X.indices[lo:hi], X.data[lo:hi]
            vals = xv * mean_w[cols]
            keep = np.flatnonzero((cols != bias) & (vals != 0.0))
            order = keep[np.argsort(-np.abs(vals[keep]), kind="stable")[:EXPLAIN_TOP]]
            tops.append([(int(cols[k]), float(vals[k]), float(xv[k])) for k in order])
        sds = self.weight_sd(self.names[c] for top in tops for c, _, _ in top) if self.observations else {}
        evidence = (np.diag(self._precision) - self._p0) * self.noise_sd ** 2  # as evidence(), all at once
        out = []
        for r, top in enumerate(tops):
            named = [(self.names[c], round(v, 4)) for c, v, _ in top]
            effects = tuple(Effect(self.names[c], round(v, 4), round(abs(x) * sds.get(self.names[c], 0.0), 4),
                                   round(max(0.0, float(evidence[c])), 1)) for c, v, x in top)
            out.append(Score(mean=float(means[r]), sample=float(samples[r]), explain=tuple(named),
                             effects=effects))
        return out


def _changes(sorted_values: np.ndarray) -> np.ndarray:
    """Mask of the first of each run of equal values."""
    return np.concatenate([[True], sorted_values[1:] != sorted_values[:-1]]) if len(sorted_values) else \
        np.zeros(0, dtype=bool)


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique, by sorting: faster than its hash path on these sizes)."""
    ordered = np.sort(values)
    return ordered[_changes(ordered)]


def choose_beams(scores: Sequence[Score], k_forward: int) -> list[int]:
    """Indices (into ``scores``) of the beams of one image to put forward: best Thompson sample first."""
    if k_forward <= 0:
        return []
    order = sorted(range(len(scores)), key=lambda i: (-scores[i].sample, -scores[i].mean, i))
    return order[:k_forward]


def order_by_sample(scores: Sequence[Score]) -> list[int]:
    """Review-queue order for a batch: all indices, best sample first."""
    return choose_beams(scores, len(scores))
