"""The ``meaning`` gate: a caption joined from pieces of training captions must join words that go together.

The demo meme captioner writes by joining the start of one training caption to the end of another
where they share words (generator/meme/ngrams.py). The result is often grammatical and meaningless:
"the bike is | my face", "when you sit in the | wall", "me trying to be | five minutes of work".
Grammar rules (generator/gates/fluency.py) cannot see it; what is wrong is the pair of words the
seam puts together: a subject and its complement, a verb and its object, a preposition and its
object.

This gate reads those pairs off the caption (word classes from the word-class model of English,
generator/gates/classlm.py):
- ``obj``: a verb and the head of the noun phrase after it ("send | the whole time": send, time);
- a preposition's: the verb or noun before it, the preposition and the head after it ("sit in the
  wall": sit, in, wall; "launch out of coffee": launch, out of, coffee; "minutes of work");
- ``be``: a noun subject, a form of "be" and its complement ("the bike is my face": bike, face;
  "the coffee is real": coffee, real), and "to be" with its complement ("trying to be a nap": be, nap).

A pair is judged only when it is formed across a seam: its words are not one run of words inside
one of the generator's training captions (``Sources``; the pairs inside one were written by a
person). Such a pair must be attested: the same pair (lemmas, same link) occurs in a caption a
person wrote, in the corpora the project ships (generator/data/relations.json, built by
``python -m generator.gates.meaning`` from generator/meme/demo_data and generator/textgen/corpus),
or, for a pair of adjacent words, in symspellpy's 243k frequent pairs of ordinary English (a
place or time preposition right before its noun, "at work", "in space", counts too: such a set phrase may go
with the verb before the noun it follows; an adjective said of a noun, "the coffee is hot", counts
when English puts it before the noun: "hot coffee"). Neither
is the model that wrote the caption. A caption with an unattested pair across a seam is refused
with the pair in words.

Text that is not joined from a generator's training captions (written captions, a person's text)
has no seams to judge: the gate runs on meme captions, with their bundle's caption keys.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent
TABLE = Path(__file__).resolve().parent.parent / "data" / "relations.json"
CORPORA = ("generator/meme/demo_data/captions.jsonl", "generator/textgen/corpus/captions.jsonl")
MAX_SPAN = 8  # words: longer spans count as across a seam
_NP_INNER = frozenset({"DET", "POSS", "ADJ", "NUM", "UNK", "ADV"})
_VERB = frozenset({"VB", "VBZ", "VBD", "VBG"})
_PARTICLES = frozenset({"out", "up", "down", "off", "back", "away", "over"})
_ADVERBIAL = frozenset({"at", "in", "on", "for", "after", "before", "during"})  # "at work", "on time"
_LINKS = {"obj": "+ object", "be": "is"}
_FREE_HEADS = frozenset({"thing", "one", "way", "lot", "kind", "sort", "bit"})  # say nothing of their own


@dataclass(frozen=True)
class Relation:
    head: str  # lemma of the governing word ("sit", "bike", "be")
    link: str  # "obj", "be", or the preposition ("in", "out of")
    dep: str  # lemma of the head of what it governs ("wall", "face")
    start: int  # word index of the governing word
    end: int  # word index of the governed head

    @property
    def key(self) -> str:
        return f"{self.head} {self.link} {self.dep}"

    def said_in(self, text: str) -> str:
        """The words of ``text`` the pair spans (its clause found again by the pair's words)."""
        for words in clauses(text):
            if self.end < len(words) and lemma(words[self.end], "NOUN") in (self.dep, words[self.end]):
                span = " ".join(words[self.start:self.end + 1])
                if span:
                    return span
        return f"{self.head} {self.dep}"


def lemma(word: str, tag: str) -> str:
    """lemminflect's first lemma of ``word`` for its class, read from the shipped lemma table
    (generator/gates/wordclasses.py: the same answers without reading lemminflect's lexicon)."""
    from generator.gates.wordclasses import lemma_of

    pos = "VERB" if tag in _VERB or tag == "BE" else "NOUN" if tag == "NOUN" else "ADJ" if tag == "ADJ" else None
    return lemma_of(word, pos) if pos else word


def relations(words: Sequence[str]) -> list[Relation]:
    """The verb-object, preposition-object and subject-complement pairs of one clause run of words."""
    from generator.gates.classlm import class_model

    tags = class_model().best_path(words)
    out: list[Relation] = []
    n = len(words)

    def np_head(i: int) -> int | None:
        """Index of the head of the noun phrase starting at i (last noun of the run; an adjective
        when the phrase has no noun), None when no noun phrase starts there."""
        j, last = i, None
        while j < n and tags[j] in _NP_INNER:
            if tags[j] == "ADJ":
                last = j
            j += 1
        while j < n and tags[j] == "NOUN":
            last = j
            j += 1
        return last if last is not None and tags[last] in ("NOUN", "ADJ") else None

    for i, (w, t) in enumerate(zip(words, tags)):
        if t in _VERB:
            k = i + 1
            while k < n and words[k] in _PARTICLES:
                k += 1
            if k < n and tags[k] == "PREP":
                h = np_head(k + 1)
                if h is not None:
                    link = " ".join(words[i + 1:k + 1])
                    out.append(Relation(lemma(w, t), link, lemma(words[h], tags[h]), i, h))
            elif k == i + 1 and k < n and tags[k] in ("DET", "POSS", "NOUN", "ADJ", "NUM"):
                h = np_head(k)
                if h is not None and tags[h] == "NOUN":
                    out.append(Relation(lemma(w, t), "obj", lemma(words[h], tags[h]), i, h))
        elif t == "PREP" and i > 0 and tags[i - 1] == "NOUN" and words[i - 1] not in _PARTICLES:
            h = np_head(i + 1)
            if h is not None:
                out.append(Relation(lemma(words[i - 1], "NOUN"), w, lemma(words[h], tags[h]), i - 1, h))
        elif t == "BE" and i > 0:
            if tags[i - 1] == "NOUN" or (tags[i - 1] == "TO" and w == "be"):
                k = i + 1
                while k < n and words[k] in ("just", "not", "so", "very", "really", "still", "also", "only",
                                              "never", "always", "literally", "actually"):
                    k += 1
                h = np_head(k) if k < n else None
                if h is not None:
                    head = "be" if tags[i - 1] == "TO" else lemma(words[i - 1], "NOUN")
                    out.append(Relation(head, "be", lemma(words[h], tags[h]), i - 1, h))
    return out


def clauses(text: str) -> list[list[str]]:
    from generator.gates.english import words_of

    return [w for part in re.split(r"[.!?,;:\n()\"]+", text) if (w := words_of(part))]


@lru_cache(maxsize=1)
def attested() -> frozenset[str]:
    """Relation keys of the human-written captions the project ships (the shipped table)."""
    if TABLE.is_file():
        return frozenset(json.loads(TABLE.read_text(encoding="utf-8"))["relations"])
    return frozenset(build_table(corpus_texts()))


def corpus_texts() -> list[str]:
    """The human-written captions the project ships (distinct, in file order)."""
    texts: list[str] = []
    for name in CORPORA:
        texts += [json.loads(line)["text"] for line in (ROOT / name).read_text(encoding="utf-8").splitlines()
                  if line.strip()]
    return list(dict.fromkeys(texts))


def build_table(texts: Iterable[str]) -> dict[str, int]:
    """Relation key -> how many of ``texts`` hold it."""
    counts: dict[str, int] = {}
    for text in texts:
        for key in {r.key for words in clauses(text) for r in relations(words)}:
            counts[key] = counts.get(key, 0) + 1
    return counts


VERDICTS = 65536  # texts whose verdict a Sources keeps (a warm worker's runs: forgotten all at once past it)


class Sources:
    """The runs of words (up to MAX_SPAN) inside the training captions a generator joins.

    It also keeps the gate's verdict per text judged against it with the shipped table
    (``check_meaning``'s default): the verdict depends on nothing else, and the meme captioner asks
    first (to hand out captions the gates pass) and the pipeline's gate again of the same drafts
    (bot/service/pipeline_gates.py, given the captioner's Sources)."""

    def __init__(self, caption_keys: Iterable[str]) -> None:
        keys = list(caption_keys)
        # every key between bars, for runs of any length (generator/gates/coherence.py)
        self.text = "|" + "|".join(f" {key} " for key in keys) + "|"
        runs: set[str] = set()
        for key in keys:
            w = key.split()
            for i in range(len(w)):
                for j in range(i + 2, min(len(w), i + MAX_SPAN) + 1):
                    runs.add(" ".join(w[i:j]))
        self.runs = frozenset(runs)
        self.verdicts: dict[str, str | None] = {}

    def inside(self, words: Sequence[str]) -> bool:
        from generator.meme.novelty import word_key

        return word_key(" ".join(words)) in self.runs

    def within(self, words: Sequence[str]) -> bool:
        """``words`` (caption-key words) are one run of words inside one training caption, of any length."""
        return f" {' '.join(words)} " in self.text


def bundle_sources(bundle: str | Path | None) -> Sources | None:
    """``Sources`` of a meme bundle directory (None = the shipped demo bundle), cached per path;
    None when the bundle keeps no training captions (captions.txt)."""
    from generator.meme.bundle import CAPTION_KEYS, DEMO_BUNDLE_DIR

    path = ((Path(bundle) if bundle is not None else DEMO_BUNDLE_DIR) / CAPTION_KEYS).resolve()
    return _sources(path, path.stat().st_mtime_ns if path.is_file() else 0)


@lru_cache(maxsize=4)
def _sources(path: Path, _mtime_ns: int) -> Sources | None:
    from generator.meme.novelty import read_caption_keys

    return Sources(read_caption_keys(path)) if path.is_file() else None


def unattested(text: str, sources: Sources, known: frozenset[str] | None = None) -> Relation | None:
    """The first pair of ``text`` formed across a seam that no person's caption nor ordinary English attests."""
    from generator.gates.english import english

    known = attested() if known is None else known
    model = english()
    for words in clauses(text):
        for rel in relations(words):
            span = words[rel.start:rel.end + 1]
            if sources.inside(span) or rel.key in known or rel.dep in _FREE_HEADS:
                continue
            if rel.end == rel.start + 1 and model.seen(span[0], span[1]):
                continue
            if rel.link in _ADVERBIAL and span[-2] == rel.link and model.seen(span[-2], span[-1]):
                continue  # "at work", "in space", "on time": a set phrase that may go with the verb before
            if rel.link == "be" and rel.head != "be" and model.seen(span[-1], rel.head):
                continue  # "the coffee is hot": English says "hot coffee"
            return rel
    return None


def check_meaning(text: str, sources: Sources, known: frozenset[str] | None = None) -> str | None:
    """What does not go together in ``text``, in words; None when every seam joins attested words.
    With the shipped table (``known`` None) the verdict is kept on ``sources`` (Sources.verdicts)."""
    if known is not None:
        return _judge(text, sources, known)
    if text not in sources.verdicts:
        if len(sources.verdicts) >= VERDICTS:
            sources.verdicts.clear()
        sources.verdicts[text] = _judge(text, sources, None)
    return sources.verdicts[text]


def _judge(text: str, sources: Sources, known: frozenset[str] | None) -> str | None:
    rel = unattested(text, sources, known)
    if rel is None:
        return None
    pair = f"to be {rel.dep}" if rel.head == "be" else f"{rel.head} {_LINKS.get(rel.link, rel.link)} {rel.dep}"
    return (f"words that do not go together: {rel.said_in(text)!r} ({pair}: joined across two training "
            f"captions, and no caption a person wrote nor a common English pair joins them)")


if __name__ == "__main__":
    table = build_table(corpus_texts())
    TABLE.write_text(json.dumps({"relations": sorted(table)}, indent=0) + "\n", encoding="utf-8")
    print(f"wrote {TABLE}: {len(table)} relations")
