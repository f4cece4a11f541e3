"""The tone and audience of a caption memeloop did not write, guessed from its words.

An account's imported posts (`memeloop accounts import-history`) carry no tone or audience: no writer
was steered to write them. The ranker learns tone and audience effects from the account's own posts
(the writer's settings); a guess for the imported ones lets years of history speak to those effects
too. The guess is a multinomial naive Bayes over the caption's words, word pairs and hashtags, fitted
on the writer's corpus (generator/textgen/corpus/captions.jsonl: captions labelled with the tone and
audience they were written in, the same labels the writer takes), one model per label. A caption the
model is not sure of (its best class below ``min_p``) gets no guess: an unknown tone teaches nothing,
a wrong one teaches the wrong thing. Nor does a caption unlike the corpus (fewer than ``min_known`` of
its words and word pairs ever met in it): naive Bayes is as sure of a guess made on a few common words
as on a caption it can read, so on text from elsewhere its confident guesses are close to chance (and
chance labels cost the warm start: bench/warm_start.py, all effects, seeds 1-5, 0.737 -> 0.707).

Pure: fitted from examples in memory; ``from_corpus`` reads the shipped file once.
"""
from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import pairwise
from pathlib import Path

from generator.textgen.corpus_io import Example, read_corpus

CORPUS = Path(__file__).resolve().parent / "corpus" / "captions.jsonl"
SMOOTHING = 0.5  # additive smoothing of word counts (0.5: Jeffreys; 1 over-smooths these short captions)
# A guess is kept only when its class has at least this posterior probability (measured on the corpus
# held out by topic, tests/generator/test_style.py: keeps most captions, and the kept ones are guessed
# better than all of them).
MIN_P = {"tone": 0.8, "audience": 0.8}
# Share of a caption's tokens (words, hashtags, word pairs) the corpus had, below which no guess is made:
# about the lowest fifth of captions of a topic the fit never saw (tests/generator/test_style.py), while
# a caption on another subject's vocabulary (bench/ranking.py's sim captions: 0.24 median) scores under it.
MIN_KNOWN = 0.35
_TOKEN = re.compile(r"#?[a-z0-9']+")


def tokens(text: str) -> list[str]:
    """A caption's words (hashtags kept with their '#') and its adjacent word pairs."""
    words = [w for w in _TOKEN.findall(text.lower()) if len(w.strip("#'")) > 1]
    plain = [w for w in words if not w.startswith("#")]
    return words + [f"{a}_{b}" for a, b in pairwise(plain)]


@dataclass(frozen=True)
class NaiveBayes:
    """log P(class) and log P(token | class) of one label, with the log-probability of an unseen token."""

    classes: tuple[str, ...]
    log_prior: tuple[float, ...]
    log_token: dict[str, tuple[float, ...]]
    log_unseen: tuple[float, ...]

    @classmethod
    def fit(cls, docs: Sequence[list[str]], labels: Sequence[str], smoothing: float = SMOOTHING) -> NaiveBayes:
        if not docs or len(docs) != len(labels):
            raise ValueError(f"naive Bayes needs as many labels as documents (got {len(docs)} and {len(labels)})")
        classes = tuple(sorted(set(labels)))
        counts = {c: Counter[str]() for c in classes}
        for doc, label in zip(docs, labels):
            counts[label].update(doc)
        vocab = set().union(*counts.values())
        totals = {c: sum(counts[c].values()) + smoothing * (len(vocab) + 1) for c in classes}
        n = Counter(labels)
        log_token = {t: tuple(math.log((counts[c][t] + smoothing) / totals[c]) for c in classes) for t in vocab}
        return cls(classes, tuple(math.log(n[c] / len(labels)) for c in classes), log_token,
                   tuple(math.log(smoothing / totals[c]) for c in classes))

    def known(self, doc: Sequence[str]) -> float:
        """Share of the tokens the fit met (1 for no tokens: nothing unknown)."""
        return sum(t in self.log_token for t in doc) / len(doc) if doc else 1.0

    def posterior(self, doc: Iterable[str]) -> dict[str, float]:
        """P(class | tokens) for each class."""
        score = list(self.log_prior)
        for t in doc:
            row = self.log_token.get(t)
            if row is None:  # a token the corpus never had says nothing about the class
                continue
            score = [s + v for s, v in zip(score, row)]
        top = max(score)
        odds = [math.exp(s - top) for s in score]
        total = sum(odds)
        return {c: o / total for c, o in zip(self.classes, odds)}


