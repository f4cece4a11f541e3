"""Training images for the progressive GAN: folder loading and per-level real batches (NumPy only)."""
from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
from PIL import Image

from generator import DataError
from generator.imageio import UnreadableImage, open_image

log = logging.getLogger(__name__)

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".gif")
MIN_IMAGES = 8


def load_images(images_dir: str | Path, resolution: int) -> np.ndarray:
    """Every image in `images_dir` centre-cropped to a square, resized, as float32 [N, r, r, 3] in [-1, 1]."""
    folder = Path(images_dir)
    if not folder.is_dir():
        raise DataError(f"image folder {folder} does not exist or is not a folder")
    files = sorted(p for p in folder.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
    if len(files) < MIN_IMAGES:
        raise DataError(
            f"image folder {folder} holds {len(files)} images ({', '.join(IMAGE_SUFFIXES)}); "
            f"need at least {MIN_IMAGES}"
        )
    out = np.empty((len(files), resolution, resolution, 3), dtype=np.float32)
    for i, path in enumerate(files):
        out[i] = _load_one(path, resolution)
    log.info("images_loaded folder=%s count=%d resolution=%d", folder, len(files), resolution)
    return out


def _load_one(path: Path, resolution: int) -> np.ndarray:
    try:
        rgb = open_image(path, animated="first_frame").convert("RGB")
    except UnreadableImage as exc:
        raise DataError(f"image {path} cannot be read: {exc}") from None
    w, h = rgb.size
    if min(w, h) < 4:
        raise DataError(f"image {path} is {w}x{h}; need at least 4x4 pixels")
    side = min(w, h)
    box = ((w - side) // 2, (h - side) // 2, (w - side) // 2 + side, (h - side) // 2 + side)
    square = rgb.crop(box).resize((resolution, resolution), Image.Resampling.LANCZOS, reducing_gap=2.0)
    return np.asarray(square, dtype=np.float32) / 127.5 - 1.0


def downscale(images: np.ndarray, size: int) -> np.ndarray:
    """Box-filter [N, r, r, C] down to [N, size, size, C] (r a multiple of size)."""
    n, r, _, c = images.shape
    f = r // size
    return images.reshape(n, size, f, size, f, c).mean(axis=(2, 4))


def pyramid(images: np.ndarray, max_level: int) -> list[np.ndarray]:
    """Real images at every level's resolution (level 0 = 4x4)."""
    return [downscale(images, 4 * 2**level) for level in range(max_level + 1)]


def real_batch(levels: list[np.ndarray], level: int, alpha: float, rng: np.random.Generator,
               batch: int) -> np.ndarray:
    """A random, randomly mirrored batch; while a level fades in, reals fade the same way fakes do."""
    source = levels[level]
    idx = rng.integers(0, len(source), size=batch)
    x = source[idx]
    flip = rng.random(batch) < 0.5
    x[flip] = x[flip, :, ::-1]
    if level and alpha < 1.0:
        low = downscale(x, x.shape[1] // 2).repeat(2, axis=1).repeat(2, axis=2)
        x = low + (x - low) * alpha
    return x.astype(np.float32)
