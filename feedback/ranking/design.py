"""The ranker's design matrix: feature names -> columns, candidates -> rows, a batch at a time.

``Design`` owns a ranker's feature index. ``Design.encode`` turns candidates into a ``Batch`` whose
rows hold the values of features.encode plus the caption's topics (``Design.reference``; a test pins
the two together). Columns are numbered in the order a row-by-row walk over the candidates first
meets each feature, so encoding a batch at once or one candidate at a time builds the same index;
past ``max_features`` a new name shares one of HASH_BUCKETS hash columns.

The work is done on integer arrays, not per row: each group of features.structured_key is read once
per distinct value of the fields it depends on (GROUP_FIELDS); words and word pairs become integer
ids (a pair's hashed bigram bucket is computed once per design); only the rows where a feature first
appears are walked one by one. The ``Batch`` (feedback.ranking.batch) keeps the structured part as key ids per group
(few distinct keys, each a fixed set of columns) and the rest as a sparse matrix.
"""
from __future__ import annotations

import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import chain, count
from operator import attrgetter, itemgetter

import numpy as np

from feedback.ranking.batch import Batch, Entries, by_row
from feedback.ranking.features import (
    BIGRAM_BUCKETS,
    BIGRAM_VALUE,
    CandidateFeatures,
    bigram_name,
    encode,
    numeric,
    structured,
    structured_key,
)
from feedback.ranking.sparse import Rows
from feedback.ranking.topics import Topics

HASH_BUCKETS = 64  # features past max_features share these (named hash:<n>)
# The fields each group of features.structured_key reads: candidates equal on a group's fields
# have the same key in that group, so a key is computed once per distinct value of its fields
# (keep in step with structured_key; the encoding test varies every field).
GROUP_FIELDS = (("generator", "template", "hour"), ("tone", "audience"),
                ("account", "length_words", "hashtags", "beam_rank", "weekday"))
_group_fields = tuple(attrgetter(*fields) for fields in GROUP_FIELDS)
_EMPTY = np.zeros(0, dtype=np.int64)


