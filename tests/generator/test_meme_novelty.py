"""The word-level novelty check: copies, one-word edits and six-word runs of training captions."""
import numpy as np
import pytest

from generator.meme import load_captioner
from generator.meme.novelty import NoveltyIndex, read_caption_keys, word_key, words, write_caption_keys
from generator.meme.tiny import write_random_bundle

TRAINING = ["Relax, I got this.", "one does not simply walk into Mordor", "me too",
            "when you finally find the remote under the couch cushion"]


@pytest.fixture(scope="module")
def index():
    return NoveltyIndex(TRAINING)


def test_words_ignore_case_punctuation_and_apostrophes():
    assert words("Relax!!  I GOT this...") == ("relax", "i", "got", "this")
    assert word_key("Don't, you dare") == word_key("dont you dare") == "dont you dare"
    assert words("!!!") == ()


@pytest.mark.parametrize("text", ["relax i got this!", "RELAX, I GOT THIS", "relax... i got this?!"])
def test_a_training_caption_with_other_case_or_punctuation_is_a_copy(index, text):
    assert index.problem(text) == "is a training caption (case and punctuation aside)"


@pytest.mark.parametrize(("text", "how"), [
    ("one does not simply walk into narnia", "changed"),          # a word swapped
    ("one does not simply walk into mordor today", "added"),       # a word inserted (at the end)
    ("one does not really simply walk into mordor", "added"),      # a word inserted (inside)
    ("one does not walk into mordor", "dropped"),                  # a word dropped
    ("relax i got it", "changed"),
    ("relax got this", "dropped"),
])
def test_one_word_from_a_training_caption_is_a_copy(index, text, how):
    assert index.problem(text) == f"is a training caption with one word {how}"


def test_six_words_in_a_row_from_a_training_caption_make_a_copy(index):
    assert "run of 6" in index.problem("honestly you finally find the remote under my bed")
    assert "run of 6" in index.problem("i finally find the remote under the bed and cry")
    assert index.problem("i finally find the remote under my bed") is None  # only 5 in a row


def test_new_captions_pass(index):
    for text in ("relax the cat got this one", "one does not simply deploy on friday at five",
                 "you too", "me three", "when the couch eats the remote"):
        assert index.problem(text) is None, text
    assert not index.is_copy("") and not NoveltyIndex([]).is_copy("relax i got this")


def test_two_word_captions_that_differ_in_a_word_are_different(index):
    assert index.problem("me three") is None and index.problem("you too") is None
    assert index.problem("Me, too!") is not None


def test_caption_keys_round_trip(tmp_path):
    write_caption_keys(tmp_path / "captions.txt", TRAINING + ["RELAX I got this", "!!"])
    keys = read_caption_keys(tmp_path / "captions.txt")
    assert keys == sorted(keys) and len(keys) == 4 and "relax i got this" in keys


def test_the_captioner_never_hands_out_a_near_copy(tmp_path):
    feats = np.random.default_rng(0).normal(size=(2, 8)).astype(np.float32)
    path = write_random_bundle(tmp_path / "b", seed=7)
    # without the trigram cost: its table comes from captions.txt, which this test rewrites
    before = load_captioner(path, trigrams=False).beam_search_batch(feats, k=4)
    # a training set holding each first caption with one word changed and punctuation added
    edited = []
    for caps in before:
        w = list(words(caps[0].text))
        w[len(w) // 2] = "zebra"
        edited.append(" ".join(w).upper() + "!")
    write_caption_keys(path / "captions.txt", edited)
    cap = load_captioner(path, trigrams=False)
    assert cap.novelty is not None and cap.novelty.size == 2
    after = cap.beam_search_batch(feats, k=4)
    for caps_before, caps_after in zip(before, after):
        assert caps_before[0].text not in {c.text for c in caps_after}
        assert not any(cap.novelty.is_copy(c.text) for c in caps_after)
    unfiltered = cap.beam_search_batch(feats, k=4, novel=False)
    assert [[c.text for c in caps] for caps in unfiltered] == [[c.text for c in caps] for caps in before]


def test_the_shipped_demo_bundle_knows_its_training_captions():
    from generator.meme.data import load_dataset
    from generator.meme.templates import DEMO_DATA_DIR

    cap = load_captioner()
    assert cap.novelty is not None
    assert cap.novelty.size == len({word_key(c.text) for c in load_dataset(DEMO_DATA_DIR).captions})


def test_a_piece_cut_out_of_a_training_caption_is_no_new_caption(index):
    for text in ("the remote under the couch", "finally find the remote", "walk into mordor", "One does not simply",
                 "too"):
        assert index.problem(text) == "is a piece cut out of a training caption", text
    # pieces of two captions joined, or a piece with a word of its own, are new
    assert index.problem("the remote under the couch, i got this") is None
    assert index.problem("the remote under the bed") is None
