"""Neutral captions: the sentences a writer writes under several topics, for a photo it cannot name."""
from __future__ import annotations

from generator.textgen.neutral import _compose, hashtags, sentences


def test_sentences_and_hashtags_of_a_caption():
    text = "Coffee first, personality later. Send help. Or snacks!\n\n#coffee #lol"
    assert sentences(text) == ["Coffee first, personality later.", "Send help.", "Or snacks!"]
    assert hashtags(text) == ["#coffee", "#lol"]


def test_only_lines_written_under_two_topics_survive_and_captions_are_distinct():
    samples = [
        ("coffee", "My blood type is espresso. This is fine. What do you see? #coffee #lol"),
        ("cats", "Professional napper, amateur lamp-knocker. This is fine. #cats #lol"),
        ("space", "Trmake art from seed galaxy. I regret nothing. What do you see? #space #mood"),
        ("nature", "Touched grass. Grass touched back. I regret nothing. #nature #mood"),
        ("cats", "This is fine. What do you see? #cats #lol"),
        ("coffee", "Prints available now, link in bio. #newdrop"), ("cats", "Prints available now, link in bio."),
    ]
    out = _compose(samples, 5)
    assert out == ["This is fine.\n\n#lol", "I regret nothing.\n\n#mood"]  # stock lines are the brand's to give
    assert not any("espresso" in c or "Trmake" in c or "#cats" in c for c in out)
    assert _compose(samples, 1) == out[:1]