class Design:
    """A ranker's feature index (names and columns, grown as features appear) and its encoder."""

    def __init__(self, topics: Topics | None = None, max_features: int = 600, names: Iterable[str] = ()) -> None:
        self.max_features = max_features
        self._topic_of = topics.lookup() if topics is not None else {}
        self.names: list[str] = list(names)
        self.index: dict[str, int] = {n: i for i, n in enumerate(self.names)}
        groups = range(len(GROUP_FIELDS))
        self._keys: tuple[dict[tuple, int], ...] = tuple({} for _ in groups)  # structured key -> key id
        self._key_cols: tuple[list[np.ndarray], ...] = tuple([] for _ in groups)  # key id -> columns
        self._memo: tuple[dict[tuple, int], ...] = tuple({} for _ in groups)  # the group's fields -> key id
        self._wid: dict[str, int] = {}  # word -> id
        self._words: list[str] = []
        self._wcol = _EMPTY  # per word id: its column, and its topic's column (-1: none yet)
        self._tcol = _EMPTY
        self._pair_codes = _EMPTY  # sorted codes of word-id pairs met so far, and their bigram buckets
        self._pair_buckets = _EMPTY
        self._num_cols: dict[str, int] = {}

    def reference(self, f: CandidateFeatures) -> dict[str, float]:
        """The encoding of a candidate by name, row by row (features.encode + topics)."""
        x = encode(f)
        for t in {self._topic_of[w] for w in f.words if w in self._topic_of}:
            x[t] = 1.0
        return x

    def matrix(self, feats: Sequence[CandidateFeatures]) -> Rows:
        return self.encode(feats).matrix()

    # -- names -> columns -----------------------------------------------------------------------
    def col(self, name: str) -> int:
        """The column of ``name``, created if need be (past the cap: a shared hash column)."""
        i = self.index.get(name)
        if i is None:
            if len(self.names) >= self.max_features and not name.startswith("hash:"):
                return self.col(f"hash:{zlib.crc32(name.encode()) % HASH_BUCKETS}")
            i = self.index[name] = len(self.names)
            self.names.append(name)
        return i

    def known_col(self, name: str) -> int:
        """The column ``col`` would give ``name`` without creating one (-1 if it would)."""
        i = self.index.get(name)
        if i is None and len(self.names) >= self.max_features and not name.startswith("hash:"):
            return self.known_col(f"hash:{zlib.crc32(name.encode()) % HASH_BUCKETS}")
        return -1 if i is None else i

    # -- candidates -> rows ---------------------------------------------------------------------
    def encode(self, feats: Sequence[CandidateFeatures]) -> Batch:
        """The rows of ``feats``, growing the index as needed."""
        n = len(feats)
        groups = _Structured.of(self, feats)
        words = _Words.of(self, feats)
        num_pairs, num_lens = _flatten(map(numeric, feats))
        num_rows = np.repeat(np.arange(n), num_lens)
        unseen = groups.first | words.unseen(self) | self._unseen_numeric(num_pairs, num_rows)
        for r in sorted(unseen):
            self._register(feats[r])
        width = len(self.names)
        keys, blocks = [], []
        for g, ids in enumerate(groups.key_ids(self, feats)):
            distinct, local = np.unique(ids, return_inverse=True)
            keys.append(local.reshape(-1).astype(np.int64))
            blocks.append(_block([self._key_cols[g][k] for k in distinct.tolist()], width))
        num_cols = np.fromiter(map(self._num_cols.__getitem__, map(itemgetter(0), num_pairs)), np.int64, len(num_pairs))
        num_vals = np.fromiter(map(itemgetter(1), num_pairs), float, len(num_pairs))
        rest = words.rest(self, n, width, (num_rows, num_cols, num_vals))
        return Batch(tuple(keys), tuple(blocks), rest)

    @staticmethod
    def checked_key(f: CandidateFeatures) -> tuple[tuple, ...]:
        """features.structured_key, with as many groups as GROUP_FIELDS names."""
        key = structured_key(f)
        if len(key) != len(GROUP_FIELDS):
            raise RuntimeError(f"features.structured_key has {len(key)} groups, design.GROUP_FIELDS names "
                               f"{len(GROUP_FIELDS)}: keep them in step")
        return key

    def _unseen_numeric(self, pairs: list[tuple[str, float]], rows: np.ndarray) -> set[int]:
        """Rows where a numeric feature without a column first appears."""
        names = list(map(itemgetter(0), pairs))
        out = set()
        for name in set(names).difference(self._num_cols):
            c = self.known_col(name)
            if c < 0:
                out.add(int(rows[names.index(name)]))
            else:
                self._num_cols[name] = c
        return out

    def _register(self, f: CandidateFeatures) -> None:
        """Give a row's features their columns in the order a row-by-row walk meets them."""
        for g, key in enumerate(self.checked_key(f)):
            if key not in self._keys[g]:
                self._keys[g][key] = len(self._key_cols[g])
                self._key_cols[g].append(np.array([self.col(n) for n in structured(g, key)], dtype=np.int64))
        for w in dict.fromkeys(f.words):
            i = self._wid[w]
            if self._wcol[i] < 0:
                self._wcol[i] = self.col("word=" + w)
                if w in self._topic_of:
                    self._tcol[i] = self.col(self._topic_of[w])
        for a, b in zip(f.words, f.words[1:]):
            self.col(bigram_name(a, b))
        for name, _ in numeric(f):
            self._num_cols[name] = self.col(name)

    def word_ids(self, flat: list[str]) -> np.ndarray:
        """Integer ids of words (new words get the next ids, in order)."""
        ids = _ids(self._wid, flat, len(flat))
        firsts = _new_firsts(ids)
        if len(firsts):
            start = len(self._words)
            for i in firsts.tolist():
                self._wid[flat[i]] = len(self._words)
                self._words.append(flat[i])
            grow = np.full(len(firsts), -1, dtype=np.int64)
            self._wcol, self._tcol = np.concatenate([self._wcol, grow]), np.concatenate([self._tcol, grow])
            ids = _settle(ids, firsts, np.arange(start, len(self._words)))
        return ids

    def pair_buckets(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Hashed bigram bucket of each word-id pair (the crc is computed once per distinct pair)."""
        distinct, inverse = np.unique((a << 32) | b, return_inverse=True)
        pos = np.searchsorted(self._pair_codes, distinct)
        known = pos < len(self._pair_codes)
        known[known] = self._pair_codes[pos[known]] == distinct[known]
        if not known.all():
            fresh = distinct[~known]
            words = self._words
            buckets = [int(bigram_name(words[c >> 32], words[c & 0xFFFFFFFF]).split("#")[1]) for c in fresh.tolist()]
            merged = np.concatenate([self._pair_codes, fresh])
            order = np.argsort(merged, kind="stable")
            self._pair_codes = merged[order]
            self._pair_buckets = np.concatenate([self._pair_buckets, np.array(buckets, dtype=np.int64)])[order]
            pos = np.searchsorted(self._pair_codes, distinct)
        return self._pair_buckets[pos][inverse.reshape(-1)]

    def bucket_cols(self) -> np.ndarray:
        """Per bigram bucket, its column (-1: none yet)."""
        return np.array([self.known_col(f"bigram#{k}") for k in range(BIGRAM_BUCKETS)], dtype=np.int64)


@dataclass(frozen=True)
class _Structured:
    """Per structured group: each row's key id (as ``_ids`` gives them: -1 - first row for values
    of the group's fields not met before), those first rows and their keys; and the rows where a
    key without columns first appears."""

    ids: tuple[np.ndarray, ...]
    firsts: tuple[np.ndarray, ...]
    keys: tuple[list[tuple], ...]
    first: set[int]

    @classmethod
    def of(cls, design: Design, feats: Sequence[CandidateFeatures]) -> _Structured:
        ids, firsts, keys, first = [], [], [], set()
        for g, (get, memo) in enumerate(zip(_group_fields, design._memo)):
            known = _ids(memo, map(get, feats), len(feats))
            rows = _new_firsts(known)
            met: set[tuple] = set()
            news = []
            for r in rows.tolist():  # in row order: a new key's first row comes first
                key = design.checked_key(feats[r])[g]
                news.append(key)
                if key not in design._keys[g] and key not in met:
                    met.add(key)
                    first.add(r)
            ids.append(known)
            firsts.append(rows)
            keys.append(news)
        return cls(tuple(ids), tuple(firsts), tuple(keys), first)

    def key_ids(self, design: Design, feats: Sequence[CandidateFeatures]) -> list[np.ndarray]:
        """Per group, each row's key id (once the new keys have their columns)."""
        out = []
        for g, (get, ids, rows, keys) in enumerate(zip(_group_fields, self.ids, self.firsts, self.keys)):
            fixed = [design._keys[g][key] for key in keys]
            for r, i in zip(rows.tolist(), fixed):
                design._memo[g][get(feats[r])] = i
            out.append(_settle(ids, rows, np.array(fixed, dtype=np.int64)))
        return out


@dataclass(frozen=True)
class _Words:
    """The captions' words of a batch as integer arrays: per word its row and id; per adjacent
    pair its row and bigram bucket."""

    rows: np.ndarray
    ids: np.ndarray
    pair_rows: np.ndarray
    buckets: np.ndarray

    @classmethod
    def of(cls, design: Design, feats: Sequence[CandidateFeatures]) -> _Words:
        texts = [f.words for f in feats]
        lens = np.fromiter(map(len, texts), np.int64, len(texts))
        ids = design.word_ids(list(chain.from_iterable(texts)))
        rows = np.repeat(np.arange(len(texts)), lens)
        nexts = np.flatnonzero(rows[1:] == rows[:-1]) if len(rows) else _EMPTY
        return cls(rows, ids, rows[nexts], design.pair_buckets(ids[nexts], ids[nexts + 1]))

    def unseen(self, design: Design) -> set[int]:
        """Rows where a word or a bigram bucket without a column first appears."""
        out: set[int] = set()
        for missing, values, at in ((design._wcol[self.ids] < 0, self.ids, self.rows),
                                    (design.bucket_cols()[self.buckets] < 0, self.buckets, self.pair_rows)):
            if missing.any():
                out.update(at[missing][_firsts(values[missing])].tolist())
        return out

    def rest(self, design: Design, n: int, width: int, numeric: Entries) -> Rows:
        """The non-structured part of the rows: each word once, each topic and each bigram bucket
        once per caption, plus the numeric features."""
        words = _distinct(self.rows * len(design._words) + self.ids) if len(self.ids) else _EMPTY
        w_rows, w_ids = np.divmod(words, max(len(design._words), 1))
        topics = design._tcol[w_ids]
        has = topics >= 0
        parts: list[Entries] = [(w_rows, design._wcol[w_ids], np.ones(len(w_ids)))]
        for rows, cols, value in ((w_rows[has], topics[has], 1.0),
                                  (self.pair_rows, design.bucket_cols()[self.buckets], BIGRAM_VALUE)):
            cells = _distinct(rows * width + cols)  # a topic (a bucket) counts once per caption
            parts.append((cells // width, cells % width, np.full(len(cells), value)))
        parts.append(numeric)
        return by_row(parts, n, width)


def _block(columns: list[np.ndarray], width: int) -> Rows:
    """One row per key: its columns (a column twice, when two names share a hash column, counts 2)."""
    lens = np.fromiter(map(len, columns), np.int64, len(columns))
    indices = np.concatenate(columns) if columns else _EMPTY
    return Rows.from_coo(np.repeat(np.arange(len(columns)), lens), indices, np.ones(len(indices)),
                         (len(columns), width))


def _flatten(lists: Iterable[list]) -> tuple[list, np.ndarray]:
    """The items of the lists in order, and each list's length (the lists are not kept)."""
    flat: list = []
    lens = []
    for items in lists:
        flat.extend(items)
        lens.append(len(items))
    return flat, np.array(lens, dtype=np.int64)


def _ids(memo: dict, keys: Iterable, n: int) -> np.ndarray:
    """Each of the ``n`` keys' id in ``memo``; a key it lacks gets -1 - the index where it first
    occurs (one pass: setdefault on a copy, fed a countdown)."""
    return np.fromiter(map(memo.copy().setdefault, keys, count(-1, -1)), np.int64, n)


def _new_firsts(ids: np.ndarray) -> np.ndarray:
    """The first indices of the keys ``_ids`` did not know, in order."""
    return np.unique(-1 - ids[ids < 0])


def _settle(ids: np.ndarray, firsts: np.ndarray, fixed: np.ndarray) -> np.ndarray:
    """``_ids`` with the keys first met at ``firsts`` given their ids ``fixed``."""
    new = ids < 0
    if not new.any():
        return ids
    at = np.empty(int(firsts[-1]) + 1, dtype=np.int64)
    at[firsts] = fixed
    out = ids.copy()
    out[new] = at[-1 - ids[new]]
    return out


def _firsts(values: np.ndarray) -> np.ndarray:
    """Index of the first occurrence of each distinct value (of non-negative integers)."""
    n = len(values)
    ordered = np.sort(values * n + np.arange(n))  # by value, then position
    return ordered[np.concatenate([[True], ordered[1:] // n != ordered[:-1] // n])] % n


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values (np.unique, by sorting: faster than its hash path on these sizes)."""
    ordered = np.sort(values)
    return ordered[np.concatenate([[True], ordered[1:] != ordered[:-1]])] if len(ordered) else ordered
