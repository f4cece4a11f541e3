"""The par-inject captioning network and its config. Nothing else lives here (nanoGPT habit).

image features -> Dropout -> Dense(units, relu) -> repeated per step
tokens -> Embedding(V, embed_dim, mask_zero) -> Dropout (word_dropout: regularises the wording)
concatenate -> GRU(units) -> Dense(V, softmax)

Two Keras forms share layer names so weights copy across by name:
- the *sequence* form (teacher forcing, one GRU pass per caption) used to train;
- the *prefix* form saved as ``model.keras``: inputs (features float32[F], tokens int32[maxlen]
  pre-padded with 0), output next-token probabilities float32[V].
Keras is imported inside the functions: importing this module stays cheap.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class ModelConfig:
    vocab_size: int
    feature_dim: int
    maxlen: int  # decoder input length: <start> + max caption words
    units: int = 256
    embed_dim: int = 256
    dropout: float = 0.5
    word_dropout: float = 0.25

    def to_json(self) -> dict:
        return asdict(self)


def _layers(cfg: ModelConfig, *, return_sequences: bool):
    import keras

    return {
        "drop": keras.layers.Dropout(cfg.dropout, name="feature_dropout"),
        "image": keras.layers.Dense(cfg.units, activation="relu", name="image_dense"),
        "embed": keras.layers.Embedding(cfg.vocab_size, cfg.embed_dim, mask_zero=True, name="embed"),
        "word_drop": keras.layers.Dropout(cfg.word_dropout, name="word_dropout"),
        "gru": keras.layers.GRU(cfg.units, return_sequences=return_sequences, name="gru"),
        "out": keras.layers.Dense(cfg.vocab_size, activation="softmax", name="next_token"),
    }


def _build(cfg: ModelConfig, steps: int | None, *, return_sequences: bool, name: str):
    import keras

    layers = _layers(cfg, return_sequences=return_sequences)
    features = keras.Input((cfg.feature_dim,), dtype="float32", name="features")
    tokens = keras.Input((steps,), dtype="int32", name="tokens")
    image = layers["image"](layers["drop"](features))
    words = layers["word_drop"](layers["embed"](tokens))
    # the image vector at every step: broadcast [B, 1, U] over the token steps (any length)
    image = keras.ops.expand_dims(image, 1) + keras.ops.zeros_like(words[:, :, :1])
    merged = keras.layers.Concatenate(name="merge")([image, words])
    # Concatenate ORs its inputs' masks and the repeated image has none, so padding would reach
    # the GRU; hand it the token mask explicitly (pre-padded steps then leave the state at zero).
    mask = keras.ops.not_equal(tokens, 0)
    probs = layers["out"](layers["gru"](merged, mask=mask))
    return keras.Model([features, tokens], probs, name=name)


def build_sequence_model(cfg: ModelConfig):
    """Training form: tokens[T] post-padded (any T <= maxlen: batches are cut to their longest
    caption), output probabilities per position [T, V]."""
    return _build(cfg, None, return_sequences=True, name="meme_captioner_seq")


def build_prefix_model(cfg: ModelConfig):
    """Bundle form: tokens[maxlen] pre-padded prefix, output next-token probabilities [V]."""
    return _build(cfg, cfg.maxlen, return_sequences=False, name="meme_captioner")


WEIGHT_LAYERS = ("image_dense", "embed", "gru", "next_token")


def copy_weights(src, dst) -> None:
    """Copy the trainable layers' weights between the two forms (matched by layer name)."""
    for name in WEIGHT_LAYERS:
        dst.get_layer(name).set_weights(src.get_layer(name).get_weights())
