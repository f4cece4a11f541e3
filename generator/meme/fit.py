"""Keras fitting for one training phase, batch by batch in bounded memory.

Captions are held as token ids plus a template index; each batch gathers its features and runs
``train_on_batch``, so memory grows with the batch, never with data x vocabulary. Losses are
measured batch by batch (``predict_on_batch``). Every ``checkpoint_every`` steps and at each epoch
end the model (with optimizer state) and the loop position are saved; a re-run resumes mid-epoch.
Epoch order is a permutation seeded by (seed, epoch), so a resumed run sees the same batches.

Training uses the sequence form (one GRU pass per caption, sparse targets per position, padding
weighted out), which optimises exactly the per-prefix next-word loss of the prefix form.
"""
from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from generator import GeneratorError
from generator.meme.model import ModelConfig, build_sequence_model

log = logging.getLogger(__name__)
EVAL_BATCH = 64
TRAIN_EVAL_ROWS = 2048  # train loss is measured on a fixed sample of this many captions


class TrainError(GeneratorError):
    """Training cannot start or stopped; what was trained so far stays resumable."""


@dataclass(frozen=True)
class Settings:
    batch_size: int
    learning_rate: float
    seed: int
    data_hash: str
    encoder: str
    # run-time only: never part of the checkpoint fingerprint
    threads: int = 1
    patience: int = 5
    resume: bool = True
    checkpoint_every: int = 200
    max_seconds: float | None = None  # this run's training budget per phase (the epoch in hand is closed)

    def fingerprint(self) -> dict:
        return {k: v for k, v in asdict(self).items()
                if k not in ("threads", "patience", "resume", "checkpoint_every", "max_seconds")}


