"""The ``duplicate`` gate's index: has this account already got a caption that says the same?

A caption repeats an earlier one when their content words (generator.gates.siblings.content_words:
case-folded, hashtags, punctuation and stop words set aside) differ by fewer than
``MIN_CONTENT_WORDS`` (2): "this is my face" on a second image repeats "this is my face" on the
first, and "Now you know. #science" repeats "Now you know. #art". Siblings of one image are held to
the same rule by the ``siblings`` gate; this one holds every image of the account to it.

Fewer than two words apart means the two word sets are equal, one is the other plus one word, or
each is the other with one word swapped (sharing at least one word), so a lookup is a few dict
probes per caption, whatever the number of earlier captions: each earlier set is filed under itself
and under each of its one-word-shorter subsets.
A caption of several paragraphs (a story thread: its parts joined by blank lines) is also compared
part by part: a thread whose part says what an earlier caption or another thread's part says
repeats it, as a reader scrolling the account would see.
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
        self._captions = 0
        for e in earlier:
            self.add(e)

    def __len__(self) -> int:
        return self._captions

    def add(self, earlier: Earlier) -> None:
        self._captions += 1
        self._file(content_words(earlier.text), earlier)
        for part in parts_of(earlier.text):
            self._file(content_words(part), Earlier(part, earlier.label))

    def _file(self, words: frozenset[str], earlier: Earlier) -> None:
        self._same.setdefault(words, earlier)
        for w in words:
            self._one_more.setdefault(words - {w}, earlier)

    def find(self, text: str) -> Earlier | None:
        """The earlier caption (or part of one) ``text`` or one of its parts differs from by fewer
        than 2 content words, or None."""
        for words in (content_words(text), *(content_words(p) for p in parts_of(text))):
            hit = self._find(words)
            if hit is not None:
                return hit
        return None

    def _find(self, words: frozenset[str]) -> Earlier | None:
        hit = self._same.get(words) or self._one_more.get(words)
        if hit is not None:
            return hit
        for w in words:  # an earlier caption with one word fewer, or with one word swapped
            rest = words - {w}
            hit = self._same.get(rest) or (self._one_more.get(rest) if rest else None)
            if hit is not None:
                return hit
        return None


MIN_PART_WORDS = 3  # a shorter part is too little to say anything twice


def parts_of(text: str) -> list[str]:
    """The parts of a text of several paragraphs (a story thread) that say something of their own
    (at least MIN_PART_WORDS content words); [] for a text of one paragraph (and its hashtags)."""
    import re

    parts = [p for p in re.split(r"\n\s*\n", text) if len(content_words(p)) >= MIN_PART_WORDS]
    return parts if len(parts) > 1 else []


def repeat_reason(text: str, earlier: Earlier) -> str:
    """The stored reason, in words."""
    said = " ".join(earlier.text.split())
    said = said if len(said) <= 60 else said[:59] + "…"
    return (f"duplicate: {earlier.label} already says this ({said!r}); fewer than {MIN_CONTENT_WORDS} "
            f"content words differ")
