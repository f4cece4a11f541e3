"""Train a meme captioner bundle from a data set folder. Reads top to bottom:

1. load the data set (bad rows skipped and counted), split validation BY TEMPLATE;
2. encode each template image once (features cached on disk by image content hash);
3. "select" phase: fit on the training templates, early stopping on the held-out templates'
   per-token loss, best checkpoint kept -> held-out perplexity next to a unigram baseline;
4. "final" phase: refit on ALL templates for the best epoch count (so every template is known);
5. write the bundle (prefix-form model.keras, vocab.json, config.json, weights.npz).

Both phases checkpoint every epoch under ``<out>/train_state`` and resume from there.
The shipped demo bundle is made with (about 80 s on one CPU thread)::

    memeloop train meme --data generator/meme/demo_data --out generator/meme/demo_bundle --final-epochs 30
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from generator import DataError
from generator.meme import fit
from generator.meme.bundle import write_bundle
from generator.meme.data import Dataset, load_dataset, split_by_template
from generator.meme.model import ModelConfig
from generator.meme.vocab import Vocab, build_vocab

log = logging.getLogger(__name__)
STATE_DIR = "train_state"


@dataclass(frozen=True)
class TrainReport:
    bundle_dir: Path
    encoder: str
    vocab_size: int
    templates: int
    val_templates: tuple[str, ...]
    train_captions: int
    val_captions: int
    best_epoch: int
    epochs_run: int
    train_loss: float
    val_loss: float  # held-out per-token cross-entropy (nats), best epoch
    val_ppl: float  # exp(val_loss)
    unigram_ppl: float  # the same held-out tokens under a training-set unigram model
    skipped: dict[str, int]
    skipped_examples: tuple[str, ...]
    resumed: bool
    seconds: float

    @property
    def skipped_total(self) -> int:
        return sum(self.skipped.values())


def _features(dataset: Dataset, encoder: str, state_dir: Path, threads: int,
              weights: str | Path | None = None) -> dict[str, np.ndarray]:
    from generator.meme.encoders import get_encoder, image_hash

    cache_file = state_dir / f"features-{encoder}.npz"
    cached = dict(np.load(cache_file)) if cache_file.is_file() else {}
    keys = {t.slug: image_hash(t.image_path) for t in dataset.templates}
    todo = [t for t in dataset.templates if keys[t.slug] not in cached]
    if todo:
        import torch

        torch.set_num_threads(threads)
        from generator.meme.encoders import FeatureCache

        feats = FeatureCache(get_encoder(encoder, weights)).encode([t.image_path for t in todo])
        cached.update({keys[t.slug]: f for t, f in zip(todo, feats)})
        state_dir.mkdir(parents=True, exist_ok=True)
        np.savez(cache_file, **cached)
    return {slug: cached[key] for slug, key in keys.items()}


def unigram_perplexity(train: fit.Arrays, val: fit.Arrays, vocab_size: int) -> float:
    """Held-out perplexity of an add-one unigram model over the training targets (no padding)."""
    counts = np.bincount(train.targets[train.targets > 0], minlength=vocab_size).astype(np.float64)
    counts[1:] += 1.0  # add-one over every real token; id 0 (padding) is never predicted
    logp = np.log(np.maximum(counts, 1e-300) / counts.sum())
    held_out = val.targets[val.targets > 0]
    return float(np.exp(-logp[held_out].mean()))


def _model_config(vocab: Vocab, feature_dim: int) -> ModelConfig:
    return ModelConfig(vocab_size=vocab.size, feature_dim=feature_dim, maxlen=vocab.maxlen)


def train(data_dir: Path, out_dir: Path, *, encoder: str = "efficientnet_lite0", epochs: int = 40,
          batch_size: int = 32, patience: int = 5, learning_rate: float = 2e-3, seed: int = 0,
          resume: bool = True, progress: bool | Callable[[fit.EpochLog], None] = True,
          threads: int = 1, refit: bool = True, final_epochs: int | None = None,
          encoder_weights: str | Path | None = None) -> TrainReport:
    """Train and write a bundle to ``out_dir``; DataError if the data set is unusable or too small.

    ``final_epochs`` sets the length of the refit on all templates (default: the selected best
    epoch). Early stopping measures captions for UNSEEN templates; a bundle meant for its own
    templates (the demo) can train longer to learn their captions' wording.
    """
    started = time.monotonic()
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if epochs < 1 or batch_size < 1 or patience < 0:
        raise DataError(f"need epochs >= 1, batch_size >= 1, patience >= 0 (got {epochs}, {batch_size}, {patience})")
    dataset = load_dataset(data_dir)
    train_ds, val_ds = split_by_template(dataset, seed=seed)
    state_dir = out_dir / STATE_DIR
    features = _features(dataset, encoder, state_dir, threads, encoder_weights)
    feature_dim = next(iter(features.values())).shape[0]
    settings = fit.Settings(batch_size=batch_size, learning_rate=learning_rate, seed=seed, threads=threads,
                            patience=patience, resume=resume, data_hash=dataset.data_hash, encoder=encoder)
    with fit.progress_hook(progress) as hook:
        vocab = build_vocab([c.text for c in train_ds.captions])
        train_arr, val_arr = fit.arrays(train_ds, vocab, features), fit.arrays(val_ds, vocab, features)
        select = fit.run_phase("select", _model_config(vocab, feature_dim), train_arr, val_arr, epochs,
                               state_dir, settings, hook)
        unigram = unigram_perplexity(train_arr, val_arr, vocab.size)
        log.info("selected best_epoch=%d val_loss=%.4f unigram_ppl=%.2f", select.best_epoch, select.best_val, unigram)
        final_ds = dataset if refit else train_ds
        final_vocab = build_vocab([c.text for c in final_ds.captions]) if refit else vocab
        final_cfg = _model_config(final_vocab, feature_dim)
        final = select if not refit else fit.run_phase(
            "final", final_cfg, fit.arrays(final_ds, final_vocab, features), None, final_epochs or select.best_epoch,
            state_dir, replace(settings, patience=0), hook)
    report = TrainReport(
        bundle_dir=out_dir, encoder=encoder, vocab_size=final_vocab.size, templates=len(dataset.templates),
        val_templates=tuple(t.slug for t in val_ds.templates), train_captions=len(train_ds.captions),
        val_captions=len(val_ds.captions), best_epoch=select.best_epoch, epochs_run=select.epochs_run,
        train_loss=final.last_train_loss, val_loss=select.best_val, val_ppl=float(np.exp(select.best_val)),
        unigram_ppl=unigram, skipped=dataset.skipped, skipped_examples=dataset.skipped_examples,
        resumed=select.resumed or final.resumed, seconds=time.monotonic() - started)
    write_bundle(out_dir, keras_model=fit.prefix_model(final_cfg, final), vocab=final_vocab,
                 config=_bundle_config(report, final_cfg, dataset, settings, epochs))
    return replace(report, seconds=time.monotonic() - started)


def _bundle_config(report: TrainReport, cfg: ModelConfig, dataset: Dataset, settings: fit.Settings,
                   epochs: int) -> dict:
    return {
        "encoder": report.encoder, "feature_dim": cfg.feature_dim, "maxlen": cfg.maxlen,
        "model": cfg.to_json(), "data_hash": dataset.data_hash,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "train": {"epochs_max": epochs, "best_epoch": report.best_epoch, "batch_size": settings.batch_size,
                  "learning_rate": settings.learning_rate, "seed": settings.seed, "patience": settings.patience,
                  "val_templates": list(report.val_templates)},
        "metrics": {"val_loss": round(report.val_loss, 5), "val_ppl": round(report.val_ppl, 3),
                    "unigram_ppl": round(report.unigram_ppl, 3), "train_loss": round(report.train_loss, 5),
                    "vocab_size": report.vocab_size, "train_captions": report.train_captions,
                    "val_captions": report.val_captions, "skipped": report.skipped},
    }
