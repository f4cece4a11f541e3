import dataclasses

import numpy as np
import pytest

from generator import GeneratorError
from generator.meme import Caption, load_captioner
from generator.meme.beam import DecodeRules, Hypothesis, Sampling, beam_search, choose
from generator.meme.reference import next_word_logprobs, reference_beam_search
from generator.meme.step import DecoderWeights, FastStep
from generator.meme.tiny import write_random_bundle
from generator.meme.vocab import detokenize


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    """A captioner with random weights (no training): 18 tokens, 8-d features, GRU(16)."""
    return load_captioner(write_random_bundle(tmp_path_factory.mktemp("tiny") / "bundle", seed=7))


@pytest.fixture(scope="module")
def early_end(tmp_path_factory):
    """Random weights that like <end>: finished captions turn up among the candidates at every step."""
    return load_captioner(write_random_bundle(tmp_path_factory.mktemp("early") / "bundle", seed=3, end_bias=3.0,
                                              max_tokens=8))


@pytest.fixture(scope="module")
def feats():
    return np.random.default_rng(11).standard_normal((6, 8)).astype(np.float32)


def _reference(cap, f, width, k, diversity, key=tuple):
    weights = DecoderWeights.load(cap.bundle_dir / "weights.npz")
    pool = reference_beam_search(lambda prefix: next_word_logprobs(weights, f, prefix), cap.rules, width, key)
    return pool, choose(pool, k, diversity)


@pytest.mark.parametrize("k", [1, 3, 5])
def test_beam_search_returns_k_distinct_captions_best_first(tiny, feats, k):
    for f in feats:
        captions = tiny.beam_search(f, k=k)
        assert len(captions) == k
        assert len({c.text for c in captions}) == k
        scores = [c.score for c in captions]
        assert scores == sorted(scores, reverse=True)
        assert [c.rank for c in captions] == list(range(k))
        for c in captions:
            assert c.score == pytest.approx(c.logprob / (len(c.tokens) + 1))
            assert 1 <= len(c.tokens) <= tiny.vocab.max_tokens
            assert not {"<unk>", "<start>", "<pad>", "<end>"} & set(c.tokens)
            assert c.text == detokenize(c.tokens)


def test_caption_is_a_frozen_value(tiny, feats):
    caption = tiny.beam_search(feats[0], k=1)[0]
    assert isinstance(caption, Caption)
    with pytest.raises(dataclasses.FrozenInstanceError):
        setattr(caption, "text", "x")  # noqa: B010 (the frozen dataclass refuses it at run time)


