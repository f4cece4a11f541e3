"""What the ranker sees of a candidate: structured facts, the caption's words, recent history.

Pure values and functions. ``encode`` turns a ``CandidateFeatures`` into named sparse features:
one-hot categories, the pairwise interactions audiences have (template x hour band, tone x
audience), the caption's content words and bigrams, and novelty fatigue (how much of this
template and these words the account posted recently).
"""
from __future__ import annotations

import math
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

BEAM_SCALE = 5.0  # beam scores are summed log-probs; this keeps their feature near unit size
FATIGUE_TEMPLATE_CAP = 5
BIGRAM_BUCKETS = 64
# A bucket is shared by every phrase that hashes to it (hundreds, on a real vocabulary), so what it
# learns is mostly their average: worth a small weight (measured in bench/ranking.py: at 0.5 the
# buckets' noise cost about 0.01-0.02 of the content scenario's share, at 0.2 nothing elsewhere).
BIGRAM_VALUE = 0.2
# Function words carry no topic; dropping them keeps the vocabulary (and the model) small.
STOPWORDS = frozenset(
    ["a", "an", "and", "are", "as", "at", "be", "but", "by", "for", "from", "has", "have", "i", "if", "in", "into", "is", "it", "its", "me", "my", "no", "not", "of", "on", "or", "our", "so", "that", "the", "their", "them", "then", "there", "they", "this", "to", "too", "was", "we", "were", "what", "when", "where", "who", "why", "will", "with", "you", "your"])
_WORD = re.compile(r"[a-z0-9']+")


@dataclass(frozen=True)
class CandidateFeatures:
    generator: str
    template: str | None
    beam_rank: int | None
    beam_score: float | None
    tone: str | None
    audience: str | None
    length_words: int
    hashtags: int
    hour: int  # planned posting hour in the account's time zone
    account: str
    words: tuple[str, ...] = ()  # content words of the caption, in order (see content_words)
    recent_template: int = 0  # posts with this template among the account's recent posts
    recent_overlap: float = 0.0  # share of these words already used in the account's recent posts
    weekday: int | None = None  # planned posting weekday in the account's time zone (0 = Monday)


@dataclass(frozen=True)
class Recent:
    """What the account posted lately (newest last): the input of novelty fatigue."""

    templates: tuple[str | None, ...] = ()
    words: tuple[frozenset[str], ...] = ()


def content_words(text: str) -> tuple[str, ...]:
    """Lower-cased words of a caption without hashtags, mentions, URLs and function words."""
    out: list[str] = []
    for token in text.lower().split():
        if token.startswith(("#", "@", "http")):
            continue
        out.extend(w for w in _WORD.findall(token) if len(w) > 1 and w not in STOPWORDS)
    return tuple(out)


def novelty(template: str | None, words: Sequence[str], recent: Recent) -> tuple[int, float]:
    """(recent uses of the template, share of the caption's words seen in recent captions)."""
    uses = sum(1 for t in recent.templates if t is not None and t == template)
    if not words:
        return uses, 0.0
    seen = frozenset().union(*recent.words) if recent.words else frozenset()
    distinct = set(words)
    return uses, len(distinct & seen) / len(distinct)


def features_of(*, generator: str, text: str, account: str, hour: int, template: str | None = None,
                beam_rank: int | None = None, beam_score: float | None = None, tone: str | None = None,
                audience: str | None = None, recent: Recent | None = None,
                weekday: int | None = None) -> CandidateFeatures:
    """Features of a caption as it would be posted (length, hashtags and words read from the text).

    ``hour`` is the planned posting hour in the account's time zone (the hour convention of both
    scoring and learning); ``recent`` is the account's recent history, for novelty fatigue."""
    raw = text.split()
    hashtags = sum(1 for w in raw if w.startswith("#") and len(w) > 1)
    words = content_words(text)
    uses, overlap = novelty(template, words, recent or Recent())
    return CandidateFeatures(generator=generator, template=template, beam_rank=beam_rank,
                             beam_score=beam_score, tone=tone, audience=audience,
                             length_words=len(raw) - hashtags, hashtags=hashtags, hour=hour % 24,
                             account=account, words=words, recent_template=uses, recent_overlap=overlap,
                             weekday=None if weekday is None else weekday % 7)


