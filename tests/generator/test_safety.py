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
