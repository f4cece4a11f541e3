"""The writer's voice, garble and off-topic checks (generator/gates/voice.py, garble.py, offtopic.py):
the defects the reading harness found (bench/writer_reading.py) are caught, and the shipped human
corpora pass."""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

import pytest

from generator.gates.fluency import check_fluency
from generator.gates.garble import find_garble
from generator.gates.offtopic import off_topic
from generator.gates.voice import business_voice, without_business_voice
from generator.textgen.neutral import sentences

ROOT = Path(__file__).resolve().parents[2]
WRITER_CORPUS = ROOT / "generator/textgen/corpus/captions.jsonl"
MEME_CORPUS = ROOT / "generator/meme/demo_data/captions.jsonl"


@lru_cache(maxsize=2)
def _corpus(path: Path) -> tuple[dict, ...]:
    return tuple(json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip())


@pytest.mark.parametrize("text", [
    "This one reminds our whole team why we do this.",
    "Saturn is less dense than water. We keep a list of facts like this on the studio wall.",
    "We made these by hand over the winter.",
    "Visit us on Saturday morning.",
    "Our customers keep asking for this one.",
    "The team lunch turned into a long talk about this one.",
    "Stared at this for ten minutes. #generativeart #smallbusiness",
    "Start with one warm cup and one clear goal.\n\n#morning #barista #behindthescenes",  # promotional-only tag
])
def test_business_voice_is_found(text):
    assert business_voice(text)


def test_general_lines_of_the_writer_corpus_never_speak_as_a_business():
    general = {s for row in _corpus(WRITER_CORPUS) if row["audience"] == "general" for s in sentences(row["text"])}
    assert len(general) > 150
    assert [s for s in general if business_voice(s)] == []
    for text in ("Bread rises while we sleep.", "We tend to remember colours as brighter than they really were.",
                 "Our eyes adjust to dim light over about twenty minutes.", "Patterns remind us that small things add up."):
        assert business_voice(text) is None, text


def test_most_promotional_only_lines_are_business_voice():
    audiences: dict[str, set[str]] = {}
    for row in _corpus(WRITER_CORPUS):
        for s in sentences(row["text"]):
            audiences.setdefault(s, set()).add(row["audience"])
    promo = [s for s, a in audiences.items() if a == {"promotional"}]
    assert sum(bool(business_voice(s)) for s in promo) / len(promo) > 0.8


def test_without_business_voice_keeps_the_rest():
    text = "Saturn is less dense than water. This is the kind of detail we love to notice.\n\n#space #smallbusiness"
    assert without_business_voice(text) == "Saturn is less dense than water.\n\n#space"
    assert without_business_voice("We picked six. #studiolife") == ""


@pytest.mark.parametrize("text", [
    "Cats can host hunt their waking hours grooming.",
    "The sky is not the limit, it is the view. The sky is not the limit, it is the view.",
    "Colours look different under daylight. The light with almost nose.",
    "Posting it before I talk myself out of it. Nobody asked, but here it.",
    "Found my keys, and there they!",
])
def test_garbled_constructions_are_broken(text):
    assert find_garble(text)
    assert check_fluency(text)  # the fluency gate runs them


@pytest.mark.parametrize("text", ["You can help make the day.", "We will go get coffee.", "Cats can hunt.",
                                  "Nobody asked, but here it is.", "Here we go.", "There you go.",
                                  "Cloudy days give even light with almost no hard shadows."])
def test_english_constructions_are_not_garbled(text):
    assert find_garble(text) is None


def test_shipped_human_captions_are_not_garbled():
    texts = [row["text"] for path in (WRITER_CORPUS, MEME_CORPUS) for row in _corpus(path)]
    assert len(texts) > 3000
    assert [t for t in texts if find_garble(t)] == []


