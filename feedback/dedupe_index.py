"""The duplicate guard's in-memory index of recent candidates, built from their stored fingerprints.

Nothing is normalised or hashed per earlier caption: each row brings its normalised caption and its
distinct token hashes (feedback.fingerprint, written with the text; computed here only for a row
whose fingerprint is NULL). A caption pair reaches ``text_similarity`` only if token Jaccard or
SequenceMatcher's ratio does:
- token Jaccard is computed for every earlier caption at once (exactly, up to 64-bit hash
  collisions): the rows' token hashes concatenated into one flat array, the draft's matched with
  ``np.isin`` and counted per owner;
- SequenceMatcher's matching blocks form a common subsequence, so its ratio is at most the
  LCS ratio 2 * LCS / (len a + len b), which rapidfuzz's bit-parallel ``Indel`` similarity gives
  for all earlier captions in one call (with a cutoff, so most pairs stop early).
Only pairs passing one of the two are compared exactly (feedback.dedupe.caption_similarity), in the
same newest-first order as the reference path, so the first hit and its reason are the same.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from difflib import SequenceMatcher
from operator import itemgetter

import numpy as np

from feedback.fingerprint import fingerprint, token_hash
from feedback.repository.dedupe import PrintRow

EPS = 1e-9


Draft = tuple[str, str | None, str | None] | tuple[str, str | None, str | None, int | None]
"""(text, image_phash, group_key[, template_id]) of a draft to check."""

Texts = Callable[[Sequence[int]], dict[int, str]]
"""Reads candidates' texts by id: for rows stored without a fingerprint and for a caption hit's reason."""


class _Segment:
    """A block of window rows (newest first) with their bounds' inputs."""

    def __init__(self, rows: Sequence[PrintRow], texts: Texts) -> None:
        n = len(rows)
        self.rows = rows  # the other columns are read only at the few positions a bound lets through
        norms, blobs = list(map(itemgetter(4), rows)), list(map(itemgetter(5), rows))
        missing = sorted(_nones(norms) | _nones(blobs))  # stored before (or changed without) a fingerprint
        if missing:
            found = texts([rows[i][0] for i in missing])
            for i in missing:
                norms[i], blobs[i] = fingerprint(found[rows[i][0]])
        self.joined: list[str] = norms
        self.lengths = np.fromiter(map(len, norms), dtype=np.int64, count=n)
        self.set_sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=n) // 8
        self.tokens = np.frombuffer(b"".join(blobs), dtype="<i8")
        self.owner = np.repeat(np.arange(n, dtype=np.int64), self.set_sizes)
        self._phashes: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def text_candidates(self, joined: Sequence[str], threshold: float) -> list[np.ndarray]:
        """Per draft caption, the positions whose caption may reach ``threshold`` (a superset)."""
        n = len(self.rows)
        if threshold <= EPS:  # every pair qualifies
            return [np.arange(n) for _ in joined]
        words = [j for j in joined if j]
        if not words or not n:
            return [np.flatnonzero(self.lengths == 0) if not j else np.arange(0) for j in joined]
        passing = (self._jaccard(words) >= threshold - EPS) | (self._lcs_ratio(words, threshold) >= threshold - EPS)
        passing &= self.lengths > 0
        rows = iter(passing)
        # only another empty caption is similar (1.0) to an empty one
        return [np.flatnonzero(next(rows)) if j else np.flatnonzero(self.lengths == 0) for j in joined]

    def _jaccard(self, joined: Sequence[str]) -> np.ndarray:
        """Token Jaccard of each (non-empty) draft caption with every row: drafts x rows."""
        n = len(self.rows)
        out = np.empty((len(joined), n))
        for d, caption in enumerate(joined):  # a few drafts, each a few hashes: isin compares them in turn
            words = set(caption.split())
            mine = np.fromiter(map(token_hash, words), dtype=np.int64, count=len(words))
            common = np.bincount(self.owner[np.isin(self.tokens, mine)], minlength=n)
            out[d] = common / np.maximum(self.set_sizes + len(words) - common, 1)
        return out

    def _lcs_ratio(self, joined: Sequence[str], threshold: float) -> np.ndarray:
        from rapidfuzz.distance import Indel
        from rapidfuzz.process import cdist

        cutoff = max(0.0, threshold - 2 * EPS)
        return cdist(list(joined), self.joined, scorer=Indel.normalized_similarity, score_cutoff=cutoff,
                     dtype=np.float64, workers=1)

    def image_hits(self, phash: str, limit: int) -> dict[int, int]:
        """Position -> hash distance of earlier images within ``limit`` bits (same-size hex hashes)."""
        if len(phash) > 16:  # wider than 64 bits: compare the slow way
            from feedback.dedupe import hamming

            found = {i: hamming(phash, r[3]) for i, r in enumerate(self.rows) if r[3]}
            return {i: d for i, d in found.items() if d is not None and d <= limit}
        try:
            mine = int(phash, 16)
        except ValueError:
            return {}
        positions, values = self._hashes(len(phash))
        distance = np.bitwise_count(values ^ np.uint64(mine))
        close = np.flatnonzero(distance <= limit)
        return {int(positions[i]): int(distance[i]) for i in close}

    def _hashes(self, width: int) -> tuple[np.ndarray, np.ndarray]:
        if width not in self._phashes:
            pos, vals = [], []
            for i, p in enumerate(map(itemgetter(3), self.rows)):
                if p and len(p) == width:
                    try:
                        vals.append(int(p, 16))
                    except ValueError:
                        continue
                    pos.append(i)
            self._phashes[width] = (np.array(pos, dtype=np.int64), np.array(vals, dtype=np.uint64))
        return self._phashes[width]


