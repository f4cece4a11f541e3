import json

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
    assert vocab.tokens[:6] == (PAD, START, END, UNK, "the", "cat")
    # rare words are spelled: their first letters, then continuation pieces at the end
    assert set(vocab.tokens[6:]) == {"s", "d", "t", "c", "##a", "##t", "##o", "##g", "##h", "##e"}
    assert vocab.first_piece == vocab.tokens.index(next(t for t in vocab.tokens if t.startswith("##")))
    assert all(t.startswith("##") for t in vocab.tokens[vocab.first_piece:])


def test_tokenizer_is_unicode_aware():
    assert tokenize("Café au LAIT") == ["café", "au", "lait"]
    assert tokenize("It\u2019s “fine”") == ["it's", '"', "fine", '"']
    assert tokenize("Кот хочет есть!") == ["кот", "хочет", "есть", "!"]
    assert tokenize("नमस्ते दुनिया") == ["नमस्ते", "दुनिया"]  # combining vowel signs stay in the word
    assert tokenize("ｃａｆｅ") == ["cafe"]  # NFKC folds full-width letters


@pytest.mark.parametrize("text", ["café crème brûlée", "кот хочет есть", "猫が好き。", "ça va? oui!",
                                  "when the wifi is down 😭"])
def test_any_language_round_trips_through_the_vocab(text):
    corpus = ["the cat is here", "the cat is there", text]
    vocab = build_vocab(corpus, min_freq=2)
    ids = vocab.encode(text)
    assert vocab.unk_id not in ids
    assert vocab.text(ids) == text


def test_rare_words_are_spelled_and_unseen_characters_are_unknown():
    vocab = build_vocab(["the cat", "the cat", "the banana"], min_freq=2)
    assert [vocab.tokens[i] for i in vocab.encode("the banana")] == ["the", "b", "##a", "##n", "##a", "##n", "##a"]
    assert vocab.text(vocab.encode("the zebra")).startswith("the <unk>")


def test_max_tokens_is_a_token_percentile_with_a_cap():
    captions = ["a b"] * 99 + ["a b c d e f g h i j"] * 2
    assert build_vocab(captions, min_freq=1, length_percentile=97).max_tokens == 2
    assert build_vocab(captions, min_freq=1, length_percentile=100).max_tokens == 10
    assert build_vocab(captions, min_freq=1, length_percentile=100, max_tokens_cap=4).max_tokens == 4


def test_encode_maps_unknown_words_and_truncates_in_tokens():
    vocab = build_vocab(["the cat is here"] * 2, min_freq=1, length_percentile=100)
    ids = vocab.encode("The XYZ is here, really")  # no x, y or z in training: unknown letters
    assert [vocab.tokens[i] for i in ids] == ["the", UNK, UNK, UNK, "is", "here"][: vocab.max_tokens]
    assert vocab.max_tokens == 4 and len(vocab.pieces("The XYZ is here, really")) == 13
    assert vocab.decode([vocab.start_id, *ids, vocab.end_id, 5]) == ("the", UNK, UNK, UNK)


def test_vocab_round_trips_through_json(tmp_path):
    vocab = build_vocab(["when you nap", "when you wake"], min_freq=1)
    vocab.save(tmp_path / "vocab.json")
    assert Vocab.load(tmp_path / "vocab.json") == vocab
    (tmp_path / "bad.json").write_text('{"tokens": ["x"]}')
    with pytest.raises(BundleError, match="bad.json"):
        Vocab.load(tmp_path / "bad.json")
    old = {"tokens": [PAD, START, END, UNK, "cat"], "max_tokens": 5}  # the ASCII word vocab of format 1
    (tmp_path / "old.json").write_text(json.dumps(old))
    with pytest.raises(BundleError, match="old.json.*retrain"):
        Vocab.load(tmp_path / "old.json")
