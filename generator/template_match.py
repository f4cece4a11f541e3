"""Text -> meme template: a learned linear map from a hashed n-gram embedding to templates.

In the spirit of a linear map from a sentence encoder to image classes: the text is embedded as
hashed word uni/bi-grams and character 3-5-grams (signed feature hashing, sublinear counts, L2
normalised), and a softmax regression trained on the captioner's own caption corpus (every
template's captions, generator/meme/data) maps it to the templates. NumPy and SciPy sparse,
deterministic,
fitted in about a second on the demo corpus; ``version`` names the corpus and the settings.
"""
from __future__ import annotations

import hashlib
import itertools
import re
import unicodedata
import zipfile
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator import DataError

DIM = 1 << 14
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class MatchSettings:
    dim: int = DIM
    l2: float = 1e-4
    steps: int = 200
    lr: float = 0.5
    char_ngrams: tuple[int, ...] = (3, 4, 5)


@dataclass(frozen=True)
class TemplateScore:
    slug: str
    prob: float


def _tokens(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return _WORD.findall(folded)


def _grams(text: str, char_ngrams: Sequence[int]) -> list[str]:
    words = _tokens(text)
    grams = [f"w:{w}" for w in words] + [f"b:{a}_{b}" for a, b in itertools.pairwise(words)]
    for word in words:
        padded = f"<{word}>"
        grams += [f"c:{padded[i:i + n]}" for n in char_ngrams for i in range(max(1, len(padded) - n + 1))]
    return grams


def _bucket(gram: str, dim: int) -> tuple[int, float]:
    h = zlib.crc32(gram.encode())
    return h % dim, 1.0 if (h >> 31) & 1 else -1.0


def embed(texts: Sequence[str], settings: MatchSettings = MatchSettings()):
    """[N, dim] sparse CSR float32: signed hashed n-gram counts, log(1 + count), rows L2-normalised."""
    from scipy.sparse import csr_matrix

    indptr: list[int] = [0]
    indices: list[int] = []
    values: list[float] = []
    for text in texts:
        counts: dict[int, float] = {}
        for gram in _grams(text, settings.char_ngrams):
            index, sign = _bucket(gram, settings.dim)
            counts[index] = counts.get(index, 0.0) + sign
        row = np.array([np.sign(v) * np.log1p(abs(v)) for v in counts.values()], dtype=np.float32)
        norm = float(np.linalg.norm(row)) if len(row) else 0.0
        indices.extend(counts)
        values.extend((row / norm) if norm > 0 else row)
        indptr.append(len(indices))
    return csr_matrix((np.asarray(values, dtype=np.float32), np.asarray(indices, dtype=np.int64), indptr),
                      shape=(len(texts), settings.dim))


def _softmax(z: np.ndarray) -> np.ndarray:
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


class TemplateMatcher:
    """Softmax regression over template slugs. Build with ``fit``."""

    def __init__(self, slugs: Sequence[str], weights: np.ndarray, bias: np.ndarray, settings: MatchSettings,
                 version: str) -> None:
        self.slugs, self.weights, self.bias = tuple(slugs), weights, bias
        self.settings, self.version = settings, version

    @classmethod
    def fit(cls, texts: Sequence[str], labels: Sequence[str], settings: MatchSettings = MatchSettings(),
            ) -> TemplateMatcher:
        """Full-batch gradient descent with momentum on the mean cross-entropy + L2 (deterministic)."""
        if len(texts) != len(labels) or not texts:
            raise DataError(f"template matcher needs captions with their templates (got {len(texts)} "
                            f"texts, {len(labels)} labels)")
        slugs = sorted(set(labels))
        if len(slugs) < 2:
            raise DataError("template matcher needs captions of at least 2 templates")
        x = embed(texts, settings)
        xt = x.T.tocsr()
        y = np.zeros((len(texts), len(slugs)), dtype=np.float32)
        y[np.arange(len(texts)), [slugs.index(lb) for lb in labels]] = 1.0
        w = np.zeros((settings.dim, len(slugs)), dtype=np.float32)
        b = np.zeros(len(slugs), dtype=np.float32)
        vw, vb = np.zeros_like(w), np.zeros_like(b)
        for _ in range(settings.steps):
            grad = (_softmax(np.asarray(x @ w) + b) - y) / len(texts)
            vw = 0.9 * vw + xt @ grad + settings.l2 * w
            vb = 0.9 * vb + grad.sum(axis=0)
            w -= settings.lr * vw
            b -= settings.lr * vb
        return cls(slugs, w, b, settings, corpus_version(texts, labels, settings))

    def save(self, path: Path) -> None:
        """Weights and slugs in one .npz (written beside, then moved: never half a file)."""
        tmp = path.with_name(f".{path.name}.tmp.npz")
        np.savez(tmp, weights=self.weights, bias=self.bias, slugs=np.array(self.slugs), version=self.version)
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, version: str, settings: MatchSettings = MatchSettings()) -> TemplateMatcher | None:
        """The matcher saved at ``path`` if it is the one ``version`` names, else None (refit)."""
        try:
            with np.load(path) as f:
                if str(f["version"]) != version:
                    return None
                return cls([str(s) for s in f["slugs"]], f["weights"], f["bias"], settings, version)
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile):
            return None

    def probabilities(self, texts: Sequence[str]) -> np.ndarray:
        return _softmax(np.asarray(embed(texts, self.settings) @ self.weights) + self.bias)

    def rank(self, text: str, k: int = 4) -> list[TemplateScore]:
        """The k templates the text is most like, best first."""
        if not _tokens(text):
            raise DataError(f"{text!r} has no words to match a template by")
        probs = self.probabilities([text])[0]
        order = np.argsort(-probs, kind="stable")[:k]
        return [TemplateScore(self.slugs[i], float(probs[i])) for i in order]


def corpus_version(texts: Sequence[str], labels: Sequence[str], settings: MatchSettings = MatchSettings()) -> str:
    """Names a fit: the settings and every (template, caption) pair, in order."""
    digest = hashlib.sha256(repr((settings, sorted(set(labels)))).encode())
    for text, label in zip(texts, labels):
        digest.update(f"{label}\t{text}\n".encode())
    return f"tm-{digest.hexdigest()[:12]}"


def fit_from_dataset(dataset, settings: MatchSettings = MatchSettings(), *, cache: Path | None = None
                     ) -> TemplateMatcher:
    """A matcher trained on a generator.meme.data.Dataset (the captioner's training corpus). With
    ``cache`` (an .npz path) a fit of the same corpus and settings is read back instead of refitted."""
    texts, labels = [c.text for c in dataset.captions], [c.template for c in dataset.captions]
    if cache is not None:
        found = TemplateMatcher.load(cache, corpus_version(texts, labels, settings), settings)
        if found is not None:
            return found
    matcher = TemplateMatcher.fit(texts, labels, settings)
    if cache is not None:
        matcher.save(cache)
    return matcher
