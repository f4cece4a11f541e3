"""Story threads, pure parts: splitting, numbering within X's weighted limit, and (slow) the real
demo writer writing parts that follow the story so far."""
from __future__ import annotations

import pytest

from generator import GeneratorError
from generator.story import check_count, join_parts, single_caption, split_parts, strip_hashtags, thread_texts
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


@pytest.mark.slow
def test_real_writer_writes_distinct_parts_each_fed_the_story_so_far():
    from generator.story import write_parts
    from generator.textgen import load_writer

    writer = load_writer()
    parts = write_parts(writer, story=(), count=3, topic="space", tone="funny", audience="general", seed=11)
    assert len(parts) == 3 and len({p.text for p in parts}) == 3
    assert all(len(strip_hashtags(p.text).split()) >= 3 for p in parts)
    assert "#" not in parts[0].text and "#" not in parts[1].text and "#" in parts[2].text
    assert parts[0].params["context"] == "" and parts[1].params["context"]  # part 2 saw part 1
    assert parts[1].params["context"].split()[-1] in strip_hashtags(parts[0].text).split()
    again = write_parts(writer, story=(), count=3, topic="space", tone="funny", audience="general", seed=11)
    assert [p.text for p in again] == [p.text for p in parts]  # the stored seed regenerates the thread
    steered = write_parts(writer, story=[p.text for p in parts], count=1, topic="space", tone="funny",
                          audience="general", seed=12, steer="then the coffee machine exploded")
    assert steered[0].steer == "then the coffee machine exploded"
    assert "coffee machine exploded" in steered[0].params["context"]
