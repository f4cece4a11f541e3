"""Keras fitting for one training phase: checkpoint every epoch, keep the best, resume, stop early.

Training uses the sequence form (one GRU pass per caption, sparse targets per position, padding
weighted out), which optimises exactly the per-prefix next-word loss of the prefix form.
"""
from __future__ import annotations

import contextlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from generator.meme.data import Dataset
from generator.meme.model import ModelConfig, build_prefix_model, build_sequence_model, copy_weights
from generator.meme.vocab import Vocab

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Settings:
    batch_size: int
    learning_rate: float
    seed: int
    threads: int
    patience: int
    resume: bool
    data_hash: str
    encoder: str


@dataclass(frozen=True)
class Arrays:
    features: np.ndarray  # [N, F] float32
    inputs: np.ndarray  # [N, maxlen] int32: <start> w1 .. wn, post-padded
    targets: np.ndarray  # [N, maxlen] int32: w1 .. wn <end>, post-padded

    @property
    def weights(self) -> np.ndarray:
        return (self.targets > 0).astype(np.float32)


@dataclass(frozen=True)
class EpochLog:
    phase: str
    epoch: int  # 1-based
    epochs: int
    train_loss: float
    val_loss: float | None
    improved: bool
    seconds: float


@dataclass(frozen=True)
class PhaseResult:
    best_weights: Path
    best_epoch: int
    best_val: float
    epochs_run: int
    last_train_loss: float
    resumed: bool


def arrays(dataset: Dataset, vocab: Vocab, features: dict[str, np.ndarray]) -> Arrays:
    """Teacher-forcing arrays, one row per caption, padded to the vocab's maxlen."""
    n, t = len(dataset.captions), vocab.maxlen
    inputs, targets = np.zeros((n, t), np.int32), np.zeros((n, t), np.int32)
    for i, row in enumerate(dataset.captions):
        ids = vocab.encode(row.text)
        inputs[i, : len(ids) + 1] = [vocab.start_id, *ids]
        targets[i, : len(ids) + 1] = [*ids, vocab.end_id]
    feats = np.stack([features[row.template] for row in dataset.captions]).astype(np.float32)
    return Arrays(feats, inputs, targets)


def token_loss(model, data: Arrays, batch_size: int = 256) -> float:
    """Mean cross-entropy per real target token (nats), dropout off; one batched predict."""
    probs = model.predict([data.features, data.inputs], batch_size=batch_size, verbose=0)
    picked = np.take_along_axis(probs, data.targets[..., None], axis=-1)[..., 0]
    mask = data.targets > 0
    return float(-np.log(np.maximum(picked[mask], 1e-12)).mean())


def _setup(settings: Settings) -> None:
    import keras
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(settings.threads)
        tf.config.threading.set_inter_op_parallelism_threads(settings.threads)
    except RuntimeError:
        log.debug("tensorflow threads already fixed for this process")  # set once per process only
    keras.utils.set_random_seed(settings.seed)


def _fingerprint(cfg: ModelConfig, settings: Settings) -> dict:
    s = asdict(settings)
    s.pop("resume")
    s.pop("patience")
    return {"model": cfg.to_json(), "settings": s}


def _load_state(phase_dir: Path, fingerprint: dict) -> dict | None:
    path = phase_dir / "state.json"
    if not (path.is_file() and (phase_dir / "last.keras").is_file()):
        return None
    try:
        state = json.loads(path.read_text())
    except (OSError, ValueError):
        log.warning("ignoring unreadable checkpoint state path=%s", path)
        return None
    if state.get("fingerprint") != fingerprint:
        log.info("checkpoint is for other data or settings, starting fresh path=%s", phase_dir)
        return None
    return state


def _new_model(cfg: ModelConfig, settings: Settings):
    import keras

    model = build_sequence_model(cfg)
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate),
                  loss="sparse_categorical_crossentropy")
    return model


