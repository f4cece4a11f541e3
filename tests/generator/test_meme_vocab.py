import pytest

from generator import BundleError
from generator.meme.vocab import END, PAD, START, UNK, Vocab, build_vocab, detokenize, tokenize


def test_tokenize_lowercases_and_splits_punctuation():
    assert tokenize("Don't talk to me, HUMAN!") == ["don't", "talk", "to", "me", ",", "human", "!"]
    assert tokenize("   ") == []


def test_detokenize_attaches_punctuation():
    assert detokenize(["coffee", ":", "because", "mondays", ",", "obviously", "!"]) == \
        "coffee: because mondays, obviously!"


def test_build_vocab_applies_min_frequency_and_orders_by_count():
    vocab = build_vocab(["the cat", "the cat sat", "the dog"], min_freq=2)
    assert vocab.tokens == (PAD, START, END, UNK, "the", "cat")


def test_max_tokens_is_a_token_percentile_with_a_cap():
    captions = ["a b"] * 99 + ["a b c d e f g h i j"]
    assert build_vocab(captions, min_freq=1, length_percentile=99).max_tokens == 2
    assert build_vocab(captions, min_freq=1, length_percentile=100).max_tokens == 10
    assert build_vocab(captions, min_freq=1, length_percentile=100, max_tokens_cap=4).max_tokens == 4


def test_encode_maps_unknown_words_and_truncates_in_tokens():
    vocab = build_vocab(["the cat is here"] * 2, min_freq=1, length_percentile=100)
    ids = vocab.encode("The DOG is here, really")
    assert [vocab.tokens[i] for i in ids] == ["the", UNK, "is", "here"]
    assert vocab.decode([vocab.start_id, *ids, vocab.end_id, 5]) == ("the", UNK, "is", "here")


def test_vocab_round_trips_through_json(tmp_path):
    vocab = build_vocab(["when you nap", "when you wake"], min_freq=1)
    vocab.save(tmp_path / "vocab.json")
    assert Vocab.load(tmp_path / "vocab.json") == vocab
    (tmp_path / "bad.json").write_text('{"tokens": ["x"]}')
    with pytest.raises(BundleError, match="bad.json"):
        Vocab.load(tmp_path / "bad.json")