@dataclass(frozen=True)
class Encoded:
    """Teacher-forcing data, one row per caption: ids plus the row's template (features gathered per batch)."""

    features: np.ndarray  # [templates, F] float32
    template: np.ndarray  # [N] int32 row into features
    inputs: np.ndarray  # [N, maxlen] int32: <start> w1 .. wn, post-padded
    targets: np.ndarray  # [N, maxlen] int32: w1 .. wn <end>, post-padded

    def __len__(self) -> int:
        return len(self.template)

    def lengths(self) -> np.ndarray:
        return (self.targets > 0).sum(axis=1)

    def batch(self, idx: np.ndarray) -> tuple[list[np.ndarray], np.ndarray, np.ndarray]:
        """Features, inputs, targets and weights of rows ``idx``, cut to the batch's longest caption
        (rounded up to a multiple of 4 so only a few shapes are ever traced)."""
        t = min(self.targets.shape[1], -(-int((self.targets[idx] > 0).sum(axis=1).max()) // 4) * 4)
        targets = self.targets[idx, :t]
        return [self.features[self.template[idx]], self.inputs[idx, :t]], targets, (targets > 0).astype(np.float32)

    def subset(self, idx: np.ndarray) -> Encoded:
        return Encoded(self.features, self.template[idx], self.inputs[idx], self.targets[idx])


@dataclass(frozen=True)
class StepLog:
    phase: str
    epoch: int  # 1-based, the epoch this step belongs to
    epochs: int
    step: int  # 1-based within the epoch
    steps: int  # per epoch
    loss: float  # running mean of this epoch's batch losses
    captions_per_s: float


@dataclass(frozen=True)
class EpochLog:
    phase: str
    epoch: int  # 1-based
    epochs: int
    train_loss: float
    val_loss: float | None  # early-stopping split (captions of seen templates)
    extra_loss: float | None  # reported only (unseen templates)
    improved: bool
    seconds: float


@dataclass(frozen=True)
class PhaseResult:
    best_weights: Path
    best_epoch: int
    best_val: float
    best_extra: float
    epochs_run: int
    last_train_loss: float
    resumed: bool
    seconds: float  # training time over all runs of this phase (resumes included)


Hook = Callable[[StepLog | EpochLog], None]


def token_loss(model, data: Encoded, batch_size: int = EVAL_BATCH) -> float:
    """Mean cross-entropy per real target token (nats), dropout off, one batch at a time."""
    total, count = 0.0, 0
    order = np.argsort(data.lengths(), kind="stable")  # similar lengths together: little padding
    for lo in range(0, len(data), batch_size):
        x, targets, _ = data.batch(np.sort(order[lo:lo + batch_size]))
        probs = np.asarray(model.predict_on_batch(x))
        picked = np.take_along_axis(probs, targets[..., None], axis=-1)[..., 0]
        mask = targets > 0
        total += float(-np.log(np.maximum(picked[mask], 1e-12)).sum())
        count += int(mask.sum())
    return total / max(count, 1)


def quiet_tensorflow() -> None:
    """generator.frameworks.quiet_tensorflow (kept here for the trainers and benches that call it)."""
    from generator.frameworks import quiet_tensorflow as quiet

    quiet()


def setup(threads: int, seed: int) -> None:
    import keras
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(threads)
    except RuntimeError:
        log.debug("tensorflow threads already fixed for this process")  # set once per process only
    keras.utils.set_random_seed(seed)


def _fingerprint(cfg: ModelConfig, settings: Settings) -> dict:
    return {"model": cfg.to_json(), "settings": settings.fingerprint()}


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


def _new_model(cfg: ModelConfig, settings: Settings, train: Encoded):
    """A fresh model whose output bias starts at the training tokens' log-frequencies, so the
    first steps already predict the unigram distribution and go into what the image adds."""
    import keras

    model = build_sequence_model(cfg)
    counts = np.bincount(train.targets[train.targets > 0], minlength=cfg.vocab_size)[: cfg.vocab_size] + 0.5
    kernel, _ = model.get_layer("next_token").get_weights()
    model.get_layer("next_token").set_weights([kernel, np.log(counts / counts.sum()).astype(np.float32)])
    model.compile(optimizer=keras.optimizers.Adam(settings.learning_rate, clipnorm=5.0),
                  loss="sparse_categorical_crossentropy")
    return model


def _fresh_state(fingerprint: dict) -> dict:
    return {"fingerprint": fingerprint, "epoch": 0, "step": 0, "loss_sum": 0.0, "best_val": None,
            "best_extra": None, "best_epoch": 0, "wait": 0, "train_loss": None, "stopped": False, "seconds": 0.0}


def _save(model, phase_dir: Path, state: dict) -> None:
    """Checkpoint atomically enough for a crash: model first, then the state that points at it."""
    model.save(phase_dir / "last.keras.tmp.keras")
    (phase_dir / "last.keras.tmp.keras").replace(phase_dir / "last.keras")
    tmp = phase_dir / "state.json.tmp"
    tmp.write_text(json.dumps(state, indent=1))
    tmp.replace(phase_dir / "state.json")


@dataclass
class _Phase:
    name: str
    epochs: int
    train: Encoded
    val: Encoded | None
    extra: Encoded | None
    phase_dir: Path
    settings: Settings
    state: dict
    hook: Hook | None
    started: float = 0.0
    out_of_time: bool = False
    base_seconds: float = 0.0  # training time of earlier runs of this phase

    def elapsed(self) -> float:
        return self.base_seconds + time.monotonic() - self.started


def run_phase(name: str, cfg: ModelConfig, train: Encoded, val: Encoded | None, epochs: int, state_dir: Path,
              settings: Settings, hook: Hook | None, extra: Encoded | None = None) -> PhaseResult:
    """Fit up to ``epochs`` (early stopping on ``val`` when given), resuming a matching checkpoint.

    ``extra`` (e.g. unseen templates) is measured at each epoch end beside ``val`` but never decides.
    """
    import keras

    setup(settings.threads, settings.seed)
    phase_dir = state_dir / name
    phase_dir.mkdir(parents=True, exist_ok=True)
    fingerprint = _fingerprint(cfg, settings)
    state = _load_state(phase_dir, fingerprint) if settings.resume else None
    if state and state["epoch"] > epochs:
        state = None  # asked for fewer epochs than already run (the final phase's target moved)
    resumed = state is not None
    model = keras.models.load_model(phase_dir / "last.keras") if resumed else _new_model(cfg, settings, train)
    if state is not None:
        log.info("resuming phase=%s epoch=%d step=%d", name, state["epoch"], state["step"])
    state = state or _fresh_state(fingerprint)
    phase = _Phase(name, epochs, train, val, extra, phase_dir, settings, state, hook, time.monotonic(),
                   base_seconds=state["seconds"])
    oom, op_error = _tf_errors()

    def where() -> str:
        return f"phase {name} at epoch {phase.state['epoch'] + 1} step {phase.state['step']}"

    try:
        _loop(model, phase)
    except (MemoryError, oom) as exc:
        raise TrainError(f"out of memory in {where()} ({type(exc).__name__}); try a smaller --batch-size; "
                         f"re-run to resume from {phase_dir}") from exc
    except (op_error, OSError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise TrainError(f"training failed in {where()}: {first[:200]}; re-run to resume from {phase_dir}") from exc
    state = phase.state
    return PhaseResult(phase_dir / "best.weights.h5", state["best_epoch"], _nan(state["best_val"]),
                       _nan(state["best_extra"]), state["epoch"], _nan(state["train_loss"]), resumed, state["seconds"])


def _nan(x: float | None) -> float:
    return float("nan") if x is None else float(x)


def _tf_errors() -> tuple[type[BaseException], type[BaseException]]:
    import tensorflow as tf

    return tf.errors.ResourceExhaustedError, tf.errors.OpError


def _loop(model, p: _Phase) -> None:
    state, s = p.state, p.settings
    n, bs = len(p.train), s.batch_size
    steps = math.ceil(n / bs)
    lengths = p.train.lengths()
    while state["epoch"] < p.epochs and not state["stopped"] and not p.out_of_time:
        batches = epoch_batches(lengths, bs, np.random.default_rng([s.seed, state["epoch"]]))
        t0, done_at_start = time.monotonic(), state["step"]
        while state["step"] < steps:
            idx = batches[state["step"]]
            x, y, w = p.train.batch(idx)
            loss = model.train_on_batch(x, y, sample_weight=w)
            state["loss_sum"] += float(np.asarray(loss).reshape(-1)[0])
            state["step"] += 1
            if p.hook:
                rate = (state["step"] - done_at_start) * bs / max(time.monotonic() - t0, 1e-9)
                p.hook(StepLog(p.name, state["epoch"] + 1, p.epochs, state["step"], steps,
                               state["loss_sum"] / state["step"], rate))
            if s.max_seconds is not None and time.monotonic() - p.started >= s.max_seconds:
                p.out_of_time = True  # a budget of this run only: a re-run carries on
                break
            if state["step"] % s.checkpoint_every == 0 and state["step"] < steps:
                _save(model, p.phase_dir, {**state, "seconds": p.elapsed()})
        _end_epoch(model, p)


def epoch_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator,
                  pool: int = 32) -> list[np.ndarray]:
    """One epoch's batches: shuffled, then sorted by length within pools of ``pool`` batches so each
    batch holds captions of similar length (less padding computed), batch order shuffled again."""
    order = rng.permutation(len(lengths))
    chunk = batch_size * pool
    batches = []
    for lo in range(0, len(order), chunk):
        part = order[lo:lo + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches += [np.sort(part[i:i + batch_size]) for i in range(0, len(part), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _end_epoch(model, p: _Phase) -> None:
    state = p.state
    t0 = time.monotonic()
    sample = p.train.subset(np.random.default_rng(p.settings.seed).permutation(len(p.train))[:TRAIN_EVAL_ROWS])
    train_loss = token_loss(model, sample)
    val_loss = token_loss(model, p.val) if p.val is not None and len(p.val) else None
    extra = token_loss(model, p.extra) if p.extra is not None and len(p.extra) else None
    best = state["best_val"]
    improved = val_loss is None or best is None or val_loss < best - 1e-4
    if improved:
        model.save_weights(p.phase_dir / "best.weights.h5")
        state.update(best_val=val_loss, best_extra=extra, best_epoch=state["epoch"] + 1, wait=0)
    else:
        state["wait"] += 1
    if p.settings.patience and state["wait"] >= p.settings.patience:
        state["stopped"] = True
    state.update(epoch=state["epoch"] + 1, step=0, loss_sum=0.0, train_loss=train_loss, seconds=p.elapsed())
    _save(model, p.phase_dir, state)
    log.info("epoch phase=%s epoch=%d train_loss=%.4f val_loss=%s extra_loss=%s", p.name, state["epoch"],
             train_loss, val_loss, extra)
    if p.hook:
        p.hook(EpochLog(p.name, state["epoch"], p.epochs, train_loss, val_loss, extra, improved,
                        time.monotonic() - t0))


def prefix_model(cfg: ModelConfig, result: PhaseResult):
    """The bundle's prefix-form model carrying a phase's best weights."""
    from generator.meme.model import build_prefix_model, copy_weights

    seq = build_sequence_model(cfg)
    seq.load_weights(result.best_weights)
    model = build_prefix_model(cfg)
    copy_weights(seq, model)
    return model
