"""The duplicate guard's in-memory index of recent candidates: normalised once, bounded cheaply.

A caption pair reaches ``text_similarity`` only if token Jaccard or SequenceMatcher's ratio does:
- token Jaccard is computed for every earlier caption at once (exactly, up to 64-bit hash
  collisions, which only raise it): each caption's distinct token hashes in one flat array, the
  draft's matched with ``np.isin`` and counted per owner;
- SequenceMatcher's matching blocks form a common subsequence, so its ratio is at most the
  LCS ratio 2 * LCS / (len a + len b), which rapidfuzz's bit-parallel ``Indel`` similarity gives
  for all earlier captions in one call (with a cutoff, so most pairs stop early).
Only pairs passing one of the two are compared exactly (feedback.dedupe.caption_similarity), in the
same newest-first order as the reference path, so the first hit and its reason are the same.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from difflib import SequenceMatcher
from itertools import repeat

import numpy as np

from feedback.repository.dedupe import Fingerprint

_NOT_WORD = re.compile(r"[^a-z0-9#@'\n]+")
EPS = 1e-9


def normalised(texts: Sequence[str]) -> list[str]:
    """Each text's tokens joined by one space, exactly " ".join(feedback.dedupe.normalise_text(t))."""
    big = "\n".join(t.replace("\n", " ") for t in texts)
    if not big.isascii():  # NFKD keeps the "\n" boundaries: it is a starter character
        big = unicodedata.normalize("NFKD", big).encode("ascii", "ignore").decode()
    return [line.strip() for line in _NOT_WORD.sub(" ", big.lower()).split("\n")] if texts else []


def _token_sets(joined: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Each caption's distinct tokens as (token hash, owner) pairs, owner-sorted. Tokens are keyed by
    their 64-bit hash (``map(hash)`` runs in C): a collision can only merge tokens, which raises the
    Jaccard figures computed from them, so they stay an upper bound and the exact check decides."""
    hashes = np.fromiter(map(hash, " ".join(joined).split()), dtype=np.int64)
    lengths = np.fromiter(map(len, joined), dtype=np.int64, count=len(joined))
    counts = np.fromiter(map(str.count, joined, repeat(" ")), dtype=np.int64, count=len(joined)) + (lengths > 0)
    owner = np.repeat(np.arange(len(joined), dtype=np.int64), counts)
    order = np.lexsort((hashes, owner))
    hashes, owner = hashes[order], owner[order]
    first = np.ones(len(hashes), dtype=bool)
    first[1:] = (hashes[1:] != hashes[:-1]) | (owner[1:] != owner[:-1])
    return hashes[first], owner[first]


class _Segment:
    """A block of fingerprints (newest first) with their normalised captions and bounds' inputs."""

    def __init__(self, prints: Sequence[Fingerprint]) -> None:
        self.prints = list(prints)
        self.joined = normalised([p.text for p in self.prints])
        self.lengths = np.fromiter(map(len, self.joined), dtype=np.int64, count=len(self.joined))
        self.tokens, self.owner = _token_sets(self.joined)
        self.set_sizes = np.bincount(self.owner, minlength=len(self.joined))
        self._phashes: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    def text_candidates(self, joined: str, threshold: float) -> np.ndarray:
        if threshold <= EPS:  # every pair qualifies
            return np.arange(len(self.prints))
        if not joined:  # only another empty caption is similar (1.0) to an empty one
            return np.flatnonzero(self.lengths == 0)
        return np.flatnonzero((self.lengths > 0) & ((self._jaccard(joined) >= threshold - EPS)
                                                    | (self._lcs_ratio(joined, threshold) >= threshold - EPS)))

    def _jaccard(self, joined: str) -> np.ndarray:
        words = set(joined.split())
        mine = np.fromiter(map(hash, words), dtype=np.int64, count=len(words))
        common = np.bincount(self.owner[np.isin(self.tokens, mine)], minlength=len(self.prints))
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

            found = {i: hamming(phash, p.image_phash) for i, p in enumerate(self.prints) if p.image_phash}
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
            for i, p in enumerate(self.prints):
                if p.image_phash and len(p.image_phash) == width:
                    try:
                        vals.append(int(p.image_phash, 16))
                    except ValueError:
                        continue
                    pos.append(i)
            self._phashes[width] = (np.array(pos, dtype=np.int64), np.array(vals, dtype=np.uint64))
        return self._phashes[width]


class RecentIndex:
    """Recent fingerprints in segments, newest segment first."""

    def __init__(self, prints: Sequence[Fingerprint]) -> None:
        self._segments = [_Segment(prints)]
        self.max_id = max((p.candidate_id for p in prints), default=0)

    def prepend(self, prints: Sequence[Fingerprint]) -> None:
        """Add candidates newer than every one indexed so far."""
        if prints:
            self._segments.insert(0, _Segment(prints))
            self.max_id = max(self.max_id, *(p.candidate_id for p in prints))

    def __len__(self) -> int:
        return sum(len(s.prints) for s in self._segments)

    def match(self, text: str, image_phash: str | None, group_key: str | None, *, phash_distance: int,
              text_similarity: float) -> str | None:
        from feedback.dedupe import duplicate_reason

        joined = normalised([text])[0]
        for seg in self._segments:
            images = seg.image_hits(image_phash, phash_distance) if image_phash else {}
            texts = seg.text_candidates(joined, text_similarity)
            for i in sorted(set(images) | set(texts.tolist())):
                earlier = seg.prints[i]
                if group_key is not None and earlier.group_key == group_key:
                    continue
                if i in images and earlier.image_phash:
                    return duplicate_reason(earlier, distance=images[i], phash_distance=phash_distance)
                similarity = _similarity(joined, seg.joined[i])
                if similarity >= text_similarity:
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