@pytest.mark.parametrize("text,topic", [
    ("Every rocket starts on the ground.", "neutral"),
    ("My blood type is espresso.", "neutral"),
    ("Found a leaf shaped like my week.", "neutral"),
    ("Some days you hunt. Every great plan began at a kitchen table with a mug.", "cats"),
    ("A cat's tail helps it balance on narrow ledges.", "space"),
])
def test_another_topics_words_are_off_topic(text, topic):
    assert off_topic(text, topic, "bobsleigh")


def test_the_owners_words_and_the_reading_may_name_a_topic():
    assert off_topic("The cat guards my mug.", "cats", allowed="my cat and her favourite mug") is None
    assert off_topic("Every rocket starts on the ground.", "neutral", allowed="space shuttle, rocket") is None
    assert off_topic("Steam rising, ideas rising. #cats", "coffee") is None  # hashtags set aside


@pytest.mark.parametrize("text,topic", [
    ("We are made of the same dust as these stars.\n\n#coffeetime", "coffee"),  # a space line, no topic word
    ("Orange, with a touch of brown. He fits in the sink, so the sink is his now.", "neutral"),
    ("Caught him staring at the wall again. The wall blinked first.", None),
    ("Let the kettle sing and the worries wait.", "space"),
])
def test_a_line_the_corpus_holds_under_one_other_topic_is_off_topic(text, topic):
    assert "a line of the writer's" in (off_topic(text, topic) or "")


def test_lines_the_corpus_writes_under_every_topic_fit_any_photo():
    assert off_topic("Still thinking about this one on the bus home.", None) is None
    assert off_topic("The world looks kinder up close.", "space") is None
    assert off_topic("He fits in the sink, so the sink is his now.", "cats") is None
    # the photo's reading ("a big cat") may bring its topic's lines to an unsure photo
    assert off_topic("Caught him staring at the wall again.", None, allowed="a big cat") is None


def test_writer_corpus_lines_are_on_their_own_topic():
    rows = _corpus(WRITER_CORPUS)
    assert [r["text"] for r in rows if off_topic(r["text"], r["topic"])] == []


def test_writer_leaves_out_what_the_audience_and_topic_did_not_ask_for():
    from generator.textgen.writer import Writer

    text = "Some days you hunt. Every great plan began at a kitchen table with a mug. Our team loves this.\n\n#cats"
    assert Writer._in_voice(text, "general", "cats") == "Some days you hunt.\n\n#cats"
    assert Writer._in_voice(text, "promotional", "cats") == "Some days you hunt. Our team loves this.\n\n#cats"
    assert Writer._in_voice("#meow #kitty", "general", "cats") == "#meow #kitty"  # a story's hashtags-only continuation


def test_writer_leaves_filler_out_of_a_general_caption_and_keeps_it_for_the_promotional_audience():
    from generator.textgen.writer import Writer

    text = "Rest is part of the work, ask any cat. Thank you for being part of this little corner of the internet."
    assert Writer._in_voice(text, "general", "cats") == "Rest is part of the work, ask any cat."
    assert Writer._in_voice(text, "promotional", "cats") == text
    assert Writer._in_voice("Behind every post here is someone who stopped to look.", "general", "neutral") == ""


@pytest.mark.parametrize("text, topic", [("I am not a coffee person in the morning.", "coffee"),
                                         ("Honestly, I'm not a cat person.", "cats")])
def test_a_line_that_disowns_the_photos_topic_is_left_out(text, topic):
    from generator.gates.offtopic import disowns
    from generator.textgen.writer import Writer

    assert disowns(text, topic)
    caption = f"{text} My blood type is espresso." if topic == "coffee" else f"{text} Some days you hunt."
    assert Writer._in_voice(caption, "general", topic) == caption.removeprefix(text).strip()


def test_a_line_that_does_not_disown_the_topic_is_kept():
    from generator.gates.offtopic import disowns

    assert disowns("I am not a morning person; I am a coffee person in the morning.", "coffee") is None
    assert disowns("I am not a coffee person in the morning.", "space") is None
    assert disowns("I am not a coffee person.", None) is None
    rows = _corpus(WRITER_CORPUS)
    assert [r["text"] for r in rows if disowns(r["text"], r["topic"])] == []
