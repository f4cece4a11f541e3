"""Batched beam search and nucleus sampling over a step function (pure NumPy, no framework).

A step function advances every live row by one word::

    step(rows: int[B] image index per row, tokens: int[B] last word, state: [B, ...])
        -> (log-probabilities [B, V], new state [B, ...])

All beams of all images go through ONE step call per word, and the decoder state is carried
forward (never re-running the prefix). Rules (the reference decoder in tests follows the same):
- words in ``banned`` never appear; <end> is not allowed as the first word; after ``max_len``
  words only <end> is allowed, so every beam finishes; with ``no_repeat_bigrams`` a word that
  would repeat a word pair already in the caption is not allowed ("at the clock at the clock";
  spelling pieces, ids >= ``free_from``, are exempt so "banana" can be spelled); with
  ``repeat_penalty`` each earlier use of a word in the caption costs that much log-prob (the
  penalised log-prob is what the caption is scored by); with ``word_bias`` (generator.meme.adapt)
  each word's log-prob moves by its bias at every step, in the score too, except that under
  ``ngrams`` a positive bias counts only where the word costs nothing there (it continues a training
  caption): an adaptation never pays for a seam or an unseen trigram, which the meaning and coherence
  gates would refuse (``applied_bias``: what it added to a caption); with ``ngrams``
  (generator/meme/ngrams.py) a word, or <end>, that would make a word trigram no training caption has
  costs its penalty (scored the same way), so captions join training captions only where three words
  overlap and end only where one ended;
- per image, the top 2*width candidates are ranked by total log-prob (ties: lower flat index
  first); an <end> candidate becomes a finished caption unless its text key was already finished
  (distinct captions); other candidates fill the ``width`` live beams;
- with ``sampling`` the ranking key is total log-prob / temperature + Gumbel noise (words outside
  each row's nucleus ``top_p`` excluded): the 2*width candidates are then a sample without
  replacement from the tempered distribution over (beam, word) instead of its top; kept
  log-probs and scores stay those of the untempered model;
- with ``groups`` > 1 (diverse beam search) the beams of an image form groups of width/groups;
  within a step groups choose in order and a word already chosen by an earlier group costs
  ``group_penalty`` per use in the ranking key;
- score = log-prob / (words + 1) ** alpha (length-normalised, counting <end>);
- an image is done when it has ``width`` finished captions and its best live beam's current
  score cannot beat the width-th finished score, or when it has no live beams;
- ``choose`` then hands out k of them (optionally trading score for different wording).
"""
from __future__ import annotations

import itertools
from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from generator.meme.ngrams import CorpusTrigrams

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
    free_from: int | None = None  # ids from here on (spelling pieces) may repeat word pairs
    repeat_penalty: float = 0.0  # log-prob taken off a word per earlier use in the caption (not pieces)
    # per word id, a log-prob added to it at every step (generator.meme.adapt: what the audience
    # liked); None = the model as trained
    word_bias: np.ndarray | None = field(default=None, compare=False)
    ngrams: CorpusTrigrams | None = field(default=None, compare=False)  # cost of a word (or <end>) that makes a trigram no training caption has

    def mask(self, logp: np.ndarray, t: int, seqs: Sequence[Sequence[int]]) -> np.ndarray:
        """Apply the word rules for step ``t`` (0 = first word) to log-probs [B, V] of captions ``seqs``."""
        logp = logp.astype(np.float64)
        if self.word_bias is not None and self.ngrams is None:
            logp += self.word_bias
        logp[:, list(self.banned)] = -np.inf
        free = self.free_from
        # the word rules of all rows as (row, id) index lists, applied with one NumPy call each
        ban_rows: list[int] = []
        ban_ids: list[int] = []
        use_rows: list[int] = []
        use_ids: list[int] = []
        for row, seq in enumerate(seqs):
            if seq and self.no_repeat_bigrams:
                last = seq[-1]
                for a, b in itertools.pairwise(seq):
                    if a == last and (free is None or b < free):
                        ban_rows.append(row)
                        ban_ids.append(b)
            if self.repeat_penalty:
                words = [i for i in seq if free is None or i < free]
                use_rows += [row] * len(words)
                use_ids += words
        if use_ids:  # each earlier use of a word costs repeat_penalty
            np.subtract.at(logp, (np.array(use_rows), np.array(use_ids)), self.repeat_penalty)
        if ban_ids:
            logp[ban_rows, ban_ids] = -np.inf
        if self.ngrams is not None:
            cost = self.ngrams.apply(logp, seqs)
            if self.word_bias is not None:  # a liked word's offset never pays for a trigram cost (a seam)
                logp += np.where(cost > 0, np.minimum(self.word_bias, 0.0), self.word_bias)
        if t == 0:
            logp[:, self.end_id] = -np.inf
        if t >= self.max_len:
            end = logp[:, self.end_id].copy()
            logp[:] = -np.inf
            logp[:, self.end_id] = end
        return logp

    def applied_bias(self, ids: Sequence[int]) -> float:
        """What ``word_bias`` added to the log-prob of the caption ``ids`` (as ``mask`` adds it)."""
        if self.word_bias is None or not ids:
            return 0.0
        bias = self.word_bias[list(ids)]
        if self.ngrams is not None:
            bias = np.where(self.ngrams.costly(ids), np.minimum(bias, 0.0), bias)
        return float(bias.sum())

    def score(self, logprob: float, n_words: int) -> float:
        return float(logprob / (n_words + 1) ** self.alpha)


