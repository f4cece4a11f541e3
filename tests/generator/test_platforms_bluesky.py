"""Bluesky preflight: 300 graphemes as Bluesky counts them, image blob within the byte limit."""
from __future__ import annotations

from PIL import Image

from generator.platforms import BLUESKY_MAX_GRAPHEMES, bluesky_length, prepare


def test_graphemes_not_code_points():
    family = "\U0001F468\u200d\U0001F469\u200d\U0001F467"  # one emoji, five code points
    assert len(family) == 5 and bluesky_length(family) == 1
    assert bluesky_length("e\u0301") == 1  # e + combining acute


def test_text_trimmed_to_300_graphemes_and_image_within_blob_limit():
    text = ("\U0001F602 " * 400).strip()  # 799 graphemes
    post = prepare("bluesky", Image.effect_noise((1200, 1200), 90).convert("RGB"), text, max_bytes=300_000)
    assert bluesky_length(post.text) <= BLUESKY_MAX_GRAPHEMES and any("trimmed" in c for c in post.changes)
    assert len(post.media) <= 300_000 and post.platform == "bluesky"
    assert post.alt_text and bluesky_length(post.alt_text) <= 2000
