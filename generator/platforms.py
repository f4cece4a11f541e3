"""Per-platform preflight: turn (image, text) into exactly what X, Instagram, Mastodon, Bluesky or
the outbox accepts.

Each ``prepare_*`` is pure and returns a ``PreparedPost`` whose ``changes`` say what was altered.
``PreflightError`` (or a subclass from ``generator.mediaprep``) means the input cannot be made
valid. The rules, and why, are in generator/RENDERING.md.
"""
from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from PIL import Image

from generator import PreflightError
from generator.igcaption import prepare_caption
from generator.mediaprep import (
    ImageTooSmall,
    MediaTooLarge,
    encode,
    flatten,
    jpeg_under,
    pad_to_ratio,
    scaled_size,
)
from generator.xtext import X_MAX_WEIGHTED, normalise_for_x, trim_to_weight, x_weighted_length

__all__ = [
    "PreparedPost",
    "bluesky_length",
    "generate_alt_text",
    "mastodon_length",
    "prepare",
    "prepare_bluesky",
    "prepare_instagram",
    "prepare_mastodon",
    "prepare_outbox",
    "prepare_x",
    "x_weighted_length",
]

log = logging.getLogger(__name__)

IG_MIN_RATIO = Fraction(4, 5)
IG_MAX_RATIO = Fraction(191, 100)
IG_MIN_WIDTH = 320
IG_MAX_WIDTH = 1080
IG_MAX_BYTES = 8 * 1024 * 1024
MAX_UPSCALE = 2.0

X_MAX_BYTES = 5 * 1024 * 1024
X_MAX_ALT = 1000
X_DOWNSCALE_STEP = 0.75
X_MIN_SIDE = 64  # below this a downscaled meme is unreadable; give up instead

# Mastodon: defaults of a stock server (mastodon.social); each server may differ: the publisher
# checks the server's own /api/v2/instance limits again before it uploads.
MASTODON_MAX_CHARS = 500
MASTODON_URL_WEIGHT = 23
MASTODON_MAX_ALT = 1500
MASTODON_MAX_BYTES = 16 * 1024 * 1024
MASTODON_MAX_PIXELS = 7680 * 4320  # image_matrix_limit of Mastodon 4.x
# Bluesky: 300 graphemes; blobs of images at most 1,000,000 bytes (2,000,000 in the lexicon since
# April 2026; the smaller figure is safe on every PDS); alt text 2,000 graphemes (the app's limit).
BLUESKY_MAX_GRAPHEMES = 300
BLUESKY_MAX_BYTES = 1_000_000
BLUESKY_MAX_ALT = 2000
_URL = re.compile(r"(?i)\bhttps?://\S+")
_MENTION = re.compile(r"(?<![\w/])@(\w+)@[\w.-]+\w")


@dataclass(frozen=True)
class PreparedPost:
    """What a publisher sends: encoded media, its type and size, the text, alt text, what changed."""

    platform: str
    media: bytes
    mime: str
    text: str
    alt_text: str
    width: int
    height: int
    changes: tuple[str, ...]


def generate_alt_text(caption: str, template_name: str | None = None, limit: int = X_MAX_ALT) -> str:
    """Plain description of a meme for screen readers, within ``limit`` characters."""
    caption = " ".join(caption.split())
    subject = f'Meme based on the "{template_name}" template' if template_name else "Meme image"
    if not caption:
        return trim_to_weight(f"{subject}.", limit, len)
    prefix = f'{subject} with the caption: "'
    quoted = trim_to_weight(caption, limit - len(prefix) - 1, len)
    return f'{prefix}{quoted}"'


def prepare_instagram(
    image: Image.Image, caption: str, *, hashtag_cap: int = 5, max_mentions: int = 20, alt_text: str | None = None
) -> PreparedPost:
    """RGB JPEG padded to 4:5..1.91:1, 320..1080 px wide, <= 8 MB; caption within Instagram's limits."""
    result = prepare_caption(caption, hashtag_cap=hashtag_cap, max_mentions=max_mentions)
    changes = list(result.changes)
    picture = flatten(image)
    if image.mode != "RGB":
        changes.append(f"image: converted {image.mode} to RGB (transparency onto white)")
    padded = pad_to_ratio(picture, IG_MIN_RATIO, IG_MAX_RATIO)
    if padded.size != picture.size:
        changes.append(f"image: padded {picture.width}x{picture.height} to {padded.width}x{padded.height}")
    picture = _scale_for_instagram(padded, changes)
    found = jpeg_under(picture, IG_MAX_BYTES)
    if found is None:
        raise MediaTooLarge("instagram", len(encode(picture, "JPEG", 50)), IG_MAX_BYTES)
    data, quality = found
    if quality < 95:
        changes.append(f"image: JPEG quality lowered to {quality} to stay under 8 MB")
    return PreparedPost(
        "instagram",
        data,
        "image/jpeg",
        result.text,
        _alt(alt_text, result.text),
        picture.width,
        picture.height,
        tuple(changes),
    )


