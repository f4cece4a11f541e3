"""Preflight rules of generator.platforms, each checked at its boundary."""
from __future__ import annotations

import io
import random
import warnings

import pytest
from PIL import Image

from generator import PreflightError, platforms
from generator.igcaption import IG_MAX_CAPTION, caption_length
from generator.mediaprep import ImageTooSmall, MediaTooLarge, encode
from generator.platforms import (
    PreparedPost,
    generate_alt_text,
    prepare,
    prepare_instagram,
    prepare_outbox,
    prepare_x,
    x_weighted_length,
)


def _image(width: int, height: int, mode: str = "RGB") -> Image.Image:
    return Image.new(mode, (width, height), (200, 30, 30) if mode == "RGB" else None)


def _noise(width: int, height: int, seed: int = 0) -> Image.Image:
    rng = random.Random(seed)
    return Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))


def _decoded(post: PreparedPost) -> Image.Image:
    image = Image.open(io.BytesIO(post.media))
    assert image.size == (post.width, post.height)
    return image


# ---------------------------------------------------------------- Instagram: image
@pytest.mark.parametrize(
    ("size", "expected", "padded"),
    [
        ((800, 1000), (800, 1000), False),  # exactly 4:5
        ((800, 1001), (801, 1001), True),  # a pixel too tall: pad width, never crop
        ((955, 500), (955, 500), False),  # exactly 1.91:1
        ((956, 500), (956, 501), True),  # a pixel too wide: pad height
        ((500, 2000), (1080, 1350), True),  # padded to 1600x2000, then scaled down
    ],
)
def test_instagram_pads_to_the_allowed_aspect_ratio(
    size: tuple[int, int], expected: tuple[int, int], padded: bool
) -> None:
    post = prepare_instagram(_image(*size), "caption")
    assert (post.width, post.height) == expected
    assert 0.8 <= post.width / post.height <= 1.91
    assert any(c.startswith("image: padded") for c in post.changes) is padded


def test_instagram_padding_keeps_every_original_pixel() -> None:
    original = _image(400, 1000)
    image = _decoded(prepare_instagram(original, "x")).convert("RGB")
    assert image.size == (800, 1000)
    # The original is centred; the padding is white; nothing of it was cut away.
    centre = image.getpixel((400, 500))
    assert isinstance(centre, tuple) and centre[0] > 150 and centre[1] < 80
    assert image.getpixel((10, 500)) == (255, 255, 255)
    assert image.getpixel((790, 500)) == (255, 255, 255)


@pytest.mark.parametrize(
    ("width", "expected_width"),
    [(1080, 1080), (1081, 1080), (2000, 1080), (320, 320), (319, 320), (160, 320)],
)
def test_instagram_width_is_brought_into_320_to_1080(width: int, expected_width: int) -> None:
    post = prepare_instagram(_image(width, width), "x")
    assert post.width == expected_width and post.height == expected_width
    assert 0.8 <= post.width / post.height <= 1.91


def test_instagram_rejects_images_that_need_more_than_2x_upscale() -> None:
    with pytest.raises(ImageTooSmall, match="159 px wide") as caught:
        prepare_instagram(_image(159, 159), "x")
    assert caught.value.min_width == 320 and isinstance(caught.value, PreflightError)


def test_instagram_resize_keeps_ratio_in_range_after_rounding() -> None:
    post = prepare_instagram(_image(3000, 3750), "x")  # 4:5 exactly, scaled down
    assert (post.width, post.height) == (1080, 1350)


def test_instagram_sends_an_rgb_jpeg() -> None:
    post = prepare_instagram(_image(400, 400, "RGBA"), "x")
    image = _decoded(post)
    assert post.mime == "image/jpeg" and image.format == "JPEG" and image.mode == "RGB"
    assert any("RGBA to RGB" in c for c in post.changes)


def test_instagram_lowers_quality_to_fit_the_byte_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    noisy = _noise(400, 400)
    best = len(prepare_instagram(noisy, "x").media)
    monkeypatch.setattr(platforms, "IG_MAX_BYTES", best - 1)
    post = prepare_instagram(noisy, "x")
    assert len(post.media) <= best - 1
    assert any("quality lowered" in c for c in post.changes)
    monkeypatch.setattr(platforms, "IG_MAX_BYTES", 1000)
    with pytest.raises(MediaTooLarge, match="limit is 1000 bytes"):
        prepare_instagram(noisy, "x")


# ---------------------------------------------------------------- Instagram: caption
def test_instagram_caption_at_the_limit_is_untouched() -> None:
    caption = "a" * IG_MAX_CAPTION
    assert prepare_instagram(_image(400, 400), caption).text == caption


