"""A batch of design-matrix rows (feedback.ranking.design) and the products the ranker needs.

X = sum over structured groups g of onehot(keys[g]) @ blocks[g], plus rest: few distinct keys per
group, each a fixed set of columns, so X'SX is mostly small dense products of weighted key
co-counts; the rest (words, topics, bigrams, numeric) is one sparse matrix. All of it is
feedback.ranking.sparse ``Rows``: a generate run scores without importing scipy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from feedback.ranking.sparse import Rows

Entries = tuple[np.ndarray, np.ndarray, np.ndarray]  # (rows, columns, values) of matrix entries
DENSE_GRAM = 1 << 16  # rows x used columns up to which a batch's X'SX is one dense product


@dataclass(frozen=True)
class Batch:
    """Rows of the design matrix X = sum over groups g of onehot(keys[g]) @ blocks[g], plus rest.

    ``blocks[g]`` has one row per distinct structured key of group g in the batch (its columns, with
    counts); ``keys[g]`` is each row's index into it; ``rest`` holds words, topics, bigrams and the
    numeric features."""

    keys: tuple[np.ndarray, ...]
    blocks: tuple[Rows, ...]
    rest: Rows

    @property
    def shape(self) -> tuple[int, int]:
        n, width = self.rest.shape
        return int(n), int(width)

    def matrix(self) -> Rows:
        """X as one canonical CSR matrix (duplicates summed, columns sorted within a row)."""
        rows, cols, vals = (np.concatenate(p) for p in zip(*self._entries()))
        return Rows.from_coo(rows, cols, vals, self.shape)

    def dot(self, w: np.ndarray) -> np.ndarray:
        """X @ w."""
        out = self.rest @ w
        for k, b in zip(self.keys, self.blocks):
            out += (b @ w)[k]
        return out

    def project(self, v: np.ndarray) -> np.ndarray:
        """X' v."""
        out = self.rest.rmatvec(v)
        for k, b in zip(self.keys, self.blocks):
            out += b.rmatvec(np.bincount(k, weights=v, minlength=b.shape[0]))
        return out

    def gram(self, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """X' diag(s) X over the columns the batch uses: (those columns, sorted; the dense matrix).

        A small batch is one dense product; a large one is built from its parts: structured x
        structured from weighted key co-counts, structured x rest from the weighted sums of the rest
        per key, rest x rest one sparse product (``Rows.gram``: scipy's, for a rebuild from history)."""
        n, width = self.shape
        used = np.zeros(width, dtype=bool)
        for b in self.blocks:
            used[b.indices] = True
        used[self.rest.indices] = True
        cols = np.flatnonzero(used)
        local = np.cumsum(used) - 1  # column -> its place in cols
        m = len(cols)
        if n * m <= DENSE_GRAM:
            rows, at, vals = (np.concatenate(p) for p in zip(*self._entries()))
            X = np.bincount(rows * m + local[at], weights=vals, minlength=n * m).reshape(n, m)
            return cols, X.T @ (s[:, None] * X)
        dense = [b.relabel(local, m).toarray() for b in self.blocks]
        rest = self.rest.relabel(local, m)
        out = np.zeros((m, m))
        for g, (kg, ag) in enumerate(zip(self.keys, dense)):
            out += ag.T @ (np.bincount(kg, weights=s, minlength=len(ag))[:, None] * ag)
            for kh, ah in zip(self.keys[g + 1:], dense[g + 1:]):
                co = np.bincount(kg * len(ah) + kh, weights=s, minlength=len(ag) * len(ah))
                cross = ag.T @ (co.reshape(len(ag), len(ah)) @ ah)
                out += cross + cross.T
        rows = rest.row_ids()
        weighted = s[rows] * rest.data
        for kg, ag in zip(self.keys, dense):
            sums = np.bincount(kg[rows] * m + rest.indices, weights=weighted, minlength=len(ag) * m)
            cross = ag.T @ sums.reshape(len(ag), m)
            out += cross + cross.T
        out += rest.gram(s)
        return cols, out

    def tail(self, start: int) -> Batch:
        """Rows ``start`` onwards (the structured blocks kept whole: a key no row uses adds nothing)."""
        if start <= 0:
            return self
        r = self.rest
        lo = int(r.indptr[start])
        rest = Rows(r.indptr[start:] - lo, r.indices[lo:], r.data[lo:], (r.shape[0] - start, r.shape[1]))
        return Batch(tuple(k[start:] for k in self.keys), self.blocks, rest)

    def _entries(self) -> list[Entries]:
        parts = [expand(k, b) for k, b in zip(self.keys, self.blocks)]
        parts.append((self.rest.row_ids(), self.rest.indices, self.rest.data))
        return parts


def by_row(parts: list[Entries], n: int, width: int) -> Rows:
    """One CSR matrix of (rows, columns, values) parts, each in row order, without sorting: a row
    holds its entries part by part (columns unsorted; a column twice, when names share a hash
    column, sums as X does)."""
    counts = [np.bincount(rows, minlength=n) for rows, _, _ in parts]
    indptr = np.concatenate([[0], np.cumsum(sum(counts))]).astype(np.int64)
    indices, data = np.empty(indptr[-1], dtype=np.int64), np.empty(indptr[-1])
    free = indptr[:-1].copy()  # per row: where this part's entries go
    for (rows, cols, vals), per_row in zip(parts, counts):
        start = np.cumsum(per_row) - per_row  # per row: where its entries are in this part
        at = free[rows] + np.arange(len(rows)) - start[rows]
        indices[at], data[at] = cols, vals
        free += per_row
    return Rows(indptr, indices, data, (n, width))


def expand(keys: np.ndarray, block: Rows) -> Entries:
    """(row, column, value) of onehot(keys) @ block, without the product."""
    lens = np.diff(block.indptr)[keys]
    starts = np.repeat(block.indptr[:-1][keys] - np.cumsum(lens) + lens, lens)
    at = starts + np.arange(int(lens.sum()))
    return np.repeat(np.arange(len(keys)), lens), block.indices[at], block.data[at]

