"""A small learned text embedding: topics as clusters of words that appear together in captions.

Fitted once (pure, seeded) from the captions the generators produce, before any engagement is
known: positive pointwise mutual information of words within a caption, reduced by SVD, clustered
by k-means. A caption then carries one binary feature per topic it touches, so what the audience
teaches about "monday" also moves "alarm" and "commute". Named by the topic's commonest words.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

MAX_VOCAB = 1500


@dataclass(frozen=True)
class Topics:
    words: tuple[str, ...]  # the clustered vocabulary
    ids: tuple[int, ...]  # topic of each word
    labels: tuple[str, ...]  # per topic: its commonest words, joined by "/"

    def lookup(self) -> dict[str, str]:
        """word -> topic feature name."""
        return {w: f"topic={self.labels[t]}" for w, t in zip(self.words, self.ids)}


def fit_topics(captions: Iterable[Sequence[str]], *, k: int = 16, dims: int = 16, min_count: int = 3,
               min_closeness: float = 0.6, min_strength: float = 0.5, seed: int = 0) -> Topics | None:
    """Topics of content-word lists (None when there is too little text to find any)."""
    from scipy.sparse import csr_matrix  # only a refit needs scipy: a generate run never imports it
    from scipy.sparse.linalg import svds

    docs = [set(c) for c in captions if c]
    counts = Counter(w for d in docs for w in d)
    # Sorted by count then word: the fit must not depend on the interpreter's string hash seed.
    vocab = [w for w, n in sorted(counts.items(), key=lambda wn: (-wn[1], wn[0]))[:MAX_VOCAB] if n >= min_count]
    if len(vocab) < 8:
        return None
    k, dims = max(2, min(k, len(vocab) // 3)), min(dims, len(vocab) - 2)  # a small vocabulary: fewer topics
    index = {w: i for i, w in enumerate(vocab)}
    rows = [i for i, d in enumerate(docs) for w in d if w in index]
    cols = [index[w] for d in docs for w in d if w in index]
    D = csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(docs), len(vocab)))
    C = (D.T @ D).toarray()
    np.fill_diagonal(C, 0.0)
    total = C.sum()
    if total <= 0:
        return None
    p = C.sum(axis=1) / total
    with np.errstate(divide="ignore", invalid="ignore"):
        pmi = np.log((C / total) / np.outer(p, p))
    ppmi = np.where(np.isfinite(pmi) & (pmi > 0), pmi, 0.0)
    u, s, _ = svds(ppmi, k=dims, random_state=seed)
    vectors = u * np.sqrt(s)
    # A word's embedding is as long as its associations are strong: a word that goes with
    # everything equally (literally, again, today) co-occurs at chance, its PPMI row is thin and
    # its vector short, and its direction is noise. Such words carry no topic: clustered they would
    # tie unrelated captions together.
    strength = np.linalg.norm(vectors, axis=1)
    vectors /= np.maximum(strength[:, None], 1e-9)
    ids, closeness = _kmeans(vectors, k, np.random.default_rng(seed))
    # A word between topics sits far from every centre: no topic either.
    floor = min_strength * float(np.median(strength))
    keep = [i for i in range(len(vocab)) if closeness[i] >= min_closeness and strength[i] >= floor]
    labels = []
    for t in range(k):
        members = sorted((i for i in keep if ids[i] == t), key=lambda i: (-closeness[i], vocab[i]))
        labels.append("/".join(vocab[i] for i in members[:3]) or f"topic{t}")
    return Topics(tuple(vocab[i] for i in keep), tuple(int(ids[i]) for i in keep), tuple(labels))


def _kmeans(x: np.ndarray, k: int, rng: np.random.Generator, iters: int = 30) -> tuple[np.ndarray, np.ndarray]:
    """Spherical k-means: (cluster of each row, cosine to its centre)."""
    seeds = [x[rng.integers(len(x))]]
    for _ in range(1, k):  # k-means++ seeding
        d = np.min([((x - c) ** 2).sum(axis=1) for c in seeds], axis=0)
        seeds.append(x[rng.choice(len(x), p=d / d.sum()) if d.sum() > 0 else rng.integers(len(x))])
    centres = np.array(seeds)
    ids = np.zeros(len(x), dtype=int)
    for _ in range(iters):
        ids = np.argmax(x @ centres.T, axis=1)
        for t in range(k):
            if np.any(ids == t):
                c = x[ids == t].mean(axis=0)
                centres[t] = c / max(np.linalg.norm(c), 1e-9)
    sims = x @ centres.T
    ids = np.argmax(sims, axis=1)
    return ids, sims[np.arange(len(x)), ids]
