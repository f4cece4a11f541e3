from hypothesis import given, settings
from hypothesis import strategies as st

from generator.safety import BlockList
from generator.textgen.postprocess import HASHTAG_LIMIT, clean_caption, extract_hashtags

BANNED = ("darn", "heck")
words = st.sampled_from(["sun", "Sun", "darn", "HECK", "h3ck", "#", "##", "&", "<tone=funny>", "<|endoftext|>",
                         "\n", "\n\n\n", "\t", " ", ".", "é", "日本", "\u200b", "x" * 40])
hashtags = st.builds(lambda w, c: "#" + (w.upper() if c else w),
                     st.sampled_from(["art", "Art", "darn", "sun_set", "日本", "a1", "x" * 50]), st.booleans())
adversarial = st.lists(st.one_of(words, hashtags, st.text(max_size=6)), max_size=60).map("".join) | \
    st.lists(st.one_of(words, hashtags), max_size=60).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(text=adversarial, cap=st.integers(0, 40), max_chars=st.integers(0, 300))
def test_hashtag_rules_hold_on_adversarial_text(text, cap, max_chars):
    out = clean_caption(text, hashtag_cap=cap, max_chars=max_chars, banned_words=BANNED)
    tags = extract_hashtags(out)
    assert len(out) <= max_chars
    assert len(tags) <= min(cap, HASHTAG_LIMIT)
    assert len({t.casefold() for t in tags}) == len(tags)
    assert BlockList(BANNED).find(out) == []
    if tags:  # hashtags come last, on their own line, and nowhere else
        body, _, line = out.rpartition("\n\n")
        assert line.split(" ") == tags
        assert extract_hashtags(body) == []
    assert "<|endoftext|>" not in out and "<tone=" not in out
    assert out == out.strip()


@settings(max_examples=200, deadline=None)
@given(text=adversarial, cap=st.integers(0, 40), max_chars=st.integers(0, 300))
def test_cleaning_is_idempotent(text, cap, max_chars):
    once = clean_caption(text, hashtag_cap=cap, max_chars=max_chars, banned_words=BANNED)
    assert clean_caption(once, hashtag_cap=cap, max_chars=max_chars, banned_words=BANNED) == once


def test_duplicates_are_dropped_case_insensitively_and_first_spelling_kept():
    out = clean_caption("Nice #Art day #art #ART #sky #Sky", hashtag_cap=5)
    assert out == "Nice day\n\n#Art #sky"


def test_cap_never_exceeds_thirty():
    text = " ".join(f"#tag{i}" for i in range(100))
    assert len(extract_hashtags(clean_caption(text, hashtag_cap=1000))) == 30
    assert extract_hashtags(clean_caption(text, hashtag_cap=0)) == []


def test_long_body_is_cut_at_a_word_boundary_and_tags_survive():
    text = "word " * 1000 + "#keep"
    out = clean_caption(text, max_chars=2200)
    assert len(out) <= 2200 and out.endswith("\n\n#keep")
    assert out.split("\n\n")[0].split(" ") == ["word"] * len(out.split("\n\n")[0].split(" "))


def test_banned_words_removed_from_body_and_hashtags():
    out = clean_caption("what the h3ck is this #heck #fine", banned_words=["heck"])
    assert out == "what the is this\n\n#fine"


def test_control_tokens_and_end_of_text_are_stripped():
    assert clean_caption("<tone=funny> <audience=general> hi there<|endoftext|>junk") == "hi there junk"


def test_extract_hashtags_ignores_mid_word_and_double_hash():
    assert extract_hashtags("a#b ##c #d, (#e) &#39; #f_g") == ["#d", "#e", "#f_g"]


def test_a_banned_word_inside_a_glued_hashtag_compound_is_removed():
    # found by hypothesis in CI: the detector saw 'darn' in 'sun#_darn' but the cleaner kept it
    out = clean_caption("sun#_darn", hashtag_cap=0, max_chars=9, banned_words=BANNED)
    assert BlockList(BANNED).find(out) == []