def test_instagram_caption_over_the_limit_is_trimmed_at_a_word_keeping_hashtags_last() -> None:
    caption = ("word " * 600) + "#memes #Funny"
    post = prepare_instagram(_image(400, 400), caption)
    assert caption_length(post.text) <= IG_MAX_CAPTION
    body, tags = post.text.split("\n\n")
    assert tags == "#memes #Funny"
    assert body.endswith("word\u2026")
    assert any(c.startswith("caption: trimmed") for c in post.changes)


def test_instagram_counts_emoji_as_two_characters() -> None:
    caption = "😂" * 1101
    post = prepare_instagram(_image(400, 400), caption)
    assert caption_length(post.text) <= IG_MAX_CAPTION and len(post.text) < 1101


def test_instagram_hashtags_deduplicated_case_insensitively_and_capped() -> None:
    post = prepare_instagram(_image(400, 400), "so true #Cats #dogs #cats #a #b #c #d #e")
    assert post.text == "so true\n\n#Cats #dogs #a #b #c"
    assert any(c.startswith("hashtags: kept 5 of 8") for c in post.changes)


def test_instagram_inline_hashtags_keep_their_words() -> None:
    post = prepare_instagram(_image(400, 400), "love #python and #Python today #python", hashtag_cap=1)
    assert post.text == "love #python and Python today"


@pytest.mark.parametrize("cap", [0, 30])
def test_instagram_hashtag_cap_bounds_are_accepted(cap: int) -> None:
    tags = " ".join(f"#t{i}" for i in range(40))
    post = prepare_instagram(_image(400, 400), f"hi {tags}", hashtag_cap=cap)
    assert post.text.count("#") == cap


@pytest.mark.parametrize("cap", [-1, 31])
def test_instagram_hashtag_cap_out_of_range_is_an_error(cap: int) -> None:
    with pytest.raises(PreflightError, match="hashtag_cap"):
        prepare_instagram(_image(400, 400), "x", hashtag_cap=cap)


def test_instagram_mentions_capped_at_20() -> None:
    twenty = " ".join(f"@user{i}" for i in range(20))
    assert prepare_instagram(_image(400, 400), twenty).text == twenty
    post = prepare_instagram(_image(400, 400), twenty + " @user20")
    assert post.text.count("@") == 20 and post.text.endswith(" user20")
    with pytest.raises(PreflightError, match="max_mentions"):
        prepare_instagram(_image(400, 400), "x", max_mentions=21)


# ---------------------------------------------------------------- X: text
def test_twitter_text_parser_imports_in_this_environment() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from twitter_text import parse_tweet
    assert parse_tweet("hello").weightedLength == 5


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("a" * 280, 280),
        ("日" * 140, 280),
        ("hello https://example.com/a/very/long/path/that/goes/on", 29),
        ("example.com", 23),
        ("👨\u200d👩\u200d👧\u200d👦", 2),  # a ZWJ family is one emoji
        ("🇫🇷", 2),
        ("e\u0301", 1),  # NFC first: e + combining acute is one é
        ("\u2010\u201f\u2032", 3),  # inside the weight-1 ranges
        ("\u2020", 2),  # just outside them
        ("english text 日本語 😷 https://example.com", 46),  # the library's own documented example
    ],
)
def test_x_weighted_length_follows_x_rules(text: str, length: int) -> None:
    assert x_weighted_length(text) == length


@pytest.mark.parametrize("text", ["a" * 280, "日" * 140, "word " * 55 + "abcd"])
def test_x_text_at_the_limit_is_untouched(text: str) -> None:
    post = prepare_x(_image(100, 100), text)
    assert post.text == text.strip() and not any(c.startswith("text: trimmed") for c in post.changes)


@pytest.mark.parametrize("text", ["a" * 281, "日" * 141, "word " * 57, "😂 " * 150])
def test_x_text_over_the_limit_is_trimmed(text: str) -> None:
    post = prepare_x(_image(100, 100), text)
    assert x_weighted_length(post.text) <= 280 and post.text.endswith("\u2026")
    assert any(c.startswith("text: trimmed") for c in post.changes)


def test_x_trims_at_a_word_boundary_and_keeps_urls_whole() -> None:
    text = "https://example.com/" + " lorem ipsum" * 40
    post = prepare_x(_image(100, 100), text)
    assert post.text.startswith("https://example.com/ ")
    assert post.text[:-1].endswith(("lorem", "ipsum"))


def test_x_normalises_to_nfc() -> None:
    post = prepare_x(_image(100, 100), "cafe\u0301\ufeff")
    assert post.text == "caf\u00e9"
    assert any("NFC" in c for c in post.changes)


# ---------------------------------------------------------------- X: media and alt text
def test_x_sends_png_when_it_fits() -> None:
    post = prepare_x(_image(300, 200, "RGBA"), "hi")
    assert post.mime == "image/png" and _decoded(post).format == "PNG" and post.changes == ()