class RecentIndex:
    """Recent window rows in segments, newest segment first."""

    def __init__(self, rows: Sequence[PrintRow], texts: Texts) -> None:
        self._texts = texts
        self._segments = [_Segment(rows, texts)]
        self.max_id = max(map(itemgetter(0), rows), default=0)

    def prepend(self, rows: Sequence[PrintRow]) -> None:
        """Add candidates newer than every one indexed so far."""
        if rows:
            self._segments.insert(0, _Segment(rows, self._texts))
            self.max_id = max(self.max_id, *map(itemgetter(0), rows))

    def __len__(self) -> int:
        return sum(len(s.rows) for s in self._segments)

    def match(self, drafts: Sequence[Draft], *, phash_distance: int, text_similarity: float) -> list[str | None]:
        """Per (text, image_phash, group_key, template_id) draft: the reason naming the first earlier row
        it repeats."""
        joined = [fingerprint(draft[0])[0] for draft in drafts]
        verdicts: list[str | None] = [None] * len(drafts)
        for seg in self._segments:
            open_ = [k for k, v in enumerate(verdicts) if v is None]
            if not open_:
                break
            texts = seg.text_candidates([joined[k] for k in open_], text_similarity)
            for k, candidates in zip(open_, texts, strict=True):
                verdicts[k] = self._first(seg, joined[k], drafts[k], candidates, phash_distance, text_similarity)
        return verdicts

    def _first(self, seg: _Segment, joined: str, draft: Draft, texts: np.ndarray, phash_distance: int,
               text_similarity: float) -> str | None:
        from feedback.dedupe import duplicate_reason, other_templates

        image_phash, group_key = draft[1], draft[2]
        template_id = draft[3] if len(draft) > 3 else None
        images = seg.image_hits(image_phash, phash_distance) if image_phash else {}
        for i in sorted(set(images) | set(texts.tolist())):
            row = seg.rows[i]
            cid, posted, group, phash = row[:4]
            if group_key is not None and group == group_key:
                continue
            if other_templates(template_id, row[7] if len(row) > 7 else None):
                continue
            posted = bool(posted)
            if i in images and phash:
                return duplicate_reason(cid, posted, distance=images[i], phash_distance=phash_distance)
            similarity = _similarity(joined, seg.joined[i])
            if similarity >= text_similarity:
                return duplicate_reason(cid, posted, self._texts([cid])[cid], similarity=similarity,
                                        text_similarity=text_similarity)
        return None


def _nones(values: list) -> set[int]:
    """Positions holding None (``list.index`` runs in C, and None is rare)."""
    found: set[int] = set()
    at = -1
    while True:
        try:
            at = values.index(None, at + 1)
        except ValueError:
            return found
        found.add(at)


def _similarity(a: str, b: str) -> float:
    """feedback.dedupe.caption_similarity of two already normalised captions."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    sa, sb = set(a.split()), set(b.split())
    jaccard = len(sa & sb) / len(sa | sb)
    return max(jaccard, SequenceMatcher(None, a, b, autojunk=False).ratio())