def _scale_for_instagram(picture: Image.Image, changes: list[str]) -> Image.Image:
    width = picture.width
    if width > IG_MAX_WIDTH:
        target = IG_MAX_WIDTH
    elif width < IG_MIN_WIDTH:
        if width * MAX_UPSCALE < IG_MIN_WIDTH:
            raise ImageTooSmall("instagram", width, IG_MIN_WIDTH, MAX_UPSCALE)
        target = IG_MIN_WIDTH
    else:
        return picture
    size = scaled_size(picture.size, target, IG_MIN_RATIO, IG_MAX_RATIO)
    changes.append(f"image: resized {picture.width}x{picture.height} to {size[0]}x{size[1]}")
    return picture.resize(size, Image.Resampling.LANCZOS)


def prepare_x(
    image: Image.Image, text: str, *, alt_text: str | None = None, template_name: str | None = None
) -> PreparedPost:
    """Text within 280 weighted characters; PNG (or JPEG) <= 5 MB; alt text <= 1,000 characters."""
    changes: list[str] = []
    normal = normalise_for_x(text.strip())
    if normal != text.strip():
        changes.append("text: normalised to NFC / removed characters X rejects")
    fitted = trim_to_weight(normal, X_MAX_WEIGHTED, x_weighted_length)
    if fitted != normal:
        changes.append(
            f"text: trimmed at a word boundary from weighted length {x_weighted_length(normal)} "
            f"to {x_weighted_length(fitted)}"
        )
    if alt_text is None:
        alt = generate_alt_text(fitted, template_name)
    else:
        alt = trim_to_weight(" ".join(alt_text.split()), X_MAX_ALT, len)
        if alt != " ".join(alt_text.split()):
            changes.append(f"alt text: trimmed to {X_MAX_ALT} characters")
    data, mime, picture = _fit_image(image, "x", X_MAX_BYTES, None, changes)
    return PreparedPost("x", data, mime, fitted, alt, picture.width, picture.height, tuple(changes))


def mastodon_length(text: str) -> int:
    """Characters as Mastodon counts them: a URL is 23, ``@user@server`` counts ``@user`` only."""
    counted = _URL.sub("x" * MASTODON_URL_WEIGHT, text)
    counted = _MENTION.sub(lambda m: "@" + m.group(1), counted)
    return len(counted)


def bluesky_length(text: str) -> int:
    """Graphemes (user-perceived characters), as Bluesky counts a post's length."""
    import regex

    return len(regex.findall(r"\X", text))


def _fit_image(image: Image.Image, platform: str, max_bytes: int, max_pixels: int | None,
               changes: list[str]) -> tuple[bytes, str, Image.Image]:
    """PNG when it fits, else the best JPEG under ``max_bytes``, else downscale step by step."""
    picture = image if image.mode in ("RGB", "RGBA") else image.convert("RGBA")
    if max_pixels is not None and picture.width * picture.height > max_pixels:
        scale = (max_pixels / (picture.width * picture.height)) ** 0.5
        size = (max(1, int(picture.width * scale)), max(1, int(picture.height * scale)))
        changes.append(f"image: downscaled {picture.width}x{picture.height} to {size[0]}x{size[1]} (pixel limit)")
        picture = picture.resize(size, Image.Resampling.LANCZOS)
    png = encode(picture, "PNG")
    if len(png) <= max_bytes:
        return png, "image/png", picture
    flat = flatten(picture)
    while True:
        found = jpeg_under(flat, max_bytes)
        if found is not None:
            data, quality = found
            changes.append(f"image: PNG was {len(png)} bytes; sent as JPEG quality {quality}")
            return data, "image/jpeg", flat
        new_size = (round(flat.width * X_DOWNSCALE_STEP), round(flat.height * X_DOWNSCALE_STEP))
        if min(new_size) < X_MIN_SIDE:
            raise MediaTooLarge(platform, len(encode(flat, "JPEG", 50)), max_bytes)
        changes.append(f"image: downscaled {flat.width}x{flat.height} to {new_size[0]}x{new_size[1]}")
        flat = flat.resize(new_size, Image.Resampling.LANCZOS)


def _fit_text(platform: str, text: str, limit: int, measure: Any, changes: list[str]) -> str:
    stripped = text.strip()
    fitted = trim_to_weight(stripped, limit, measure)
    if fitted != stripped:
        changes.append(f"text: trimmed at a word boundary from {measure(stripped)} to {measure(fitted)} "
                       f"({platform} allows {limit})")
    return fitted


