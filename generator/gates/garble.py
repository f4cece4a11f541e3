"""Garbled constructions the caption writer makes when it splices two corpus lines, for the fluency gate.

- two bare verbs in a row after a modal: "Cats can host hunt their waking hours grooming." (a
  splice of "Cats can hunt" and "host"); "can help make" and "will go get" are English (the pair
  occurs among ordinary English's frequent word pairs, generator/gates/english.py), so they pass;
- a bare noun after "with almost" (a preposition and a degree word): "The light with almost nose." (a
  splice of "even light with almost no hard shadows"); "almost no", "almost every" pass;
- a sentence that stops on "here"/"there" and a pronoun, its verb cut away: "Nobody asked, but here
  it." (a splice of "but here it is anyway"); "here it is", "there you go" pass;
- one sentence said twice in a caption: "The sky is not the limit, it is the view. The sky is not
  the limit, it is the view." (a sampler that looped).
Pure: text in, reason out (generator/gates/fluency.py calls ``find_garble`` among its rules).
"""
from __future__ import annotations

import re

MODALS = frozenset({"can", "could", "will", "would", "shall", "should", "may", "might", "must", "cannot", "can't",
                    "won't", "wouldn't", "couldn't", "shouldn't", "mustn't"})
_SKIP = frozenset({"not", "never", "always", "just", "still", "also", "really", "only", "even", "probably", "finally",
                   "actually", "all", "both", "often", "sometimes", "usually", "easily", "then"})
# words after the second verb that show it was read as a verb with its object: "host hunt their ..."
_OBJECT_START = frozenset({"the", "a", "an", "their", "his", "her", "its", "my", "your", "our", "this", "that",
                           "these", "those", "it", "them", "him", "me", "us", "you", "some", "every"})
_WORD = re.compile(r"[a-z']+")
_SENTENCE = re.compile(r"[^.!?\n]+[.!?]*")
_TAG = re.compile(r"(?<![\w&])[#@]\w+")


def find_garble(text: str) -> str | None:
    """The first garbled construction of ``text``, in words; None when there is none."""
    body = _TAG.sub(" ", text)
    return _said_twice(body) or _modal_two_verbs(body) or _degree_noun(body) or _verb_cut_away(body)


def _said_twice(body: str) -> str | None:
    seen: set[str] = set()
    for sentence in _SENTENCE.findall(body):
        key = " ".join(_WORD.findall(sentence.casefold()))
        if len(key.split()) >= 3 and key in seen:
            return f"says {' '.join(sentence.split())!r} twice"
        seen.add(key)
    return None


def _bare_verb(word: str) -> bool:
    from generator.gates.wordclasses import word_class

    wc = word_class(word)
    return wc.verb_lemma and "VERB" in wc.pos


def _modal_two_verbs(body: str) -> str | None:
    from generator.gates.english import english

    model = english()
    for sentence in _SENTENCE.findall(body.casefold().replace("\u2019", "'")):
        for chunk in re.split(r"[,;:()\"\u2014\u2013]|\s-\s|\band\b|\bor\b", sentence):
            words = _WORD.findall(chunk)
            for i, w in enumerate(words):
                if w not in MODALS:
                    continue
                j = i + 1
                while j < len(words) and words[j] in _SKIP:
                    j += 1
                if j + 1 >= len(words):
                    continue
                first, second = words[j], words[j + 1]
                after = words[j + 2] if j + 2 < len(words) else None
                if (_bare_verb(first) and _bare_verb(second) and (after is None or after in _OBJECT_START)
                        and not model.seen(first, second)):
                    return f"two verbs in a row after {w!r}: {' '.join(words[i:j + 2])!r}"
    return None


_DEGREE = re.compile(r"\b(with|of|in|at|for|to|from|on|by)\s+(almost|nearly|barely)\s+([a-z']+)")


def _degree_noun(body: str) -> str | None:
    from generator.gates.english import english
    from generator.gates.wordclasses import word_class

    model = english()
    for prep, degree, word in _DEGREE.findall(body.casefold()):
        wc = word_class(word)
        if "NOUN" in wc.pos and not {"ADJ", "ADV"} & set(wc.pos) and not wc.participle \
                and not model.seen(degree, word):
            return f"a bare noun after {degree!r}: {' '.join((prep, degree, word))!r}"
    return None


_CUT_AWAY = re.compile(r"\b(here|there)\s+(it|they|he|she|we|i|you)\s*[.!?]*\s*$")


def _verb_cut_away(body: str) -> str | None:
    for sentence in _SENTENCE.findall(body.casefold().replace("\u2019", "'")):
        found = _CUT_AWAY.search(sentence.strip())
        if found:
            return f"a sentence that stops before its verb: {found.group(1)} {found.group(2)!r}"
    return None


__all__ = ["find_garble"]
