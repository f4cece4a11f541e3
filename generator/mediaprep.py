"""Image geometry and encoding for platform preflight: pad (never crop), scale, encode under a size cap."""
from __future__ import annotations

import io
import math
from fractions import Fraction

from PIL import Image

from generator import PreflightError

PAD_COLOUR = (255, 255, 255)
JPEG_QUALITIES = (95, 90, 85, 80, 70, 60, 50)


class ImageTooSmall(PreflightError):
    """The image cannot be scaled up to the platform's minimum width without looking broken."""

    def __init__(self, platform: str, width: int, min_width: int, max_upscale: float) -> None:
        self.platform, self.width, self.min_width, self.max_upscale = platform, width, min_width, max_upscale
        super().__init__(
            f"{platform}: image is {width} px wide (after padding); the minimum is {min_width} px and "
            f"memeloop upscales at most {max_upscale:g}x, so it must be at least "
            f"{math.ceil(min_width / max_upscale)} px wide"
        )


class MediaTooLarge(PreflightError):
    """No encoding got the image under the platform's byte limit."""

    def __init__(self, platform: str, size_bytes: int, limit_bytes: int) -> None:
        self.platform, self.size_bytes, self.limit_bytes = platform, size_bytes, limit_bytes
        super().__init__(
            f"{platform}: image is still {size_bytes} bytes after re-encoding and downscaling; "
            f"the limit is {limit_bytes} bytes"
        )


def flatten(image: Image.Image) -> Image.Image:
    """RGB copy; transparency is composited onto white (JPEG has no alpha)."""
    if image.mode == "RGB":
        return image.copy()
    rgba = image.convert("RGBA")
    background = Image.new("RGB", rgba.size, PAD_COLOUR)
    background.paste(rgba, mask=rgba.getchannel("A"))
    return background


def pad_to_ratio(image: Image.Image, min_ratio: Fraction, max_ratio: Fraction) -> Image.Image:
    """Pad (centred, white) so width/height lies in [min_ratio, max_ratio]; the same image if it does."""
    width, height = image.size
    if Fraction(width, height) < min_ratio:
        width = math.ceil(height * min_ratio)
    elif Fraction(width, height) > max_ratio:
        height = math.ceil(width / max_ratio)
    if (width, height) == image.size:
        return image
    canvas = Image.new(image.mode, (width, height), PAD_COLOUR)
    canvas.paste(image, ((width - image.width) // 2, (height - image.height) // 2))
    return canvas


def scaled_size(
    size: tuple[int, int], new_width: int, min_ratio: Fraction, max_ratio: Fraction
) -> tuple[int, int]:
    """Size with ``new_width`` and the same shape, height nudged so rounding keeps the ratio in range."""
    width, height = size
    new_height = round(height * new_width / width)
    lowest = math.ceil(new_width / max_ratio)
    highest = math.floor(new_width / min_ratio)
    return new_width, min(max(new_height, lowest), highest)


def encode(image: Image.Image, fmt: str, quality: int = 95, *, png_level: int | None = None) -> bytes:
    """JPEG at ``quality``, or PNG: the smallest Pillow makes (optimize), or with ``png_level`` one zlib
    pass at that level (lossless all the same; for a destination without a byte limit)."""
    buffer = io.BytesIO()
    if fmt == "JPEG":
        image.save(buffer, "JPEG", quality=quality, optimize=True)
    elif png_level is not None:
        image.save(buffer, "PNG", optimize=False, compress_level=png_level)
    else:
        image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def jpeg_under(image: Image.Image, limit: int) -> tuple[bytes, int] | None:
    """Highest quality JPEG under ``limit`` bytes as (data, quality), or None."""
    for quality in JPEG_QUALITIES:
        data = encode(image, "JPEG", quality)
        if len(data) <= limit:
            return data, quality
    return None
