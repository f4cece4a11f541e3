"""Build the demo GAN's training set: random crops of the photos and textures scikit-image ships.

    python -m generator.pggan.demo_images OUT_DIR [--count 1200] [--size 64] [--seed 0]

Deterministic for a given seed. The crops are small and mixed (bricks, grass, gravel, a coffee cup,
a cat's fur, stained tissue, a retina, the Hubble deep field, the moon, coins, a colour wheel), so the GAN learns "abstract textures".
"""
from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
from PIL import Image

DOMAIN = "abstract textures"
SOURCES = ("brick", "grass", "gravel", "coffee", "chelsea", "immunohistochemistry", "retina",
           "hubble_deep_field", "colorwheel", "moon", "coins")


def _source_images() -> list[Image.Image]:
    from skimage import data

    out = []
    for name in SOURCES:
        array = getattr(data, name)()
        if array.ndim == 2:
            array = np.stack([array] * 3, axis=-1)
        out.append(Image.fromarray(np.asarray(array[..., :3], dtype=np.uint8)))
    return out


def _tint(crop: Image.Image, rng: np.random.Generator) -> Image.Image:
    """Grey sources get a random colour wash so the set is not mostly grey."""
    pixels = np.asarray(crop, dtype=np.float32)
    if np.ptp(pixels.mean(axis=(0, 1))) < 8:
        colour = rng.uniform(0.45, 1.0, size=3)
        pixels = (pixels * colour + (1 - colour) * rng.uniform(0, 90, size=3)).astype(np.float32)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8))


def build_demo_images(out_dir: str | Path, *, count: int = 1200, size: int = 64, seed: int = 0) -> list[Path]:
    """Write `count` PNG crops of `size` pixels to `out_dir`; returns their paths."""
    rng = np.random.default_rng(seed)
    sources = _source_images()
    folder = Path(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        src = sources[int(rng.integers(len(sources)))]
        w, h = src.size
        side = int(rng.integers(max(size // 2, 24), min(w, h) // 2 + 1))
        left, top = int(rng.integers(0, w - side + 1)), int(rng.integers(0, h - side + 1))
        crop = src.crop((left, top, left + side, top + side)).resize((size, size), Image.Resampling.LANCZOS)
        crop = crop.rotate(90 * int(rng.integers(4)))
        path = folder / f"crop_{i:05d}.png"
        _tint(crop, rng).save(path)
        paths.append(path)
    return paths


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir")
    parser.add_argument("--count", type=int, default=1200)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    paths = build_demo_images(args.out_dir, count=args.count, size=args.size, seed=args.seed)
    print(f"wrote {len(paths)} images to {args.out_dir}")


if __name__ == "__main__":
    main()
