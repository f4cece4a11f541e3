"""Progressive GAN images for posts. Importing this package does not import TensorFlow or Keras."""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from generator.pggan.bundle import Gan


def load_gan(path: str | Path | None = None) -> Gan:
    """Load a PGGAN bundle folder; None loads the demo bundle shipped in generator/pggan/demo_bundle."""
    from generator.frameworks import quiet_tensorflow

    quiet_tensorflow()
    from generator.pggan.bundle import load_gan as _load

    return _load(path)


__all__ = ["load_gan"]
