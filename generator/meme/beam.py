"""Batched beam search and nucleus sampling over a step function (pure NumPy, no framework).

A step function advances every live row by one word::

    step(rows: int[B] image index per row, tokens: int[B] last word, state: [B, ...])
        -> (log-probabilities [B, V], new state [B, ...])

All beams of all images go through ONE step call per word, and the decoder state is carried
forward (never re-running the prefix). Rules (the reference decoder in tests follows the same):
- words in ``banned`` never appear; <end> is not allowed as the first word; after ``max_len``
  words only <end> is allowed, so every beam finishes; with ``no_repeat_bigrams`` a word that
  would repeat a word pair already in the caption is not allowed ("at the clock at the clock");
- per image, the top 2*width candidates are ranked by total log-prob (ties: lower flat index
  first); an <end> candidate becomes a finished caption unless its text key was already finished
  (distinct captions); other candidates fill the ``width`` live beams;
- score = log-prob / (words + 1) ** alpha (length-normalised, counting <end>);
- an image is done when it has ``width`` finished captions and its best live beam's current
  score cannot beat the width-th finished score, or when it has no live beams;
- ``choose`` then hands out k of them (optionally trading score for different wording).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass

import numpy as np

StepFn = Callable[[np.ndarray, np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray]]


@dataclass(frozen=True)
class Hypothesis:
    ids: tuple[int, ...]  # word ids, without <start>/<end>
    logprob: float
    score: float


@dataclass(frozen=True)
class DecodeRules:
    start_id: int
    end_id: int
    banned: tuple[int, ...]
    max_len: int
    alpha: float = 1.0
    no_repeat_bigrams: bool = True

    def mask(self, logp: np.ndarray, t: int, seqs: Sequence[Sequence[int]]) -> np.ndarray:
        """Apply the word rules for step ``t`` (0 = first word) to log-probs [B, V] of captions ``seqs``."""
        logp = logp.astype(np.float64)
        logp[:, list(self.banned)] = -np.inf
        if self.no_repeat_bigrams:
            for row, seq in enumerate(seqs):
                if seq:
                    last = seq[-1]
                    logp[row, [seq[i + 1] for i in range(len(seq) - 1) if seq[i] == last]] = -np.inf
        if t == 0:
            logp[:, self.end_id] = -np.inf
        if t >= self.max_len:
            end = logp[:, self.end_id].copy()
            logp[:] = -np.inf
            logp[:, self.end_id] = end
        return logp

    def score(self, logprob: float, n_words: int) -> float:
        return float(logprob / (n_words + 1) ** self.alpha)


@dataclass
class _Live:
    rows: np.ndarray  # image index per live row
    seqs: list[tuple[int, ...]]
    cum: np.ndarray  # float64 total log-prob
    tokens: np.ndarray
    state: np.ndarray


def _expand_image(total: np.ndarray, sel: np.ndarray, k: int) -> list[tuple[int, int, float]]:
    """Top 2k (row, token, logprob) candidates of one image, best first, ties by flat index."""
    flat = total[sel].ravel()
    m = min(2 * k, flat.size)
    take = np.argpartition(-flat, m - 1)[:m]
    take = take[np.lexsort((take, -flat[take]))]
    vocab = total.shape[1]
    return [(int(sel[f // vocab]), int(f % vocab), float(flat[f])) for f in take if np.isfinite(flat[f])]


def beam_search(step: StepFn, state0: np.ndarray, rules: DecodeRules, *, width: int = 5,
                key: Callable[[tuple[int, ...]], Hashable] = tuple) -> list[list[Hypothesis]]:
    """Every distinct finished caption per image (state0 has one row per image), best first.

    At least ``width`` per image unless the vocabulary runs out; ``choose`` picks the k to hand out.
    """
    n = state0.shape[0]
    live = _Live(np.arange(n), [()] * n, np.zeros(n), np.full(n, rules.start_id), state0)
    finished: list[list[Hypothesis]] = [[] for _ in range(n)]
    seen: list[set] = [set() for _ in range(n)]
    for t in range(rules.max_len + 1):
        logp, state = step(live.rows, live.tokens, live.state)
        total = live.cum[:, None] + rules.mask(logp, t, live.seqs)
        keep: list[tuple[int, int, float]] = []  # (parent row, token, cum)
        for img in dict.fromkeys(live.rows.tolist()):
            kept = []
            for row, tok, lp in _expand_image(total, np.nonzero(live.rows == img)[0], width):
                if tok == rules.end_id:
                    ids = live.seqs[row]
                    if key(ids) not in seen[img]:
                        seen[img].add(key(ids))
                        finished[img].append(Hypothesis(ids, lp, rules.score(lp, len(ids))))
                elif len(kept) < width:
                    kept.append((row, tok, lp))
                if len(kept) == width:
                    break
            if not _image_done(finished[img], kept, rules, width, t + 1):
                keep.extend(kept)
        if not keep:
            break
        parents = np.array([p for p, _, _ in keep])
        live = _Live(live.rows[parents], [live.seqs[p] + (tok,) for p, tok, _ in keep],
                     np.array([c for _, _, c in keep]), np.array([tok for _, tok, _ in keep]), state[parents])
    return [rank(f) for f in finished]


def _bigrams(ids: tuple[int, ...]) -> set[tuple[int, int]]:
    return set(itertools.pairwise(ids))


def _penalised(h: Hypothesis, used: set[tuple[int, int]], diversity: float) -> float:
    grams = _bigrams(h.ids)
    return h.score - diversity * (len(grams & used) / len(grams) if grams else 0.0)


def choose(pool: Sequence[Hypothesis], k: int, diversity: float = 0.0) -> list[Hypothesis]:
    """k captions from a best-first pool, best first. With diversity > 0 each pick is greedy on
    score - diversity * (share of its word pairs already used by earlier picks), so the k differ
    in wording, not only in their last word."""
    if diversity <= 0:
        return list(pool[:k])
    picked: list[Hypothesis] = []
    used: set[tuple[int, int]] = set()
    rest = list(pool)
    while rest and len(picked) < k:
        best = max(range(len(rest)), key=lambda i: (_penalised(rest[i], used, diversity), -i))
        best = rest.pop(best)
        picked.append(best)
        used |= _bigrams(best.ids)
    return rank(picked)


def _image_done(finished: list[Hypothesis], kept: list, rules: DecodeRules, k: int, n_words: int) -> bool:
    if not kept:
        return True
    if len(finished) < k:
        return False
    kth = sorted((h.score for h in finished), reverse=True)[k - 1]
    return rules.score(max(c for _, _, c in kept), n_words) <= kth


def _nucleus(probs: np.ndarray, top_p: float) -> np.ndarray:
    """Zero all but the smallest set of most likely words whose mass reaches top_p, renormalise."""
    order = np.argsort(-probs, axis=1, kind="stable")
    sorted_p = np.take_along_axis(probs, order, axis=1)
    before = np.cumsum(sorted_p, axis=1) - sorted_p
    sorted_p[before >= top_p] = 0.0
    out = np.zeros_like(probs)
    np.put_along_axis(out, order, sorted_p, axis=1)
    return out / out.sum(axis=1, keepdims=True)


def sample(step: StepFn, state0: np.ndarray, rows: np.ndarray, rules: DecodeRules, rng: np.random.Generator,
           *, temperature: float = 1.0, top_p: float = 0.9) -> list[Hypothesis]:
    """One sampled caption per row of state0; log-prob and score are under the untempered model."""
    b = state0.shape[0]
    seqs: list[list[int]] = [[] for _ in range(b)]
    cum = np.zeros(b)
    done = np.zeros(b, dtype=bool)
    tokens, state = np.full(b, rules.start_id), state0
    for t in range(rules.max_len + 1):
        logp, state = step(rows, tokens, state)
        logp = rules.mask(logp, t, seqs)
        tempered = np.exp((logp - logp.max(axis=1, keepdims=True)) / max(temperature, 1e-6))
        probs = _nucleus(tempered / tempered.sum(axis=1, keepdims=True), top_p)
        cdf = probs.cumsum(axis=1)
        draws = rng.random(b) * cdf[:, -1]  # scaled so rounding never walks past the last word
        tokens = np.minimum((cdf < draws[:, None]).sum(axis=1), probs.shape[1] - 1)
        for i in np.nonzero(~done)[0]:
            cum[i] += logp[i, tokens[i]]
            if tokens[i] == rules.end_id:
                done[i] = True
            else:
                seqs[i].append(int(tokens[i]))
        if done.all():
            break
    return [Hypothesis(tuple(s), float(c), rules.score(c, len(s))) for s, c in zip(seqs, cum)]


def rank(hyps: Sequence[Hypothesis]) -> list[Hypothesis]:
    """Best first by score (ties by ids) — the order captions are handed out in."""
    return sorted(hyps, key=lambda h: (-h.score, h.ids))
