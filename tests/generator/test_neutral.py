"""Neutral captions: the sentences a writer writes under several topics, for a photo it cannot name."""
from __future__ import annotations

from generator.textgen.neutral import _compose, hashtags, sentences


def test_sentences_and_hashtags_of_a_caption():
    text = "Coffee first, personality later. Send help. Or snacks!\n\n#coffee #lol"
    assert sentences(text) == ["Coffee first, personality later.", "Send help.", "Or snacks!"]
    assert hashtags(text) == ["#coffee", "#lol"]


def test_only_lines_written_under_two_topics_survive_and_captions_are_distinct():
    samples = [
        ("coffee", "My blood type is espresso. Nobody asked, but here it is anyway. What do you see? #coffee #lol"),
        ("cats", "Professional napper, amateur lamp-knocker. Nobody asked, but here it is anyway. #cats #lol"),
        ("space", "Trmake art from seed galaxy. Posting it before I talk myself out of it. What do you see? #space #mood"),
        ("nature", "Posting it before I talk myself out of it. Touched grass. Grass touched back. #nature #mood"),
        ("cats", "Nobody asked, but here it is anyway. What do you see? #cats #lol"),
        ("coffee", "Prints available now, link in bio. #newdrop"), ("cats", "Prints available now, link in bio."),
        # a sign-off written under every topic says nothing of the photo either (generator.stock_lines)
        ("coffee", "Coffee first. I regret nothing. #coffee"), ("space", "Me, in space. I regret nothing. #space"),
    ]
    out = _compose(samples, 5)
    # stock lines are the brand's to give
    assert out == ["Nobody asked, but here it is anyway.\n\n#lol", "Posting it before I talk myself out of it.\n\n#mood"]
    assert not any("espresso" in c or "Trmake" in c or "#cats" in c for c in out)
    assert _compose(samples, 1) == out[:1]
