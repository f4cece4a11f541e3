import pytest

from generator.safety import BlockList, default_blocklist, find_unsafe, load_word_list


def test_word_list_is_plain_lowercase_one_term_per_line():
    terms = load_word_list()
    assert len(terms) >= 40
    assert all(t == t.strip().lower() and "\t" not in t for t in terms)
    assert len(set(terms)) == len(terms)


@pytest.mark.parametrize("text,term", [
    ("what the FUCK", "fuck"),
    ("fuuuuuck this", "fuck"),
    ("sh1t happens", "shit"),
    ("s.h.i.t happens", "shit"),
    ("such a b!tch", "bitch"),
    ("@sshole", "asshole"),
    ("shitty weather", "shit"),
    ("Bullshit!", "bullshit"),
])
def test_catches_case_stretching_leet_separators_and_suffixes(text, term):
    assert term in find_unsafe(text)


@pytest.mark.parametrize("text", [
    "Scunthorpe class assignment", "pass the glass", "cocktail hour", "hello world",
    "spicy spices", "Shell shock at the Hellenic museum", "analysis of cocoa", "",
])
def test_whole_words_only_so_ordinary_words_pass(text):
    assert find_unsafe(text) == []


def test_extra_words_are_added_to_the_shipped_list():
    assert find_unsafe("Broccoli again", extra_words=["broccoli"]) == ["broccoli"]
    assert find_unsafe("Broccoli again") == []
    assert find_unsafe("shit and broccoli", extra_words=("broccoli",)) == ["shit", "broccoli"]


def test_terms_are_reported_once_in_order_of_first_appearance():
    assert find_unsafe("crap, shit, crap") == ["crap", "shit"]


def test_match_spans_point_into_the_original_text():
    text = "Oh SH1T, hello"
    (match,) = default_blocklist().matches(text)
    assert text[match.start:match.end] == "SH1T"


def test_multi_word_terms_match_across_whitespace():
    assert BlockList(["bad word"]).find("a bad   word here") == ["bad word"]
    assert BlockList(["bad word"]).find("a badword here") == []


def test_camel_case_and_snake_case_hashtags_are_split():
    assert find_unsafe("#ShitHappens today") == ["shit"]
    assert find_unsafe("#no_crap_zone") == ["crap"]
    assert find_unsafe("#ClassAct #Scunthorpe") == []


# -- sensitive topics ------------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "reason"), [
    ("Jesus take the wheel", 'religion ("jesus")'),
    ("when the CHRISTIANS find out", 'religion ("christian")'),
    ("those pro life signs again", 'abortion ("pro-life")'),
    ("prolife memes", 'abortion ("pro-life")'),
    ("never forget 9/11", 'tragedies and violence ("9/11")'),
    ("#PrayForMonday", 'religion ("pray")'),
    ("that sexual harassment seminar", 'sexual violence ("sexual harassment")'),
])
def test_topics_are_found_with_their_reason(text, reason):
    from generator.safety import topic_reason

    assert topic_reason(text) == f"sensitive topic: {reason}"


@pytest.mark.parametrize("text", ["a good day", "Godzilla ate my homework", "abort mission", "class act",
                                  "the scunthorpe problem", "sextant navigation", "a jewel of a cat"])
def test_topics_match_whole_words_only(text):
    from generator.safety import find_topics

    assert find_topics(text) == []


def test_each_topic_is_reported_once():
    from generator.safety import find_topics

    hits = find_topics("god and jesus at the church; also abortion")
    assert [h.topic for h in hits] == ["religion", "abortion"]


def test_topic_file_needs_a_section_before_terms(tmp_path):
    from generator.safety import TopicList, load_topic_list

    (tmp_path / "t.txt").write_text("# comment\nbanana\n")
    with pytest.raises(ValueError, match="t.txt:2: term 'banana' comes before any"):
        load_topic_list(tmp_path / "t.txt")
    (tmp_path / "t.txt").write_text("[fruit]\nbanana split\n")
    assert TopicList(load_topic_list(tmp_path / "t.txt")).find("a BANANA  split") != []


def test_the_shipped_corpora_touch_no_sensitive_topic():
    """The human-written captions the project ships: the topic list has no false positives on them."""
    import json
    from pathlib import Path

    from generator.safety import topic_reason

    root = Path(__file__).resolve().parents[2] / "generator"
    lines = [json.loads(line)["text"] for name in ("textgen/corpus/captions.jsonl", "meme/demo_data/captions.jsonl")
             for line in (root / name).read_text().splitlines() if line.strip()]
    assert len(lines) > 1000
    assert [t for t in lines if topic_reason(t)] == []
