"""The meme captioner learns from winners: word biases from learned effects, kept as versions."""
from __future__ import annotations

import numpy as np
import pytest

from generator import DataError, GeneratorError
from generator.meme import load_captioner
from generator.meme.adapt import BEAM_SCALE, CAP, Adaptation, AdaptationStore, captioner_bias, word_bias
from generator.meme.tiny import write_random_bundle


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    return load_captioner(write_random_bundle(tmp_path_factory.mktemp("tiny") / "bundle", seed=7))


def test_word_bias_only_for_effects_clear_of_their_uncertainty():
    effects = {"coffee": (0.8, 0.2), "monday": (-0.6, 0.1), "cat": (0.3, 0.4), "huge": (9.0, 0.1)}
    bias = word_bias(effects)
    assert set(bias) == {"coffee", "monday", "huge"}
    assert bias["coffee"] == pytest.approx(0.6) and bias["monday"] == pytest.approx(-0.5)
    assert bias["huge"] == 2.0  # capped
    assert word_bias(effects, strength=2.0)["coffee"] == pytest.approx(1.2)
    assert word_bias(effects, strength=0.0) == {}
    assert word_bias(effects, z=0.0)["cat"] == pytest.approx(0.3)
    with pytest.raises(GeneratorError, match="strength"):
        word_bias(effects, strength=-1)


def test_the_captioner_follows_the_posterior_means_of_the_effects_where_the_adaptation_keeps_them():
    effects = {"espresso": (0.4, 0.45), "water": (-0.35, 0.4), "noise": (0.001, 0.5), "huge": (9.0, 0.1)}
    made = Adaptation(word_bias(effects), source={"strength": 1.5}, effects=effects)
    bias = captioner_bias(made)
    assert set(bias) == {"espresso", "water", "huge"}  # a word with no evidence has a mean near zero: no offset
    assert bias["espresso"] == pytest.approx(min(CAP, BEAM_SCALE * 1.5 * 0.4), abs=1e-4)
    assert bias["water"] == pytest.approx(max(-CAP, -BEAM_SCALE * 1.5 * 0.35), abs=1e-4)
    assert bias["huge"] == CAP
    assert captioner_bias(made, scale=0.5)["espresso"] == pytest.approx(0.3)
    # within one sd of zero: the margin offsets leave espresso and water alone, the means do not
    assert set(word_bias(effects)) == {"huge"}
    assert captioner_bias(Adaptation({"coffee": 0.7})) == {"coffee": 0.7}  # made before effects were kept
    assert captioner_bias(Adaptation({}, source={"strength": 0.0}, effects=effects)) == {}


def test_an_adaptation_with_effects_decodes_with_their_means_and_one_without_with_its_offsets(tiny):
    index = tiny.vocab.index()
    tiny.adapt(Adaptation({"nap": 0.1}, version=1, effects={"nap": (0.6, 0.9), "monday": (-0.5, 0.9)}))
    try:
        assert tiny.rules.word_bias is not None
        assert tiny.rules.word_bias[index["nap"]] == pytest.approx(BEAM_SCALE * 0.6)
        assert tiny.rules.word_bias[index["monday"]] == pytest.approx(-BEAM_SCALE * 0.5)
        tiny.adapt(Adaptation({"nap": 0.1}, version=2))
        assert tiny.rules.word_bias is not None and tiny.rules.word_bias[index["nap"]] == pytest.approx(0.1)
        assert tiny.rules.word_bias[index["monday"]] == 0.0
    finally:
        tiny.adapt(None)
    assert tiny.rules.word_bias is None


def test_store_keeps_versions_and_rolls_back(tmp_path):
    store = AdaptationStore(tmp_path / "adaptations" / "meme")
    assert store.current() is None and store.versions() == []
    with pytest.raises(GeneratorError, match="nothing to roll back"):
        store.rollback()
    first = store.save(Adaptation({"coffee": 0.5}, "t1", {"observations": 40}))
    second = store.save(Adaptation({"coffee": 0.9, "monday": -0.4}, "t2"))
    assert (first.version, second.version) == (1, 2)
    assert store.current() == Adaptation({"coffee": 0.9, "monday": -0.4}, "t2", {}, 2)
    assert store.rollback() == Adaptation({"coffee": 0.5}, "t1", {"observations": 40}, 1)
    assert store.versions() == [1, 2]  # the newer one is kept, only no longer current
    assert store.rollback() is None and store.current() is None
    assert store.save(Adaptation({}, "t3")).version == 3


def test_store_keeps_the_effects_an_adaptation_was_made_from(tmp_path):
    store = AdaptationStore(tmp_path)
    made = store.save(Adaptation({"coffee": 0.5}, "t1", {}, effects={"coffee": (0.812345, 0.3), "tea": (-0.1, 0.4)}))
    assert made.effects == {"coffee": (0.8123, 0.3), "tea": (-0.1, 0.4)}
    assert store.current() == made
    assert store.save(Adaptation({"tea": -0.2})).effects == {} and store.current().effects == {}  # type: ignore[union-attr]
    (tmp_path / "0001.json").write_text('{"format": 1, "bias": {}, "effects": {"coffee": 0.5}}')
    with pytest.raises(DataError, match="0001.json"):
        store.load(1)


