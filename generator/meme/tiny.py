"""A tiny random-weight bundle for tests and benchmarks of the decoding machinery (no training)."""
from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

from generator.meme.bundle import FORMAT
from generator.meme.step import DecoderWeights, random_weights
from generator.meme.vocab import END, PAD, START, UNK, Vocab

WORDS = ("cat", "coffee", "moon", "when", "you", "the", "is", "my", "me", "a", "monday", "nap", ",", "!")


def write_random_bundle(path: Path, *, words: Sequence[str] = WORDS, feature_dim: int = 8, units: int = 16,
                        max_tokens: int = 6, seed: int = 0, encoder: str = "efficientnet_lite0",
                        end_bias: float = 0.0, keras_model: bool = False, scale: float = 0.5) -> Path:
    """Write config.json, vocab.json and weights.npz of a random decoder into ``path``.

    ``end_bias`` raises <end>'s logit so captions finish early and often (exercises finishing rules);
    ``keras_model`` also writes the prefix-form model.keras carrying the same weights (imports Keras).
    """
    path.mkdir(parents=True, exist_ok=True)
    vocab = Vocab(tokens=(PAD, START, END, UNK, *words), max_tokens=max_tokens)
    vocab.save(path / "vocab.json")
    weights = random_weights(vocab.size, feature_dim, units=units, embed_dim=units, seed=seed, scale=scale)
    weights.out_bias[vocab.end_id] += end_bias
    weights.save(path / "weights.npz")
    if keras_model:
        _keras_from_weights(weights, vocab.maxlen).save(path / "model.keras")
    config = {"format": FORMAT, "encoder": encoder, "feature_dim": feature_dim, "maxlen": vocab.maxlen,
              "metrics": {}, "created": "random"}
    (path / "config.json").write_text(json.dumps(config, indent=1, sort_keys=True))
    return path


def _keras_from_weights(w: DecoderWeights, maxlen: int):
    """The prefix-form Keras model carrying ``w`` (the inverse of DecoderWeights.from_keras)."""
    from generator.meme.model import ModelConfig, build_prefix_model

    cfg = ModelConfig(vocab_size=w.vocab_size, feature_dim=w.feature_dim, maxlen=maxlen, units=w.units,
                      embed_dim=w.embedding.shape[1])
    model = build_prefix_model(cfg)
    model.get_layer("image_dense").set_weights([w.image_kernel, w.image_bias])
    model.get_layer("embed").set_weights([w.embedding])
    model.get_layer("gru").set_weights([w.gru_kernel, w.gru_recurrent, w.gru_bias])
    model.get_layer("next_token").set_weights([w.out_kernel, w.out_bias])
    return model
