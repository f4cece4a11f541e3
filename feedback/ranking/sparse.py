"""The ranker's few sparse and triangular operations in plain numpy.

scipy would do all of this, but importing it costs a generate run more than the ranker's own work
(scipy.linalg pulls in its array-API layer, which imports half of numpy's optional submodules).
``Rows`` is a compressed-row matrix (the design matrix, and the parts of a feedback.ranking.batch
Batch) with exactly the operations the ranker uses; its sums run in storage order, as scipy's CSR
kernels add them. ``tri_solve`` is a blocked triangular solve. Only a large Gram product (a rebuild
from history) imports scipy.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRAM_IN_NUMPY = 1 << 18  # entry pairs up to which a Gram product is done here (~10 MB of temporaries)
TRI_BLOCK = 64


@dataclass(frozen=True)
class Rows:
    """A CSR matrix: row r's entries are at ``indptr[r]:indptr[r+1]`` of ``indices`` and ``data``.

    ``from_coo`` gives canonical rows (columns ascending, distinct); every operation also takes rows
    with columns in any order or repeated (a repeat counts as the sum, as in scipy)."""

    indptr: np.ndarray
    indices: np.ndarray
    data: np.ndarray
    shape: tuple[int, int]

    @classmethod
    def from_coo(cls, rows: np.ndarray, cols: np.ndarray, values: np.ndarray, shape: tuple[int, int]) -> Rows:
        """Entries (row, col, value); repeated (row, col) entries are summed, in the order given."""
        n, width = shape
        flat = np.asarray(rows, dtype=np.int64) * max(width, 1) + np.asarray(cols, dtype=np.int64)
        order = np.argsort(flat, kind="stable")
        flat, values = flat[order], np.asarray(values, dtype=float)[order]
        first = np.concatenate([[True], flat[1:] != flat[:-1]]) if len(flat) else np.zeros(0, dtype=bool)
        starts = np.flatnonzero(first)
        summed = np.add.reduceat(values, starts) if len(starts) else np.zeros(0)
        keys = flat[starts]
        row_of = keys // max(width, 1)
        indptr = np.concatenate([[0], np.cumsum(np.bincount(row_of, minlength=n))]).astype(np.int64)
        return cls(indptr, (keys % max(width, 1)).astype(np.int64), summed, (n, width))

    def row_ids(self) -> np.ndarray:
        return np.repeat(np.arange(self.shape[0]), np.diff(self.indptr))

    def toarray(self) -> np.ndarray:
        n, width = self.shape
        flat = self.row_ids() * width + self.indices
        return np.bincount(flat, weights=self.data, minlength=n * width).astype(float, copy=False).reshape(n, width)

    def relabel(self, local: np.ndarray, width: int) -> Rows:
        """These rows with column c renumbered ``local[c]``, into ``width`` columns."""
        return Rows(self.indptr, local[self.indices], self.data, (self.shape[0], width))

    def __matmul__(self, vector: np.ndarray) -> np.ndarray:
        """X @ v."""
        return np.bincount(self.row_ids(), weights=self.data * vector[self.indices],
                           minlength=self.shape[0]).astype(float, copy=False)

    def rmatvec(self, vector: np.ndarray) -> np.ndarray:
        """X.T @ v."""
        return np.bincount(self.indices, weights=self.data * vector[self.row_ids()],
                           minlength=self.shape[1]).astype(float, copy=False)

    def gram(self, scale: np.ndarray) -> np.ndarray:
        """X.T @ diag(scale) @ X as a dense array. A small batch (the review decisions a generate run
        folds in) pairs each row's entries here; a large one (a rebuild from history) is worth
        scipy's import and its compiled product."""
        counts = np.diff(self.indptr)
        if int((counts * counts).sum()) > GRAM_IN_NUMPY:
            from scipy.sparse import csr_matrix

            X = csr_matrix((self.data, self.indices, self.indptr), shape=self.shape)
            scaled = csr_matrix((self.data * np.repeat(scale, counts), self.indices, self.indptr), shape=self.shape)
            return (X.T.tocsr() @ scaled).toarray()  # CSR x CSR: scipy's fastest product here
        width = self.shape[1]
        entry_row = self.row_ids()
        sizes = counts[entry_row]  # per entry: how many entries its row has
        left = np.repeat(np.arange(len(self.indices)), sizes)  # each entry, once per partner in its row
        within = np.arange(len(left)) - np.repeat(np.cumsum(sizes) - sizes, sizes)
        right = self.indptr[entry_row[left]] + within  # ... and that partner
        scaled = self.data * scale[entry_row]
        pairs = np.bincount(self.indices[left] * width + self.indices[right],
                            weights=self.data[left] * scaled[right], minlength=width * width)
        return pairs.astype(float, copy=False).reshape(width, width)


def tri_solve(matrix: np.ndarray, rhs: np.ndarray, *, lower: bool) -> np.ndarray:
    """Solve ``matrix @ x = rhs`` for a triangular ``matrix`` (rhs: a vector or columns), by blocks:
    O(n^2) work outside the small diagonal blocks, unlike a general solve's O(n^3)."""
    n = matrix.shape[0]
    x = np.array(rhs, dtype=float, copy=True)
    if n == 0:
        return x
    starts = list(range(0, n, TRI_BLOCK))
    for s in (starts if lower else starts[::-1]):
        e = min(s + TRI_BLOCK, n)
        if lower:
            if s:
                x[s:e] -= matrix[s:e, :s] @ x[:s]
        elif e < n:
            x[s:e] -= matrix[s:e, e:] @ x[e:]
        x[s:e] = np.linalg.solve(matrix[s:e, s:e], x[s:e])
    return x
