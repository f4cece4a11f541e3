"""Train a meme captioner bundle from a data set folder. Reads top to bottom:

1. load the data set (bad rows skipped and counted); hold out whole templates (template split,
   unseen images) and a share of the other templates' captions (caption split, seen images);
2. encode each template image once (features cached on disk by image content hash);
3. "select" phase: fit on the rest, batch by batch, early stopping on the caption split, the
   template split measured beside it -> both perplexities next to unigram baselines;
4. "final" phase: refit on ALL captions for the best epoch count (so every template is known);
5. write the bundle (prefix-form model.keras, vocab.json, config.json, weights.npz).

Memory is checked up front; both phases checkpoint every few hundred steps and every epoch under
``<out>/train_state`` and resume from there (mid-epoch too). The shipped demo bundle is made with
(a few minutes on one CPU thread)::

    memeloop train meme --data generator/meme/demo_data --out generator/meme/demo_bundle
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
from generator.meme.data import Dataset, load_dataset, split_by_caption, split_by_template
from generator.meme.encoders import FEATURE_DIMS
from generator.meme.metrics import caption_hashes
from generator.meme.model import ModelConfig
from generator.meme.progress import check_memory, progress_hook, training_bytes
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
    val_loss: float  # caption split (seen templates): per-token cross-entropy (nats), best epoch
    val_ppl: float  # exp(val_loss)
    unigram_ppl: float  # the same held-out tokens under a training-set unigram model
    template_ppl: float  # template split (unseen templates) at the best epoch
    template_unigram_ppl: float
    skipped: dict[str, int]
    skipped_examples: tuple[str, ...]
    resumed: bool
    seconds: float  # this run
    train_seconds: float  # fitting time over every run of both phases (resumes included)
    memory_needed: int  # bytes, the up-front estimate

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


def unigram_perplexity(train: fit.Encoded, val: fit.Encoded, vocab_size: int) -> float:
    """Held-out perplexity of an add-one unigram model over the training targets (no padding)."""
    counts = np.bincount(train.targets[train.targets > 0], minlength=vocab_size).astype(np.float64)
    counts[1:] += 1.0  # add-one over every real token; id 0 (padding) is never predicted
    logp = np.log(np.maximum(counts, 1e-300) / counts.sum())
    held_out = val.targets[val.targets > 0]
    return float(np.exp(-logp[held_out].mean())) if held_out.size else float("nan")


def encode(dataset: Dataset, vocab: Vocab, features: dict[str, np.ndarray]) -> fit.Encoded:
    """Teacher-forcing ids, one row per caption, padded to the vocab's maxlen (long ones cut, counted)."""
    n, t = len(dataset.captions), vocab.maxlen
    inputs, targets = np.zeros((n, t), np.int32), np.zeros((n, t), np.int32)
    slugs = sorted(features)
    row_of = {slug: i for i, slug in enumerate(slugs)}
    index, cut = vocab.index(), 0
    for i, row in enumerate(dataset.captions):
        ids = vocab.pieces(row.text, index)
        cut += len(ids) > vocab.max_tokens
        ids = ids[: vocab.max_tokens]
        inputs[i, : len(ids) + 1] = [vocab.start_id, *ids]
        targets[i, : len(ids) + 1] = [*ids, vocab.end_id]
    if cut:
        log.warning("captions cut to max_tokens=%d count=%d", vocab.max_tokens, cut)
    template = np.array([row_of[row.template] for row in dataset.captions], np.int32)
    feats = np.stack([features[s] for s in slugs]).astype(np.float32)
    return fit.Encoded(feats, template, inputs, targets)


def _model_config(vocab: Vocab, feature_dim: int) -> ModelConfig:
    return ModelConfig(vocab_size=vocab.size, feature_dim=feature_dim, maxlen=vocab.maxlen)


@dataclass(frozen=True)
class _Splits:
    train: Dataset
    captions: Dataset  # caption split: seen templates
    templates: Dataset  # template split: unseen templates


def _splits(dataset: Dataset, seed: int, template_fraction: float, caption_fraction: float) -> _Splits:
    seen, unseen = split_by_template(dataset, val_fraction=template_fraction, seed=seed)
    train_ds, held = split_by_caption(seen, val_fraction=caption_fraction, seed=seed)
    return _Splits(train_ds, held, unseen)


