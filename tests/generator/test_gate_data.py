"""The gates' data, read the fast way, answers as the slow way does. The shipped word-class table
(generator/gates/wordclasses.py) answers as lemminflect does: for every word the gates meet in the
shipped models' vocabularies and corpora and the labelled captions (fast), and for the whole lexicon
(slow: the table is what the builder makes). The English model (generator/gates/english.py) answers
as the plain read of symspellpy's lists does."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from generator.gates.english import words_of
from generator.gates.wordclasses import (LEMMA_POS, LEMMAS, TABLE, UNKNOWN, WordClass, build, build_lemmas,
                                         from_lemminflect, lemma_from_lemminflect, lemma_of, word_class, write,
                                         write_lemmas)
from generator.meme.bundle import load_bundle

REPO = Path(__file__).resolve().parents[2]


def _gate_words() -> set[str]:
    """Words the gates read: the demo meme model's vocabulary, the shipped human captions and the
    hand-labelled captions of the demo model."""
    words = set(load_bundle(None).vocab.tokens)
    for name in ("generator/meme/demo_data/captions.jsonl", "generator/textgen/corpus/captions.jsonl"):
        for line in (REPO / name).read_text(encoding="utf-8").splitlines():
            if line.strip():
                words |= set(words_of(json.loads(line)["text"]))
    for path in (REPO / "tests/generator/data").glob("meme_fluency_labels*.tsv"):
        words |= set(words_of(path.read_text(encoding="utf-8")))
    return {w for w in words if w.isalpha() or "'" in w}


def test_the_table_answers_as_lemminflect_for_the_words_the_gates_read():
    words = sorted(_gate_words())
    assert len(words) > 1500
    wrong = {w: (word_class(w), from_lemminflect(w)) for w in words if word_class(w) != from_lemminflect(w)}
    assert not wrong, list(wrong.items())[:5]
    # and it knows what it should: a noun, a verb's forms, a participle, an unknown word
    assert word_class("galaxy").pos == ("NOUN",)
    assert word_class("explain") == WordClass(("VERB",), verb_lemma=True, participle=False)
    assert word_class("sends") == WordClass(("VERB",), verb_lemma=False, participle=False)
    assert word_class("gone").participle and not word_class("went").participle
    assert word_class("tomorro") == UNKNOWN == from_lemminflect("tomorro")


def test_the_lemma_table_answers_as_lemminflect_for_the_words_the_gates_read():
    words = sorted(_gate_words())
    wrong = {(w, pos): (lemma_of(w, pos), lemma_from_lemminflect(w, pos))
             for w in words for pos in LEMMA_POS if lemma_of(w, pos) != lemma_from_lemminflect(w, pos)}
    assert not wrong, list(wrong.items())[:5]
    # irregular forms, a word that is its own lemma, one lemminflect does not know, and one whose
    # lemma differs by part of speech ("saw": see as a verb, saw as a noun)
    assert [lemma_of(w, p) for w, p in (("went", "VERB"), ("mice", "NOUN"), ("better", "ADJ"), ("sitting", "VERB"),
                                        ("coffee", "NOUN"), ("tomorro", "VERB"), ("saw", "VERB"), ("saw", "NOUN"))] \
        == ["go", "mouse", "good", "sit", "coffee", "tomorro", "see", "saw"]
    assert lemma_of("Went", "VERB") == lemma_from_lemminflect("Went", "VERB") == "Go"  # capitals: as lemminflect


def test_codes_round_trip():
    for found in (UNKNOWN, word_class("tired"), word_class("go"), word_class("fast"), word_class("book shelf")):
        assert WordClass.of_code(found.code) == found


@pytest.mark.slow
def test_the_shipped_table_is_what_the_builder_makes_from_the_installed_lemminflect():
    table = build()
    assert sum(len(words) for words in table.values()) > 60000
    assert TABLE.read_bytes() == write(table), "rebuild: python -m generator.gates.wordclasses"


@pytest.mark.slow
def test_the_shipped_lemma_table_is_what_the_builder_makes_from_the_installed_lemminflect():
    table = build_lemmas()
    assert sum(len(pairs) for pairs in table.values()) > 30000
    assert LEMMAS.read_bytes() == write_lemmas(table), "rebuild: python -m generator.gates.wordclasses"


def test_the_english_model_reads_the_pair_list_as_the_full_read_does():
    """generator.gates.english reads symspellpy's lists the fast way (words split in one pass, pairs
    as keys only); the answers are those of the plain line-by-line read."""
    from generator.gates.english import BIGRAMS, UNIGRAMS, English, _read, english

    fast, plain = english(), English(_read(UNIGRAMS), _read(BIGRAMS))
    assert fast.unigrams == plain.unigrams and fast.total == plain.total
    assert fast._pairs == frozenset(k for k, c in plain.bigrams.items() if c)
    for text in ("when the coffee machine finally works", "forget why out", "me the finally", "a ask the the"):
        for a, b in zip(words_of(text), words_of(text)[1:]):
            assert fast.seen(a, b) == plain.pair(a, b).seen
            assert fast.pair(a, b) == plain.pair(a, b)  # the counts, read when first asked for


def test_the_gates_of_a_meme_caption_read_neither_lemminflect_nor_the_pair_counts():
    """What a `generate` child pays for: the gates judge meme captions from the shipped tables and
    the pair list's keys; lemminflect's lexicon (~0.5 s) and the pair counts (~0.3 s) stay unread."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from generator.gates import check_text\n"
            "from generator.gates.english import english\n"
            "from generator.gates.meaning import bundle_sources\n"
            "sources = bundle_sources(None)\n"
            "texts = ['the bike is my face', 'when the coffee is hot', 'me checking the clock at work',\n"
            "         'when you sit in the wall', 'me trying to be a nap', 'when you finally see the vet']\n"
            "verdicts = [check_text(t, sources=sources).gate for t in texts]\n"
            "assert 'meaning' in verdicts and None in verdicts, verdicts\n"
            "print('lemminflect' in sys.modules, 'bigrams' in vars(english()))\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, check=True)
    assert out.stdout.split() == ["False", "False"], out.stdout + out.stderr
