"""Caption quality figures shared by the benches: variety, copying, freshness, score spread."""
from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np

from generator.meme.vocab import tokenize


def distinct_n(texts: Sequence[str], n: int = 2) -> float:
    """Unique n-grams / all n-grams over a set of captions (1.0 = no shared word n-grams)."""
    grams = [tuple(words[i:i + n]) for words in (tokenize(t) for t in texts) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def caption_key(text: str) -> str:
    """What makes two captions the same caption: their words, case and spacing aside."""
    return " ".join(tokenize(text))


def caption_hashes(texts: Iterable[str]) -> np.ndarray:
    """Sorted unique 64-bit hashes of the captions' keys (what a bundle keeps of its training captions)."""
    import hashlib

    return np.unique(np.array([int.from_bytes(hashlib.blake2b(caption_key(t).encode(), digest_size=8).digest(),
                                              "little") for t in texts], dtype=np.uint64))


def copy_rate(texts: Iterable[str], training: Iterable[str]) -> float:
    """Share of ``texts`` that are verbatim training captions (compared by caption_key)."""
    seen = {caption_key(t) for t in training}
    keys = [caption_key(t) for t in texts]
    return sum(k in seen for k in keys) / len(keys) if keys else 0.0


def fresh_rates(runs: Iterable[Iterable[str]]) -> list[float]:
    """Per run, the share of its captions never produced by an earlier run (nor earlier in the run)."""
    seen: set[str] = set()
    rates = []
    for texts in runs:
        keys = [caption_key(t) for t in texts]
        new = 0
        for k in keys:
            new += k not in seen
            seen.add(k)
        rates.append(new / len(keys) if keys else 0.0)
    return rates


def spread(values: Sequence[float]) -> dict[str, float]:
    """p10 / p50 / p90 of a list of scores."""
    p10, p50, p90 = np.percentile(np.asarray(values, dtype=float), [10, 50, 90])
    return {"p10": float(p10), "p50": float(p50), "p90": float(p90)}
