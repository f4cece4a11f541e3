"""The decoder step in plain NumPy on weights exported from the Keras model (``weights.npz``).

Per step the GRU state is carried forward, so a caption costs one small matrix product per word
for all beams of all images at once, instead of re-running the padded prefix through Keras.
Maths follows Keras GRU (reset_after=True, gates ordered z, r, h; sigmoid/tanh).
"""
from __future__ import annotations

import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator import BundleError

_NAMES = ("image_kernel", "image_bias", "embedding", "gru_kernel", "gru_recurrent", "gru_bias",
          "out_kernel", "out_bias")


@dataclass(frozen=True, eq=False)
class DecoderWeights:
    image_kernel: np.ndarray  # [F, U]
    image_bias: np.ndarray  # [U]
    embedding: np.ndarray  # [V, E]
    gru_kernel: np.ndarray  # [U + E, 3U]  rows: image part, then word part
    gru_recurrent: np.ndarray  # [U, 3U]
    gru_bias: np.ndarray  # [2, 3U]  input bias, recurrent bias
    out_kernel: np.ndarray  # [U, V]
    out_bias: np.ndarray  # [V]

    @property
    def units(self) -> int:
        return self.gru_recurrent.shape[0]

    @property
    def vocab_size(self) -> int:
        return self.embedding.shape[0]

    @property
    def feature_dim(self) -> int:
        return self.image_kernel.shape[0]

    def save(self, path: Path) -> None:
        np.savez(path, **{n: getattr(self, n) for n in _NAMES})

    @classmethod
    def load(cls, path: Path) -> DecoderWeights:
        try:
            with np.load(path) as data:
                return cls(**{n: data[n].astype(np.float32) for n in _NAMES})
        except (OSError, KeyError, ValueError, EOFError, zipfile.BadZipFile) as exc:  # truncated: BadZipFile
            raise BundleError(f"{path}: unreadable decoder weights ({exc})") from exc

    @classmethod
    def from_keras(cls, model) -> DecoderWeights:
        """Export from either Keras form (layers named as in generator.meme.model)."""
        image_k, image_b = model.get_layer("image_dense").get_weights()
        (embedding,) = model.get_layer("embed").get_weights()
        gru_k, gru_r, gru_b = model.get_layer("gru").get_weights()
        out_k, out_b = model.get_layer("next_token").get_weights()
        arrays = (image_k, image_b, embedding, gru_k, gru_r, gru_b, out_k, out_b)
        return cls(*(np.asarray(a, dtype=np.float32) for a in arrays))


def sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (np.tanh(0.5 * x) + 1.0)  # stable for large |x|


def log_softmax(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


class FastStep:
    """Precomputes the per-image and per-word input projections; each step is two matmuls."""

    def __init__(self, weights: DecoderWeights) -> None:
        self.w = weights
        u = weights.units
        # A word's GRU input projection is a table lookup: embedding @ word rows of the kernel.
        self.word_proj = weights.embedding @ weights.gru_kernel[u:] + weights.gru_bias[0]

    def image_context(self, features: np.ndarray) -> np.ndarray:
        """[N, F] features -> [N, 3U] image part of the GRU input projection (dropout off)."""
        w = self.w
        image = np.maximum(features.astype(np.float32) @ w.image_kernel + w.image_bias, 0.0)
        return image @ w.gru_kernel[: w.units]

    def __call__(self, context: np.ndarray, tokens: np.ndarray, h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """One word for B rows: context [B,3U], tokens [B], state [B,U] -> (log-probs [B,V], state)."""
        u = self.w.units
        gx = context + self.word_proj[tokens]
        gh = h @ self.w.gru_recurrent + self.w.gru_bias[1]
        z = sigmoid(gx[:, :u] + gh[:, :u])
        r = sigmoid(gx[:, u:2 * u] + gh[:, u:2 * u])
        cand = np.tanh(gx[:, 2 * u:] + r * gh[:, 2 * u:])
        h_new = z * h + (1.0 - z) * cand
        return log_softmax(h_new @ self.w.out_kernel + self.w.out_bias), h_new


def random_weights(vocab_size: int, feature_dim: int, units: int = 16, embed_dim: int = 16,
                   seed: int = 0, scale: float = 0.5) -> DecoderWeights:
    """Random decoder weights for tests and benchmarks of the decoding machinery."""
    rng = np.random.default_rng(seed)

    def r(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * scale).astype(np.float32)

    return DecoderWeights(r(feature_dim, units), r(units), r(vocab_size, embed_dim),
                          r(units + embed_dim, 3 * units), r(units, 3 * units), r(2, 3 * units),
                          r(units, vocab_size) * 4, r(vocab_size))
