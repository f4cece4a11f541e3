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
    share of the beam top-5 falls with the trigram cost, and every image still gets 5 captions."""
    from bot.config.model import MemeGeneratorConfig
    from generator.meme.templates import load_templates

    cfg = MemeGeneratorConfig()
    cap = load_captioner()
    assert cap.rules.ngrams is not None
    features = cap.encode_batch([t.image_path for t in load_templates()])
    shares = {}
    for name, rules in (("before", replace(cap.rules, ngrams=None)), ("after", cap.rules)):
        cap.rules = rules
        beams = cap.beam_search_batch(features, k=5, **cfg.decode_options(), seed=0)
        texts = [c.text for caps in beams for c in caps]
        shares[name] = sum(1 for t in texts if check_fluency(t)) / len(texts)
        if name == "after":
            assert all(len(caps) == 5 for caps in beams)
    assert shares["after"] < 0.6 * shares["before"], shares
