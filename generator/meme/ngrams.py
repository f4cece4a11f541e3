"""The word trigrams of the captions a bundle was trained on, as a decoding constraint.

A small word-level decoder forgets what it said two words ago: it joins the start of one training
caption to the end of another at a shared word, and the seam breaks the sentence ("when you try
to" + "the wall of my procrastination" -> "when you try to the wall of my procrastination"). Beam
search with ``CorpusTrigrams`` costs a word ``penalty`` nats unless the caption's last two words
and it occur together in some training caption (the first word counts as following <start>
<start>); ``end_penalty`` does the same for <end>, so a caption ends only where a training caption
ended on the same two words, never on "to", "the" or "i am". Captions still combine training
captions, but only where three words overlap, where a seam is usually grammatical. The training
captions are kept as word keys (bundle captions.txt, no punctuation): a punctuation token always
costs ``penalty`` and does not count as a word of the context.

Most broken seams join two captions that share only two words ("when you go to" + "the moon is just
a silhouette" at "to the"); with ``seam_penalty`` a word whose trigram is seen but whose 4-gram
(the caption's last three words and it) is not costs that much, so the beam prefers seams where
three words overlap. The cost is built as one [rows, vocab] array per step, the allowed words of
every row set with one NumPy assignment.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np

from generator.meme.vocab import Vocab, tokenize


@dataclass
class CorpusTrigrams:
    """Allowed next ids per two-word context, built from training captions and a vocab."""

    start_id: int
    end_id: int
    free: frozenset[int]  # punctuation ids: skipped in the context (the word keys have none: always a cost)
    follow: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict)  # (a, b) -> ids seen after
    penalty: float = 6.0
    end_penalty: float = 12.0
    # the same for three-word contexts: a word whose trigram is seen but not its 4-gram (a seam where
    # only two words overlap) costs ``seam_penalty``
    follow4: dict[tuple[int, ...], np.ndarray] = field(default_factory=dict)  # (a, b, c) -> ids
    seam_penalty: float = 0.0

    @classmethod
    def build(cls, captions: Iterable[str], vocab: Vocab, *, penalty: float = 6.0,
              end_penalty: float = 12.0, seam_penalty: float = 0.0) -> CorpusTrigrams:
        index = vocab.index()
        free = frozenset(i for t, i in index.items() if len(t) == 1 and not t.isalnum() and t != "'")
        follow: dict[tuple[int, int], set[int]] = defaultdict(set)
        follow4: dict[tuple[int, int, int], set[int]] = defaultdict(set)
        for text in captions:
            ids = [index.get(w, -1) for w in tokenize(text)]
            ids = [i for i in ids if i not in free]
            ctx = [vocab.start_id, vocab.start_id, vocab.start_id]
            for i in [*ids, vocab.end_id]:
                if i < 0:  # a word the vocab spells: no trigram across it
                    ctx = [-1, -1, -1]
                    continue
                if ctx[1] >= 0 and ctx[2] >= 0:
                    follow[(ctx[1], ctx[2])].add(i)
                    if ctx[0] >= 0:
                        follow4[(ctx[0], ctx[1], ctx[2])].add(i)
                ctx = [ctx[1], ctx[2], i]
        return cls(vocab.start_id, vocab.end_id, free,
                   {k: np.fromiter(sorted(v), dtype=np.int64) for k, v in follow.items()}, penalty, end_penalty,
                   {k: np.fromiter(sorted(v), dtype=np.int64) for k, v in follow4.items()}, seam_penalty)

    def context(self, seq: Sequence[int], n: int = 2) -> tuple[int, ...]:
        words = [i for i in seq if i not in self.free][-n:]
        return tuple([self.start_id] * (n - len(words)) + words)

    def apply(self, logp: np.ndarray, seqs: Sequence[Sequence[int]]) -> np.ndarray:
        """Take ``penalty`` (``end_penalty`` for <end>) off every word that would make an unseen trigram
        (``seam_penalty`` off one whose 4-gram is unseen); returns the cost taken, [rows, vocab]."""
        cost = np.full(logp.shape, self.penalty)
        cost[:, self.end_id] = self.end_penalty
        self._scatter(cost, [self.follow.get(self.context(seq)) for seq in seqs],
                      self.seam_penalty)
        if self.seam_penalty:
            self._scatter(cost, [self.follow4.get(self.context(seq, 3)) for seq in seqs], 0.0)
        logp -= cost
        return cost

    @staticmethod
    def _scatter(cost: np.ndarray, allowed: Sequence[np.ndarray | None], value: float) -> None:
        """Set ``value`` at every row's allowed words, in one NumPy assignment."""
        found = [(row, a) for row, a in enumerate(allowed) if a is not None]
        if found:
            rows = np.concatenate([np.full(len(a), r) for r, a in found])
            cost[rows, np.concatenate([a for _, a in found])] = value

    def costly(self, seq: Sequence[int]) -> list[bool]:
        """Per word of the caption, whether ``apply`` took a cost off it: its trigram is unseen (a
        punctuation token always), or with ``seam_penalty`` its 4-gram is."""
        return [not _has(self.follow.get(self.context(seq[:j])), word)
                or (self.seam_penalty > 0 and not _has(self.follow4.get(self.context(seq[:j], 3)), word))
                for j, word in enumerate(seq)]

    def seams(self, seq: Sequence[int]) -> int:
        """How many words of the caption (and its <end>) cost ``seam_penalty`` in ``apply``: their
        trigram is seen, their 4-gram is not."""
        count = 0
        for j, word in enumerate([*seq, self.end_id]):
            if not _has(self.follow.get(self.context(seq[:j])), word):
                continue
            count += not _has(self.follow4.get(self.context(seq[:j], 3)), word)
        return count

    def seen(self, seq: Sequence[int]) -> bool:
        """Every trigram of the caption (with <start> <start> before and <end> after) is in the corpus."""
        seq = [i for i in seq if i not in self.free]
        full = [self.start_id, self.start_id, *seq, self.end_id]
        return all(_has(self.follow.get((a, b)), c) for a, b, c in zip(full, full[1:], full[2:]))


def _has(allowed: np.ndarray | None, word: int) -> bool:
    """``word`` is among the sorted ids ``allowed`` (one binary search: np.isin sorts both sides
    on every call, and seams() asks about every word of every re-scored caption)."""
    if allowed is None:
        return False
    at = int(np.searchsorted(allowed, word))
    return at < len(allowed) and int(allowed[at]) == word
