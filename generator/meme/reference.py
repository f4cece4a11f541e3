"""A plain reference decoder: one caption prefix at a time, the GRU re-run from scratch each step.

Slow on purpose and written without the fast path's tricks (no carried state, no batching, no
precomputed projections), so the equivalence test can pin ``beam.beam_search`` + ``step.FastStep``
to it. It follows the decoding rules documented in ``generator.meme.beam``. Given a Keras
``predict`` per prefix as ``logprobs`` it is also the memefly-style baseline of bench/beam.py.
"""
from __future__ import annotations

import math
from collections.abc import Callable, Hashable

import numpy as np

from generator.meme.beam import DecodeRules, Hypothesis
from generator.meme.step import DecoderWeights


def next_word_logprobs(w: DecoderWeights, features: np.ndarray, prefix: tuple[int, ...]) -> np.ndarray:
    """log P(next word | image, prefix) for a prefix starting with <start>, straight from the equations."""
    u = w.units
    image = np.maximum(features @ w.image_kernel + w.image_bias, 0.0)
    h = np.zeros(u, dtype=np.float32)
    for tok in prefix:
        x = np.concatenate([image, w.embedding[tok]])
        gx = x @ w.gru_kernel + w.gru_bias[0]
        gh = h @ w.gru_recurrent + w.gru_bias[1]
        z = 1.0 / (1.0 + np.exp(-(gx[:u] + gh[:u])))
        r = 1.0 / (1.0 + np.exp(-(gx[u:2 * u] + gh[u:2 * u])))
        cand = np.tanh(gx[2 * u:] + r * gh[2 * u:])
        h = z * h + (1.0 - z) * cand
    logits = (h @ w.out_kernel + w.out_bias).astype(np.float64)
    return logits - logits.max() - math.log(np.exp(logits - logits.max()).sum())


def reference_beam_search(logprobs: Callable[[tuple[int, ...]], np.ndarray], rules: DecodeRules, width: int,
                          key: Callable[[tuple[int, ...]], Hashable] = tuple) -> list[Hypothesis]:
    """All finished captions of one image, best first; ``logprobs(prefix)`` gives log-probs [V]."""
    k = width
    beams: list[tuple[tuple[int, ...], float]] = [((), 0.0)]
    finished: list[Hypothesis] = []
    seen: set = set()
    for t in range(rules.max_len + 1):
        candidates = []
        for b, (ids, cum) in enumerate(beams):
            logp = rules.mask(logprobs((rules.start_id, *ids))[None, :], t, [ids])[0]
            vocab = logp.shape[0]
            candidates += [(cum + logp[tok], b * vocab + tok, b, tok) for tok in range(vocab) if logp[tok] > -np.inf]
        candidates.sort(key=lambda c: (-c[0], c[1]))
        new_beams: list[tuple[tuple[int, ...], float]] = []
        for total, _, b, tok in candidates[: 2 * k]:
            ids = beams[b][0]
            if tok == rules.end_id:
                if key(ids) not in seen:
                    seen.add(key(ids))
                    finished.append(Hypothesis(ids, total, rules.score(total, len(ids))))
            elif len(new_beams) < k:
                new_beams.append((ids + (tok,), total))
            if len(new_beams) == k:
                break
        if not new_beams:
            break
        if len(finished) >= k:
            kth = sorted((h.score for h in finished), reverse=True)[k - 1]
            if rules.score(max(c for _, c in new_beams), t + 1) <= kth:
                break
        beams = new_beams
    return sorted(finished, key=lambda h: (-h.score, h.ids))