def test_store_names_the_file_it_cannot_read(tmp_path):
    store = AdaptationStore(tmp_path)
    store.save(Adaptation({"coffee": 0.5}))
    (tmp_path / "0001.json").write_text("{not json")
    with pytest.raises(DataError, match="0001.json"):
        store.current()
    (tmp_path / "current").write_text("latest")
    with pytest.raises(DataError, match="current"):
        store.current()


def test_vector_maps_known_words_only():
    a = Adaptation({"coffee": 0.5, "zzz": 1.0})
    v = a.vector({"coffee": 3, "tea": 4}, 6)
    assert v is not None and v.tolist() == [0, 0, 0, 0.5, 0, 0]
    assert Adaptation({"zzz": 1.0}).vector({"coffee": 3}, 6) is None


def test_an_adapted_captioner_writes_the_favoured_word_more_and_rollback_restores_it(tiny):
    feats = np.random.default_rng(11).standard_normal((6, 8)).astype(np.float32)
    word = "nap"  # one the random model seldom writes

    def share(word):
        beams = tiny.beam_search_batch(feats, k=3)
        return sum(word in c.tokens for caps in beams for c in caps) / sum(len(caps) for caps in beams), beams

    before, plain = share(word)
    assert before < 0.2
    tiny.adapt(Adaptation({word: 3.0}, version=1))
    try:
        assert tiny.adaptation is not None and tiny.adaptation.version == 1
        assert share(word)[0] > before + 0.3
        tiny.adapt(Adaptation({word: -30.0}))
        assert share(word)[0] == 0.0
    finally:
        tiny.adapt(None)
    assert [[c.text for c in caps] for caps in share(word)[1]] == [[c.text for c in caps] for caps in plain]


def _share(beams, words: set[str]) -> float:
    texts = [c.text for caps in beams for c in caps]
    return sum(bool(set(t.split()) & words) for t in texts) / len(texts)


def _demo_words(seed: int):
    """The demo captioner on every demo template with the configured sampled beams, its captions
    (``seed``), and two sets of words it writes in 3-30% of them: (cap, features, decode options,
    captions, liked, disliked)."""
    from collections import Counter

    from bot.config.model import MemeGeneratorConfig
    from generator.meme.templates import load_templates

    cap = load_captioner()
    features = cap.encode_batch([t.image_path for t in load_templates()])
    decode = MemeGeneratorConfig().decode_options()
    before = cap.beam_search_batch(features, k=5, **decode, seed=seed)
    texts = [c.text for caps in before for c in caps]
    counts = Counter(w for t in texts for w in set(t.split()) if len(w) > 3)
    middling = sorted(w for w, n in counts.items() if 0.03 * len(texts) <= n <= 0.3 * len(texts))
    liked, disliked = set(middling[0::2][:6]), set(middling[1::2][:6])
    assert len(liked) >= 3 and len(disliked) >= 3, counts
    return cap, features, decode, before, liked, disliked


def test_the_demo_captioner_writes_more_liked_and_fewer_disliked_words_and_rollback_restores_it_exactly():
    """The shipped demo bundle on every demo template, with the configured sampled beams: an
    adaptation's words move the captions (not only their order), a caption both decodes write keeps
    the model's own score, and taking the adaptation away gives back the same captions, seed for seed."""
    cap, features, decode, before, liked, disliked = _demo_words(seed=3)
    cap.adapt(Adaptation({**{w: 1.5 for w in liked}, **{w: -1.5 for w in disliked}}, version=1))
    after = cap.beam_search_batch(features, k=5, **decode, seed=3)
    assert _share(after, liked) > _share(before, liked) + 0.1, (_share(before, liked), _share(after, liked))
    assert _share(after, disliked) < _share(before, disliked)
    scored = {(i, c.text): c.score for i, caps in enumerate(before) for c in caps}
    shared = [(scored[(i, c.text)], c.score) for i, caps in enumerate(after) for c in caps if (i, c.text) in scored]
    # scored as trained (to float32 rounding: the bias is added to and taken from float32 log-probs)
    assert shared and all(a == pytest.approx(b, abs=1e-6) for a, b in shared)
    cap.adapt(None)
    again = cap.beam_search_batch(features, k=5, **decode, seed=3)
    assert [[(c.text, c.score) for c in caps] for caps in again] == [[(c.text, c.score) for c in caps] for caps in before]


def test_effects_the_size_a_few_hundred_posts_teach_move_the_demo_captioner():
    """The ranker's effects after ~250 simulated posts: means ~0.45 with sds ~0.32, so the margin
    offsets (effect less one sd) leave almost nothing to follow; the captioner follows the means and
    must move clearly, further than the margin offsets move it."""
    cap, features, decode, before, liked, disliked = _demo_words(seed=5)
    effects = {**{w: (0.45, 0.32) for w in liked}, **{w: (-0.45, 0.32) for w in disliked}}
    margin = word_bias(effects)
    assert max(abs(b) for b in margin.values()) < 0.15
    try:
        cap.adapt(Adaptation(margin, version=1))
        offsets = cap.beam_search_batch(features, k=5, **decode, seed=5)
        cap.adapt(Adaptation(margin, version=2, effects=effects))
        means = cap.beam_search_batch(features, k=5, **decode, seed=5)
    finally:
        cap.adapt(None)
    shares = [(_share(b, liked), _share(b, disliked)) for b in (before, offsets, means)]
    assert shares[2][0] >= shares[0][0] + 0.2 and shares[2][0] > shares[1][0], shares
    assert shares[2][1] < shares[0][1] and shares[2][1] <= shares[1][1], shares
