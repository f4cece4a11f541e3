"""trim_to_weight keeps as much as fits: a word boundary when that keeps most of the budget,
else a cut inside the over-long word (never inside an emoji sequence)."""
from __future__ import annotations

from generator.xtext import ELLIPSIS, trim_to_weight, x_weighted_length


def test_a_long_word_after_a_short_one_is_cut_inside_not_dropped():
    text = "lol " + "x" * 281  # 285 characters: the last word boundary would leave "lol…"
    out = trim_to_weight(text, 280, x_weighted_length)
    assert x_weighted_length(out) <= 280 and len(out) >= 270 and out.startswith("lol xxx") and out.endswith(ELLIPSIS)


def test_word_boundaries_still_win_when_they_keep_most_of_the_text():
    out = trim_to_weight("word " * 57, 280, x_weighted_length)
    assert out.endswith("word" + ELLIPSIS) and x_weighted_length(out) >= 270


def test_emoji_sequences_are_never_split():
    family = "\U0001f469\u200d\U0001f469\u200d\U0001f467"
    out = trim_to_weight("ok " + family * 200, 280, x_weighted_length)
    body = out.removesuffix(ELLIPSIS).removeprefix("ok ")
    assert x_weighted_length(out) <= 280 and body and body == family * (len(body) // len(family))
