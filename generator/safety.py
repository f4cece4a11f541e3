"""Blocked-term and sensitive-topic matching for generated text (every draft passes both).

Terms come from generator/data/blocked_words.txt (one per line, '#' comments) plus any extra words.
Matching is case-insensitive and whole-word, and cheaply sees through obfuscation: l33t digits and
symbols (sh1t, @ss), stretched letters (shiiiit) and separators between letters (s.h.i.t, s-h-i-t),
plus common suffixes (shits, shitty). Whole words keep "Scunthorpe" and "class" safe.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

WORD_LIST = Path(__file__).resolve().parent / "data" / "blocked_words.txt"

# One character in, one character out, so match offsets in the mapped text are offsets in the input.
_LEET = str.maketrans({"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s",
                       "!": "i", "|": "l", "+": "t"})
_SEP = r"[._\-*~]?"
_HASHTAG_BODY = re.compile(r"#(\w+)")
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])|_")
_SUFFIX = r"(?:s|es|ed|er|ers|ing|in|y|z)?"


# Ordinary words that a base term plus a suffix would otherwise catch.
_ALLOWED = frozenset({"spiced", "spicer", "spices", "spicy", "homer", "homers", "cocker", "cockers",
                      "analy", "hellin", "dicker", "dickers", "crapper"})


def _fold(ch: str) -> str:
    folded = ch.casefold()
    return folded if len(folded) == 1 else ch  # keep offsets: never expand one char into two


@dataclass(frozen=True)
class Match:
    term: str
    start: int
    end: int


def _term_pattern(term: str) -> str:
    words = []
    for word in term.split():
        words.append(_SEP.join(f"{re.escape(ch)}+" for ch in word))
    return r"\s+".join(words)


class BlockList:
    """A compiled set of blocked terms."""

    def __init__(self, terms: Iterable[str]):
        cleaned = sorted({" ".join(t.casefold().split()) for t in terms if t and t.strip()}, key=len, reverse=True)
        self.terms: tuple[str, ...] = tuple(cleaned)
        self._patterns = [(t, re.compile(rf"(?<![\w@$]){_term_pattern(t)}{_SUFFIX}(?![\w@$])")) for t in cleaned]

    def matches(self, text: str) -> list[Match]:
        """Every blocked term found, as spans of `text`, leftmost first, non-overlapping."""
        folded = "".join(_fold(ch) for ch in text)
        # Both spellings: a l33t reading of "shit!" would be "shiti" and hide the word.
        views = (folded, folded.translate(_LEET))
        found: list[Match] = []
        for term, pattern in self._patterns:
            for m in (m for view in views for m in pattern.finditer(view)):
                if m.group(0) not in _ALLOWED and not any(m.start() < f.end and f.start < m.end() for f in found):
                    found.append(Match(term, m.start(), m.end()))
        return sorted(found, key=lambda f: f.start)

    def find(self, text: str) -> list[str]:
        """Distinct matched terms in order of first appearance (also inside CamelCase hashtags)."""
        out: list[str] = []
        compounds = " ".join(_CAMEL.sub(" ", tag) for tag in _HASHTAG_BODY.findall(text))
        for match in self.matches(text) + self.matches(compounds):
            if match.term not in out:
                out.append(match.term)
        return out


def load_word_list(path: Path = WORD_LIST) -> tuple[str, ...]:
    lines = path.read_text(encoding="utf-8").splitlines()
    return tuple(line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#"))


@lru_cache(maxsize=32)
def _blocklist(extra: frozenset[str]) -> BlockList:
    return BlockList(load_word_list() + tuple(extra))


def default_blocklist() -> BlockList:
    return _blocklist(frozenset())


def find_unsafe(text: str, extra_words: Iterable[str] = ()) -> list[str]:
    """Blocked terms (from the shipped list plus `extra_words`) found in `text`; [] when it is clean."""
    return _blocklist(frozenset(extra_words)).find(text)


# -- sensitive topics ------------------------------------------------------------------------------
TOPIC_LIST = Path(__file__).resolve().parent / "data" / "sensitive_topics.txt"
_APOSTROPHE = re.compile(r"['\u2019]")


@dataclass(frozen=True)
class TopicHit:
    topic: str  # the section of sensitive_topics.txt: "religion", "sexual violence", ...
    term: str

    @property
    def reason(self) -> str:
        return f'{self.topic} ("{self.term}")'


def _topic_pattern(term: str) -> str:
    parts = [re.escape(word) for word in term.replace("-", " ").split()]
    joiner = r"[\s\-]*" if "-" in term else r"\s+"
    return rf"(?<!\w){joiner.join(parts)}(?:s|es)?(?!\w)"


class TopicList:
    """Terms and phrases per sensitive topic, matched case-insensitively on whole words.

    Plain word boundaries, no stretched-letter or l33t reading: "god" must not match "good"."""

    def __init__(self, topics: Iterable[tuple[str, str]]):
        pairs = sorted({(topic, " ".join(term.casefold().split())) for topic, term in topics if term.strip()},
                       key=lambda p: (-len(p[1]), p))
        self.terms: tuple[tuple[str, str], ...] = tuple(pairs)
        self._patterns = [(topic, term, re.compile(_topic_pattern(term))) for topic, term in pairs]

    def find(self, text: str) -> list[TopicHit]:
        """Every topic touched, once, in order of first appearance (also inside CamelCase hashtags)."""
        compounds = " ".join(_CAMEL.sub(" ", tag) for tag in _HASHTAG_BODY.findall(text))
        folded = _APOSTROPHE.sub("'", f"{text} {compounds}".casefold())
        found: list[tuple[int, int, TopicHit]] = []  # longest terms first: "sexual assault" is not also "sexual"
        for topic, term, pattern in self._patterns:
            for m in pattern.finditer(folded):
                if not any(m.start() < end and start < m.end() for start, end, _ in found):
                    found.append((m.start(), m.end(), TopicHit(topic, term)))
        hits: list[TopicHit] = []
        for _, _, hit in sorted(found, key=lambda f: f[0]):
            if all(h.topic != hit.topic for h in hits):
                hits.append(hit)
        return hits


def load_topic_list(path: Path = TOPIC_LIST) -> tuple[tuple[str, str], ...]:
    """(topic, term) pairs of a sections file: `[topic]` lines, then one term a line, '#' comments."""
    pairs: list[tuple[str, str]] = []
    topic = ""
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if raw.lstrip().startswith("#") else raw.strip()
        if not line:
            continue
        if line.startswith("[") and line.endswith("]"):
            topic = line[1:-1].strip()
        elif not topic:
            raise ValueError(f"{path}:{n}: term {line!r} comes before any [topic] line")
        else:
            pairs.append((topic, line))
    return tuple(pairs)


@lru_cache(maxsize=1)
def default_topics() -> TopicList:
    return TopicList(load_topic_list())


def find_topics(text: str) -> list[TopicHit]:
    """The sensitive topics (generator/data/sensitive_topics.txt) that `text` touches; [] when none."""
    return default_topics().find(text)


def topic_reason(text: str) -> str | None:
    """'sensitive topic: religion ("jesus")' when `text` touches one, else None."""
    hits = find_topics(text)
    return "sensitive topic: " + ", ".join(h.reason for h in hits) if hits else None
