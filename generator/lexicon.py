"""Is a word a word? For choosing among a small writer's samples the ones without garbled words.

A caption writer trained on a few hundred captions splices pieces of lines into non-words
("Trmake art from seed galaxy", "Prof3am, rendered in pixels"). The word list is symspellpy's
English frequency dictionary (82,765 words, read as a data file; symspellpy itself is not
imported) plus every word of the shipped demo corpora (so "selfie" and "vibing" count). A
number, a time ("3am") or an ordinal counts as a word. Hashtags, @names and links are not judged.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib.resources import files
from pathlib import Path

_GENERATOR = Path(__file__).resolve().parent
CORPORA = (_GENERATOR / "textgen" / "corpus" / "captions.jsonl", _GENERATOR / "meme" / "demo_data" / "captions.jsonl")
_TOKEN = re.compile(r"(?<![#@\w/])[A-Za-z0-9][A-Za-z0-9'’]*")
_SKIP = re.compile(r"(?:https?://|www\.)\S+|[#@]\w+")
_NUMBERISH = re.compile(r"\d+(?:[.,:]\d+)*(?:am|pm|s|st|nd|rd|th|x|k|m|h|%)?")


def _words_of(text: str) -> Iterable[str]:
    for token in _TOKEN.findall(_SKIP.sub(" ", text)):
        word = token.lower().replace("’", "'")
        yield word.removesuffix("'s").strip("'")


@lru_cache(maxsize=1)
def known_words() -> frozenset[str]:
    words: set[str] = set()
    try:
        listing = files("symspellpy").joinpath("frequency_dictionary_en_82_765.txt").read_text(encoding="utf-8")
        words.update(line.split(" ", 1)[0] for line in listing.splitlines() if line)
    except (ModuleNotFoundError, FileNotFoundError):  # the corpora alone: stricter, never looser
        pass
    for corpus in CORPORA:
        if corpus.is_file():
            for line in corpus.read_text(encoding="utf-8").splitlines():
                if line.strip():
                    words.update(_words_of(str(json.loads(line).get("text", ""))))
    return frozenset(words)


def unknown_words(text: str, extra: Iterable[str] = ()) -> list[str]:
    """The words of ``text`` that are not words (in order); ``extra``: more words to accept."""
    known = known_words()
    more = {w.lower() for w in extra}
    out = []
    for word in _words_of(text):
        if not word or _NUMBERISH.fullmatch(word) or word in known or word in more:
            continue
        if "'" in word and all(part in known or not part for part in word.split("'")):
            continue  # don't, i'm, we're
        out.append(word)
    return out
