"""The training captions' trigram cost in meme decoding (generator/meme/ngrams.py)."""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest

from generator.gates.fluency import check_fluency
from generator.meme import load_captioner
from generator.meme.ngrams import CorpusTrigrams
from generator.meme.vocab import build_vocab

CAPTIONS = ["when you try to sleep", "when you go to the store", "me trying to sleep, again"]


@pytest.fixture(scope="module")
def trigrams():
    vocab = build_vocab(CAPTIONS, min_freq=1)
    return vocab, CorpusTrigrams.build(CAPTIONS, vocab, penalty=5.0, end_penalty=9.0)


def _ids(vocab, text):
    index = vocab.index()
    return [index[w] for w in text.split()]


def test_a_word_that_makes_an_unseen_trigram_costs_the_penalty(trigrams):
    vocab, tri = trigrams
    index = vocab.index()
    logp = np.zeros((1, vocab.size))
    tri.apply(logp, [_ids(vocab, "when you try to")])
    assert logp[0, index["sleep"]] == 0.0  # "try to sleep" is a training trigram
    assert logp[0, index["the"]] == -5.0  # "try to the" is not: the seam the issue found
    assert logp[0, vocab.end_id] == -9.0  # no training caption ends on "try to"


def test_captions_end_only_where_a_training_caption_ended(trigrams):
    vocab, tri = trigrams
    logp = np.zeros((2, vocab.size))
    tri.apply(logp, [_ids(vocab, "when you go to the store"), _ids(vocab, "when you go to the")])
    assert logp[0, vocab.end_id] == 0.0 and logp[1, vocab.end_id] == -9.0


def test_the_first_words_follow_start_and_punctuation_is_not_a_word_of_the_context(trigrams):
    vocab, tri = trigrams
    index = vocab.index()
    logp = np.zeros((2, vocab.size))
    tri.apply(logp, [[], [*_ids(vocab, "trying to sleep"), index[","]]])
    assert logp[0, index["when"]] == 0.0 and logp[0, index["to"]] == -5.0
    assert logp[1, index["again"]] == 0.0  # context "to sleep" (the comma skipped) -> "again" seen
    assert tri.seen(_ids(vocab, "when you try to sleep")) and not tri.seen(_ids(vocab, "when you try to the store"))


def test_the_demo_decoder_makes_fewer_broken_captions_with_the_trigram_cost():
    """The demo bundle, all demo templates, the config's decode options: the fluency gate's broken
    share of the beam top-5 falls with the trigram cost, and all images but at most one still get 3 or more captions."""
    from bot.config.model import MemeGeneratorConfig
    from generator.meme.templates import load_templates

    cfg = MemeGeneratorConfig()
    cap = load_captioner(fluent=False)  # the decoder's own captions, not the gate's choice among them
    assert cap.rules.ngrams is not None
    features = cap.encode_batch([t.image_path for t in load_templates()])
    shares = {}
    for name, rules in (("before", replace(cap.rules, ngrams=None)), ("after", cap.rules)):
        cap.rules = rules
        beams = cap.beam_search_batch(features, k=5, **cfg.decode_options(), seed=0)
        texts = [c.text for caps in beams for c in caps]
        shares[name] = sum(1 for t in texts if check_fluency(t)) / len(texts)
        if name == "after":  # pieces of training captions are never handed out: a few images get 3 or 4
            # (the bundle retrained on the final corpus, seed 0: the cameraman gets 1, its beams run into
            # training captions; the pipeline asks for more images when a run falls short)
            assert sum(len(caps) < 3 for caps in beams) <= 1 and len(texts) >= 0.9 * 5 * len(beams)
    assert shares["after"] < 0.6 * shares["before"], shares


def test_a_seam_where_only_two_words_overlap_costs_the_seam_penalty():
    captions = ["when you go to the store", "the store is closed", "when you go to the moon and back"]
    vocab = build_vocab(captions, min_freq=1)
    tri = CorpusTrigrams.build(captions, vocab, penalty=5.0, end_penalty=9.0, seam_penalty=1.5)
    index = vocab.index()
    logp = np.zeros((1, vocab.size))
    tri.apply(logp, [_ids(vocab, "go to the store")])
    # "the store is" is a training trigram, but "to the store is" no training caption has: a seam
    assert logp[0, index["is"]] == -1.5 and logp[0, vocab.end_id] == 0.0 and logp[0, index["back"]] == -5.0
    logp = np.zeros((1, vocab.size))
    tri.apply(logp, [_ids(vocab, "go to the")])
    assert logp[0, index["store"]] == 0.0 and logp[0, index["moon"]] == 0.0  # both 4-grams are seen