@dataclass(frozen=True)
class StyleGuess:
    tone: str | None  # None: not sure enough (or no classifier)
    audience: str | None
    tone_p: float  # probability of the best tone (whether kept or not)
    audience_p: float


@dataclass(frozen=True)
class StyleClassifier:
    """Tone and audience of a caption (one naive Bayes each)."""

    tone: NaiveBayes
    audience: NaiveBayes
    min_p: tuple[float, float] = (MIN_P["tone"], MIN_P["audience"])
    min_known: float = MIN_KNOWN

    @classmethod
    def fit(cls, examples: Sequence[Example], *, min_p: tuple[float, float] | None = None,
            min_known: float = MIN_KNOWN) -> StyleClassifier:
        docs = [tokens(e.text) for e in examples]
        return cls(NaiveBayes.fit(docs, [e.tone for e in examples]),
                   NaiveBayes.fit(docs, [e.audience for e in examples]),
                   min_p or (MIN_P["tone"], MIN_P["audience"]), min_known)

    @classmethod
    def from_corpus(cls, path: str | Path = CORPUS) -> StyleClassifier:
        """Fitted on the writer's corpus (the shipped one by default; fitted once per path)."""
        return _fitted(str(Path(path).resolve()))

    def guess(self, text: str) -> StyleGuess:
        doc = tokens(text)
        tone, audience = self.tone.posterior(doc), self.audience.posterior(doc)
        best_tone, best_audience = max(tone, key=tone.__getitem__), max(audience, key=audience.__getitem__)
        readable = self.tone.known(doc) >= self.min_known
        return StyleGuess(best_tone if readable and tone[best_tone] >= self.min_p[0] else None,
                          best_audience if readable and audience[best_audience] >= self.min_p[1] else None,
                          tone[best_tone], audience[best_audience])


@dataclass(frozen=True)
class Accuracy:
    """How a classifier fitted without some captions does on them: per label, the share guessed right
    of all (the best class, kept or not), the share kept (confident), and the share right of those kept."""

    n: int
    tone_all: float
    tone_kept: float
    tone_kept_right: float
    audience_all: float
    audience_kept: float
    audience_kept_right: float


def held_out(train: Sequence[Example], test: Sequence[Example]) -> Accuracy:
    """Fit on ``train``, measure on ``test``."""
    model = StyleClassifier.fit(train)
    rows = []
    for e in test:
        guess = model.guess(e.text)
        rows.append([(best == truth, kept is not None) for best, kept, truth in (
            (_best(model.tone, e.text), guess.tone, e.tone), (_best(model.audience, e.text), guess.audience, e.audience))])
    n = max(1, len(rows))

    def share(k: int) -> tuple[float, float, float]:
        kept = [right for (right, keep) in (r[k] for r in rows) if keep]
        return (sum(r[k][0] for r in rows) / n, len(kept) / n, sum(kept) / max(1, len(kept)))

    return Accuracy(len(rows), *share(0), *share(1))


def _best(nb: NaiveBayes, text: str) -> str:
    post = nb.posterior(tokens(text))
    return max(post, key=post.__getitem__)


def split_by_topic(examples: Sequence[Example], topic: str) -> tuple[list[Example], list[Example]]:
    """(captions of other topics, captions of ``topic``): a held-out set whose lines the fit never saw."""
    return [e for e in examples if e.topic != topic], [e for e in examples if e.topic == topic]


@lru_cache(maxsize=4)
def _fitted(path: str) -> StyleClassifier:
    return StyleClassifier.fit(read_corpus(path))
