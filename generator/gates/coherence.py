"""The ``coherence`` gate: a meme caption joined from pieces of training captions must hold together.

The demo meme captioner writes by joining runs of words of its training captions where they
overlap (generator/meme/ngrams.py). Each join (a seam) may change who speaks or what the clause is
about, and the words around it stay grammatical, so neither the fluency gate nor the word pairs of
the meaning gate (generator/gates/meaning.py) see it. This gate judges how the caption was joined,
against the pieces it was joined from (``Sources``: the bundle's training captions); nothing here is
the model that wrote it:

- ``pieces``: a caption is covered by as few runs of words of single training captions as possible
  (greedy interval cover). Three or more pieces (two seams or more) are refused: a clause of the
  caption then comes from no single caption's frame ("when you ask for the | coffee and forget |
  about your emails"). On the hand-labelled captions of the current demo bundle that the fluency and
  meaning gates pass (tests/generator/data/meme_corpus_labels_blind*.tsv, "after"), this refuses 56
  of 69 nonsense or broken ones and 15 of 66 good ones; a caption of two pieces is left to the rest.
- ``person``: a switch of grammatical person (you / your ... I / me / my, either way) is kept only
  when the words from the one to the other are one run of a single training caption: a person wrote
  that switch ("when you open the door and i decide not to go out", the cat's voice). Across a seam
  it is two speakers stitched together: "when you hit the wall of my procrastination", "when you pay
  for the coffee and i can buy a sandwich", "me going to the moon and you launch out of coffee". A
  clause of its own whose subject is "they", "he", "she" or "we" after "and", "but" or "so" is a
  third speaker: "when you make coffee and they bring another coffee" (the human "when you ask for
  the bill and they bring another coffee" has someone to bring it).
- ``time``: a verb (and its particle) followed straight by a length of time ("the whole time", "all
  day", "five minutes") across a seam, when no caption a person wrote (the shipped corpora) puts that
  verb before a length of time: the verb's object went missing at the seam ("when you set up the
  whole time", "when you send the whole time"); "sleep all day", "wait five minutes" are attested.
  "To be" and a length of time across a seam needs "late", "early", "ago"... after it ("me trying to
  be five minutes of work").
- ``frame``: a "me doing something" label ("me", "nobody: me:", "this is me" and an "-ing" verb) that
  goes on with "and" and a clause of its own across a seam ("me waiting for the coffee and i can do
  anything"): of the 298 such human captions none does; they go on with another "-ing" verb or "but".

Text not joined from a generator's training captions has no seams: the gate runs on meme captions
with their bundle's caption keys, as the meaning gate does.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache

from generator.gates.meaning import Sources

MAX_PIECES = 2
FIRST_PERSON = frozenset({"i", "me", "my", "mine", "myself", "im", "ive"})  # caption keys drop apostrophes
SECOND_PERSON = frozenset({"you", "your", "yours", "yourself", "youre", "youve", "youll", "youd"})
THIRD_PERSON = frozenset({"they", "he", "she", "we"})  # a speaker only as a new clause's subject
_CONJUNCTIONS = frozenset({"and", "but", "so"})
_PARTICLES = frozenset({"up", "out", "down", "off", "back", "away", "over", "around", "in"})
_SPANS = ("time", "day", "night", "week", "weekend", "year", "month", "morning", "afternoon", "evening", "hour")
_COUNTS = ("a", "an", "one", "two", "three", "four", "five", "six", "ten", "twenty", "thirty", "forty", "few",
           r"\d+")
_UNITS = ("seconds?", "minutes?", "hours?", "days?", "weeks?", "months?", "years?")
_AFTER_BE = frozenset({"late", "early", "ago", "old", "away", "long", "later", "behind", "ahead", "into", "in",
                       "from", "left", "off"})
_ME_FRAMES = (("me",), ("nobody", "me"), ("this", "is", "me"))
# words that open a clause with its own subject after "and"
_CLAUSE_STARTS = frozenset({"i", "im", "you", "youre", "he", "she", "it", "its", "we", "they", "there", "theres", "the",
                            "my", "your", "his", "her", "our", "their", "a", "an", "this", "that", "everyone",
                            "nobody", "someone", "everything", "nothing"})
# a length of time said as a bare noun phrase (no preposition): what a verb without an object may take
TIME_PHRASE = re.compile(rf"^(?:(?:the )?(?:whole|entire) (?:{'|'.join(_SPANS)})s?|all (?:{'|'.join(_SPANS)})"
                         rf"|every (?:{'|'.join(_SPANS)})|(?:{'|'.join(_COUNTS)}) (?:more )?(?:{'|'.join(_UNITS)}))\b")


def pieces(words: Sequence[str], sources: Sources) -> list[tuple[int, int]]:
    """As few runs ``words[a:b]`` of single training captions as cover ``words`` (they may overlap);
    a word no training caption holds is a piece of its own."""
    n = len(words)
    reach = []  # reach[s]: the end of the longest run starting at s inside one training caption
    for s in range(n):
        e = s + 1
        while e < n and sources.within(words[s:e + 1]):
            e += 1
        reach.append(e)
    out: list[tuple[int, int]] = []
    covered = 0
    while covered < n:
        start = max(range(covered + 1), key=reach.__getitem__)  # reach[covered] > covered: always progress
        out.append((start, reach[start]))
        covered = reach[start]
    return out


def person_switch(words: Sequence[str], sources: Sources) -> str | None:
    """The words from one grammatical person to another (you ... my, me ... you, you ... and they)
    that no single training caption holds; None when every switch was written by a person."""
    last: tuple[int, int] | None = None  # (index, person) of the last personal word
    for i, w in enumerate(words):
        person = 1 if w in FIRST_PERSON else 2 if w in SECOND_PERSON else 0
        if w in THIRD_PERSON and i > 0 and words[i - 1] in _CONJUNCTIONS:
            person = 3  # the subject of a clause of its own: "and they bring another coffee"
        if not person:
            continue
        if last is not None and last[1] != person and not sources.within(words[last[0]:i + 1]):
            return " ".join(words[last[0]:i + 1])
        last = (i, person)
    return None


def verb_before_time(words: Sequence[str], sources: Sources) -> str | None:
    """A verb followed straight by a length of time across a seam, when the human corpora never put
    that verb (lemma) before a length of time: the words, else None."""
    from generator.gates.classlm import class_model
    from generator.gates.meaning import lemma

    tags = None
    for k in range(1, len(words)):
        match = TIME_PHRASE.match(" ".join(words[k:]))
        if not match:
            continue
        v = k - 1
        while v > 0 and words[v] in _PARTICLES:
            v -= 1
        tags = tags or class_model().best_path(list(words))
        end = k + len(match.group(0).split())
        span = words[v:end]
        if tags[v] == "BE" and words[v] != "been":  # "to be five minutes" of something: only late, early, ago...
            if sources.within(span) or (end < len(words) and words[end] in _AFTER_BE):
                continue
            return " ".join(span)
        if not tags[v].startswith("VB"):
            continue
        if sources.within(span) or lemma(words[v], tags[v]) in timed_verbs():
            continue
        return " ".join(span)
    return None


@lru_cache(maxsize=1)
def timed_verbs() -> frozenset[str]:
    """Lemmas of the verbs the shipped human captions put right before a length of time (particles
    between allowed): "sleep all day", "wait five minutes", "spend the whole weekend"."""
    from generator.gates.classlm import class_model
    from generator.gates.meaning import corpus_texts, lemma
    from generator.meme.novelty import words as key_words

    out: set[str] = set()
    for text in corpus_texts():
        w = list(key_words(text))
        if not any(TIME_PHRASE.match(" ".join(w[k:])) for k in range(1, len(w))):
            continue
        tags = class_model().best_path(w)
        for k in range(1, len(w)):
            if TIME_PHRASE.match(" ".join(w[k:])):
                v = k - 1
                while v > 0 and w[v] in _PARTICLES:
                    v -= 1
                if tags[v].startswith("VB"):
                    out.add(lemma(w[v], tags[v]))
    return frozenset(out)


def frame_and_clause(words: Sequence[str], sources: Sources) -> str | None:
    """A "me doing something" caption (the picture's label: "me", "nobody: me:", "this is me" and an
    "-ing" verb) that goes on with "and" and a clause of its own ("me waiting for the coffee and i can
    do anything") across a seam: the words from the frame to the clause's first word, else None. People
    go on with another "-ing" verb ("me looking at the moon and thinking about pizza") or "but"."""
    start = next((len(lead) for lead in _ME_FRAMES if tuple(words[:len(lead)]) == lead), None)
    if start is None or len(words) <= start or not words[start].endswith("ing"):
        return None
    for k in range(start + 1, len(words) - 1):
        if words[k] == "and" and words[k + 1] in _CLAUSE_STARTS:
            span = words[start - 1:k + 2]
            return None if sources.within(span) else " ".join(span)
    return None


def check_coherence(text: str, sources: Sources) -> str | None:
    """Why ``text`` does not hold together, in words; None when it does."""
    from generator.meme.novelty import words as key_words

    words = key_words(text)
    if not words:
        return None
    switch = person_switch(words, sources)
    if switch:
        return (f"the speaker changes across two training captions: {switch!r} (you and I joined where no "
                f"caption a person wrote joins them)")
    timed = verb_before_time(words, sources)
    if timed:
        return (f"a verb lost its object: {timed!r} (a length of time where the object should be, joined "
                f"across two training captions)")
    clause = frame_and_clause(words, sources)
    if clause:
        return (f"a clause of its own after the picture's label: {clause!r} (\"me doing something\" goes on "
                f"with another \"-ing\" verb, joined here across two training captions)")
    cover = pieces(words, sources)
    if len(cover) > MAX_PIECES:
        said = " | ".join(" ".join(words[a:b]) for a, b in cover)
        return f"joined from {len(cover)} pieces of training captions, more than {MAX_PIECES}: {said!r}"
    return None


__all__ = ["MAX_PIECES", "check_coherence", "frame_and_clause", "person_switch", "pieces", "timed_verbs", "verb_before_time"]
