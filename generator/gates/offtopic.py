"""The ``off_topic`` gate: a caption that names what belongs to another topic than its photo's.

The caption writer is asked for the topic a photo was read as (generator.photo_topics), or, for a
photo it cannot name, for lines that fit any photo (generator.textgen.neutral). A GPT-2 this small
still splices in lines of another topic: "Every great plan began at a kitchen table with a mug." under
a cat, "My blood type is espresso." or "Found a leaf shaped like my week." under an astronaut it
could not name. A caption is off topic when it names a word of a writer topic (``WORDS``) other
than the photo's, unless the owner's own words (``--about``) or the photo's reading (its labels)
name it. A photo read as no topic (``neutral``) may name no topic's words but those.

``WORDS`` is generator.photo_topics.TOPIC_WORDS without the words that say something else in
ordinary captions ("wall", "stone", "roast", "pixels", "texture": every photo has textures): the topic words of an
owner's hint are chosen to find a topic, these to be sure a caption names one.
A caption is off topic too when one of its sentences is a line the writer's corpus
(generator/textgen/corpus/captions.jsonl) holds under one other topic only: the corpus keeps its
topic lines ("He fits in the sink, so the sink is his now." under cats, "Let the kettle sing and the
worries wait." under coffee) apart from the lines it writes under every topic ("Still thinking about
this one on the bus home."), and the writer leaks topic lines verbatim with no topic word in them
(a cat line on the astronaut, "We are made of the same dust as these stars." on a coffee cup).

Pure: text in, reason out (the corpus is read once, a few milliseconds).
"""
from __future__ import annotations

import re
from collections.abc import Mapping
from functools import lru_cache

from generator.photo_topics import TOPIC_WORDS

_AMBIGUOUS = frozenset({"wall", "stone", "brick", "gravel", "park", "garden", "nature", "outdoors", "hike", "roast",
                        "bean", "abstract", "pixels", "gan", "generative", "space", "star", "launch", "brew", "cafe",
                        "café", "lawn", "texture", "pattern"})
# words the writer corpus uses under one topic only, besides the hint words
_MORE = {"nature": ("squirrel", "bird"), "space": ("saturn",)}
WORDS: Mapping[str, tuple[str, ...]] = {
    topic: tuple(dict.fromkeys(w for w in (topic.split()[-1].rstrip("s"), *words, *_MORE.get(topic, ()))
                               if w not in _AMBIGUOUS))
    for topic, words in TOPIC_WORDS.items()}
_TAG = re.compile(r"(?<![\w&])[#@]\w+")
def _key(sentence: str) -> str:
    return sentence.casefold().replace("\u2019", "'")


@lru_cache(maxsize=1)
def topic_lines() -> Mapping[str, str]:
    """Each sentence the writer's corpus holds under exactly one topic, with that topic."""
    from generator.textgen.corpus_io import read_corpus
    from generator.textgen.neutral import sentences
    from generator.textgen.style import CORPUS

    seen: dict[str, set[str]] = {}
    for example in read_corpus(CORPUS):
        for sentence in sentences(example.text):
            seen.setdefault(_key(sentence), set()).add(example.topic)
    return {sentence: next(iter(topics)) for sentence, topics in seen.items() if len(topics) == 1}


def _topic_line(body: str, topic: str | None, allowed: str) -> str | None:
    from generator.textgen.neutral import sentences

    lines = topic_lines()
    for sentence in sentences(body):
        other = lines.get(_key(sentence))
        if other is None or other == topic or any(_named(allowed, w) for w in (*WORDS.get(other, ()), other)):
            continue
        where = f"a photo read as {topic}" if topic and topic in WORDS else "a photo of no known topic"
        return f"{sentence!r} is a line of the writer's {other} captions, on {where}"
    return None


def _named(text: str, word: str) -> bool:
    return re.search(rf"\b{re.escape(word)}(?:s|es|'s)?\b", text) is not None


def off_topic(text: str, topic: str | None, allowed: str = "") -> str | None:
    """Why ``text`` (hashtags set aside) is off its photo's ``topic``, in words; None when it is not.
    ``allowed``: the owner's words and the photo's reading, whose words any caption may name."""
    body = _TAG.sub(" ", text).casefold()
    allowed = allowed.casefold()
    for other, words in WORDS.items():
        if other == topic:
            continue
        for word in words:
            if _named(body, word) and not _named(allowed, word):
                where = f"a photo read as {topic}" if topic and topic in WORDS else "a photo of no known topic"
                return f"names {word!r} ({other}) on {where}"
    return _topic_line(body, topic, allowed)


# "I am not a coffee person in the morning." under a coffee photo: a splice of the corpus's "I am not
# a morning person; I am a coffee person in the morning." that disowns the very thing the photo shows
# and reads as a contradiction beside any line about it ("My blood type is espresso.", issue 23)
_DISOWN = re.compile(r"\b(?:i\s+am|i'm|am)\s+not\s+(?:a|an)\s+([a-z]+)\s+(?:person|fan|lover|drinker)\b")


def disowns(text: str, topic: str | None) -> str | None:
    """Why ``text`` disowns its photo's ``topic`` ("says 'not a coffee person' on a photo read as
    coffee"); None when it does not."""
    if not topic or topic not in WORDS:
        return None
    body = _TAG.sub(" ", text).casefold()
    for match in _DISOWN.finditer(body):
        word = match.group(1)
        if any(word.rstrip("s") == w.rstrip("s") for w in (*WORDS[topic], topic)):
            return f"says {' '.join(match.group(0).split())!r} on a photo read as {topic}"
    return None


__all__ = ["WORDS", "disowns", "off_topic", "topic_lines"]
