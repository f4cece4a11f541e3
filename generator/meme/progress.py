"""What a training run shows and checks: a progress bar from the first batch, a memory check up front."""
from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path

from generator.meme.fit import EVAL_BATCH, EpochLog, Hook, StepLog, TrainError
from generator.meme.model import ModelConfig

BASE_BYTES = 900 * 2**20  # TensorFlow + Keras + NumPy in a training process, measured on CPU
GB = 2**30


def training_bytes(cfg: ModelConfig, batch_size: int, captions: int) -> int:
    """Peak memory a training run needs, estimated: runtime, weights x 5 (grads, Adam moments,
    checkpoint copy), a training batch's output-layer tensors x 6, an eval batch's x 3, the ids."""
    u, e, v, f = cfg.units, cfg.embed_dim, cfg.vocab_size, cfg.feature_dim
    params = f * u + u + v * e + (u + e) * 3 * u + u * 3 * u + 6 * u + u * v + v
    per_row = cfg.maxlen * v * 4
    return BASE_BYTES + params * 4 * 5 + batch_size * per_row * 6 + EVAL_BATCH * per_row * 3 \
        + captions * cfg.maxlen * 4 * 2


def available_bytes(meminfo: Path = Path("/proc/meminfo")) -> int | None:
    """MemAvailable in bytes, None where the kernel does not say."""
    try:
        for line in meminfo.read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def check_memory(needed: int, meminfo: Path = Path("/proc/meminfo")) -> None:
    """Refuse up front (TrainError with both figures) rather than die of out-of-memory later."""
    free = available_bytes(meminfo)
    if free is not None and free < needed:
        raise TrainError(f"not enough memory to train: needs about {needed / GB:.1f} GB, "
                         f"{free / GB:.1f} GB available (MemAvailable); free some or lower --batch-size")


def _bar_hook(bar) -> Hook:
    tasks: dict[str, int] = {}
    vals: dict[str, str] = {}

    def hook(entry: StepLog | EpochLog) -> None:
        if isinstance(entry, EpochLog):
            if entry.val_loss is not None:
                vals[entry.phase] = f" val={entry.val_loss:.3f}"
            return
        if entry.phase not in tasks:
            tasks[entry.phase] = bar.add_task(f"train {entry.phase}", total=entry.epochs * entry.steps, info="")
        done = (entry.epoch - 1) * entry.steps + entry.step
        info = (f"epoch {entry.epoch}/{entry.epochs} loss={entry.loss:.3f}{vals.get(entry.phase, '')} "
                f"{entry.captions_per_s:.0f} captions/s")
        bar.update(tasks[entry.phase], completed=done, info=info)

    return hook


@contextlib.contextmanager
def progress_hook(progress: bool | Callable[[StepLog | EpochLog], None]) -> Iterator[Hook | None]:
    """A hook for step and epoch logs: the caller's own, a rich progress bar (True), or none (False)."""
    if callable(progress) or not progress:
        yield progress or None
        return
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    with Progress(TextColumn("{task.description}"), BarColumn(bar_width=20), MofNCompleteColumn(), TextColumn("ETA"),
                  TimeRemainingColumn(), TextColumn("{task.fields[info]}")) as bar:
        yield _bar_hook(bar)
