"""Story threads, pure parts: splitting, numbering within X's weighted limit, and (slow) the real
demo writer writing parts that follow the story so far."""
from __future__ import annotations

import pytest

from generator import GeneratorError
from generator.story import (
    ALIKE,
    check_count,
    clean_part,
    join_parts,
    similarity,
    single_caption,
    split_parts,
    strip_call_to_action,
    strip_hashtags,
    thread_texts,
)
from generator.xtext import x_weighted_length


def test_parts_round_trip_through_the_candidate_text():
    parts = ["one  part\nwith a line", "two", "three #tag"]
    text = join_parts(parts)
    assert split_parts(text) == ["one part with a line", "two", "three #tag"]
    assert split_parts("a\n\n\n  \nb") == ["a", "b"]


def test_thread_texts_are_numbered_and_fit_x_weighted_length():
    long = "🚀 " * 200 + "end"
    texts = thread_texts(["short", long], "x")
    assert texts[0] == "short (1/2)" and texts[1].endswith(" (2/2)")
    assert all(x_weighted_length(t) <= 280 for t in texts)
    assert single_caption(["a", "b"]) == "a (1/2)\n\nb (2/2)"


def test_part_count_and_hashtags():
    check_count(2)
    check_count(6)
    for bad in (1, 7):
        with pytest.raises(GeneratorError, match="2-6 parts"):
            check_count(bad)
    assert strip_hashtags("so it went #space #rocket anyway") == "so it went anyway"


@pytest.mark.parametrize("line", ["Tag a friend who needs this.", "Those link in bio.", "Double tap if you agree.",
                                  "Use code LOOP10 for 10% off this week.", "New drops every week, follow for more.",
                                  "Tell me in the comments.", "Save this for later.", "What do you see?",
                                  "Support small creators: share this post.", "Science is everywhere.",
                                  "Curiosity pays off.", "Stay open to wonder.", "Keep going.", "I regret nothing.",
                                  "This is fine."])
def test_stock_lines_are_recognised(line):
    from generator.stock_lines import is_stock_line

    assert is_stock_line(line)


@pytest.mark.parametrize("line", ["Keep going until the path meets the river.", "I regret nothing about that cake.",
                                  "We tagged along to the shop.", "This is fine by me.",
                                  "We share this flat with a cat.", "Small creators need sleep too.",
                                  "The link between coffee and mornings is real."])
def test_ordinary_sentences_are_not_stock_lines(line):
    from generator.stock_lines import is_stock_line

    assert not is_stock_line(line)


def test_non_words_are_found_and_words_numbers_and_tags_are_not():
    from generator.lexicon import unknown_words

    assert unknown_words("Trmake art from seed galaxy. Breathe it in.") == ["trmake"]
    assert unknown_words("Prof3am, rendered in pixels.") == ["prof3am"]
    assert unknown_words("Tried a selfie at 3am, we're vibing #Trmake @prof3am https://x.co/Trmake") == []
    assert unknown_words("Zorbleflax!", extra=["zorbleflax"]) == []


def test_a_part_keeps_only_clean_new_sentences_and_is_never_like_an_earlier_one():
    story = ["Space: the only place with worse wifi than my flat. Send help."]
    sample = ("Plot twist: the universe is also just vibing. Send help. Trmake art from seed galaxy. "
              "Tag a friend who needs this. #space")
    assert clean_part(sample, story) == "Plot twist: the universe is also just vibing."
    assert clean_part("Space: the only place with worse wifi than my flat. Or snacks.", story) is None  # repeat
    assert clean_part("Send help. Keep going.", story) is None  # too little left
    # a splice that starts mid-way (all its words are words) goes, the sentence after it stays
    assert clean_part("edges read as. The cat approved this post. Barely.", story) == \
        "The cat approved this post. Barely."
    near = "Space: the only place with worse wifi than my own flat, honestly."
    assert similarity(near, story[0]) >= ALIKE and clean_part(near, story) is None


