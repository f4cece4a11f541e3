"""Opening images we did not make: a pixel limit checked before decoding, EXIF orientation applied,
and an explicit policy for animated images. Every reader of user-supplied images goes through here.

Pillow's own bomb guard is a mutable module global that only warns below twice its limit; we check
the header's size against our limit ourselves, so the answer does not depend on who set what.
"""
from __future__ import annotations

import logging
import os
import re
import stat
import struct
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Literal

from PIL import Image, UnidentifiedImageError

from generator import DataError

log = logging.getLogger(__name__)

MAX_PIXELS = 8192 * 8192  # X's own upper bound for a photo; anything bigger is a mistake or an attack
ORIENTATION_TAG = 0x0112
AnimatedPolicy = Literal["refuse", "first_frame"]
# What we store for posting. TIFF is left out on purpose: Pillow turns some TIFFs upright while
# decoding and others not, so their orientation cannot be trusted; platforms do not take it anyway.
STORABLE_FORMATS = ("PNG", "JPEG", "MPO", "GIF", "WEBP", "BMP")


class UnreadableImage(DataError):
    """Not an image Pillow can decode (or the file cannot be read)."""


class ImageTooLarge(DataError):
    """More pixels than MAX_PIXELS (a decompression bomb, or just far too big to post)."""

    def __init__(self, path: str, pixels: int | None, limit: int = MAX_PIXELS) -> None:
        self.pixels, self.limit = pixels, limit
        size = f"{pixels} pixels" if pixels else "too many pixels"
        super().__init__(f"{path}: image has {size}; the limit is {limit} pixels (e.g. 8192x8192)")


class UnsupportedFormat(DataError):
    """An image format we do not store for posting."""


class AnimatedImage(DataError):
    """An animated image where a still one is needed."""

    def __init__(self, path: str, frames: int) -> None:
        self.frames = frames
        super().__init__(f"{path}: animated image with {frames} frames; memeloop posts still images "
                         "(save one frame as PNG or JPEG)")


@contextmanager
def _quiet() -> Iterator[None]:
    """Pillow warns (to stderr) about corrupt EXIF blocks and near-bomb sizes; we check the size
    ourselves and treat broken EXIF as upright, so those warnings would only break the one-line
    error contract of the CLI."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # DecompressionBombWarning is a RuntimeWarning
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        yield


def frame_count(image: Image.Image) -> int:
    return int(getattr(image, "n_frames", 1)) if getattr(image, "is_animated", False) else 1


_TRANSPOSE = {2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180, 4: Image.Transpose.FLIP_TOP_BOTTOM,
              5: Image.Transpose.TRANSPOSE, 6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
              8: Image.Transpose.ROTATE_90}


def orientation(image: Image.Image) -> int:
    """The EXIF orientation (1 = upright) still to apply to an opened image. Pillow's TIFF decoder
    applies the tag itself (its size is already the upright one), so TIFF needs nothing. A broken
    EXIF block counts as upright (the pixels are shown as stored)."""
    if image.format == "TIFF":
        return 1
    try:
        value = image.getexif().get(ORIENTATION_TAG, 1)
    except (OSError, ValueError, SyntaxError, TypeError):
        return 1
    return value if value in _TRANSPOSE else 1


def needs_transpose(image: Image.Image) -> bool:
    """Whether the EXIF orientation says the pixels must be turned or flipped to display upright."""
    return orientation(image) != 1


@contextmanager
def _regular_file(path: str | Path) -> Iterator[BinaryIO]:
    """The file opened for reading only if it is a regular file: a FIFO, device or folder is refused
    without blocking (O_NONBLOCK) and without a read."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOCTTY", 0))
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise UnreadableImage(f"{path}: not a regular file (a FIFO, device or folder is never read)")
        handle = os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise
    with handle:
        yield handle


def open_image(path: str | Path, *, animated: AnimatedPolicy = "refuse",
               max_pixels: int = MAX_PIXELS) -> Image.Image:
    """The decoded image at ``path``, upright per its EXIF orientation, format name kept in
    ``.format``. Raises UnreadableImage, ImageTooLarge or (policy 'refuse') AnimatedImage."""
    with _regular_file(path) as handle:
        return _decode(handle, str(path), animated, max_pixels)


def open_image_bytes(data: bytes, where: str, *, animated: AnimatedPolicy = "first_frame",
                     max_pixels: int = MAX_PIXELS) -> Image.Image:
    """``open_image`` of an encoded picture held in memory (one downloaded, say); ``where`` names it
    in errors."""
    import io

    return _decode(io.BytesIO(data), where, animated, max_pixels)


def _decode(handle: BinaryIO, where: str, animated: AnimatedPolicy, max_pixels: int) -> Image.Image:
    try:
        with _quiet(), Image.open(handle) as img:
            width, height = img.size
            if width * height > max_pixels:
                raise ImageTooLarge(where, width * height, max_pixels)
            frames = frame_count(img)
            if frames > 1 and animated == "refuse":
                raise AnimatedImage(where, frames)
            if frames > 1:
                log.warning("event=animated_image path=%s frames=%d using=first_frame", where, frames)
            turn = orientation(img)
            img.load()
            fmt = img.format
            upright = img.transpose(_TRANSPOSE[turn]) if turn != 1 else img.copy()
    except Image.DecompressionBombError as exc:  # Pillow refused before we saw the size
        found = re.search(r"\((\d+) pixels\)", str(exc))
        raise ImageTooLarge(where, int(found.group(1)) if found else None, max_pixels) from None
    # Pillow's decoders also fail on malformed files with the errors of the code reading them (a GIF
    # whose second frame has a short palette: IndexError while counting frames)
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError, EOFError, IndexError, KeyError, TypeError,
            ZeroDivisionError, struct.error) as exc:
        raise UnreadableImage(f"{where}: not an image that can be read ({exc})") from None
    upright.format = fmt
    return upright



def still_file_bytes(path: str | Path, *, animated: AnimatedPolicy = "refuse",
                     max_pixels: int = MAX_PIXELS) -> tuple[bytes, str, Image.Image]:
    """(file bytes, extension, decoded image) of an image to store: the file as it is when it is
    already upright, else re-encoded upright so every later reader shows it the right way up."""
    import io

    image = open_image(path, animated=animated, max_pixels=max_pixels)
    fmt = (image.format or "PNG").upper()
    if fmt not in STORABLE_FORMATS:
        raise UnsupportedFormat(f"{path}: {fmt} images are not supported (use {', '.join(STORABLE_FORMATS[:2])}, "
                                f"GIF, WEBP or BMP)")
    ext = {"JPEG": "jpg", "MPO": "jpg"}.get(fmt, fmt.lower())
    with _quiet(), Image.open(path) as original:
        turned = needs_transpose(original)
    if not turned:
        return Path(path).read_bytes(), ext, image
    buffer = io.BytesIO()
    if fmt in ("JPEG", "MPO"):
        image.convert("RGB").save(buffer, "JPEG", quality=95)
        ext = "jpg"
    else:
        image.save(buffer, "PNG")
        ext = "png"
    return buffer.getvalue(), ext, image