@dataclass(frozen=True)
class Sampling:
    """Sampling over the beam: tempered, nucleus-limited Gumbel-top-k (see the module rules)."""

    temperature: float = 1.0
    top_p: float = 1.0


@dataclass
class _Live:
    rows: np.ndarray  # image index per live row
    groups: np.ndarray  # beam group per live row
    seqs: list[tuple[int, ...]]
    cum: np.ndarray  # float64 total log-prob
    tokens: np.ndarray
    state: np.ndarray


NUCLEUS_HEAD = 64  # words per row sorted first; a nucleus is rarely larger (see _nucleus_mask)


def _nucleus_mask(logp: np.ndarray, top_p: float) -> np.ndarray:
    """True for words outside each row's nucleus (smallest most-likely set with mass >= top_p; ties
    in the order of the words' ids), as ``_nucleus_mask_reference`` says. Only each row's
    ``NUCLEUS_HEAD`` most likely words are sorted: a row whose nucleus ends inside them, on a
    probability above the least of them, is decided there (the same words in the same order, the
    same running sums); the other rows are sorted whole."""
    probs = np.exp(logp - logp.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    m = NUCLEUS_HEAD
    if probs.shape[1] <= 2 * m:
        return _sorted_nucleus(probs, top_p)
    part = np.argpartition(-probs, m - 1, axis=1)[:, :m]
    part_p = np.take_along_axis(probs, part, axis=1)
    order = np.lexsort((part, -part_p), axis=1)  # by probability, then by id: the stable order
    head, head_p = np.take_along_axis(part, order, axis=1), np.take_along_axis(part_p, order, axis=1)
    out_head = (np.cumsum(head_p, axis=1) - head_p) >= top_p
    first_out = out_head.argmax(axis=1)  # 0 when no head word is outside
    rows = np.arange(len(probs))
    decided = out_head.any(axis=1) & (first_out >= 1) & (head_p[rows, np.maximum(first_out - 1, 0)] > head_p[:, -1])
    outside = np.ones(probs.shape, dtype=bool)
    if decided.any():
        sub = outside[decided]
        np.put_along_axis(sub, head[decided], out_head[decided], axis=1)
        outside[decided] = sub
    if not decided.all():
        outside[~decided] = _sorted_nucleus(probs[~decided], top_p)
    return outside


def _sorted_nucleus(probs: np.ndarray, top_p: float) -> np.ndarray:
    order = np.argsort(-probs, axis=1, kind="stable")
    sorted_p = np.take_along_axis(probs, order, axis=1)
    outside = np.zeros(probs.shape, dtype=bool)
    np.put_along_axis(outside, order, (np.cumsum(sorted_p, axis=1) - sorted_p) >= top_p, axis=1)
    return outside


def _nucleus_mask_reference(logp: np.ndarray, top_p: float) -> np.ndarray:
    """Every row's words sorted whole (tests/generator/test_meme_beam.py pins the fast path to it)."""
    probs = np.exp(logp - logp.max(axis=1, keepdims=True))
    probs /= probs.sum(axis=1, keepdims=True)
    return _sorted_nucleus(probs, top_p)


def _sample_keys(total: np.ndarray, outside: np.ndarray | None, sampling: Sampling,
                 rng: np.random.Generator) -> np.ndarray:
    """``outside``: the words outside each row's nucleus (None: no nucleus), computed for all rows at once."""
    keys = total / max(sampling.temperature, 1e-6) + rng.gumbel(size=total.shape)
    if outside is not None:
        keys[outside] = -np.inf
    return keys


def _top(keys: np.ndarray, total: np.ndarray, sel: np.ndarray, k: int) -> list[tuple[int, int, float]]:
    """Top 2k (row, token, logprob) candidates by key, best first, ties by flat index."""
    flat = keys.ravel()
    m = min(2 * k, flat.size)
    take = np.argpartition(-flat, m - 1)[:m]
    take = take[np.lexsort((take, -flat[take]))]
    vocab = keys.shape[1]
    totals = total.ravel()
    return [(int(sel[f // vocab]), int(f % vocab), float(totals[f])) for f in take if np.isfinite(flat[f])]


@dataclass
class _Search:
    rules: DecodeRules
    width: int  # finished captions wanted per image
    group_width: int
    key: Callable[[tuple[int, ...]], Hashable]
    finished: list[list[Hypothesis]]
    seen: list[set]
    exclude: Callable[[Hashable], bool] | None = None

    def choose(self, img: int, cands: list[tuple[int, int, float]], seqs: list[tuple[int, ...]]) -> list:
        """Finish <end> candidates (distinct texts), keep up to group_width live ones."""
        kept: list[tuple[int, int, float]] = []
        for row, tok, lp in cands:
            if tok == self.rules.end_id:
                ids = seqs[row]
                text = self.key(ids)
                if text not in self.seen[img]:
                    self.seen[img].add(text)
                    if self.exclude is None or not self.exclude(text):
                        self.finished[img].append(Hypothesis(ids, lp, self.rules.score(lp, len(ids))))
            elif len(kept) < self.group_width:
                kept.append((row, tok, lp))
            if len(kept) == self.group_width:
                break
        return kept


def _advance_image(search: _Search, live: _Live, total: np.ndarray, outside: np.ndarray | None, img: int, t: int,
                   sampling: Sampling | None, rng: np.random.Generator | None, group_penalty: float) -> list:
    sel_img = np.nonzero(live.rows == img)[0]
    if sampling is None:
        keys = total[sel_img]
    else:
        assert rng is not None  # sampling always comes with its image's generator
        keys = _sample_keys(total[sel_img], None if outside is None else outside[sel_img], sampling, rng)
    used = np.zeros(total.shape[1]) if group_penalty else None
    keep: list = []
    for grp in dict.fromkeys(live.groups[sel_img].tolist()):
        sub = np.nonzero(live.groups[sel_img] == grp)[0]
        group_keys = keys[sub] - group_penalty * used if used is not None and used.any() else keys[sub]
        kept = search.choose(img, _top(group_keys, total[sel_img[sub]], sel_img[sub], search.group_width),
                             live.seqs)
        if used is not None:
            for _, tok, _ in kept:
                used[tok] += 1
        if not _image_done(search.finished[img], kept, search.rules, search.width, t + 1):
            keep.extend((row, tok, lp, grp) for row, tok, lp in kept)
    return keep


def beam_search(step: StepFn, state0: np.ndarray, rules: DecodeRules, *, width: int = 5,
                key: Callable[[tuple[int, ...]], Hashable] = tuple, groups: int = 1, group_penalty: float = 0.0,
                sampling: Sampling | None = None, rngs: Sequence[np.random.Generator] | None = None,
                exclude: Callable[[Hashable], bool] | None = None) -> list[list[Hypothesis]]:
    """Every distinct finished caption per image (state0 has one row per image), best first.

    At least ``width`` per image unless the vocabulary runs out; ``choose`` picks the k to hand out.
    ``sampling`` needs one generator per image in ``rngs`` (each image's noise is its own, so an
    image's captions depend only on its seed). Captions whose key ``exclude`` accepts (verbatim
    training captions) never finish; their beams end there.
    """
    n = state0.shape[0]
    groups = max(1, min(groups, width))
    if sampling is not None and (rngs is None or len(rngs) != n):
        raise ValueError("sampling needs one random generator per image")
    rows = np.repeat(np.arange(n), groups)
    live = _Live(rows, np.tile(np.arange(groups), n), [()] * len(rows), np.zeros(len(rows)),
                 np.full(len(rows), rules.start_id), state0[rows])
    search = _Search(rules, width, -(-width // groups), key, [[] for _ in range(n)], [set() for _ in range(n)],
                     exclude)
    penalty = group_penalty if groups > 1 else 0.0
    for t in range(rules.max_len + 1):
        logp, state = step(live.rows, live.tokens, live.state)
        masked = rules.mask(logp, t, live.seqs)
        total = live.cum[:, None] + masked
        outside = (_nucleus_mask(masked / max(sampling.temperature, 1e-6), sampling.top_p)
                   if sampling is not None and sampling.top_p < 1.0 else None)
        keep: list[tuple[int, int, float, int]] = []  # (parent row, token, cum, group)
        for img in dict.fromkeys(live.rows.tolist()):
            keep += _advance_image(search, live, total, outside, img, t, sampling,
                                   rngs[img] if rngs is not None else None, penalty)
        if not keep:
            break
        parents = np.array([p for p, _, _, _ in keep])
        live = _Live(live.rows[parents], np.array([g for _, _, _, g in keep]),
                     [live.seqs[p] + (tok,) for p, tok, _, _ in keep], np.array([c for _, _, c, _ in keep]),
                     np.array([tok for _, tok, _, _ in keep]), state[parents])
    return [rank(f) for f in search.finished]


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
        at = max(range(len(rest)), key=lambda i: (_penalised(rest[i], used, diversity), -i))
        best = rest.pop(at)
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
        raw, logp = logp.astype(np.float64), rules.mask(logp, t, seqs)
        tempered = np.exp((logp - logp.max(axis=1, keepdims=True)) / max(temperature, 1e-6))
        probs = _nucleus(tempered / tempered.sum(axis=1, keepdims=True), top_p)
        cdf = probs.cumsum(axis=1)
        draws = rng.random(b) * cdf[:, -1]  # scaled so rounding never walks past the last word
        tokens = np.minimum((cdf < draws[:, None]).sum(axis=1), probs.shape[1] - 1)
        for i in np.nonzero(~done)[0]:
            cum[i] += raw[i, tokens[i]]  # the model's own log-prob (the rules only steer the draw)
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