def run_phase(name: str, cfg: ModelConfig, train: Arrays, val: Arrays | None, epochs: int, state_dir: Path,
              settings: Settings, hook: Callable[[EpochLog], None] | None) -> PhaseResult:
    """Fit up to ``epochs`` (early stopping on ``val`` when given), resuming a matching checkpoint."""
    import keras

    _setup(settings)
    phase_dir = state_dir / name
    phase_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(cfg, settings)
    state = _load_state(phase_dir, fingerprint) if settings.resume else None
    if state and state["epoch"] > epochs:
        state = None  # asked for fewer epochs than already run (the final phase's target moved)
    if state is None:
        state = {"fingerprint": fingerprint, "epoch": 0, "best_val": None, "best_epoch": 0, "wait": 0,
                 "train_loss": None, "stopped": False}
        model, resumed = _new_model(cfg, settings), False
    else:
        model, resumed = keras.models.load_model(phase_dir / "last.keras"), True
        log.info("resuming phase=%s epoch=%d", name, state["epoch"])
    if state["epoch"] < epochs and not state["stopped"]:
        keeper = _keeper_callback(name, epochs, train, val, phase_dir, state, settings.patience, hook)
        model.fit([train.features, train.inputs], train.targets, sample_weight=train.weights,
                  batch_size=settings.batch_size, epochs=epochs, initial_epoch=state["epoch"], shuffle=True,
                  verbose=0, callbacks=[keeper])
    return PhaseResult(phase_dir / "best.weights.h5", state["best_epoch"], state["best_val"] or float("nan"),
                       state["epoch"], state["train_loss"], resumed)


def _keeper_callback(name, epochs, train, val, phase_dir, state, patience, hook):
    import keras

    class Keeper(keras.callbacks.Callback):
        """Per epoch: measure, keep the best weights, checkpoint everything, stop when patience runs out."""

        def on_epoch_begin(self, epoch, logs=None):
            self._t0 = time.monotonic()

        def on_epoch_end(self, epoch, logs=None):
            train_loss = token_loss(self.model, train)
            val_loss = token_loss(self.model, val) if val is not None else None
            best = state["best_val"]
            improved = val_loss is None or best is None or val_loss < best - 1e-4
            if improved:
                self.model.save_weights(phase_dir / "best.weights.h5")
                state.update(best_val=val_loss, best_epoch=epoch + 1, wait=0)
            else:
                state["wait"] += 1
            if patience and state["wait"] >= patience:
                state["stopped"] = True
                self.model.stop_training = True
            state.update(epoch=epoch + 1, train_loss=train_loss)
            self.model.save(phase_dir / "last.keras")
            (phase_dir / "state.json").write_text(json.dumps(state, indent=1))
            log.info("epoch phase=%s epoch=%d train_loss=%.4f val_loss=%s", name, epoch + 1, train_loss, val_loss)
            if hook:
                hook(EpochLog(name, epoch + 1, epochs, train_loss, val_loss, improved, time.monotonic() - self._t0))

    return Keeper()


def prefix_model(cfg: ModelConfig, result: PhaseResult):
    """The bundle's prefix-form model carrying a phase's best weights."""
    seq = build_sequence_model(cfg)
    seq.load_weights(result.best_weights)
    model = build_prefix_model(cfg)
    copy_weights(seq, model)
    return model


@contextlib.contextmanager
def progress_hook(progress: bool | Callable[[EpochLog], None]) -> Iterator[Callable[[EpochLog], None] | None]:
    """A hook for epoch logs: the caller's own, a rich progress bar (True), or none (False)."""
    if callable(progress) or not progress:
        yield progress or None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    tasks: dict[str, int] = {}
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  TextColumn("{task.fields[info]}")) as bar:
        def hook(entry: EpochLog) -> None:
            if entry.phase not in tasks:
                tasks[entry.phase] = bar.add_task(f"train {entry.phase}", total=entry.epochs, info="")
            val = f" val={entry.val_loss:.3f}" if entry.val_loss is not None else ""
            bar.update(tasks[entry.phase], completed=entry.epoch, info=f"loss={entry.train_loss:.3f}{val}")

        yield hook
