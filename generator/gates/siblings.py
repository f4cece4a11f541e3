"""The ``siblings`` gate: the candidates forwarded from one image say different things.

Two captions differ by the content words one has and the other lacks (case-folded; hashtags,
punctuation and stop words do not count), counted on the side that has more of them: one word
swapped for another is one word of difference, not two. Forwarded siblings must differ by at least
``MIN_CONTENT_WORDS``: "when you order a cup of coffee and forget why" and "... forget why out"
differ by none ("out" is a stop word), "when you sit in the kitchen" and "when you sit in the
garage" by one (the same line with one noun swapped), so only the better-ranked one goes forward.
Captions that share no content word differ by all of them ("this is my face", "this is my cat").
"""
from __future__ import annotations

import re
from collections.abc import Iterable

MIN_CONTENT_WORDS = 2
STOP_WORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between
both but by can could did do does doing down during each few for from further had has have having he her
here hers herself him himself his how i if in into is it its itself just me more most my myself no nor
not now of off on once only or other our ours ourselves out over own same she should so some such than
that the their theirs them themselves then there these they this those through to too under until up
very was we were what when where which while who whom why will with would you your yours yourself
yourselves im i'm it's its don't dont can't cant won't isn't aren't wasn't that's there's let's you're
they're we're i've i'll i'd you'll get got gets oh yeah ok okay still also even really like
""".split())  # noqa: SIM905 (a word list reads best as text)
_WORD = re.compile(r"(?<![#@\w])[a-z]+(?:'[a-z]+)?")


def content_words(text: str) -> frozenset[str]:
    words = _WORD.findall(re.sub(r"(?<![\w&])[#@]\w+", " ", text.casefold().replace("\u2019", "'")))
    return frozenset(w for w in words if w not in STOP_WORDS)


def difference(a: str, b: str) -> int:
    """How many content words differ between two captions: the more of the two counts of words one
    has that the other lacks (a swapped word counts once), or all of them when none is shared."""
    wa, wb = content_words(a), content_words(b)
    if not wa & wb:
        return len(wa | wb)
    return max(len(wa - wb), len(wb - wa))


def too_close(text: str, forwarded: Iterable[str], minimum: int = MIN_CONTENT_WORDS) -> str | None:
    """The first already-forwarded sibling ``text`` differs from by fewer than ``minimum`` content
    words, or None."""
    for other in forwarded:
        if difference(text, other) < minimum:
            return other
    return None
