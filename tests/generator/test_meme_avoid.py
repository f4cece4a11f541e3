"""The meme captioner steers clear of what the account already says (``avoid``) and of what it
handed out for the batch's other images: the pipeline's duplicate gate (generator.gates.repeats)
would only filter those, and every filtered draft costs a render, a row and maybe another round."""
from __future__ import annotations

import numpy as np
import pytest

from bot.config.model import MemeGeneratorConfig
from generator.gates.repeats import Earlier, RepeatIndex
from generator.meme import load_captioner
from generator.meme.templates import load_templates


@pytest.fixture(scope="module")
def demo():
    cap = load_captioner(fluent=True)
    features = cap.encode_batch([t.image_path for t in load_templates()[:4]])
    return cap, features, MemeGeneratorConfig().decode_options()


def test_captions_the_account_already_says_are_never_handed_out(demo):
    cap, features, decode = demo
    first = cap.beam_search_batch(features, k=5, **decode, seed=0)
    said = [c.text for caps in first for c in caps][::2]  # half of them: the account says these
    again = cap.beam_search_batch(features, k=5, **decode, seed=0, avoid=said)
    said_index = RepeatIndex(Earlier(text, "said") for text in said)
    handed = [c.text for caps in again for c in caps]
    assert handed and not [t for t in handed if said_index.find(t)]
    # the same search without ``avoid`` hands them out again: it is ``avoid`` that keeps them out
    plain = [c.text for caps in cap.beam_search_batch(features, k=5, **decode, seed=0) for c in caps]
    assert [t for t in plain if said_index.find(t)]


def test_an_image_hands_out_repeats_of_another_images_captions_last(demo):
    cap, features, decode = demo
    twins = np.repeat(features[:1], 2, axis=0)  # one picture twice, one seed: the same search twice
    first, second = cap.beam_search_batch(twins, k=5, **decode, seed=[3, 3])
    earlier = RepeatIndex(Earlier(c.text, "first") for c in first)
    repeats = [earlier.find(c.text) is not None for c in second]
    alone = cap.beam_search_batch(features[:1], k=5, **decode, seed=[3])[0]
    assert [c.text for c in first] == [c.text for c in alone]  # alone, each would say just this
    assert not all(repeats)  # the second image found captions of its own
    assert repeats == sorted(repeats)  # and those come before any repeat of the first image's
