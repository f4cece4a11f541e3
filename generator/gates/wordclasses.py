"""What the fluency rules ask of lemminflect's lexicon, per word, from a table shipped in the repo.

lemminflect (PyPI, MIT) reads its whole lexicon the first time a word is looked up: about 0.45 s
for the lemmas and 0.35 s more for the inflections, in every `memeloop generate` child. The rules
(generator/gates/lexicon.py, classlm.py, clauses.py) need three answers per word only:
- ``pos``: the parts of speech ``lemminflect.getAllLemmas(word)`` gives, in its order;
- ``verb_lemma``: the word is its own first verb lemma (a verb's base form);
- ``participle``: the word can be an adjective or a verb's past participle
  (``getInflection(lemma, "VBN")`` of one of its verb lemmas).
generator/data/word_classes.txt.gz holds those answers for every word lemminflect knows, one line
per distinct answer followed by its words (comma-separated: a few have spaces, "book shelf"); reading it takes a few milliseconds. Words are looked
up as the gates give them: case-folded (lemminflect looks up the lower-cased word too).

The meaning gate (generator/gates/meaning.py) also asks for a word's first lemma as a verb, noun or
adjective (``getAllLemmas(word)[pos][0]``): generator/data/lemmas.txt.gz holds it for every
lower-case word whose lemma is not the word itself, one line per set of part-of-speech letters:
its words, then their lemmas in the same order ("VN\tgoes,went\tgo,go"), so a meme run never reads
lemminflect's lexicon (a few milliseconds instead of its 0.45 s).

Rebuild after a lemminflect upgrade: ``python -m generator.gates.wordclasses``;
tests/generator/test_gate_data.py checks both tables against the installed lemminflect.
"""
from __future__ import annotations

import gzip
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

TABLE = Path(__file__).resolve().parent.parent / "data" / "word_classes.txt.gz"
LEMMAS = Path(__file__).resolve().parent.parent / "data" / "lemmas.txt.gz"
LEMMA_POS = ("VERB", "NOUN", "ADJ")  # the parts of speech the meaning gate lemmatises as
_LETTERS = {"NOUN": "N", "PROPN": "P", "VERB": "V", "ADJ": "A", "ADV": "R", "AUX": "X"}
_POS = {letter: pos for pos, letter in _LETTERS.items()}


@dataclass(frozen=True)
class WordClass:
    pos: tuple[str, ...] = ()  # lemminflect's parts of speech of the word (NOUN, PROPN, VERB, ADJ, ADV, AUX)
    verb_lemma: bool = False  # it is its own first verb lemma ("go"; not "goes", "went")
    participle: bool = False  # it can be an adjective or a past participle ("tired", "gone")

    @property
    def code(self) -> str:
        """How the table writes it: part-of-speech letters, then ``v`` / ``p`` flags ("NV:v", "A:p")."""
        return "".join(_LETTERS[p] for p in self.pos) + ":" + "v" * self.verb_lemma + "p" * self.participle

    @classmethod
    def of_code(cls, code: str) -> WordClass:
        letters, _, flags = code.partition(":")
        return cls(tuple(_POS[c] for c in letters), "v" in flags, "p" in flags)


UNKNOWN = WordClass()


def word_class(word: str) -> WordClass:
    """The word's classes; ``UNKNOWN`` (no part of speech) for a word lemminflect does not know."""
    return _table().get(word.lower(), UNKNOWN)


@lru_cache(maxsize=1)
def _table() -> dict[str, WordClass]:
    table: dict[str, WordClass] = {}
    for line in gzip.decompress(TABLE.read_bytes()).decode("utf-8").splitlines():
        code, _, words = line.partition("\t")
        table.update(dict.fromkeys(words.split(","), WordClass.of_code(code)))
    return table


def lemma_of(word: str, pos: str) -> str:
    """``word``'s first lemma as ``pos`` (one of LEMMA_POS), as lemminflect's
    ``getAllLemmas(word)[pos][0]`` gives it; ``word`` itself when lemminflect has none for ``pos``
    (or when it is its own lemma). ``word`` is looked up as given: the gates give it case-folded."""
    if word != word.lower():  # never from the gates; lemminflect keeps the word's capitals
        return lemma_from_lemminflect(word, pos)
    return _lemmas()[pos].get(word, word)