def test_seams_counts_the_words_apply_charges_the_seam_penalty():
    captions = ["when you go to the store", "the store is closed", "when you go to the moon and back"]
    vocab = build_vocab(captions, min_freq=1)
    tri = CorpusTrigrams.build(captions, vocab, penalty=5.0, end_penalty=9.0, seam_penalty=1.5)
    assert tri.seams(_ids(vocab, "when you go to the store")) == 0  # a training caption
    # "to the store is" and "the store is closed" ... "store is closed <end>" is seen: one seam, at "is"
    joined = _ids(vocab, "when you go to the store is closed")
    assert tri.seams(joined) == 1
    charged = 0.0  # what the search takes off word by word, as apply does
    for j, word in enumerate([*joined, vocab.end_id]):
        logp = np.zeros((1, vocab.size))
        tri.apply(logp, [joined[:j]])
        charged -= logp[0, word]
    assert charged == 1.5 * tri.seams(joined)


def test_seams_and_seen_answer_as_np_isin_does_on_the_demo_bundle():
    """seams() and seen() look words up with one binary search each; the answers are those of the
    plain np.isin reading, for training captions, joins of two of them and random word runs."""
    cap = load_captioner(fluent=False)
    tri, vocab = cap.rules.ngrams, cap.vocab
    assert tri is not None
    index = vocab.index()

    def seams_isin(seq):
        count = 0
        for j, word in enumerate([*seq, tri.end_id]):
            allowed = tri.follow.get(tri.context(seq[:j]))
            if allowed is None or not np.isin(word, allowed):
                continue
            allowed4 = tri.follow4.get(tri.context(seq[:j], 3))
            count += allowed4 is None or not bool(np.isin(word, allowed4))
        return count

    def seen_isin(seq):
        full = [tri.start_id, tri.start_id, *[i for i in seq if i not in tri.free], tri.end_id]
        return all(tri.follow.get((a, b)) is not None and np.isin(c, tri.follow[(a, b)])
                   for a, b, c in zip(full, full[1:], full[2:]))

    keys = list(cap._bundle.caption_keys[:200])
    rng = np.random.default_rng(0)
    seqs = [[index[w] for w in k.split() if w in index] for k in keys]
    seqs += [a[:len(a) // 2] + b[len(b) // 2:] for a, b in zip(seqs, seqs[1:])]
    seqs += [list(rng.integers(0, vocab.first_piece, size=int(rng.integers(1, 9)))) for _ in range(100)]
    assert [tri.seams(s) for s in seqs] == [seams_isin(s) for s in seqs]
    assert [tri.seen(s) for s in seqs] == [seen_isin(s) for s in seqs]
    assert any(tri.seams(s) for s in seqs) and any(tri.seen(s) for s in seqs)


def test_an_image_the_seam_cost_leaves_short_is_decoded_again_without_it():
    """Every demo template gets k captions or close to it (all but one 3 or more, none 0); with the seam
    cost alone the deep-field image gets none for some seeds (its beams all run into training captions)."""
    from bot.config.model import MemeGeneratorConfig
    from generator.meme.templates import load_templates

    cfg = MemeGeneratorConfig()
    cap = load_captioner(fluent=False)
    assert cap.rules.ngrams is not None and cap.rules.ngrams.seam_penalty > 0
    templates = load_templates()
    features = cap.encode_batch([t.image_path for t in templates])
    for seed in (0, 1):
        beams = cap.beam_search_batch(features, k=5, **cfg.decode_options(), seed=seed)
        # the bundle retrained on the final corpus, seed 0: the cameraman gets 1 even so
        assert min(len(c) for c in beams) >= 1 and sum(len(c) < 3 for c in beams) <= 1, [len(c) for c in beams]
        for caps in beams:
            assert len({c.text for c in caps}) == len(caps)
            assert not any(cap.novelty.is_copy(c.text) for c in caps)  # type: ignore[union-attr]


def test_the_captioner_hands_out_only_captions_the_fluency_gate_passes():
    """With ``fluent`` (the pipeline's setting) the captioner picks its k among the beam's finished captions that the fluency gate
    (rules and models of ordinary English, not the decoder), the meaning gate (pairs formed across a seam
    of two training captions must be attested) and the coherence gate (how the pieces join) pass, and fills up with flagged ones
    only when too few pass; most images get k good ones."""
    from bot.config.model import MemeGeneratorConfig
    from generator.meme.templates import load_templates

    cfg = MemeGeneratorConfig()
    cap = load_captioner(fluent=True)  # as the pipeline loads it
    assert cap.fluent
    features = cap.encode_batch([t.image_path for t in load_templates()])
    beams = cap.beam_search_batch(features, k=5, **cfg.decode_options(), seed=0)
    from generator.gates.coherence import check_coherence
    from generator.gates.meaning import bundle_sources, check_meaning

    sources = bundle_sources(None)
    assert sources is not None
    fluent = [[c.text for c in caps if not check_fluency(c.text) and check_meaning(c.text, sources) is None
               and check_coherence(c.text, sources) is None] for caps in beams]
    for caps, good in zip(beams, fluent):  # the ones the gates pass come first
        assert [c.text for c in caps[:len(good)]] == good
    # the tiny demo model writes many seams of training captions the meaning and coherence gates refuse
    # (2026-12-06, the bundle retrained on the final corpus: 26 of 70 pass, 2 images get 5, 4 get none;
    # 44 of 70 and 6 images before the coherence gate): those images get fewer, and the pipeline asks
    # for more images
    assert sum(map(len, fluent)) >= 0.3 * 5 * len(beams) and sum(len(g) == 5 for g in fluent) >= 2, fluent


def test_costly_names_the_words_apply_charges_and_a_positive_bias_never_pays_for_a_seam():
    """costly() answers as apply() charges, word by word (seams and unseen trigrams, punctuation
    always); DecodeRules.mask adds a positive word bias only where the word costs nothing there (a
    negative one everywhere), and applied_bias sums what mask added along a caption."""
    from generator.meme.beam import DecodeRules

    captions = ["when you go to the store", "the store is closed", "when you go to the moon and back"]
    vocab = build_vocab(captions, min_freq=1)
    tri = CorpusTrigrams.build(captions, vocab, penalty=5.0, end_penalty=9.0, seam_penalty=1.5)
    index = vocab.index()
    joined = _ids(vocab, "when you go to the store is closed")  # a seam at "is"
    odd = [*_ids(vocab, "when you go to the"), index["closed"], index["and"]]  # unseen trigrams
    for seq in (joined, odd, _ids(vocab, "when you go to the moon and back")):
        charged = []
        for j, word in enumerate(seq):
            logp = np.zeros((1, vocab.size))
            tri.apply(logp, [seq[:j]])
            charged.append(bool(logp[0, word] < 0))
        assert tri.costly(seq) == charged
    assert tri.costly(joined) == [False] * 6 + [True, False]
    bias = np.zeros(vocab.size)
    bias[index["is"]], bias[index["moon"]], bias[index["store"]] = 1.0, 0.8, -0.6
    plain = DecodeRules(vocab.start_id, vocab.end_id, (), 12, ngrams=tri, no_repeat_bigrams=False)
    biased = replace(plain, word_bias=bias)
    context = [_ids(vocab, "go to the store"), _ids(vocab, "when you go to the")]
    moved = biased.mask(np.zeros((2, vocab.size)), 1, context) - plain.mask(np.zeros((2, vocab.size)), 1, context)
    assert moved[0, index["is"]] == 0.0  # "to the store is" is a seam: the liked word does not pay for it
    assert moved[1, index["moon"]] == pytest.approx(0.8) and moved[1, index["store"]] == pytest.approx(-0.6)  # they continue a caption
    assert moved[0, index["store"]] == pytest.approx(-0.6)  # a disliked word costs its bias wherever it comes
    added = sum(float((biased.mask(np.zeros((1, vocab.size)), 1, [seq[:j]])
                       - plain.mask(np.zeros((1, vocab.size)), 1, [seq[:j]]))[0, word])
                for seq in (joined,) for j, word in enumerate(seq))
    assert biased.applied_bias(joined) == pytest.approx(added) == pytest.approx(-0.6)
    loose = replace(biased, ngrams=replace(tri, seam_penalty=0.0))
    assert loose.applied_bias(joined) == pytest.approx(0.4)  # without the seam cost "is" is no seam