def test_x_re_encodes_then_downscales_to_fit_5mb(monkeypatch: pytest.MonkeyPatch) -> None:
    noisy = _noise(300, 300)
    png_size = len(prepare_x(noisy, "x").media)
    jpeg_size = len(prepare_instagram(noisy, "x").media)  # quality 95
    monkeypatch.setattr(platforms, "X_MAX_BYTES", png_size - 1)
    post = prepare_x(noisy, "x")
    assert post.mime == "image/jpeg" and len(post.media) < png_size
    assert (post.width, post.height) == (300, 300)
    monkeypatch.setattr(platforms, "X_MAX_BYTES", jpeg_size // 4)
    post = prepare_x(noisy, "x")
    assert len(post.media) <= jpeg_size // 4 and post.width < 300
    assert any(c.startswith("image: downscaled") for c in post.changes)
    monkeypatch.setattr(platforms, "X_MAX_BYTES", 100)
    with pytest.raises(MediaTooLarge, match="x: image is still"):
        prepare_x(noisy, "x")


def test_x_alt_text_is_generated_from_caption_and_template() -> None:
    post = prepare_x(_image(100, 100), "when it works", template_name="Drake")
    assert post.alt_text == 'Meme based on the "Drake" template with the caption: "when it works"'
    assert prepare_x(_image(100, 100), "").alt_text == "Meme image."


def test_x_alt_text_is_at_most_1000_characters() -> None:
    generated = generate_alt_text("long " * 500, "T")
    assert len(generated) <= 1000 and generated.endswith('\u2026"')
    exact = "a" * 1000
    assert prepare_x(_image(100, 100), "x", alt_text=exact).alt_text == exact
    post = prepare_x(_image(100, 100), "x", alt_text="word " * 201)
    assert len(post.alt_text) <= 1000 and "alt text: trimmed to 1000 characters" in post.changes


# ---------------------------------------------------------------- outbox and dispatch
def test_outbox_keeps_text_and_sends_png() -> None:
    text = "  Unchanged #A #a @b  " + "x" * 3000
    post = prepare_outbox(_image(50, 40, "L"), text)
    assert post.text == text and post.mime == "image/png" and post.changes == ()
    assert _decoded(post).size == (50, 40)


def test_outbox_png_is_lossless_and_quick_to_write() -> None:
    import time

    import numpy as np

    from generator.meme.templates import DEMO_DATA_DIR

    with Image.open(DEMO_DATA_DIR / "cat" / "image.jpg") as shipped:
        photo = shipped.convert("RGB")  # a photo: level 1 is ~10x quicker than optimize, ~6% larger
    started = time.process_time()
    post = prepare_outbox(photo, "a")
    fast = time.process_time() - started
    assert np.array_equal(np.asarray(_decoded(post).convert("RGB")), np.asarray(photo))  # every pixel kept
    started = time.process_time()
    encode(photo, "PNG")  # Pillow's smallest PNG, as the other platforms' fallbacks write it
    assert fast < time.process_time() - started


@pytest.mark.parametrize("platform", ["x", "instagram", "outbox"])
def test_prepare_dispatches_by_platform(platform: str) -> None:
    post = prepare(platform, _image(400, 400), "hello")
    assert post.platform == platform


def test_prepare_passes_options_and_rejects_unknown_ones() -> None:
    post = prepare("instagram", _image(400, 400), "a #b #c", hashtag_cap=1)
    assert post.text == "a\n\n#b"
    with pytest.raises(PreflightError, match="unknown option"):
        prepare("outbox", _image(400, 400), "a", hashtag_cap=1)
    with pytest.raises(PreflightError, match="unknown platform 'tiktok'"):
        prepare("tiktok", _image(400, 400), "a")
    with pytest.raises(PreflightError, match="mastodon: unknown option"):
        prepare("mastodon", _image(400, 400), "a", hashtag_cap=1)


def test_prepared_post_is_frozen() -> None:
    post = prepare_outbox(_image(10, 10), "a")
    with pytest.raises(AttributeError):
        post.text = "b"  # type: ignore[misc]


@pytest.mark.parametrize("size, mode", [((1, 1), "RGB"), ((3000, 40), "RGBA"), ((40, 3000), "L"), ((64, 64), "P"),
                                        ((64, 64), "1"), ((64, 64), "CMYK"), ((64, 64), "I;16")])
def test_the_outbox_refuses_nothing_so_the_generation_gate_may_skip_its_encode(size, mode) -> None:
    """platforms.REFUSES_NOTHING names the outbox: the pipeline's preflight gate does not encode for
    it. Any size, any mode, any text: the outbox preflight answers, never refuses."""
    assert "outbox" in platforms.REFUSES_NOTHING
    post = platforms.prepare("outbox", Image.new(mode, size), "x" * 70000 + " #tag @who https://a.example")
    assert post.mime == "image/png" and (post.width, post.height) == size
