"""A word-class bigram model of ordinary English, trained here from data two packages ship.

Word classes: the closed classes written out below (determiners, pronouns, prepositions, "to",
conjunctions, forms of "be", auxiliaries, modals, "not", contractions) and, for every other word,
lemminflect's parts of speech with the form read off the word (a verb's base, -s, -ed or -ing
form; noun; adjective; adverb). Training: every pair in symspellpy's 243k frequent English word
pairs whose two words each have one class only adds its count to that class pair (about 20k
pairs of ordinary English, weighted by how often they occur). A caption is read with the most
likely classes for its words (Viterbi over the transitions); the least likely step on that path is
its score. Function words carry the grammar, so "i galaxy", "you'll the", "can went" and
"a did" come out far less likely than anything a person writes.
"""
from __future__ import annotations

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

CLOSED: dict[str, str] = {}
for _tag, _words in {
    "DET": "the a an this that these those every each some any no another",
    "POSS": "my your his her its our their",
    "SUBJ": "i we they he she",
    "OBJ": "me him us them",
    "YOU": "you",
    "IT": "it",
    "PREP": "of in on at for with from by about into over after before under between through during without "
            "against among around across toward towards onto upon",
    "TO": "to",
    "CONJ": "and or but nor yet",
    "SUB": "when if because while than though although unless until since whether",
    "WH": "what who where why how which whose whom",
    "BE": "am is are was were be been being",
    "AUX": "do does did have has had",
    "MODAL": "will would can could should might must shall may",
    "NEG": "not never",
    "PRON_BE": "i'm you're we're they're he's she's it's that's there's what's who's here's",
    "PRON_MOD": "i'll you'll we'll they'll he'll she'll it'll i'd you'd we'd they'd",
    "PRON_HAVE": "i've you've we've they've",
    "AUX_NEG": "don't doesn't didn't can't couldn't won't wouldn't shouldn't isn't aren't wasn't weren't haven't "
               "hasn't",
    "THERE": "there here",
    "SO": "so too very just also only even still already really",
    "LIKE": "like",
}.items():
    for _w in _words.split():
        CLOSED[_w] = _tag
SPEECH = frozenset({"say", "says", "said", "ask", "asks", "asked", "tell", "tells", "told", "yell", "yells",
                    "yelled", "goes", "went"})  # "he said give me more": a quotation may follow
SMOOTH = 0.5  # added to every class pair's count (counts in millions)
EXPAND: dict[str, tuple[str, ...]] = {}
for _pron in ("i", "you", "we", "they", "he", "she", "it", "that", "there", "what", "who", "here"):
    for _end, _full in (("'m", "am"), ("'re", "are"), ("'s", "is"), ("'ll", "will"), ("'d", "would"), ("'ve", "have")):
        EXPAND[_pron + _end] = (_pron, _full)
for _aux, _full in (("don't", "do"), ("doesn't", "does"), ("didn't", "did"), ("can't", "can"), ("couldn't", "could"),
                    ("won't", "will"), ("wouldn't", "would"), ("shouldn't", "should"), ("isn't", "is"),
                    ("aren't", "are"), ("wasn't", "was"), ("weren't", "were"), ("haven't", "have"),
                    ("hasn't", "has")):
    EXPAND[_aux] = (_full, "not")


def classes(word: str) -> tuple[str, ...]:
    """The classes ``word`` can have (closed class first, else lemminflect's parts of speech, read
    from generator/gates/wordclasses.py's table)."""
    if word in CLOSED:
        return (CLOSED[word],)
    if word.isdigit():
        return ("NUM",)
    return _open(word)


@lru_cache(maxsize=65536)
def _open(word: str) -> tuple[str, ...]:
    from generator.gates.wordclasses import word_class

    found = word_class(word)
    out = []
    for pos in found.pos:
        if pos == "VERB":
            out.append("VB" if found.verb_lemma else "VBG" if word.endswith("ing") else
                       "VBZ" if word.endswith("s") and not word.endswith("ss") else "VBD")
        elif pos in ("NOUN", "PROPN"):
            out.append("NOUN")
        elif pos in ("ADJ", "ADV"):
            out.append(pos)
    return tuple(dict.fromkeys(out)) or ("UNK",)


@dataclass(frozen=True)
class Step:
    first: str
    second: str
    classes: tuple[str, str]
    logprob: float


class ClassModel:
    def __init__(self, pair_counts: dict[tuple[str, ...], float]) -> None:
        tags = sorted({t for pair in pair_counts for t in pair} | {"UNK", "NUM"})
        self.tags = tags
        out: dict[str, float] = {t: 0.0 for t in tags}
        for (a, _), c in pair_counts.items():
            out[a] += c
        self.logp = {(a, b): math.log((pair_counts.get((a, b), 0.0) + SMOOTH) / (out[a] + SMOOTH * len(tags)))
                     for a in tags for b in tags}

    def best_path(self, words: Sequence[str]) -> list[str]:
        """The most likely classes of ``words`` (Viterbi over the class transitions)."""
        if not words:
            return []
        options = [classes(w) for w in words]
        score = {t: 0.0 for t in options[0]}
        back: list[dict[str, str]] = []
        for opts in options[1:]:
            step, ptr = {}, {}
            for t in opts:
                prev = max(score, key=lambda p: score[p] + self.logp.get((p, t), -50.0))
                step[t], ptr[t] = score[prev] + self.logp.get((prev, t), -50.0), prev
            score, back = step, [*back, ptr]
        last = max(score, key=lambda t: score[t])
        path = [last]
        for ptr in reversed(back):
            path.append(ptr[path[-1]])
        return path[::-1]

    def weakest(self, words: Sequence[str]) -> Step | None:
        """The least likely step of the best reading of ``words`` (contractions read as their two
        words; a step to or from a word the lexicon does not know, or after a verb of saying that
        may open a quotation, is not judged)."""
        words = [part for w in words for part in EXPAND.get(w, (w,))]
        path = self.best_path(words)
        steps = [Step(words[i], words[i + 1], (path[i], path[i + 1]),
                      self.logp.get((path[i], path[i + 1]), -50.0)) for i in range(len(words) - 1)
                 if "UNK" not in (path[i], path[i + 1]) and words[i] not in SPEECH]
        return min(steps, key=lambda s: s.logprob, default=None)


TABLE = Path(__file__).resolve().parent.parent / "data" / "class_bigrams.json"


def train() -> dict[str, float]:
    """Class-pair counts (in millions) from symspellpy's pair list: the pairs whose words have one
    class each. Deterministic; `python -m generator.gates.classlm` writes them to TABLE."""
    from generator.gates.english import english

    counts: dict[str, float] = {}
    for key, c in english().bigrams.items():
        a, _, b = key.partition(" ")
        ca, cb = classes(a), classes(b)
        if len(ca) == 1 and len(cb) == 1 and "UNK" not in (ca[0], cb[0]):
            pair = f"{ca[0]} {cb[0]}"
            counts[pair] = counts.get(pair, 0.0) + c / 1e6
    return {k: round(v, 3) for k, v in sorted(counts.items())}


@lru_cache(maxsize=1)
def class_model() -> ClassModel:
    """The model from the shipped table (trained once; reading it takes milliseconds)."""
    table = json.loads(TABLE.read_text(encoding="utf-8")) if TABLE.is_file() else train()
    return ClassModel({tuple(k.split(" ")): v for k, v in table.items()})  # type: ignore[misc]


if __name__ == "__main__":
    TABLE.write_text(json.dumps(train(), indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {TABLE}")
