"""The caption writer follows an adaptation (generator/textgen/bias.py): piece biases for the words,
captions reweighed by them; on the shipped demo writer, and gone again without it."""
from __future__ import annotations

from typing import Any

import pytest

from generator.meme.adapt import Adaptation, word_bias
from generator.textgen.bias import TokenBias, caption_words, reweigh, writer_bias
from generator.textgen.writer import load_writer


@pytest.fixture(scope="module")
def writer():
    return load_writer()


def test_word_biases_land_on_the_pieces_that_spell_the_words(writer):
    encode = writer._fast.encode
    single, = encode(" coffee")
    first, rest = encode(" brewing")[0], encode(" brewing")[1:]
    assert rest  # " bre" + "wing": a word of two pieces
    bias = TokenBias({"coffee": 1.5, "brewing": -0.5, "zzz": 0.0}, encode, cap=2.0)
    start = bias.offsets([])
    assert start[single] == 1.5 and start[encode(" Coffee")[0]] == 1.5
    assert start[first] == -0.5 and rest[0] not in start  # a later piece only after its first
    assert bias.offsets([7, first])[rest[0]] == -0.5
    capped = TokenBias({"coffee": 1.5, "coffees": 1.5}, encode, cap=2.0)
    assert capped.offsets([])[single] == (2.0 if encode(" coffees")[0] == single else 1.5)
    assert not TokenBias({}, encode)


def test_reweigh_prefers_the_captions_with_liked_words():
    captions = [f"plain caption {i}" for i in range(8)] + ["a liked caption #monday", "monday again"]
    picks = [reweigh(captions, 3, {"liked": 2.0, "monday": -2.0}, seed=s) for s in range(40)]
    assert sum("a liked caption #monday" in p for p in picks) > 30  # hashtags are not words
    assert sum("monday again" in p for p in picks) < 5
    assert reweigh(captions[:2], 3, {"liked": 2.0}, seed=0) == captions[:2]
    assert caption_words("Coffee, then #coffee @me http://x.y it's") == {"coffee", "then", "it's"}


def test_the_demo_writer_writes_more_liked_and_fewer_disliked_words_and_rollback_restores_it(writer):
    options: dict[str, Any] = {"tone": "informative", "audience": "general", "topic": "coffee", "seed": 5}
    before = writer.write(40, **options)

    def share(captions: list[str], words: set[str]) -> float:
        return sum(bool(caption_words(c) & words) for c in captions) / len(captions)

    liked, disliked = {"espresso", "beans", "brewing"}, {"water", "boil"}
    assert 0.1 < share(before, liked) < 0.8 and share(before, disliked) > 0.05
    writer.adapt(Adaptation({**{w: 1.5 for w in liked}, **{w: -1.5 for w in disliked}}, version=1))
    try:
        assert writer.adaptation is not None and writer.adaptation.version == 1
        after = writer.write(40, **options)
        assert share(after, liked) > share(before, liked) + 0.15
        assert share(after, disliked) < share(before, disliked)
    finally:
        writer.adapt(None)
    assert writer.write(40, **options) == before


def test_the_writer_follows_the_posterior_means_of_the_effects_where_the_adaptation_keeps_them():
    effects = {"espresso": (0.4, 0.3), "water": (-0.35, 0.3), "noise": (0.02, 0.5), "huge": (9.0, 0.1)}
    made = Adaptation({"huge": 2.0}, source={"strength": 1.5}, effects=effects)
    assert writer_bias(made) == {"espresso": pytest.approx(0.6), "water": pytest.approx(-0.525), "huge": 2.0}
    assert writer_bias(Adaptation({"coffee": 0.7})) == {"coffee": 0.7}  # made before effects were kept
    assert writer_bias(Adaptation({}, source={"strength": 0.0}, effects=effects)) == {}


def test_effects_the_size_a_few_hundred_posts_teach_move_the_demo_writer_toward_liked_words(writer):
    """The ranker's effects after ~250 simulated posts: means ~0.3-0.5 with sds ~0.3, so the captioner's
    margin (effect less one sd) leaves almost nothing; the writer must still move (it follows the means)."""
    options: dict[str, Any] = {"tone": "funny", "audience": "general", "topic": "coffee", "seed": 11}
    # disliked words that do not come in the liked words' lines: the demo corpus's "Espresso: a small cup
    # with big opinions" ties "cup" to "espresso", and following one drags the other along
    liked, disliked = {"espresso", "beans", "brewing", "morning"}, {"water", "boil", "decaf", "cold"}
    effects = {**{w: (0.45, 0.32) for w in liked}, **{w: (-0.4, 0.32) for w in disliked}}

    def share(captions: list[str], words: set[str]) -> float:
        return sum(bool(caption_words(c) & words) for c in captions) / len(captions)

    before = writer.write(40, **options)
    margin = word_bias(effects)
    assert max(abs(b) for b in margin.values()) < 0.15
    writer.adapt(Adaptation(margin, version=1, effects=effects))
    try:
        after = writer.write(40, **options)
    finally:
        writer.adapt(None)
    assert share(after, liked) >= share(before, liked) + 0.15
    assert share(after, disliked) < share(before, disliked)


@pytest.mark.slow
def test_the_fast_writer_applies_the_adaptation_as_transformers_generate_does_with_the_processor():
    fast, reference = load_writer(), load_writer(reference=True)
    adaptation = Adaptation({"espresso": 2.0, "beans": 1.0, "water": -2.0, "brewing": 1.5}, version=3)
    plain = fast.write(3, tone="funny", audience="general", topic="coffee", seed=4)
    fast.adapt(adaptation)
    reference.adapt(adaptation)
    for seed in range(4):
        options: dict[str, Any] = {"tone": "funny", "audience": "general", "topic": "coffee", "seed": seed}
        assert fast.write(3, **options) == reference.write(3, **options)
    # the processor is what moved them: the same adaptation's offsets without resampling differ from none
    assert fast._bias is not None and reference._bias is not None
    assert fast._fast is not None
    ids = fast._fast.encode("<tone=funny> <audience=general> <topic=coffee>")
    biased = fast._fast.sample(ids, 6, seed=1, max_new_tokens=40, temperature=0.9, top_p=0.95, eos=fast.eos_id,
                               bias=fast._bias)
    unbiased = fast._fast.sample(ids, 6, seed=1, max_new_tokens=40, temperature=0.9, top_p=0.95, eos=fast.eos_id)
    assert biased != unbiased and plain
