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

import numpy as np

from feedback.fingerprint import fingerprint, token_hash
from feedback.repository.dedupe import Fingerprint, PrintRow

EPS = 1e-9


class _Segment:
    """A block of window rows (newest first) with their bounds' inputs."""

    def __init__(self, rows: Sequence[PrintRow]) -> None:
        self.rows = rows
        norms = [r[4] for r in rows]
        blobs = [r[5] for r in rows]
        for i, row in enumerate(rows):
            if norms[i] is None or blobs[i] is None:  # stored before (or changed without) its fingerprint
                norms[i], blobs[i] = fingerprint(row[6] or "")
        n = len(rows)
        self.joined: list[str] = norms  # type: ignore[assignment]
        self.lengths = np.fromiter(map(len, self.joined), dtype=np.int64, count=n)
        self.set_sizes = np.fromiter(map(len, blobs), dtype=np.int64, count=n) // 8  # type: ignore[arg-type]
        self.tokens = np.frombuffer(b"".join(blobs), dtype="<i8")  # type: ignore[arg-type]
        self.owner = np.repeat(np.arange(n, dtype=np.int64), self.set_sizes)
        self._phashes: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def text_candidates(self, joined: str, threshold: float) -> np.ndarray:
        if threshold <= EPS:  # every pair qualifies
            return np.arange(len(self.rows))
        if not joined:  # only another empty caption is similar (1.0) to an empty one
            return np.flatnonzero(self.lengths == 0)
        return np.flatnonzero((self.lengths > 0) & ((self._jaccard(joined) >= threshold - EPS)
                                                    | (self._lcs_ratio(joined, threshold) >= threshold - EPS)))

    def _jaccard(self, joined: str) -> np.ndarray:
        words = set(joined.split())
        mine = np.fromiter(map(token_hash, words), dtype=np.int64, count=len(words))
        common = np.bincount(self.owner[np.isin(self.tokens, mine)], minlength=len(self.rows))
        return common / np.maximum(self.set_sizes + len(words) - common, 1)

    def _lcs_ratio(self, joined: str, threshold: float) -> np.ndarray:
        from rapidfuzz.distance import Indel
        from rapidfuzz.process import cdist

        cutoff = max(0.0, threshold - 2 * EPS)
        return cdist([joined], self.joined, scorer=Indel.normalized_similarity, score_cutoff=cutoff,
                     dtype=np.float64, workers=1)[0]

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
            for i, row in enumerate(self.rows):
                if row[3] and len(row[3]) == width:
                    try:
                        vals.append(int(row[3], 16))
                    except ValueError:
                        continue
                    pos.append(i)
            self._phashes[width] = (np.array(pos, dtype=np.int64), np.array(vals, dtype=np.uint64))
        return self._phashes[width]


class RecentIndex:
    """Recent window rows in segments, newest segment first. ``caption`` reads an earlier candidate's
    text by id, for the reason of a caption hit on a row read without it."""

    def __init__(self, rows: Sequence[PrintRow], caption: Callable[[int], str]) -> None:
        self._segments = [_Segment(rows)]
        self._caption = caption
        self.max_id = max((r[0] for r in rows), default=0)

    def prepend(self, rows: Sequence[PrintRow]) -> None:
        """Add candidates newer than every one indexed so far."""
        if rows:
            self._segments.insert(0, _Segment(rows))
            self.max_id = max(self.max_id, *(r[0] for r in rows))

    def __len__(self) -> int:
        return sum(len(s.rows) for s in self._segments)

    def match(self, text: str, image_phash: str | None, group_key: str | None, *, phash_distance: int,
              text_similarity: float) -> str | None:
        from feedback.dedupe import duplicate_reason

        joined = fingerprint(text)[0]
        for seg in self._segments:
            images = seg.image_hits(image_phash, phash_distance) if image_phash else {}
            texts = seg.text_candidates(joined, text_similarity)
            for i in sorted(set(images) | set(texts.tolist())):
                cid, status, group, phash, _, _, stored_text = seg.rows[i][:7]
                if group_key is not None and group == group_key:
                    continue
                if i in images and phash:
                    earlier = Fingerprint(cid, status, "", phash, group, status == "posted")
                    return duplicate_reason(earlier, distance=images[i], phash_distance=phash_distance)
                similarity = _similarity(joined, seg.joined[i])
                if similarity >= text_similarity:
                    caption = stored_text if stored_text is not None else self._caption(cid)
                    earlier = Fingerprint(cid, status, caption, phash, group, status == "posted")
                    return duplicate_reason(earlier, similarity=similarity, text_similarity=text_similarity)
        return None


def _similarity(a: str, b: str) -> float:
    """feedback.dedupe.caption_similarity of two already normalised captions."""
    if not a and not b:
        return 1.0
    if not a or not b:
        return 0.0
    sa, sb = set(a.split()), set(b.split())
    jaccard = len(sa & sb) / len(sa | sb)
    return max(jaccard, SequenceMatcher(None, a, b, autojunk=False).ratio())
