"""The caption writer follows an adaptation: word biases (generator.meme.adapt) on GPT-2's pieces.

An adaptation is per content word ("coffee": +1.2, "boil": -0.8); the writer follows ``writer_bias``
of it (the posterior means of the ranker's word effects, where the adaptation keeps them). The writer's tokenizer splits a
word into pieces (" coffee" is one piece, " brewing" is " bre" + "wing"), so ``TokenBias`` places a
word's bias on pieces, by these rules (spellings: " word" and " Word", the word after a space, as
captions write it):
- the first piece of a spelling gets the word's bias (a single-piece word: exactly the word); a
  first piece that several words share gets the sum of their biases, capped at +-``cap``;
- a later piece gets the word's bias when the pieces just written are the spelling's earlier pieces
  (so a started liked word is finished, and a started disliked one is steered away from at its end).
Biases add to the logits before temperature and top-p (where transformers' ``generate`` applies a
``logits_processor``), at every step. ``processor`` wraps it as a transformers LogitsProcessor for
the reference decoder; generator/textgen/fast.py calls ``apply`` at the same point, so both write
the same captions for a seed.

A piece-level bias cannot choose a sentence for a word that comes late in it (a small writer mostly
picks its sentence in the first pieces), so the writer also samples ``OVERSAMPLE`` times the
captions it needs and keeps them by ``reweigh``: drawn without replacement with weight
exp(sum of the biases of the caption's words) -- sampling-importance-resampling towards the model's
distribution times exp(bias), the caption-level form of the same preference. Pure: no files, no
network.
"""
from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from generator.meme.adapt import CAP, mean_bias

if TYPE_CHECKING:
    from generator.meme.adapt import Adaptation

OVERSAMPLE = 4  # captions sampled per caption kept while an adaptation is active
_WORD = re.compile(r"[a-z0-9']+")  # as feedback.ranking.content_words reads a caption


def caption_words(text: str) -> set[str]:
    """The lower-cased words of a caption, without hashtags, mentions and URLs."""
    return {w for token in text.lower().split() if not token.startswith(("#", "@", "http"))
            for w in _WORD.findall(token)}


def writer_bias(adaptation: Adaptation, *, cap: float = CAP) -> dict[str, float]:
    """The writer's per-word offsets for ``adaptation``: generator.meme.adapt.mean_bias (strength x the
    posterior mean effect of each word the ranker learned, capped at +-cap) where it carries the
    effects; else its ``bias`` as stored (an adaptation made before the effects were kept). The writer
    samples, and tilting its samples by exp(expected effect) is what maximises expected engagement at a
    fixed distance (KL) from the writer as trained (see mean_bias)."""
    return mean_bias(adaptation, cap=cap)


def reweigh(captions: Sequence[str], k: int, bias: Mapping[str, float], seed: int, *, cap: float = 2 * CAP) -> list[str]:
    """k of ``captions`` drawn without replacement with weight exp(sum of their words' biases, capped
    at +-cap), in their original order; all of them when there are no more than k."""
    if len(captions) <= k:
        return list(captions)
    logw = np.array([max(-cap, min(cap, sum(bias.get(w, 0.0) for w in caption_words(c)))) for c in captions])
    weights = np.exp(logw - logw.max())
    picked = np.random.default_rng(seed).choice(len(captions), size=k, replace=False, p=weights / weights.sum())
    return [captions[i] for i in sorted(int(i) for i in picked)]


class TokenBias:
    """Per-step logit offsets for a tokenizer's pieces from per-word biases (see the module rules)."""

    def __init__(self, bias: Mapping[str, float], encode: Callable[[str], Sequence[int]], *, cap: float = CAP) -> None:
        start: dict[int, float] = defaultdict(float)
        after: dict[tuple[int, ...], dict[int, float]] = defaultdict(dict)
        for word, value in bias.items():
            if not word or not value:
                continue
            for spelling in dict.fromkeys((" " + word, " " + word[:1].upper() + word[1:])):
                pieces = tuple(int(i) for i in encode(spelling))
                if not pieces:
                    continue
                start[pieces[0]] += float(value)
                for j in range(1, len(pieces)):
                    after[pieces[:j]][pieces[j]] = float(value)
        self.start = {t: max(-cap, min(cap, v)) for t, v in start.items() if v}
        self.after = dict(after)
        self.longest = max((len(p) for p in self.after), default=0)

    def __bool__(self) -> bool:
        return bool(self.start)

    def offsets(self, written: Sequence[int]) -> dict[int, float]:
        """piece id -> offset for the next piece after ``written`` (the row's ids so far)."""
        out = dict(self.start)
        for j in range(1, min(self.longest, len(written)) + 1):
            nxt = self.after.get(tuple(written[-j:]))
            if nxt:
                for t, v in nxt.items():
                    out[t] = out.get(t, 0.0) + v
        return out

    def apply(self, rows: Sequence[Sequence[int]], scores: Any) -> Any:
        """``scores`` [B, V] (a torch tensor) plus each row's offsets (in place; returns it)."""
        size = scores.shape[1]
        start = [(t, v) for t, v in self.start.items() if 0 <= t < size]
        if start:  # the same for every row: one indexed add (element by element was most of a step)
            ids = scores.new_tensor([t for t, _ in start]).long()
            scores[:, ids] += scores.new_tensor([v for _, v in start])
        for b, written in enumerate(rows):
            for j in range(1, min(self.longest, len(written)) + 1):
                for t, v in self.after.get(tuple(written[-j:]), {}).items():
                    if 0 <= t < size:
                        scores[b, t] += v
        return scores


def processor(bias: TokenBias) -> Any:
    """``bias`` as a transformers LogitsProcessor (imports transformers: the reference decoder only)."""
    from transformers import LogitsProcessor

    class WordBiasProcessor(LogitsProcessor):
        def __call__(self, input_ids: Any, scores: Any) -> Any:
            return bias.apply(input_ids.tolist(), scores.clone())

    return WordBiasProcessor()
