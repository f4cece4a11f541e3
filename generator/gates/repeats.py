"""The ``duplicate`` gate's index: has this account already got a caption that says the same?

A caption repeats an earlier one when their content words (generator.gates.siblings.content_words:
case-folded, hashtags, punctuation and stop words set aside) differ by fewer than
``MIN_CONTENT_WORDS`` (2): "this is my face" on a second image repeats "this is my face" on the
first, and "Now you know. #science" repeats "Now you know. #art". Siblings of one image are held to
the same rule by the ``siblings`` gate; this one holds every image of the account to it.

Fewer than two words apart means the two word sets are equal or one is the other plus one word, so
a lookup is a few dict probes per caption, whatever the number of earlier captions: each earlier
set is filed under itself and under each of its one-word-shorter subsets.
Pure: texts in, the earlier caption a text repeats out.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from generator.gates.siblings import MIN_CONTENT_WORDS, content_words

assert MIN_CONTENT_WORDS == 2, "the index finds differences of 0 or 1 word; a larger minimum needs more probes"


@dataclass(frozen=True)
class Earlier:
    """An earlier caption a new one is compared with: its words and a label for the reason."""

    text: str
    label: str  # e.g. "candidate 12 (pending)", "another draft of this run"


class RepeatIndex:
    """Earlier captions of one account, found by a new caption's content words."""

    def __init__(self, earlier: Iterable[Earlier] = ()) -> None:
        self._same: dict[frozenset[str], Earlier] = {}  # its words -> the caption
        self._one_more: dict[frozenset[str], Earlier] = {}  # its words minus one -> the caption
        for e in earlier:
            self.add(e)

    def __len__(self) -> int:
        return len(self._same)

    def add(self, earlier: Earlier) -> None:
        words = content_words(earlier.text)
        self._same.setdefault(words, earlier)
        for w in words:
            self._one_more.setdefault(words - {w}, earlier)

    def find(self, text: str) -> Earlier | None:
        """The earlier caption ``text`` differs from by fewer than 2 content words, or None."""
        words = content_words(text)
        hit = self._same.get(words) or self._one_more.get(words)
        if hit is not None:
            return hit
        for w in words:  # an earlier caption with one word fewer
            hit = self._same.get(words - {w})
            if hit is not None:
                return hit
        return None


def repeat_reason(text: str, earlier: Earlier) -> str:
    """The stored reason, in words."""
    said = " ".join(earlier.text.split())
    said = said if len(said) <= 60 else said[:59] + "…"
    return (f"duplicate: {earlier.label} already says this ({said!r}); fewer than {MIN_CONTENT_WORDS} "
            f"content words differ")