def test_the_brand_call_to_action_is_taken_off_a_part_whole():
    part = "Stay curious. Come by the studio on Saturday. #space"
    assert strip_call_to_action(part, "Come by the studio on Saturday") == "Stay curious. #space"
    assert strip_call_to_action(part, None) == part


@pytest.mark.slow
def test_real_writer_parts_are_clean_unlike_each_other_and_call_to_action_only_from_the_brand():
    from itertools import combinations

    from generator.lexicon import unknown_words
    from generator.stock_lines import is_stock_line
    from generator.story import write_parts
    from generator.textgen import load_writer
    from generator.textgen.neutral import sentences

    writer = load_writer()
    cta = "Come by the studio on Saturday"
    for seed, topic, brand in ((1, "space", None), (2, "coffee", cta)):  # lean: 900 s timeout on a loaded box
        parts = [p.text for p in write_parts(writer, story=(), count=3, topic=topic, tone="funny",
                                             audience="promotional", seed=seed, call_to_action=brand)]
        assert len(parts) == 3
        assert all(similarity(a, b) < ALIKE for a, b in combinations(parts, 2)), parts
        bodies = [strip_hashtags(strip_call_to_action(p, brand)) for p in parts]
        assert not any(is_stock_line(s) for b in bodies for s in sentences(b)), parts
        assert not any(unknown_words(b) for b in bodies), parts
        assert " ".join(parts).count(cta) == (1 if brand else 0) and (not brand or cta in parts[-1])


@pytest.mark.slow
def test_real_writer_writes_distinct_parts_each_fed_the_story_so_far():
    from generator.story import write_parts
    from generator.textgen import load_writer

    writer = load_writer()
    parts = write_parts(writer, story=(), count=3, topic="space", tone="funny", audience="general", seed=11)
    assert len(parts) == 3 and len({p.text for p in parts}) == 3
    assert all(len(strip_hashtags(p.text).split()) >= 4 for p in parts)
    assert "#" not in parts[0].text and "#" not in parts[1].text and "#" in parts[2].text
    assert parts[0].params["context"] == "" and parts[1].params["context"]  # part 2 saw part 1
    assert parts[1].params["context"].split()[-1] in strip_hashtags(parts[0].text).split()
    again = write_parts(writer, story=(), count=3, topic="space", tone="funny", audience="general", seed=11)
    assert [p.text for p in again] == [p.text for p in parts]  # the stored seed regenerates the thread
    steered = write_parts(writer, story=[p.text for p in parts], count=1, topic="space", tone="funny",
                          audience="general", seed=12, steer="then the coffee machine exploded")
    assert steered[0].steer == "then the coffee machine exploded"
    assert "coffee machine exploded" in steered[0].params["context"]
    assert steered[0].params["topic"] == "coffee"  # the steer names a topic the writer knows: the part is about it


@pytest.mark.slow
def test_real_writer_tells_six_part_stories_of_one_topic_in_every_tone():
    """Issue 29: the writer of 660 captions (five lines per topic and tone) ran out of parts it had not
    told ("wrote no part unlike the story so far": a 6-part funny cats story, seed 1); the shipped
    writer (twelve lines per topic and tone) tells them all."""
    from generator.photo_topics import topic_for_text
    from generator.story import MAX_PARTS, write_parts
    from generator.textgen import load_writer

    writer = load_writer()
    named = 0
    for tone in writer.tones:
        for seed in (1,):  # one seed per tone: ~3 min at load 20
            parts = [p.text for p in write_parts(writer, story=(), count=MAX_PARTS, topic="cats", tone=tone,
                                                 audience="general", seed=seed)]
            assert len(parts) == MAX_PARTS and len(set(parts)) == MAX_PARTS
            named += sum(topic_for_text(p, ("cats",)) == "cats" for p in parts)
    assert named >= len(writer.tones) * MAX_PARTS // 3  # many parts name the story's topic (26 of 36 seen)