def train(data_dir: Path, out_dir: Path, *, encoder: str = "efficientnet_lite0", epochs: int = 40,
          batch_size: int = 32, patience: int = 4, learning_rate: float = 2e-3, seed: int = 0,
          resume: bool = True, progress: bool | Callable = True, threads: int = 1, refit: bool = True,
          final_epochs: int | None = None, encoder_weights: str | Path | None = None,
          template_fraction: float = 0.1, caption_fraction: float = 0.1, max_seconds: float | None = None,
          checkpoint_every: int = 200, model: dict | None = None, min_freq: int = 2) -> TrainReport:
    """Train and write a bundle to ``out_dir``; DataError if the data set is unusable or too small,
    TrainError if memory is short or training fails (resumable).

    ``final_epochs`` sets the length of the refit on all captions (default: the selected best
    epoch). ``max_seconds`` bounds each phase of this run (a re-run carries on); ``model``
    overrides ModelConfig fields (units, embed_dim, dropout, word_dropout).
    """
    started = time.monotonic()
    data_dir, out_dir = Path(data_dir), Path(out_dir)
    if epochs < 1 or batch_size < 1 or patience < 0:
        raise DataError(f"need epochs >= 1, batch_size >= 1, patience >= 0 (got {epochs}, {batch_size}, {patience})")
    dataset = load_dataset(data_dir)
    sp = _splits(dataset, seed, template_fraction, caption_fraction)
    vocab = build_vocab([c.text for c in sp.train.captions], min_freq=min_freq)
    final_vocab = build_vocab([c.text for c in dataset.captions], min_freq=min_freq) if refit else vocab
    feature_dim = FEATURE_DIMS.get(encoder, 2048)
    cfg = replace(_model_config(vocab, feature_dim), **(model or {}))
    final_cfg = replace(cfg, vocab_size=final_vocab.size, maxlen=final_vocab.maxlen)
    needed = max(training_bytes(c, batch_size, len(dataset.captions)) for c in (cfg, final_cfg))
    check_memory(needed)  # before any framework loads: refuse early, with the figure
    fit.quiet_tensorflow()
    state_dir = out_dir / STATE_DIR
    features = _features(dataset, encoder, state_dir, threads, encoder_weights)
    if (actual := next(iter(features.values())).shape[0]) != feature_dim:  # an encoder of another size
        cfg, final_cfg = replace(cfg, feature_dim=actual), replace(final_cfg, feature_dim=actual)
    settings = fit.Settings(batch_size=batch_size, learning_rate=learning_rate, seed=seed,
                            data_hash=dataset.data_hash, encoder=encoder, threads=threads, patience=patience,
                            resume=resume, checkpoint_every=checkpoint_every, max_seconds=max_seconds)
    train_arr = encode(sp.train, vocab, features)
    val_arr, tmpl_arr = encode(sp.captions, vocab, features), encode(sp.templates, vocab, features)
    unigram = (unigram_perplexity(train_arr, val_arr, vocab.size), unigram_perplexity(train_arr, tmpl_arr, vocab.size))
    with progress_hook(progress) as hook:
        select = fit.run_phase("select", cfg, train_arr, val_arr, epochs, state_dir, settings, hook, extra=tmpl_arr)
        del train_arr
        final = select if not refit else fit.run_phase(
            "final", final_cfg, encode(dataset, final_vocab, features), None, final_epochs or select.best_epoch,
            state_dir, replace(settings, patience=0), hook)
    report = TrainReport(
        bundle_dir=out_dir, encoder=encoder, vocab_size=final_vocab.size, templates=len(dataset.templates),
        val_templates=tuple(t.slug for t in sp.templates.templates), train_captions=len(sp.train.captions),
        val_captions=len(sp.captions.captions), best_epoch=select.best_epoch, epochs_run=select.epochs_run,
        train_loss=final.last_train_loss, val_loss=select.best_val, val_ppl=float(np.exp(select.best_val)),
        unigram_ppl=unigram[0], template_ppl=float(np.exp(select.best_extra)), template_unigram_ppl=unigram[1],
        skipped=dataset.skipped, skipped_examples=dataset.skipped_examples, resumed=select.resumed or final.resumed,
        seconds=time.monotonic() - started, train_seconds=select.seconds + (final.seconds if refit else 0.0),
        memory_needed=needed)
    log.info("selected best_epoch=%d val_ppl=%.2f unigram_ppl=%.2f template_ppl=%.2f", report.best_epoch,
             report.val_ppl, report.unigram_ppl, report.template_ppl)
    write_bundle(out_dir, keras_model=fit.prefix_model(final_cfg, final), vocab=final_vocab,
                 config=_bundle_config(report, final_cfg, dataset, settings, epochs, data_dir),
                 caption_hashes=caption_hashes([c.text for c in (dataset if refit else sp.train).captions]),
                 captions=[c.text for c in (dataset if refit else sp.train).captions])
    return replace(report, seconds=time.monotonic() - started)


def _bundle_config(report: TrainReport, cfg: ModelConfig, dataset: Dataset, settings: fit.Settings,
                   epochs: int, data_dir: Path) -> dict:
    return {
        "encoder": report.encoder, "feature_dim": cfg.feature_dim, "maxlen": cfg.maxlen,
        "model": cfg.to_json(), "data_hash": dataset.data_hash, "data_dir": str(data_dir),
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "train": {"epochs_max": epochs, "best_epoch": report.best_epoch, "batch_size": settings.batch_size,
                  "learning_rate": settings.learning_rate, "seed": settings.seed, "patience": settings.patience,
                  "val_templates": list(report.val_templates)},
        "metrics": {"val_loss": round(report.val_loss, 5), "val_ppl": round(report.val_ppl, 3),
                    "unigram_ppl": round(report.unigram_ppl, 3), "template_ppl": round(report.template_ppl, 3),
                    "template_unigram_ppl": round(report.template_unigram_ppl, 3),
                    "train_loss": round(report.train_loss, 5), "vocab_size": report.vocab_size,
                    "train_captions": report.train_captions, "val_captions": report.val_captions,
                    "skipped": report.skipped},
    }
