"""Caption splitting, text cleaning, layout geometry and drawing of generator.annotate."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

from generator.annotate import (
    MIN_FONT_PX,
    LineBox,
    TextLayout,
    clean_text,
    layout_text,
    render_meme,
    split_caption,
)
from generator.types import Box

BACKGROUND = (90, 120, 160)


@pytest.mark.parametrize(
    ("text", "parts", "expected"),
    [
        ("I tried. It failed badly", 2, ["I tried.", "It failed badly"]),
        ("first, second thing here", 2, ["first,", "second thing here"]),
        ("me when the code works", 2, ["me", "when the code works"]),
        ("it works but only on my machine", 2, ["it works", "but only on my machine"]),
        ("but why would you do that", 2, ["but why", "would you do that"]),
        ("one two three four", 2, ["one two", "three four"]),
        ("nope", 2, ["nope", ""]),
        ("", 2, ["", ""]),
        ("top line\nbottom  line", 2, ["top line", "bottom line"]),
        ("a\nb\nc", 2, ["a", "b c"]),
        ("a  b\n c", 1, ["a b c"]),
        ("me when the code works on the first try", 3, ["me", "when the code works", "on the first try"]),
    ],
)
def test_split_caption_breaks_naturally(text: str, parts: int, expected: list[str]) -> None:
    assert split_caption(text, parts) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("when you ask the horse in my life", ["when you ask", "the horse in my life"]),
        ("but why would you do that", ["but why", "would you do that"]),
        ("to the moon and beyond the stars", ["to the moon", "and beyond the stars"]),
        ("when it's friday and you have no plans", ["when it's friday", "and you have no plans"]),
        ("my mom's car is faster than yours", ["my mom's car", "is faster than yours"]),
        ("WHEN YOU SEE YOUR EX AT THE PARTY", ["WHEN YOU SEE", "YOUR EX AT THE PARTY"]),
        ("when you can’t find the remote", ["when you can’t find", "the remote"]),
    ],
)
def test_split_caption_does_not_end_the_top_box_on_a_function_word(
    text: str, expected: list[str]
) -> None:
    assert split_caption(text, 2) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("the cat", ["the", "cat"]),  # no other cut: the middle one stays
        ("in the middle of the night", ["in the middle", "of the night"]),
        ("I want to go home right now", ["I want to go", "home right now"]),
    ],
)
def test_split_caption_keeps_a_middle_cut_that_ends_on_a_content_word_or_has_no_rival(
    text: str, expected: list[str]
) -> None:
    assert split_caption(text, 2) == expected


@pytest.mark.parametrize(
    ("text", "parts", "expected"),
    [
        # no cut after a content word within 1:3: one within 1:5 still beats "AND I HAVE / TO REMEMBER"
        ("AND I HAVE TO REMEMBER", 2, ["AND I", "HAVE TO REMEMBER"]),
        # the piece with a clean cut is cut, not the longest at an auxiliary
        ("WHEN I TAKE A PHOTO AND I HAVE TO REMEMBER", 3, ["WHEN I TAKE", "A PHOTO", "AND I HAVE TO REMEMBER"]),
        ("A PHOTO AND I HAVE TO REMEMBER", 3, ["A PHOTO", "AND I", "HAVE TO REMEMBER"]),
        # only function-word cuts: never a box ending on an article
        ("FOR A READING ASSIGNMENT", 3, ["FOR", "A READING", "ASSIGNMENT"]),
        ("I NEED A BOOK FOR A READING ASSIGNMENT", 3, ["I NEED A BOOK", "FOR A READING", "ASSIGNMENT"]),
    ],
)
def test_split_caption_prefers_a_cut_after_a_content_word_over_balance(
    text: str, parts: int, expected: list[str]
) -> None:
    assert split_caption(text, parts) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # "after" and "like" lean on what follows, like "of" and "in" (found in the queue: "MY LAWN AFTER / A LONG DAY")
        ("my lawn after a long day", ["my lawn", "after a long day"]),
        # a cut before a phrase opener beats a slightly more central one inside a phrase
        ("my cat watching me eat breakfast like I owe him rent", ["my cat watching me eat breakfast", "like I owe him rent"]),
        ("when you look up at 3 am", ["when you look up", "at 3 am"]),
        ("when you go outside and play", ["when you go outside", "and play"]),
        # but never before "than": it hangs on the word before
        ("my mom's car is faster than yours", ["my mom's car", "is faster than yours"]),
    ],
)
def test_split_caption_cuts_before_a_phrase_opener(text: str, expected: list[str]) -> None:
    assert split_caption(text, 2) == expected


@pytest.mark.parametrize(
    ("head", "expected"),
    [("ask the", 2), ("WHEN YOUR", 2), ("I HAVE", 1), ("fly after", 1), ("MY MOM\u2019S", 1), ("CAN'T", 1),
     ("and", 1), ("THINKING", 0), ("the horse", 0), ("", 0)],
)
def test_lean_grades_how_hard_a_last_word_leans_on_the_next(head: str, expected: int) -> None:
    from generator.captionsplit import lean

    assert lean(head) == expected


def test_split_caption_rejects_zero_parts() -> None:
    with pytest.raises(ValueError, match="parts"):
        split_caption("x", 0)


@given(st.text(max_size=80), st.integers(min_value=1, max_value=5))
def test_split_caption_keeps_every_word_in_order(text: str, parts: int) -> None:
    pieces = split_caption(text, parts)
    assert len(pieces) == parts
    assert " ".join(p for p in pieces if p).split() == text.split()


def test_clean_text_uppercases_and_drops_what_the_font_cannot_draw() -> None:
    # U+1F602 is in DejaVu (kept, monochrome); the family emoji, flags, skin tones and CJK are not.
    assert clean_text("straße 😂 👨\u200d👩\u200d👧 🇫🇷 👍🏻 日本語 ok") == "STRASSE 😂 OK"
    assert clean_text("Привет\tмир\x00!", uppercase=False) == "Привет мир !"
    assert clean_text("e\u0301") == "É"


def test_empty_or_undrawable_text_draws_nothing() -> None:
    image = Image.new("RGB", (200, 150), BACKGROUND)
    for text in ("", "   ", "日本語 👍🏻"):
        assert layout_text(text, (0, 0, 200, 40)).lines == ()
        assert np.array_equal(np.asarray(render_meme(image, text)), np.asarray(image))


def test_render_returns_a_new_image_and_leaves_the_input_alone() -> None:
    image = Image.new("RGB", (200, 150), BACKGROUND)
    before = image.tobytes()
    out = render_meme(image, "top text, bottom text")
    assert out is not image and image.tobytes() == before
    assert out.tobytes() != before and out.size == image.size


@pytest.mark.parametrize(("mode", "out_mode"), [("RGB", "RGB"), ("RGBA", "RGBA"), ("L", "RGB"), ("P", "RGB")])
def test_render_accepts_common_modes(mode: str, out_mode: str) -> None:
    image = Image.new("RGB", (160, 120), BACKGROUND).convert(mode)
    assert render_meme(image, "hello there").mode == out_mode


def _outside(layout: TextLayout, box: tuple[int, int, int, int]) -> list[LineBox]:
    """The lines of ``layout`` whose ink leaves the pixel ``box``."""
    left, top, right, bottom = box
    return [line for line in layout.lines if not (left <= line.bbox[0] and line.bbox[2] <= right
                                                  and top <= line.bbox[1] and line.bbox[3] <= bottom)]


def _changed_pixels(before: Image.Image, after: Image.Image) -> np.ndarray:
    return np.any(np.asarray(before) != np.asarray(after), axis=-1)


def test_drawn_ink_stays_inside_the_template_box() -> None:
    image = Image.new("RGB", (400, 300), BACKGROUND)
    box = Box(0.1, 0.2, 0.5, 0.3)
    out = render_meme(image, "a fairly long caption that has to wrap over several lines", [box])
    changed = _changed_pixels(image, out)
    left, top, right, bottom = box.to_pixels(400, 300)
    assert changed[top:bottom, left:right].any()
    changed[top:bottom, left:right] = False
    assert not changed.any()


def test_default_boxes_put_text_at_top_and_bottom() -> None:
    image = Image.new("RGB", (300, 300), BACKGROUND)
    rows = np.flatnonzero(_changed_pixels(image, render_meme(image, "top. bottom")).any(axis=1))
    assert rows.min() < 0.1 * 300 and rows.max() > 0.9 * 300
    assert not any(0.3 * 300 < r < 0.7 * 300 for r in rows)


def test_font_size_is_the_largest_that_fits() -> None:
    short = layout_text("hi", (0, 0, 400, 100))
    long = layout_text("this caption is a lot longer than the other one", (0, 0, 400, 100))
    assert short.font_size > long.font_size >= MIN_FONT_PX
    assert len(long.lines) > 1
    bigger = layout_text("this caption is a lot longer than the other one", (0, 0, 400, 100 * 2))
    assert bigger.font_size > long.font_size


def test_lines_are_balanced_so_no_word_is_left_alone_on_the_last_line() -> None:
    # the coffee template's top box on its 512 x 341 photo: greedy wrapping drew "MONDAY MORNING INBOX / VS"
    box = Box(0.02, 0.02, 0.96, 0.22).to_pixels(512, 341)
    layout = layout_text("monday morning inbox vs", box)
    assert [line.text for line in layout.lines] == ["MONDAY MORNING", "INBOX VS"]
    assert layout.font_size == 36  # the largest size that fits: no line leans, so nothing to shrink for
    # every line still inside the box
    assert _outside(layout, box) == []


# The astronaut template's top box on its 512 x 512 photo.
_TOP_BOX = Box(0.02, 0.02, 0.96, 0.22).to_pixels(512, 512)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # greedy and the most even wrap drew "BUT YOU HAVE A / MISSION PATCH"
        ("but you have a mission patch", ["BUT YOU HAVE", "A MISSION PATCH"]),
        ("when they say the sky is the limit", ["WHEN THEY SAY", "THE SKY IS THE LIMIT"]),
        # a word alone on the last line is avoided as a leaning end is: not "ME WHEN THE TESTS / PASS,"
        ("me when the tests pass,", ["ME WHEN", "THE TESTS PASS,"]),
        ("thinking i can fly", ["THINKING", "I CAN FLY"]),
    ],
)
def test_a_line_does_not_end_on_a_word_that_leans_on_the_next(text: str, expected: list[str]) -> None:
    layout = layout_text(text, _TOP_BOX)
    assert [line.text for line in layout.lines] == expected
    assert _outside(layout, _TOP_BOX) == []


def test_a_phrase_break_costs_at_most_a_little_font_size() -> None:
    from generator.annotate import FONT_SLACK, _largest_fit

    words = clean_text("when the flight suit fits").split()
    largest = _largest_fit(words, _TOP_BOX[2] - _TOP_BOX[0], _TOP_BOX[3] - _TOP_BOX[1], allow_break=False)
    assert largest is not None and largest[1] == ["WHEN THE", "FLIGHT SUIT FITS"]  # at the largest size
    layout = layout_text("when the flight suit fits", _TOP_BOX)
    assert [line.text for line in layout.lines] == ["WHEN THE FLIGHT", "SUIT FITS"]
    assert largest[0] * (1 - FONT_SLACK) <= layout.font_size < largest[0]


def test_outline_scales_with_font_size() -> None:
    small = layout_text("hello", (0, 0, 100, 20))
    large = layout_text("hello", (0, 0, 1000, 200))
    assert large.stroke_width > small.stroke_width >= 1


def test_long_word_is_broken_rather_than_made_tiny() -> None:
    layout = layout_text("supercalifragilisticexpialidocious", (0, 0, 120, 300))
    assert len(layout.lines) > 1
    assert "".join(line.text for line in layout.lines) == "SUPERCALIFRAGILISTICEXPIALIDOCIOUS"


def test_text_that_cannot_fit_is_truncated_with_an_ellipsis() -> None:
    layout = layout_text("word " * 200, (0, 0, 60, 20))
    assert layout.truncated and layout.font_size == MIN_FONT_PX
    assert layout.lines and layout.lines[-1].text.endswith("\u2026")


def test_box_too_small_for_one_line_draws_nothing() -> None:
    assert layout_text("hello", (0, 0, 50, 3)).lines == ()


@pytest.mark.parametrize("valign", ["top", "middle", "bottom"])
def test_vertical_alignment(valign: str) -> None:
    layout = layout_text("hi", (0, 0, 100, 400), valign=valign)  # type: ignore[arg-type]
    top = min(line.bbox[1] for line in layout.lines)
    bottom = max(line.bbox[3] for line in layout.lines)
    expected = {"top": top == 0, "middle": abs(top - (400 - bottom)) <= 1, "bottom": bottom == 400}
    assert expected[valign]


# Mostly drawable text (so real layouts are exercised), sometimes anything at all.
_WORDS = st.one_of(
    st.text(alphabet="abcdefghijklmnopqrstuvwxyzWMQ .,!?'-\u00e9\u0436\u03bb\U0001f602", max_size=150),
    st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=_WORDS,
    left=st.integers(0, 200),
    top=st.integers(0, 200),
    width=st.integers(1, 500),
    height=st.integers(1, 300),
    valign=st.sampled_from(["top", "middle", "bottom"]),
)
def test_every_line_lies_inside_its_box(
    text: str, left: int, top: int, width: int, height: int, valign: str
) -> None:
    box = (left, top, left + width, top + height)
    layout = layout_text(text, box, valign=valign)  # type: ignore[arg-type]
    assert _outside(layout, box) == []
    if layout.lines:
        assert layout.font_size >= MIN_FONT_PX


@settings(max_examples=15, deadline=None)
@given(
    text=st.text(alphabet="abcdefghij WXYZ,.éжλ😂", max_size=60),
    box=st.tuples(
        st.floats(0, 0.5), st.floats(0, 0.5), st.floats(0.05, 0.5), st.floats(0.05, 0.5)
    ),
)
def test_rendered_pixels_never_leave_the_box(text: str, box: tuple[float, float, float, float]) -> None:
    image = Image.new("RGB", (240, 180), BACKGROUND)
    target = Box(*box)
    changed = _changed_pixels(image, render_meme(image, text, [target]))
    left, top, right, bottom = target.to_pixels(240, 180)
    changed[top:bottom, left:right] = False
    assert not changed.any()


def test_shipped_font_and_its_licence_are_present() -> None:
    from generator.fonts import FONT_PATH, covered_codepoints

    assert FONT_PATH.is_file() and FONT_PATH.with_name("LICENSE-DejaVu.txt").is_file()
    covered = covered_codepoints()
    assert {ord("A"), ord("é"), ord("Ж"), ord("λ")} <= covered
    assert ord("日") not in covered and 0x1F44D not in covered


def test_reading_order_is_top_to_bottom_then_left_to_right() -> None:
    from generator.types import reading_order

    bottom, top = Box(0.0, 0.8, 1.0, 0.2), Box(0.0, 0.0, 1.0, 0.2)
    right, left = Box(0.55, 0.41, 0.4, 0.2), Box(0.05, 0.4, 0.4, 0.2)  # one row, tops not quite level
    assert reading_order([bottom, right, top, left]) == (top, left, right, bottom)
    assert reading_order([]) == ()


def test_boxes_listed_bottom_first_render_the_first_words_at_the_top() -> None:
    image = Image.new("RGB", (300, 300), BACKGROUND)
    top, bottom = Box(0.02, 0.02, 0.96, 0.25), Box(0.02, 0.73, 0.96, 0.25)
    text = "I don't always use the top line, but when I do"
    first, second = split_caption(text, 2)
    out = np.asarray(render_meme(image, text, [bottom, top]))  # memefly's order
    assert np.array_equal(out, np.asarray(render_meme(image, text, [top, bottom])))
    _, t_top, _, t_bottom = top.to_pixels(300, 300)
    _, b_top, _, b_bottom = bottom.to_pixels(300, 300)
    alone_first = np.asarray(render_meme(image, first, [top]))
    alone_second = np.asarray(render_meme(image, second, [bottom]))
    assert np.array_equal(out[t_top:t_bottom], alone_first[t_top:t_bottom])
    assert np.array_equal(out[b_top:b_bottom], alone_second[b_top:b_bottom])
