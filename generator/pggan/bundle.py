"""A PGGAN bundle on disk (config.json + generator.npz) and the `Gan` that draws images from it.

Each image is drawn from its own 63-bit seed: the latent is `default_rng(seed).standard_normal(d)`,
so a stored seed regenerates the exact image. Batches are always run in fixed-size chunks because a
CPU kernel may pick a different algorithm (and round differently) for a different batch shape.
"""
from __future__ import annotations

import json
import logging
import secrets
import zipfile
from pathlib import Path

import numpy as np
from PIL import Image

from generator import BundleError
from generator.hashing import files_digest

log = logging.getLogger(__name__)

FORMAT = "memeloop-pggan/1"
CONFIG_FILE = "config.json"
WEIGHTS_FILE = "generator.npz"
DEMO_BUNDLE = Path(__file__).resolve().parent / "demo_bundle"
CHUNK = 16


def bundle_version(path: Path) -> str:
    return files_digest(path / name for name in (CONFIG_FILE, WEIGHTS_FILE))


def save_bundle(out_dir: Path, config, weights: list[np.ndarray], *, domain: str, meta: dict) -> str:
    """Write the generator's weights and config; returns the bundle version."""
    out_dir.mkdir(parents=True, exist_ok=True)
    np.savez(out_dir / WEIGHTS_FILE, *[np.asarray(w, dtype=np.float32) for w in weights])
    doc = {"format": FORMAT, "config": config.to_dict(), "domain": domain,
           "shapes": [list(w.shape) for w in weights], "trained": meta}
    (out_dir / CONFIG_FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return bundle_version(out_dir)


def read_bundle(path: Path) -> tuple[dict, list[np.ndarray]]:
    config_path, weights_path = path / CONFIG_FILE, path / WEIGHTS_FILE
    for needed in (config_path, weights_path):
        if not needed.is_file():
            raise BundleError(f"PGGAN bundle {path} has no {needed.name}")
    try:
        doc = json.loads(config_path.read_text())
    except json.JSONDecodeError as exc:
        raise BundleError(f"{config_path} is not valid JSON: {exc}") from exc
    if doc.get("format") != FORMAT:
        raise BundleError(f"{config_path} has format {doc.get('format')!r}; expected {FORMAT!r}")
    try:
        with np.load(weights_path) as npz:
            weights = [npz[f"arr_{i}"] for i in range(len(npz.files))]
    except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # truncated: BadZipFile
        raise BundleError(f"{weights_path}: unreadable weights ({exc})") from exc
    if [list(w.shape) for w in weights] != doc.get("shapes"):
        raise BundleError(f"{weights_path} does not match the shapes listed in {config_path}")
    return doc, weights


def latent_for_seed(seed: int, latent_dim: int) -> np.ndarray:
    return np.random.default_rng(seed).standard_normal(latent_dim).astype(np.float32)


def seeds_for(n: int, seed: int | None) -> list[int]:
    """n per-image seeds: fresh from OS entropy, or derived reproducibly from `seed`."""
    if seed is None:
        return [secrets.randbits(63) for _ in range(n)]
    state = np.random.SeedSequence(seed).generate_state(n, dtype=np.uint64)
    return [int(s >> np.uint64(1)) for s in state]


def to_image(array: np.ndarray) -> Image.Image:
    pixels = np.clip(np.rint((array + 1.0) * 127.5), 0, 255).astype(np.uint8)
    return Image.fromarray(pixels, mode="RGB")


FRAME = 10 / 128  # share of each side the small generators draw as a dark, gridded frame


def present(image: Image.Image) -> Image.Image:
    """The picture as posted: the generator's dark frame (about 10 of 128 px a side on the demo
    bundle: rows and columns there are ~30% darker than the middle) trimmed, a light blur over the
    upsampling grid, and back to the generator's own size with Lanczos. No detail is added and
    the size stays what the model makes (128 px for the demo: still too small for Instagram)."""
    from PIL import ImageFilter

    w, h = image.size
    mx, my = round(w * FRAME), round(h * FRAME)
    if w - 2 * mx < 8 or h - 2 * my < 8:
        return image
    inner = image.crop((mx, my, w - mx, h - my)).filter(ImageFilter.GaussianBlur(0.9 * w / 128))
    return inner.resize((w, h), Image.Resampling.LANCZOS)


class Gan:
    """A trained PGGAN generator. Build with `load_gan`."""

    def __init__(self, path: Path):
        from generator.pggan.model import Generator, PGGANConfig

        doc, weights = read_bundle(path)
        self.path = path
        self.config = PGGANConfig.from_dict(doc["config"])
        self.domain: str = doc.get("domain") or "abstract images"
        self.version: str = bundle_version(path)
        self.resolution: int = self.config.resolution
        self._net = Generator(self.config)
        self._net.build_all()
        if len(self._net.weights) != len(weights):
            raise BundleError(f"PGGAN bundle {path} holds {len(weights)} arrays; the network has "
                              f"{len(self._net.weights)}")
        for var, value in zip(self._net.weights, weights):
            if tuple(var.shape) != value.shape:
                raise BundleError(f"PGGAN bundle {path}: {var.path} has shape {value.shape}, "
                                  f"expected {tuple(var.shape)}")
            var.assign(value)
        self._draw = self._compile()

    def _compile(self):
        import tensorflow as tf

        net, level = self._net, self.config.max_level
        spec = tf.TensorSpec((CHUNK, self.config.latent_dim), tf.float32)
        return tf.function(lambda z: net(z, level=level, alpha=1.0), input_signature=[spec])

    def images_for_seeds(self, seeds: list[int]) -> list[Image.Image]:
        latents = np.stack([latent_for_seed(s, self.config.latent_dim) for s in seeds]) if seeds else \
            np.zeros((0, self.config.latent_dim), np.float32)
        out: list[Image.Image] = []
        for start in range(0, len(seeds), CHUNK):
            chunk = latents[start:start + CHUNK]
            padded = np.zeros((CHUNK, self.config.latent_dim), np.float32)
            padded[: len(chunk)] = chunk
            pixels = self._draw(padded).numpy()
            out.extend(present(to_image(p)) for p in pixels[: len(chunk)])
        return out

    def generate(self, n: int, seed: int | None = None) -> list[tuple[Image.Image, int]]:
        """n images, each with its own seed (fresh from OS entropy unless `seed` is given)."""
        if n < 0:
            raise ValueError(f"n={n} must be >= 0")
        seeds = seeds_for(n, seed)
        return list(zip(self.images_for_seeds(seeds), seeds))

    def generate_from_seed(self, seed: int) -> Image.Image:
        return self.images_for_seeds([seed])[0]


def load_gan(path: str | Path | None = None) -> Gan:
    """Load a PGGAN bundle; None loads the demo bundle shipped with the package."""
    folder = DEMO_BUNDLE if path is None else Path(path)
    if not folder.is_dir():
        raise BundleError(f"PGGAN bundle {folder} does not exist or is not a folder")
    gan = Gan(folder)
    log.info("gan_loaded path=%s version=%s resolution=%d", folder, gan.version, gan.resolution)
    return gan
