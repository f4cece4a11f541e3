"""The meaning gate (generator/gates/meaning.py): pairs a seam forms must be attested."""
from __future__ import annotations

import json

import pytest

from generator.gates import check_text
from generator.gates.english import words_of
from generator.gates.meaning import (
    TABLE,
    Sources,
    build_table,
    bundle_sources,
    check_meaning,
    corpus_texts,
    relations,
)


@pytest.fixture(scope="module")
def demo() -> Sources:
    sources = bundle_sources(None)
    assert sources is not None
    return sources


def keys(text: str) -> set[str]:
    return {r.key for r in relations(words_of(text))}


def test_relations_read_verb_object_preposition_and_complement_pairs() -> None:
    assert "sit in wall" in keys("when you sit in the wall")
    assert "launch out of coffee" in keys("you launch out of coffee")
    assert "send obj time" in keys("when you send the whole time")
    assert "bike be face" in keys("the bike is my face")
    assert "be be nap" in keys("me trying to be a nap")
    assert "wall of procrastination" in keys("me staring at the wall of my procrastination")


@pytest.mark.parametrize("text", [
    # held out: none of these was looked at while the rules were written (fresh labels, seeds 200..260)
    "when you eat the exam",
    "me when the bike is my box",
    "when the mission is a galaxy and i have no idea",
    "when you try to be a photo instead",
])
def test_nonsense_joined_across_a_seam_is_refused(demo: Sources, text: str) -> None:
    reason = check_meaning(text, demo)
    assert reason is not None and "do not go together" in reason


@pytest.mark.parametrize("text", [
    "when you sit in the sun spot and the sun moves",  # a training caption
    "me staring at the wall of my procrastination",  # joined, every pair attested
    "me checking the clock at work",
    "when the coffee is hot",  # English says "hot coffee"
    "when you finally see the vet",
])
def test_captions_whose_pairs_are_attested_pass(demo: Sources, text: str) -> None:
    assert check_meaning(text, demo) is None


def test_a_pair_inside_one_training_caption_is_never_judged() -> None:
    sources = Sources(["my cat is a toaster on weekends"])
    assert check_meaning("my cat is a toaster", sources, frozenset()) is None
    refused = check_meaning("my dog is a toaster", sources, frozenset())
    assert refused is not None and "dog is toaster" in refused
    assert check_meaning("my dog is a toaster", sources, frozenset({"dog be toaster"})) is None


def test_no_human_caption_the_project_ships_is_refused_as_deployed(demo: Sources) -> None:
    flagged = [t for t in corpus_texts() if check_meaning(t, demo)]
    assert len(flagged) <= 0.01 * len(corpus_texts()), flagged[:5]


def test_the_shipped_table_is_built_from_the_shipped_corpora() -> None:
    shipped = set(json.loads(TABLE.read_text(encoding="utf-8"))["relations"])
    assert shipped == set(build_table(corpus_texts())), "run: python -m generator.gates.meaning"


def test_check_text_names_the_meaning_gate_only_with_sources(demo: Sources) -> None:
    verdict = check_text("the bike is my face", sources=demo)
    assert not verdict.ok and verdict.gate == "meaning" and (verdict.reason or "").startswith("meaning: ")
    assert check_text("the bike is my face").ok  # written captions have no seams to judge


def test_a_set_phrase_excuses_a_place_or_time_preposition_only(demo: Sources) -> None:
    assert check_meaning("me checking the clock at work", demo) is None  # "at work" goes with the verb
    assert check_meaning("when you go to the moon and you launch out of coffee", demo) is not None  # "of coffee" does not