@pytest.mark.parametrize(("k", "width", "diversity"), [(1, 1, 0.0), (3, 3, 0.0), (5, 10, 0.0), (5, 10, 0.5)])
@pytest.mark.parametrize("which", ["tiny", "early_end"])
def test_fast_path_equals_the_plain_reference_decoder(request, feats, which, k, width, diversity):
    cap = request.getfixturevalue(which)
    fast = cap.beam_search_batch(feats, k=k, width=width, diversity=diversity)
    for f, got in zip(feats, fast):
        _, want = _reference(cap, f, width, k, diversity, key=lambda ids: detokenize(cap.vocab.decode(ids)))
        assert [c.text for c in got] == [detokenize(cap.vocab.decode(h.ids)) for h in want]
        np.testing.assert_allclose([c.score for c in got], [h.score for h in want], rtol=1e-5, atol=1e-5)
        np.testing.assert_allclose([c.logprob for c in got], [h.logprob for h in want], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("which", ["tiny", "early_end"])
def test_fast_search_finishes_the_same_pool_as_the_reference(request, feats, which):
    from generator.meme.beam import beam_search

    cap = request.getfixturevalue(which)
    step = FastStep(DecoderWeights.load(cap.bundle_dir / "weights.npz"))
    context = step.image_context(feats)
    pools = beam_search(lambda rows, tokens, h: step(context[rows], tokens, h),
                        np.zeros((len(feats), 16), np.float32), cap.rules, width=4)
    for f, pool in zip(feats, pools):
        want, _ = _reference(cap, f, 4, 4, 0.0)
        assert [h.ids for h in pool] == [h.ids for h in want]


def test_batched_search_equals_one_image_at_a_time(tiny, feats):
    batch = tiny.beam_search_batch(feats, k=5)
    for f, got in zip(feats, batch):
        single = tiny.beam_search(f, k=5)
        assert [c.text for c in got] == [c.text for c in single]
        np.testing.assert_allclose([c.score for c in got], [c.score for c in single], rtol=1e-6)


def test_one_step_call_per_word_for_all_images(tiny, feats, monkeypatch):
    calls = []
    original = FastStep.__call__

    def counting(self, context, tokens, h):
        calls.append(len(tokens))
        return original(self, context, tokens, h)

    monkeypatch.setattr(FastStep, "__call__", counting)
    tiny.beam_search_batch(feats, k=5)
    assert len(calls) <= tiny.vocab.max_tokens + 1  # words, then the forced <end>
    assert calls[0] == len(feats) and max(calls) > len(feats)  # all images' beams share each call


def test_fast_step_equals_reference_equations(tiny, feats):
    weights = DecoderWeights.load(tiny.bundle_dir / "weights.npz")
    step = FastStep(weights)
    prefix = (tiny.vocab.start_id, 5, 9, 4)
    h = np.zeros((1, weights.units), np.float32)
    context = step.image_context(feats[:1])
    for tok in prefix:
        logp, h = step(context, np.array([tok]), h)
    np.testing.assert_allclose(logp[0], next_word_logprobs(weights, feats[0], prefix), atol=1e-5)


def test_max_len_caps_caption_length(tiny, feats):
    for c in tiny.beam_search(feats[1], k=3, max_len=2):
        assert len(c.tokens) <= 2


def test_diversity_trades_score_for_different_wording():
    pool = [Hypothesis((5, 6, 7), -1.0, -0.25), Hypothesis((5, 6, 8), -1.1, -0.27),
            Hypothesis((9, 10, 11), -1.4, -0.35)]
    assert [h.ids for h in choose(pool, 2, 0.0)] == [(5, 6, 7), (5, 6, 8)]
    assert [h.ids for h in choose(pool, 2, 0.5)] == [(5, 6, 7), (9, 10, 11)]


def test_bad_arguments_are_generator_errors(tiny, feats):
    with pytest.raises(GeneratorError):
        tiny.beam_search(feats[0], k=0)
    with pytest.raises(GeneratorError):
        tiny.beam_search(feats[0], k=5, width=3)
    with pytest.raises(GeneratorError):
        tiny.sample(feats[0], 2, top_p=0)


def test_sampling_is_seeded_and_scored_under_the_model(tiny, feats):
    a = tiny.sample(feats[2], 8, temperature=1.2, top_p=0.95, seed=3)
    b = tiny.sample(feats[2], 8, temperature=1.2, top_p=0.95, seed=3)
    assert [c.text for c in a] == [c.text for c in b] and len(a) == 8
    assert len({c.text for c in a}) > 1
    assert [c.score for c in a] == sorted((c.score for c in a), reverse=True)
    weights = DecoderWeights.load(tiny.bundle_dir / "weights.npz")
    index = tiny.vocab.index()
    for c in a:
        ids = [index[t] for t in c.tokens] + [tiny.vocab.end_id]
        prefix: tuple[int, ...] = (tiny.vocab.start_id,)
        logprob = 0.0
        for tok in ids:
            logprob += next_word_logprobs(weights, feats[2], prefix)[tok]
            prefix += (tok,)
        assert c.logprob == pytest.approx(logprob, abs=1e-4)


def test_tiny_top_p_sampling_is_greedy(tiny, feats):
    samples = tiny.sample(feats[3], 4, top_p=1e-6, seed=1)
    assert len({c.text for c in samples}) == 1


def test_sampled_beam_search_is_seeded_per_image_and_scored_under_the_model(tiny, feats):
    opts = {"temperature": 1.0, "top_p": 0.95}
    a = tiny.beam_search_batch(feats[:3], k=4, seed=5, **opts)
    b = tiny.beam_search_batch(feats[:3], k=4, seed=5, **opts)
    assert [[c.text for c in caps] for caps in a] == [[c.text for c in caps] for caps in b]
    seeds = [caps[0].seed for caps in a]
    assert len(set(seeds)) == 3 and all(c.seed == caps[0].seed for caps in a for c in caps)
    # an image's captions depend only on its own seed: the batch equals one image at a time
    for i, caps in enumerate(a):
        alone = tiny.beam_search_batch(feats[i:i + 1], k=4, seed=[seeds[i]], **opts)[0]
        assert [c.text for c in alone] == [c.text for c in caps]
    weights = DecoderWeights.load(tiny.bundle_dir / "weights.npz")
    index = tiny.vocab.index()
    c = a[1][0]
    prefix: tuple[int, ...] = (tiny.vocab.start_id,)
    logprob = 0.0
    for tok in [index[t] for t in c.tokens] + [tiny.vocab.end_id]:  # untempered, repeats penalised
        logprob += next_word_logprobs(weights, feats[1], prefix)[tok] - tiny.rules.repeat_penalty * prefix.count(tok)
        prefix += (tok,)
    assert c.logprob == pytest.approx(logprob, abs=1e-4)
    assert all(c.seed is None for c in tiny.beam_search(feats[1], k=3))


def test_sampling_gives_fresh_captions_across_seeds(tiny, feats):
    det = {c.text for _ in range(5) for c in tiny.beam_search(feats[0], k=3)}
    sampled = {c.text for s in range(5) for c in tiny.beam_search(feats[0], k=3, temperature=1.0, seed=s)}
    assert len(det) == 3 and len(sampled) > 6


def test_diverse_groups_keep_beams_on_different_first_words():
    vocab = 30
    logits = -0.4 * np.arange(vocab, dtype=np.float64)
    logits[2] = -6.0  # <end>

    def step(rows, tokens, state):
        lp = logits - np.log(np.exp(logits).sum())
        return np.tile(lp, (len(rows), 1)), state

    rules = DecodeRules(start_id=1, end_id=2, banned=(0, 1, 3), max_len=4)
    state0 = np.zeros((1, 1))
    plain = beam_search(step, state0, rules, width=4)[0]
    grouped = beam_search(step, state0, rules, width=4, groups=2, group_penalty=5.0)[0]
    assert len({h.ids[0] for h in grouped}) > len({h.ids[0] for h in plain})
    assert beam_search(step, state0, rules, width=4, groups=1, group_penalty=5.0)[0] == plain
    with pytest.raises(ValueError, match="one random generator per image"):
        beam_search(step, state0, rules, width=4, sampling=Sampling(1.0, 0.9))


def test_spelling_pieces_may_repeat_word_pairs():
    rules = DecodeRules(start_id=1, end_id=2, banned=(0,), max_len=9, free_from=6)
    logp = np.zeros((2, 8))
    out = rules.mask(logp, 3, [(4, 5, 4), (6, 7, 6)])
    assert out[0, 5] == -np.inf and np.isfinite(out[1, 7])


def test_bad_sampling_options_are_generator_errors(tiny, feats):
    for bad in ({"temperature": -1}, {"top_p": 0}, {"groups": 0}, {"group_penalty": -1}):
        with pytest.raises(GeneratorError):
            tiny.beam_search(feats[0], k=2, **bad)
    with pytest.raises(GeneratorError, match="one seed per image"):
        tiny.beam_search_batch(feats[:2], k=2, temperature=1.0, seed=[1])


def test_repeat_penalty_lowers_words_already_used():
    rules = DecodeRules(start_id=1, end_id=2, banned=(0,), max_len=9, free_from=6, repeat_penalty=1.5,
                        no_repeat_bigrams=False)
    out = rules.mask(np.zeros((1, 8)), 3, [(4, 4, 5, 6, 6)])
    assert out[0, 4] == -3.0 and out[0, 5] == -1.5 and out[0, 6] == 0.0 and out[0, 7] == 0.0


def test_training_captions_are_never_handed_out_verbatim(tmp_path, feats):
    from generator.meme.metrics import caption_hashes

    path = write_random_bundle(tmp_path / "b", seed=7)
    before = load_captioner(path).beam_search(feats[0], k=3)
    np.save(path / "captions.npy", caption_hashes([before[0].text.upper()]))  # compared by words, not case
    cap = load_captioner(path)
    after = cap.beam_search(feats[0], k=3)
    assert before[0].text not in {c.text for c in after} and len(after) == 3
    assert [c.text for c in cap.beam_search(feats[0], k=3, novel=False)] == [c.text for c in before]
    assert cap.version != load_captioner(write_random_bundle(tmp_path / "c", seed=7)).version


@pytest.mark.parametrize("top_p", [0.5, 0.9, 0.95, 1.0])
def test_the_nucleus_from_the_most_likely_words_is_the_one_from_all_sorted(top_p):
    """beam._nucleus_mask sorts each row's NUCLEUS_HEAD most likely words only; its answer is the
    reference's (every word sorted) on peaked, flat, tied and masked rows."""
    from generator.meme.beam import NUCLEUS_HEAD, _nucleus_mask, _nucleus_mask_reference

    rng = np.random.default_rng(0)
    vocab = 593  # the demo bundle's
    rows = [rng.normal(size=vocab) * scale for scale in (0.1, 1.0, 3.0, 8.0) for _ in range(20)]
    tied = np.round(rng.normal(size=vocab) * 2)  # many exact ties, some at the nucleus' edge
    rows += [tied, np.zeros(vocab), np.r_[np.full(NUCLEUS_HEAD, 5.0), np.zeros(vocab - NUCLEUS_HEAD)]]
    masked = rng.normal(size=vocab) * 3
    masked[rng.random(vocab) < 0.9] = -np.inf  # a trigram-masked row
    rows.append(masked)
    logp = np.stack(rows)
    assert np.array_equal(_nucleus_mask(logp, top_p), _nucleus_mask_reference(logp, top_p))
