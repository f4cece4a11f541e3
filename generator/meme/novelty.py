"""Is a generated caption new? Word-level checks against the captions a bundle was trained on.

A caption is compared by its words only: case, punctuation and apostrophes aside ("Relax, I got
this!" and "relax i got this" are the same caption; "don't" and "dont" the same word). It is a copy
when it is

- the same words as a training caption,
- one word away from one: one word inserted, dropped or swapped ("one does not simply walk into a
  page" against "... into mordor"), when the longer of the two has at least three words (two-word
  captions that differ in a word are different jokes: "me too" / "you too"), or
- shares a run of six or more words in a row with one, or
- is a piece cut out of one: its words are a shorter run of one training caption ("the wall of my
  procrastination" from "another brick in the wall of my procrastination", "this is my box" from
  "this is my box now and this is also my box"). A piece is no new joke, only a part of someone
  else's, and mostly a bland noun phrase.

The index is built once per bundle load from the training captions' word keys (``captions.txt`` in
the bundle) and holds only 64-bit hashes of keys, one-word-dropped keys, one-word-wildcard keys and
six-word runs and shorter pieces, in one sorted NumPy array (memefly's 20k captions: about 5 MB). A check hashes
O(words) small tuples and does one binary search over them: tens of microseconds, so it runs on
every finished beam hypothesis.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np

from generator.meme.vocab import normalize

RUN = 6  # words in a row a caption may not share with a training caption
MIN_EDIT_WORDS = 3  # the one-word rule applies when the longer caption has at least this many words
_WILD = "\x00"
_APOSTROPHES = re.compile(r"['\u2019\u2018\u02bc]")
_WORD = re.compile(r"[^\W_]+")


def words(text: str) -> tuple[str, ...]:
    """The caption's words: lower-cased, NFKC-normalised, punctuation and apostrophes dropped."""
    return tuple(_WORD.findall(_APOSTROPHES.sub("", normalize(text))))


def word_key(text: str) -> str:
    return " ".join(words(text))


def _dropped(w: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    return (w[:i] + w[i + 1:] for i in range(len(w)))


def _wild(w: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    return (w[:i] + (_WILD,) + w[i + 1:] for i in range(len(w)))


def _runs(w: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    return (w[i:i + RUN] for i in range(len(w) - RUN + 1))


# What a hashed entry is; a probe of one kind only ever meets entries of the same kind.
_KEY, _DROPPED, _WILDCARD, _RUN, _PIECE = "k", "d", "w", "r", "p"


def _pieces(w: tuple[str, ...]) -> Iterator[tuple[str, ...]]:
    """Every run of fewer than RUN words, shorter than the caption (longer runs are the RUN rule)."""
    return (w[i:i + n] for n in range(1, min(RUN, len(w))) for i in range(len(w) - n + 1))


def _entries(w: tuple[str, ...]) -> Iterator[tuple]:
    yield (_KEY, *w)
    yield from ((_RUN, *r) for r in _runs(w))
    yield from ((_PIECE, *p) for p in _pieces(w))
    if len(w) >= MIN_EDIT_WORDS:
        yield from ((_DROPPED, *d) for d in _dropped(w))
        yield from ((_WILDCARD, *v) for v in _wild(w))


class NoveltyIndex:
    """The training captions of one bundle, indexed for `problem`.

    One sorted int64 array of the hashes (Python's tuple hash: the index lives in one process) of
    every entry kind; a check hashes its probes and looks them all up with one searchsorted."""

    def __init__(self, captions: Iterable[str]):
        keys = {words(c) for c in captions}
        keys.discard(())
        self.size = len(keys)
        self._table = np.unique(np.fromiter((hash(e) for k in keys for e in _entries(k)), dtype=np.int64))

    def _probes(self, w: tuple[str, ...]) -> list[tuple[str, list[tuple]]]:
        """(reason, probes) in the order reasons are reported."""
        checks = [("is a training caption (case and punctuation aside)", [(_KEY, *w)])]
        if len(w) >= MIN_EDIT_WORDS - 1:
            checks.append(("is a training caption with one word dropped", [(_DROPPED, *w)]))
        if len(w) >= MIN_EDIT_WORDS:
            checks.append(("is a training caption with one word added", [(_KEY, *d) for d in _dropped(w)]))
            checks.append(("is a training caption with one word changed", [(_WILDCARD, *v) for v in _wild(w)]))
        checks.append((f"shares a run of {RUN} or more words with a training caption", [(_RUN, *r) for r in _runs(w)]))
        if len(w) < RUN:
            checks.append(("is a piece cut out of a training caption", [(_PIECE, *w)]))
        return checks

    def problem(self, text: str) -> str | None:
        """Why `text` is not a new caption (in words), or None when it is new."""
        w = words(text)
        if not w or not self._table.size:
            return None
        checks = self._probes(w)
        probe = np.fromiter((hash(p) for _, group in checks for p in group), dtype=np.int64)
        at = np.minimum(np.searchsorted(self._table, probe), self._table.size - 1)
        hits = (self._table[at] == probe).tolist()
        i = 0
        for reason, group in checks:
            if any(hits[i:i + len(group)]):
                return reason
            i += len(group)
        return None

    def is_copy(self, text: object) -> bool:
        return self.problem(str(text)) is not None


def write_caption_keys(path: Path, captions: Iterable[str]) -> None:
    """The training captions' word keys, sorted and unique, one a line (a bundle's captions.txt)."""
    keys = sorted({word_key(c) for c in captions} - {""})
    path.write_text("".join(k + "\n" for k in keys), encoding="utf-8")


def read_caption_keys(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