def hour_band(hour: int) -> str:
    return f"{hour // 3 * 3:02d}h"  # 3-hour bands: enough resolution, far fewer weights


def structured_key(f: CandidateFeatures) -> tuple[tuple, tuple, tuple]:
    """The parts of a candidate that one-hot features are made of, in three small groups (few
    distinct values each, so a ranker can cache their columns)."""
    band = hour_band(f.hour)
    return ((f.generator, f.template or "-", band), (f.tone or "-", f.audience or "-"),
            (f.account, _length_band(f.length_words), min(f.hashtags, 4),
             None if f.beam_rank is None else min(f.beam_rank, 4), f.weekday))


def structured(group: int, key: tuple) -> tuple[str, ...]:
    """One-hot feature names (value 1) of one group of a structured_key, interactions included."""
    if group == 0:
        generator, template, band = key
        return (f"generator={generator}", f"template={template}", f"hour={band}",
                f"template={template}@hour={band}")
    if group == 1:
        tone, audience = key
        return f"tone={tone}", f"audience={audience}", f"tone={tone}&audience={audience}"
    account, length, hashtags, beam_rank, weekday = key
    names: tuple[str, ...] = ("bias", f"account={account}", f"length={length}", f"hashtags={hashtags}")
    if beam_rank is not None:
        names = (*names, f"beam_rank={beam_rank}")
    return names if weekday is None else (*names, f"weekday={WEEKDAYS[weekday]}")


# Knots (caption words) of a piecewise-linear length curve: audiences have a preferred length, and the
# bands' steps could not follow a curve inside a band (bench/warm_start.py, peaked length: most of the
# length regret was inside the "long" band).
LENGTH_KNOTS = (3, 6, 9, 12, 16, 24, 40)


def length_curve(words: int) -> list[tuple[str, float]]:
    """Hat-function weights of a caption length on LENGTH_KNOTS (two neighbours, summing to 1)."""
    knots = LENGTH_KNOTS
    if words <= knots[0]:
        return [(f"length_at={knots[0]}", 1.0)]
    for a, b in zip(knots, knots[1:]):
        if words < b:
            u = (words - a) / (b - a)
            return [(f"length_at={a}", 1.0 - u)] + ([(f"length_at={b}", u)] if u > 0 else [])
    return [(f"length_at={knots[-1]}", 1.0)]


def numeric(f: CandidateFeatures) -> list[tuple[str, float]]:
    """Numeric features: beam score, the length curve and novelty fatigue."""
    out = length_curve(f.length_words)
    if f.beam_score is not None and math.isfinite(f.beam_score):
        out.append(("beam_score", max(-3.0, min(3.0, f.beam_score / BEAM_SCALE + 1.0))))
    if f.recent_template:
        out.append(("fatigue_template", min(f.recent_template, FATIGUE_TEMPLATE_CAP) / FATIGUE_TEMPLATE_CAP))
    if f.recent_overlap:
        out.append(("fatigue_words", f.recent_overlap))
    return out


def bigram_name(a: str, b: str) -> str:
    # Bigrams are many and sparse: hashed into shared buckets they add phrase signal without
    # growing the model.
    return f"bigram#{zlib.crc32((a + ' ' + b).encode()) % BIGRAM_BUCKETS}"


def content(f: CandidateFeatures) -> list[tuple[str, float]]:
    """Which words (present or not: a topic is there or it is not, however long the caption) and
    which hashed bigrams the caption has."""
    words = dict.fromkeys(f.words)
    pairs = dict.fromkeys(bigram_name(a, b) for a, b in zip(f.words, f.words[1:]))
    return [("word=" + w, 1.0) for w in words] + [(p, BIGRAM_VALUE) for p in pairs]


def encode(f: CandidateFeatures) -> dict[str, float]:
    """Named sparse feature vector (the reference; the Ranker caches the structured part)."""
    x = dict.fromkeys((n for g, key in enumerate(structured_key(f)) for n in structured(g, key)), 1.0)
    for name, value in content(f) + numeric(f):
        x[name] = x.get(name, 0.0) + value
    return x


WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
LENGTH_BANDS = ((4, "short"), (9, "medium"), (15, "long"))


def _length_band(words: int) -> str:
    for top, name in LENGTH_BANDS:
        if words <= top:
            return name
    return "very_long"
