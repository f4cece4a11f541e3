"""A word-bigram model of ordinary English, from the frequency lists the symspellpy package ships.

symspellpy (PyPI, MIT) ships two count files built from Google Books n-grams: 82,765 words and
243,342 frequent word pairs. Nothing is downloaded; the files are read once per process (about
0.15 s; the pair counts only when a pair's probability is asked for, which the gates never do).
The model is "stupid backoff" (Brants et al. 2007): a pair seen in the list scores
log(0.5 * c(ab) / c(a*)) (c(a*): the listed pairs that start with a); an unseen pair backs off to 0.4 * P(b). It knows nothing of memes or of the
caption writer's corpus, so it is not the model that wrote the caption.
"""
from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Set as AbstractSet
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

BACKOFF = 0.4
COVERAGE = 0.5  # share of what follows a word that its listed pairs cover (the rest backs off)
UNIGRAMS = "frequency_dictionary_en_82_765.txt"
BIGRAMS = "frequency_bigramdictionary_en_243_342.txt"
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@dataclass(frozen=True)
class Pair:
    first: str
    second: str
    logprob: float  # natural log P(second | first) under the model
    seen: bool  # the pair is in the shipped bigram list


class English:
    """Word and pair counts of ordinary English. Build with ``english()`` (cached).

    ``bigrams`` may be given as a function that reads them: the gates ask only whether a pair is
    listed (``seen``, answered from ``pairs``), so the counts and the sums over them are read the
    first time a pair's probability is asked for."""

    def __init__(self, unigrams: dict[str, int], bigrams: dict[str, int] | Callable[[], dict[str, int]],
                 pairs: AbstractSet[str] | None = None) -> None:
        self.unigrams = unigrams
        self._bigrams = bigrams if callable(bigrams) else (lambda: bigrams)
        self._pairs = pairs
        self.total = float(sum(unigrams.values()))
        self._floor = math.log(BACKOFF * 0.5 / self.total)  # a word the list has never seen

    @cached_property
    def bigrams(self) -> dict[str, int]:
        return self._bigrams()

    @cached_property
    def _after(self) -> dict[str, int]:
        # The two lists come from different counts: a pair's probability is read against the listed
        # pairs that start with the same word (COVERAGE of what follows it), not against c(a).
        after: dict[str, int] = {}
        for key, c in self.bigrams.items():
            a = key.partition(" ")[0]
            after[a] = after.get(a, 0) + c
        return after

    def seen(self, first: str, second: str) -> bool:
        """The pair is in the shipped bigram list (what ``pair(first, second).seen`` says)."""
        return f"{first} {second}" in (self._pairs if self._pairs is not None else self.bigrams)

    def known(self, word: str) -> bool:
        return _base(word) in self.unigrams or word in self.unigrams

    def count(self, word: str) -> int:
        return self.unigrams.get(word) or self.unigrams.get(_base(word), 0)

    def zipf(self, word: str) -> float:
        """log10 frequency per billion words (wordfreq's Zipf scale): 'the' ~7.4, a rare word ~2."""
        c = self.count(word)
        return math.log10(c / self.total * 1e9) if c else 0.0

    def pair(self, first: str, second: str) -> Pair:
        c_ab = self.bigrams.get(f"{first} {second}")
        if c_ab:
            return Pair(first, second, math.log(COVERAGE * c_ab / self._after[first]), True)
        c_b = self.count(second)
        return Pair(first, second, math.log(BACKOFF * c_b / self.total) if c_b else self._floor, False)

    def pairs(self, text: str) -> list[Pair]:
        words = words_of(text)
        return [self.pair(a, b) for a, b in itertools.pairwise(words)]

    def mean_logprob(self, text: str) -> float:
        scored = self.pairs(text)
        return sum(p.logprob for p in scored) / len(scored) if scored else 0.0


def words_of(text: str) -> list[str]:
    return _WORD.findall(text.casefold().replace("\u2019", "'"))


def _base(word: str) -> str:
    return word.split("'")[0] if "'" in word else word


def _text(name: str) -> str:
    return resources.files("symspellpy").joinpath(name).read_text(encoding="utf-8")


def _read(name: str) -> dict[str, int]:
    """``words -> count`` of one of symspellpy's files (a pair's key is "first second")."""
    out: dict[str, int] = {}
    for line in _text(name).splitlines():
        key, _, count = line.rpartition(" ")
        if key:
            out[key] = int(count)
    return out


def _read_words(name: str) -> dict[str, int]:
    """``_read`` of the word list, whose lines are "word count": split in one pass (a third faster)."""
    tokens = _text(name).split()
    return dict(zip(tokens[0::2], map(int, tokens[1::2])))


_KEY = re.compile(r"^(.+) \d+$", re.MULTILINE)


def _read_keys(name: str) -> frozenset[str]:
    """The keys of ``_read(name)`` without their counts (half the time: no int per line)."""
    return frozenset(_KEY.findall(_text(name)))


@lru_cache(maxsize=1)
def english() -> English:
    """The model from symspellpy's lists, read once per process; the pair counts only when a pair's
    probability is first asked for (the gates ask only ``seen``)."""
    return English(_read_words(UNIGRAMS), lambda: _read(BIGRAMS), _read_keys(BIGRAMS))
