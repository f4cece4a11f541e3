"""Which parts of speech an English word can be: lemminflect's lexicon (PyPI, MIT), read from the
table built from it (generator/gates/wordclasses.py), plus the closed classes written out here.
Used by the fluency rules."""
from __future__ import annotations

from functools import lru_cache

from generator.gates.wordclasses import word_class

DETERMINERS = frozenset(["the", "a", "an", "my", "your", "his", "her", "its", "our", "their", "this", "these", "those", "every", "each"])
SUBJECTS = frozenset(["i", "we", "they", "he", "she"])  # "you" and "it" can be objects too
MODAL_AFTER_SUBJECT = ("'ll", " will", " can", " could", " would", " should", " must", " might")


@lru_cache(maxsize=4096)
def tags(word: str) -> frozenset[str]:
    """Open-class tags the word can have (NOUN, VERB, ADJ, ADV, PROPN, AUX); empty if unknown."""
    return frozenset(word_class(word).pos)


def only_noun(word: str) -> bool:
    t = tags(word)
    return bool(t) and t <= {"NOUN", "PROPN"} and word not in DETERMINERS


def bare_verb_only(word: str) -> bool:
    """A verb's base form that is nothing else ("explain", "ask"), not "-ing"/"-ed" forms."""
    found = word_class(word)
    return found.pos == ("VERB",) and found.verb_lemma and not word.endswith(("ing", "ed"))


def third_person_verb_only(word: str) -> bool:
    """A verb's -s form that is no noun ("sends", "goes" is also a noun: no)."""
    found = word_class(word)
    return found.pos == ("VERB",) and not found.verb_lemma and word.endswith("s")