def _fit_alt(alt_text: str | None, fitted: str, template_name: str | None, limit: int, measure: Any,
             changes: list[str]) -> str:
    if alt_text is None:
        return trim_to_weight(generate_alt_text(fitted, template_name, limit=limit), limit, measure)
    alt = " ".join(alt_text.split())
    trimmed = trim_to_weight(alt, limit, measure)
    if trimmed != alt:
        changes.append(f"alt text: trimmed to {limit}")
    return trimmed


def prepare_mastodon(
    image: Image.Image, text: str, *, alt_text: str | None = None, template_name: str | None = None,
    max_characters: int = MASTODON_MAX_CHARS, max_bytes: int = MASTODON_MAX_BYTES,
    max_pixels: int = MASTODON_MAX_PIXELS,
) -> PreparedPost:
    """Text within the server's character limit (URL = 23); PNG or JPEG within its byte and pixel
    limits; alt text (the media description) <= 1,500 characters. Hashtags are not limited."""
    changes: list[str] = []
    fitted = _fit_text("mastodon", text, max_characters, mastodon_length, changes)
    alt = _fit_alt(alt_text, fitted, template_name, MASTODON_MAX_ALT, len, changes)
    data, mime, picture = _fit_image(image, "mastodon", max_bytes, max_pixels, changes)
    return PreparedPost("mastodon", data, mime, fitted, alt, picture.width, picture.height, tuple(changes))


def prepare_bluesky(
    image: Image.Image, text: str, *, alt_text: str | None = None, template_name: str | None = None,
    max_bytes: int = BLUESKY_MAX_BYTES,
) -> PreparedPost:
    """Text within 300 graphemes; an image blob within ``max_bytes``; alt text <= 2,000 graphemes.
    Links, mentions and hashtags become facets at publish time (they count as written)."""
    changes: list[str] = []
    fitted = _fit_text("bluesky", text, BLUESKY_MAX_GRAPHEMES, bluesky_length, changes)
    alt = _fit_alt(alt_text, fitted, template_name, BLUESKY_MAX_ALT, bluesky_length, changes)
    data, mime, picture = _fit_image(image, "bluesky", max_bytes, None, changes)
    return PreparedPost("bluesky", data, mime, fitted, alt, picture.width, picture.height, tuple(changes))


def _alt(given: str | None, text: str) -> str:
    return generate_alt_text(text) if given is None else trim_to_weight(" ".join(given.split()), X_MAX_ALT, len)


OUTBOX_PNG_LEVEL = 1
# Platforms whose preflight has no limit to refuse anything for: it only encodes. A gate asking
# "would the platform refuse this?" need not encode for them (bot/service/pipeline_gates.py).
REFUSES_NOTHING = frozenset({"outbox"})


def prepare_outbox(image: Image.Image, text: str, *, alt_text: str | None = None) -> PreparedPost:
    """Lossless PNG and the text exactly as given: the outbox is for humans to review. The outbox has
    no limit it could refuse anything for (``REFUSES_NOTHING``: keep it so, or take it out of
    there) and no byte limit, so the PNG is one zlib pass at level 1 (Pillow's optimize cost ~0.2-0.4 s per
    image, paid for every draft of a run by the generation-time preflight)."""
    picture = image if image.mode in ("RGB", "RGBA") else image.convert("RGBA")
    return PreparedPost(
        "outbox",
        encode(picture, "PNG", png_level=OUTBOX_PNG_LEVEL),
        "image/png",
        text,
        _alt(alt_text, text),
        picture.width,
        picture.height,
        (),
    )


_OPTIONS = {
    "x": frozenset({"alt_text", "template_name"}),
    "instagram": frozenset({"hashtag_cap", "max_mentions", "alt_text"}),
    "mastodon": frozenset({"alt_text", "template_name", "max_characters", "max_bytes", "max_pixels"}),
    "bluesky": frozenset({"alt_text", "template_name", "max_bytes"}),
    "outbox": frozenset({"alt_text"}),
}


def prepare(platform: str, image: Image.Image, text: str, **options: Any) -> PreparedPost:
    """Dispatch to the platform's preflight: ``"x"``, ``"instagram"``, ``"mastodon"``, ``"bluesky"`` or
    ``"outbox"``."""
    if platform not in _OPTIONS:
        raise PreflightError(f"unknown platform {platform!r}; expected one of {', '.join(sorted(_OPTIONS))}")
    unknown = set(options) - _OPTIONS[platform]
    if unknown:
        raise PreflightError(f"{platform}: unknown option(s) {', '.join(sorted(unknown))}")
    if platform == "x":
        post = prepare_x(image, text, **options)
    elif platform == "instagram":
        post = prepare_instagram(image, text, **options)
    elif platform == "mastodon":
        post = prepare_mastodon(image, text, **options)
    elif platform == "bluesky":
        post = prepare_bluesky(image, text, **options)
    else:
        post = prepare_outbox(image, text, **options)
    log.info("preflight.done platform=%s mime=%s bytes=%d changes=%d", platform, post.mime,
             len(post.media), len(post.changes))
    return post
