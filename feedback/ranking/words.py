"""What the ranker learned per content word, for a generator to write more of what did well (pure).

A caption carrying word w gets the word's own weight and, when w belongs to a topic, the topic's
(a topic counts once per caption: this is the effect of a caption that has w and no other word of
its topic). Its sd is taken as if the two weights were independent; evidence is the word's own.
"""
from __future__ import annotations

import math
from collections.abc import Iterable

from feedback.ranking.model import Ranker


def word_effects(ranker: Ranker, words: Iterable[str] | None = None, *,
                 min_evidence: float = 1.0) -> dict[str, tuple[float, float]]:
    """word -> (effect on log engagement, posterior sd) for the words (default: every word the ranker
    has a feature for) that carried at least ``min_evidence`` outcomes; the ranker is not changed."""
    topic_of = ranker.topics.lookup() if ranker.topics is not None else {}
    known = [n[5:] for n in ranker.names if n.startswith("word=")]
    chosen = [w for w in (known if words is None else dict.fromkeys(words)) if ranker.evidence(f"word={w}") >= min_evidence]
    names = [f"word={w}" for w in chosen] + [topic_of[w] for w in chosen if w in topic_of]
    mean, sd = ranker.weights(), ranker.weight_sd(names)
    out = {}
    for w in chosen:
        parts = [f"word={w}"] + ([topic_of[w]] if w in topic_of else [])
        out[w] = (sum(mean.get(p, 0.0) for p in parts), math.sqrt(sum(sd[p] ** 2 for p in parts)))
    return out
