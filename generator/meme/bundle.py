"""A versioned model directory: what training writes and what the captioner loads.

    model.keras   training-form Keras model: (features float32[F], tokens int32[maxlen] pre-padded)
                  -> next-token probabilities float32[V]
    vocab.json    {"tokens": [...id order...], "start", "end", "unk", "pad_id": 0, "max_tokens"}
    config.json   encoder, feature_dim, maxlen, model config, data hash, metrics, created time
    weights.npz   the same weights exported for the NumPy decode path
    captions.npy  optional: 64-bit hashes of the training captions (decoding never hands one out)
    captions.txt  optional: the training captions' word keys, one a line (generator.meme.novelty);
                  with it, decoding also refuses near copies (one word away, six words in a row)

The version is a short hash of the vocab, config and weights (see ``bundle_version``).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from generator import BundleError
from generator.meme.novelty import read_caption_keys, write_caption_keys
from generator.meme.step import DecoderWeights
from generator.meme.vocab import Vocab

DEMO_BUNDLE_DIR = Path(__file__).resolve().parent / "demo_bundle"
BUNDLE_FILES = ("config.json", "model.keras", "vocab.json", "weights.npz", "captions.npy", "captions.txt")
CAPTIONS = "captions.npy"
CAPTION_KEYS = "captions.txt"
FORMAT = 2  # 2: Unicode words+chars vocab; 1 (ASCII word vocab) must be retrained


@dataclass(frozen=True, eq=False)
class Bundle:
    path: Path
    vocab: Vocab
    config: dict
    weights: DecoderWeights
    version: str
    caption_hashes: frozenset[int] = frozenset()  # training captions (metrics.caption_hashes)
    caption_keys: tuple[str, ...] = ()  # training captions' word keys (novelty.word_key)


def bundle_version(path: Path) -> str:
    """Hash of what decides the output: vocab, config (minus its timestamp) and the weight arrays.

    Zip containers (model.keras, weights.npz) carry save times, so arrays are hashed, not bytes;
    a bundle retrained to the same weights gets the same version.
    """
    h = hashlib.sha256((path / "vocab.json").read_bytes())
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    config.pop("created", None)
    h.update(json.dumps(config, sort_keys=True).encode())
    with np.load(path / "weights.npz") as arrays:
        for name in sorted(arrays.files):
            h.update(name.encode())
            h.update(np.ascontiguousarray(arrays[name]).tobytes())
    if (path / CAPTIONS).is_file():
        h.update(np.load(path / CAPTIONS).tobytes())
    return h.hexdigest()[:12]


def write_bundle(path: Path, *, keras_model, vocab: Vocab, config: dict, caption_hashes: np.ndarray | None = None,
                 captions: Sequence[str] | None = None) -> None:
    """Write all bundle files (model.keras from the prefix-form model, weights exported from it).

    ``captions``: the training captions, kept as word keys for the novelty check."""
    path.mkdir(parents=True, exist_ok=True)
    if caption_hashes is not None:
        np.save(path / CAPTIONS, np.asarray(caption_hashes, dtype=np.uint64))
    if captions is not None:
        write_caption_keys(path / CAPTION_KEYS, captions)
    keras_model.save(path / "model.keras")  # the prefix form is never compiled: no optimizer state
    vocab.save(path / "vocab.json")
    DecoderWeights.from_keras(keras_model).save(path / "weights.npz")
    (path / "config.json").write_text(json.dumps({"format": FORMAT, **config}, indent=1, sort_keys=True))


def load_bundle(path: Path | None = None) -> Bundle:
    """Read a bundle directory (None = the shipped demo bundle); BundleError says what is missing."""
    path = Path(path) if path is not None else DEMO_BUNDLE_DIR
    missing = [n for n in ("config.json", "vocab.json", "weights.npz") if not (path / n).is_file()]
    if missing:
        raise BundleError(f"{path}: not a meme bundle (missing {', '.join(missing)})")
    try:
        config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise BundleError(f"{path / 'config.json'}: unreadable ({exc})") from exc
    if config.get("format") == 1:
        raise BundleError(f"{path}: bundle format 1 (ASCII word vocabulary) is no longer supported; "
                          f"retrain it with `memeloop train meme --data DIR --out {path}`")
    if config.get("format") != FORMAT:
        raise BundleError(f"{path / 'config.json'}: unknown bundle format {config.get('format')!r}")
    vocab = Vocab.load(path / "vocab.json")
    weights = DecoderWeights.load(path / "weights.npz")
    if weights.vocab_size != vocab.size or weights.feature_dim != config.get("feature_dim"):
        raise BundleError(f"{path}: weights do not match vocab.json/config.json "
                          f"(V={weights.vocab_size} vs {vocab.size}, F={weights.feature_dim})")
    hashes: frozenset[int] = frozenset()
    if (path / CAPTIONS).is_file():
        try:
            hashes = frozenset(int(x) for x in np.load(path / CAPTIONS))
        except (OSError, ValueError, EOFError) as exc:
            raise BundleError(f"{path / CAPTIONS}: unreadable ({exc})") from exc
    keys: tuple[str, ...] = ()
    if (path / CAPTION_KEYS).is_file():
        try:
            keys = tuple(read_caption_keys(path / CAPTION_KEYS))
        except (OSError, UnicodeDecodeError) as exc:
            raise BundleError(f"{path / CAPTION_KEYS}: unreadable ({exc})") from exc
    return Bundle(path, vocab, config, weights, bundle_version(path), hashes, keys)