def lemma_from_lemminflect(word: str, pos: str) -> str:
    """The answer straight from lemminflect (the reference the lemma table is built from)."""
    from lemminflect import getAllLemmas

    lemmas = getAllLemmas(word)
    return str(lemmas[pos][0]) if pos in lemmas else word


@lru_cache(maxsize=1)
def _lemmas() -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {pos: {} for pos in LEMMA_POS}
    by_letter = {pos[0]: out[pos] for pos in LEMMA_POS}
    for line in gzip.decompress(LEMMAS.read_bytes()).decode("utf-8").splitlines():
        letters, words, lemmas = line.split("\t")
        pairs = dict(zip(words.split(","), lemmas.split(",")))
        for letter in letters:
            by_letter[letter].update(pairs)
    return out


def from_lemminflect(word: str) -> WordClass:
    """The answers straight from lemminflect (the reference the table is built from and tested against)."""
    from lemminflect import getAllLemmas, getInflection

    lemmas = getAllLemmas(word)
    verbs = lemmas.get("VERB", ())
    return WordClass(tuple(lemmas), bool(verbs) and verbs[0] == word,
                     "ADJ" in lemmas or any(word in getInflection(lemma, "VBN") for lemma in verbs))


def build() -> dict[str, list[str]]:
    """code -> words, for every lower-case word of lemminflect's lexicon and overrides (a capitalised
    entry such as "Python" is never found: lemminflect looks words up lower-cased)."""
    from lemminflect.core.Lemmatizer import Lemmatizer

    lexicon = Lemmatizer()
    words = {w for w in (*lexicon._getLemmaDict(), *lexicon._getOverridesDict()) if w == w.lower()}
    out: dict[str, list[str]] = {}
    for word in sorted(words):
        found = from_lemminflect(word)
        if found != UNKNOWN:
            out.setdefault(found.code, []).append(word)
    return out


def build_lemmas() -> dict[str, dict[str, str]]:
    """part-of-speech letters -> {word: lemma}, for every lower-case word of lemminflect's lexicon and
    overrides whose first lemma as a verb, noun or adjective is another word (the letters: the parts of
    speech it has that lemma as, "VN")."""
    from lemminflect import getAllLemmas
    from lemminflect.core.Lemmatizer import Lemmatizer

    lexicon = Lemmatizer()
    words = {w for w in (*lexicon._getLemmaDict(), *lexicon._getOverridesDict()) if w == w.lower()}
    out: dict[str, dict[str, str]] = {}
    for word in sorted(words):
        lemmas = getAllLemmas(word)
        letters: dict[str, str] = {}  # lemma -> the letters of the parts of speech it is the lemma as
        for pos in LEMMA_POS:
            if pos in lemmas and lemmas[pos][0] != word:
                letters[lemmas[pos][0]] = letters.get(lemmas[pos][0], "") + pos[0]
        for lemma, code in letters.items():
            out.setdefault(code, {})[word] = lemma
    return out


def write_lemmas(table: dict[str, dict[str, str]]) -> bytes:
    text = "".join(f"{code}\t{','.join(pairs)}\t{','.join(pairs.values())}\n" for code, pairs in sorted(table.items()))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)


def write(table: dict[str, list[str]]) -> bytes:
    text = "".join(f"{code}\t{','.join(words)}\n" for code, words in sorted(table.items()))
    return gzip.compress(text.encode("utf-8"), compresslevel=9, mtime=0)  # mtime 0: same input, same bytes


if __name__ == "__main__":
    TABLE.write_bytes(write(build()))
    print(f"wrote {TABLE} ({TABLE.stat().st_size} bytes)")
    LEMMAS.write_bytes(write_lemmas(build_lemmas()))
    print(f"wrote {LEMMAS} ({LEMMAS.stat().st_size} bytes)")
