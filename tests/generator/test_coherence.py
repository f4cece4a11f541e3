"""The coherence gate (generator/gates/coherence.py): a stitched meme caption must hold together."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import pytest

from generator.gates import check_text
from generator.gates.coherence import (
    MAX_PIECES,
    check_coherence,
    frame_and_clause,
    person_switch,
    pieces,
    verb_before_time,
)
from generator.gates.meaning import Sources, bundle_sources, corpus_texts
from generator.meme.novelty import word_key, words

ROOT = Path(__file__).resolve().parents[2]
MEME_CORPUS = ROOT / "generator/meme/demo_data/captions.jsonl"


@pytest.fixture(scope="module")
def demo() -> Sources:
    sources = bundle_sources(None)
    assert sources is not None
    return sources


class LeaveOneOut(Sources):
    """The shipped human captions as pieces, each caption judged as if a generator had written it:
    a run of words counts as written by a person only when another caption holds it too."""

    def within(self, w: Sequence[str]) -> bool:
        return self.text.count(f" {' '.join(w)} ") >= 2


@pytest.fixture(scope="module")
def human() -> list[str]:
    return corpus_texts()


@pytest.mark.parametrize(("text", "said"), [
    ("when you hit the wall of my procrastination", "speaker changes"),
    ("when you pay for the coffee and i can buy a sandwich", "speaker changes"),
    ("me going to the moon and you launch out of coffee", "speaker changes"),
    ("when you make coffee and they bring another coffee", "speaker changes"),
    ("when you set up the whole time", "lost its object"),
    ("when you send the whole time", "lost its object"),
    ("me trying to be five minutes of work", "lost its object"),
    ("me waiting for the coffee and i can do anything", "a clause of its own"),
    # held-out nonsense of the demo bundle the fluency and meaning gates pass (meme_corpus_labels_blind*.tsv)
    ("when you ask for the coffee and forget about your emails", "pieces"),
    ("when you finally go to the bike and feel like a whole day", "pieces"),
    ("me pretending to read the fine print like a whole page", "pieces"),
])
def test_stitched_nonsense_is_refused(demo: Sources, text: str, said: str) -> None:
    reason = check_coherence(text, demo)
    assert reason is not None and said in reason, reason


@pytest.mark.parametrize("text", [
    # good captions of the demo bundle, each joined at one seam
    "me waiting for my motivation on a monday",
    "when you buy a new bike and it starts raining",
    "me counting my savings after one weekend",
    "when you take your coffee and forget about your emails",
    "my face when you leave the meeting",
    # training captions that switch speaker (the cat's voice), sleep all day, go on with "-ing"
    "when you open the door and i decide not to go out",
    "me staring at you until you give me a treat",
    "me looking at the moon and thinking about pizza",
])
def test_captions_that_hold_together_pass(demo: Sources, text: str) -> None:
    assert check_coherence(text, demo) is None


def test_pieces_are_as_few_runs_of_single_captions_as_cover_the_caption() -> None:
    sources = Sources(["when the cat opens the fridge at midnight", "the fridge at midnight is the only friend",
                       "the only friend is a dog"])
    two = "when the cat opens the fridge at midnight is the only friend"
    w = words(two)
    assert [" ".join(w[a:b]) for a, b in pieces(w, sources)] == [
        "when the cat opens the fridge at midnight", "the fridge at midnight is the only friend"]
    assert check_coherence(two, sources) is None
    three = "when the cat opens the fridge at midnight is the only friend is a dog"
    assert len(pieces(words(three), sources)) == MAX_PIECES + 1
    assert "3 pieces" in (check_coherence(three, sources) or "")


def test_a_switch_of_speaker_is_kept_only_where_a_person_wrote_it() -> None:
    sources = Sources(["when you open the door and i run out", "i run out of coffee"])
    assert person_switch(words("when you open the door and i run out of coffee"), sources) is None
    assert person_switch(words("when you open my coffee"), sources) == "you open my"
    assert person_switch(words("when you open the door and you run"), sources) is None  # one person
    assert person_switch(words("when you open the door and they run out"), sources) == "you open the door and they"


def test_a_length_of_time_after_a_verb_needs_a_person_to_have_said_it() -> None:
    sources = Sources(["when you set up the tent", "all day"])
    assert verb_before_time(words("when you set up the whole time"), sources) == "set up the whole time"
    assert verb_before_time(words("when you sleep all day"), sources) is None  # the corpora say "sleep all day"
    assert verb_before_time(words("me trying to be five minutes late"), sources) is None


def test_a_me_label_goes_on_with_another_ing_verb() -> None:
    sources = Sources(["me waiting for the coffee", "the coffee and i can do anything"])
    assert frame_and_clause(words("me waiting for the coffee and i can do anything"), sources) == (
        "me waiting for the coffee and i")
    assert frame_and_clause(words("me waiting for the coffee and checking my phone"), sources) is None
    assert frame_and_clause(words("when you wait for the coffee and i do anything"), sources) is None


def test_every_shipped_meme_caption_passes_as_deployed(demo: Sources) -> None:
    texts = [json.loads(line)["text"] for line in MEME_CORPUS.read_text(encoding="utf-8").splitlines() if line]
    refused = [t for t in texts if check_coherence(t, demo)]
    assert not refused, refused[:5]  # the bundle was trained on them: each is one piece


def test_human_captions_judged_as_if_generated_pass_but_a_reported_few(human: list[str]) -> None:
    """Each of the 3,185 shipped human captions judged leave-one-out (its runs attested only by the
    other captions): the speaker-switch rule refuses 77 (2.4%: the cat's "when you ... and i ...",
    "when you ask for ... and they ...", "i ... you"), the time rule 2, the label rule 0 (README,
    generator/meme: "Coherence")."""
    loo = LeaveOneOut(word_key(t) for t in human)
    refused = {name: [t for t in human if rule(words(t), loo)]
               for name, rule in (("person", person_switch), ("time", verb_before_time), ("frame", frame_and_clause))}
    assert len(refused["person"]) <= 80, len(refused["person"])
    assert len(refused["time"]) <= 2 and not refused["frame"], refused


def test_check_text_names_the_coherence_gate_only_with_sources(demo: Sources) -> None:
    verdict = check_text("when you pay for the coffee and i can buy a sandwich", sources=demo)
    assert not verdict.ok and verdict.gate == "coherence" and (verdict.reason or "").startswith("coherence: ")
    assert check_text("when you pay for the coffee and i can buy a sandwich").ok  # no seams to judge
