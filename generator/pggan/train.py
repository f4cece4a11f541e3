"""Progressive GAN training: WGAN-GP losses, a fade-in/stable schedule per resolution, resumable checkpoints.

Reads top to bottom: schedule -> step functions -> checkpoint I/O -> the loop -> `train`.
Every step's randomness (batch, mirroring, latents, gradient-penalty mix) comes from
`default_rng([seed, step])`, so a resumed run continues exactly where the interrupted one was.
"""
from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator import BundleError
from generator.pggan import bundle as bundle_io
from generator.pggan.data import load_images, pyramid, real_batch

log = logging.getLogger(__name__)

CHECKPOINT_DIR = "checkpoint"


@dataclass(frozen=True)
class Phase:
    level: int
    fade: bool
    steps: int


@dataclass(frozen=True)
class TrainReport:
    out_dir: Path
    version: str
    resolution: int
    steps: int
    images_seen: int
    seconds: float
    resumed_from_step: int
    d_loss: float
    g_loss: float
    history: tuple[tuple[int, int, float, float], ...] = field(default=())  # (step, level, d, g)


def per_level(images_per_phase: int | Sequence[int], max_level: int) -> list[int]:
    """Images per phase for every level 0..max_level: one number for all, or one per level."""
    if isinstance(images_per_phase, int):
        counts = [images_per_phase] * (max_level + 1)
    else:
        counts = [int(n) for n in images_per_phase]
    if len(counts) != max_level + 1:
        raise BundleError(f"images_per_phase lists {len(counts)} levels; resolution needs one number or "
                          f"{max_level + 1} (4 px up to {4 * 2**max_level} px)")
    if min(counts) < 1:
        raise BundleError(f"images_per_phase={counts} must be positive")
    return counts


def schedule(max_level: int, images_per_phase: int | Sequence[int], batch_size: int) -> list[Phase]:
    """Level 0 trains once; every later level first fades in, then trains stable.

    `images_per_phase` is one count for every phase or one per level (the costly top levels may show
    fewer images than the cheap low ones)."""
    counts = per_level(images_per_phase, max_level)
    steps = [max(1, math.ceil(n / batch_size)) for n in counts]
    phases = [Phase(0, False, steps[0])]
    for level in range(1, max_level + 1):
        phases += [Phase(level, True, steps[level]), Phase(level, False, steps[level])]
    return phases


def phase_at(phases: list[Phase], step: int) -> tuple[int, Phase, float]:
    """(phase index, phase, alpha) for a global step; alpha rises linearly over a fade phase."""
    start = 0
    for i, phase in enumerate(phases):
        if step < start + phase.steps:
            alpha = (step - start + 1) / phase.steps if phase.fade else 1.0
            return i, phase, alpha
        start += phase.steps
    raise IndexError(step)


class Trainer:
    """Networks, optimizers and compiled steps. One fresh Adam pair per level, as in the paper."""

    def __init__(self, config, *, lr: float, gp_weight: float, ema_beta: float):
        import keras

        from generator.pggan.model import Discriminator, Generator

        self.keras = keras
        self.config, self.lr, self.gp_weight, self.ema_beta = config, lr, gp_weight, ema_beta
        self.g, self.g_ema, self.d = Generator(config), Generator(config), Discriminator(config)
        for net in (self.g, self.g_ema, self.d):
            net.build_all()
        for ema_var, var in zip(self.g_ema.weights, self.g.weights):
            ema_var.assign(var)
        self.level = -1
        self.steps: dict = {}

    def start_level(self, level: int) -> None:
        if level == self.level:
            return
        keras = self.keras
        make = lambda: keras.optimizers.Adam(self.lr, beta_1=0.0, beta_2=0.99, epsilon=1e-8)
        self.g_opt, self.d_opt = make(), make()
        self.g_opt.build(self.g.trainable_weights)
        self.d_opt.build(self.d.trainable_weights)
        self.level = level
        self.d_step, self.g_step = self._compile(level)

    def _compile(self, level: int):
        import tensorflow as tf

        g, d, ema, gp_weight, beta = self.g, self.d, self.g_ema, self.gp_weight, self.ema_beta

        def apply(opt, tape, loss, variables):
            grads = tape.gradient(loss, variables)
            opt.apply_gradients([(gr if gr is not None else tf.zeros_like(v), v)
                                 for gr, v in zip(grads, variables)])

        @tf.function
        def d_step(reals, z, mix, alpha):
            fakes = g(z, level=level, alpha=alpha)
            with tf.GradientTape() as tape:
                d_real = d(reals, level=level, alpha=alpha)
                d_fake = d(fakes, level=level, alpha=alpha)
                between = reals + (fakes - reals) * mix
                with tf.GradientTape() as gp_tape:
                    gp_tape.watch(between)
                    d_between = d(between, level=level, alpha=alpha)
                grad = gp_tape.gradient(d_between, between)  # implicit sum over the batch
                norm = tf.sqrt(tf.reduce_sum(tf.square(grad), axis=[1, 2, 3]) + 1e-8)
                wgan = tf.reduce_mean(d_fake) - tf.reduce_mean(d_real)
                loss = wgan + gp_weight * tf.reduce_mean(tf.square(norm - 1.0)) \
                    + 1e-3 * tf.reduce_mean(tf.square(d_real))
            apply(self.d_opt, tape, loss, d.trainable_weights)
            return loss, wgan

        @tf.function
        def g_step(z, alpha):
            with tf.GradientTape() as tape:
                loss = -tf.reduce_mean(d(g(z, level=level, alpha=alpha), level=level, alpha=alpha))
            apply(self.g_opt, tape, loss, g.trainable_weights)
            for ema_var, var in zip(ema.weights, g.weights):
                ema_var.assign(beta * ema_var + (1.0 - beta) * var)
            return loss

        return d_step, g_step

    def run_step(self, levels, phase: Phase, alpha: float, rng: np.random.Generator, batch: int):
        self.start_level(phase.level)
        reals = real_batch(levels, phase.level, alpha, rng, batch)
        z = rng.standard_normal((batch, self.config.latent_dim)).astype(np.float32)
        mix = rng.random((batch, 1, 1, 1)).astype(np.float32)
        z_g = rng.standard_normal((batch, self.config.latent_dim)).astype(np.float32)
        a = np.float32(alpha)
        d_loss, _ = self.d_step(reals, z, mix, a)
        g_loss = self.g_step(z_g, a)
        return float(d_loss), float(g_loss)

    # -- checkpoints ---------------------------------------------------------------------------
    def state_arrays(self) -> list[np.ndarray]:
        nets = [v.numpy() for net in (self.g, self.g_ema, self.d) for v in net.weights]
        opts = [v.numpy() for opt in (self.g_opt, self.d_opt) for v in opt.variables]
        return nets + opts

    def load_state(self, arrays: list[np.ndarray], level: int) -> None:
        self.start_level(level)
        targets = [v for net in (self.g, self.g_ema, self.d) for v in net.weights]
        targets += [v for opt in (self.g_opt, self.d_opt) for v in opt.variables]
        if len(targets) != len(arrays) or any(tuple(t.shape) != a.shape for t, a in zip(targets, arrays)):
            raise BundleError("checkpoint does not match the network; remove it or pass resume=False")
        for target, value in zip(targets, arrays):
            target.assign(value)


def save_checkpoint(folder: Path, trainer: Trainer, state: dict) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    tmp = folder / "state.tmp.npz"
    np.savez(tmp, *trainer.state_arrays())
    tmp.replace(folder / "state.npz")
    (folder / "progress.tmp.json").write_text(json.dumps(state, indent=2))
    (folder / "progress.tmp.json").replace(folder / "progress.json")


def load_checkpoint(folder: Path, trainer: Trainer, expected: dict) -> dict | None:
    progress_path, state_path = folder / "progress.json", folder / "state.npz"
    if not (progress_path.is_file() and state_path.is_file()):
        return None
    state = json.loads(progress_path.read_text())
    if state.get("settings") != expected:
        raise BundleError(f"checkpoint {folder} was made with other settings {state.get('settings')}; "
                          "remove it or pass resume=False")
    with np.load(state_path) as npz:
        arrays = [npz[f"arr_{i}"] for i in range(len(npz.files))]
    trainer.load_state(arrays, state["level"])
    log.info("checkpoint_resumed folder=%s step=%d", folder, state["step"])
    return state


def _progress(enabled: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(
        TextColumn("[bold]pggan[/] {task.fields[res]:>3}px alpha={task.fields[alpha]:.2f}"),
        BarColumn(), MofNCompleteColumn(),
        TextColumn("d={task.fields[d]:+.3f} g={task.fields[g]:+.3f} {task.fields[ips]:.0f} img/s"),
        TimeRemainingColumn(), disable=not enabled,
    )


def _loop(trainer: Trainer, levels, phases: list[Phase], *, start: int, stop: int, seed: int, batch: int,
          checkpoint: Path, checkpoint_every: int, settings: dict, progress: bool, prior_seconds: float):
    started = time.perf_counter()
    total = sum(p.steps for p in phases)
    history: list[tuple[int, int, float, float]] = []
    d_loss = g_loss = float("nan")
    tick, tick_step = time.perf_counter(), start
    with _progress(progress) as bar:
        task = bar.add_task("train", total=total, completed=start, res=4, alpha=1.0, d=0.0, g=0.0, ips=0.0)
        for step in range(start, stop):
            index, phase, alpha = phase_at(phases, step)
            rng = np.random.default_rng([seed, step])
            d_loss, g_loss = trainer.run_step(levels, phase, alpha, rng, batch)
            history.append((step, phase.level, d_loss, g_loss))
            now = time.perf_counter()
            ips = (step + 1 - tick_step) * batch / max(now - tick, 1e-9)
            bar.update(task, completed=step + 1, res=4 * 2**phase.level, alpha=alpha, d=d_loss, g=g_loss,
                       ips=ips)
            last_of_phase = step + 1 == sum(p.steps for p in phases[: index + 1])
            if last_of_phase or (step + 1) % checkpoint_every == 0 or step + 1 == stop:
                save_checkpoint(checkpoint, trainer, {"step": step + 1, "level": phase.level, "settings": settings,
                                                     "seconds": round(prior_seconds + now - started, 1)})
                if last_of_phase:
                    log.info("phase_done level=%d fade=%s step=%d d_loss=%.4f g_loss=%.4f img_per_s=%.1f",
                             phase.level, phase.fade, step + 1, d_loss, g_loss, ips)
            if now - tick > 10:
                tick, tick_step = now, step + 1
    return history, d_loss, g_loss


def train(images_dir: str | Path, out_dir: str | Path, *, resolution: int = 64, latent_dim: int = 128,
          fmap_base: int = 512, fmap_max: int = 128, fmap_min: int = 16, batch_size: int = 16,
          images_per_phase: int | Sequence[int] = 20_000,
          lr: float = 1e-3, gp_weight: float = 10.0, ema_beta: float = 0.995,
          domain: str = "abstract textures", checkpoint_every: int = 200, seed: int = 0,
          resume: bool = True, max_steps: int | None = None, progress: bool = True) -> TrainReport:
    """Train a PGGAN up to `resolution` on the images in `images_dir` and write a bundle to `out_dir`.

    Checkpoints go to `out_dir/checkpoint/` at every phase end and every `checkpoint_every` steps; with
    `resume=True` an interrupted run continues from the last one (same settings required).
    `max_steps` stops this run early (checkpoint and bundle are still written), for time-boxed runs.
    """
    import keras

    from generator.pggan.model import PGGANConfig

    config = PGGANConfig(resolution=resolution, latent_dim=latent_dim, fmap_base=fmap_base, fmap_max=fmap_max,
                         fmap_min=fmap_min)
    images = load_images(images_dir, resolution)
    out, started = Path(out_dir), time.perf_counter()
    counts = per_level(images_per_phase, config.max_level)
    phase_images: int | list[int] = counts[0] if len(set(counts)) == 1 else counts
    settings = {"config": config.to_dict(), "batch_size": batch_size, "images_per_phase": phase_images,
                "lr": lr, "gp_weight": gp_weight, "ema_beta": ema_beta, "seed": seed}
    keras.utils.set_random_seed(seed)
    trainer = Trainer(config, lr=lr, gp_weight=gp_weight, ema_beta=ema_beta)
    phases = schedule(config.max_level, counts, batch_size)
    checkpoint = out / CHECKPOINT_DIR
    state = load_checkpoint(checkpoint, trainer, settings) if resume else None
    start = state["step"] if state else 0
    total = sum(p.steps for p in phases)
    stop = total if max_steps is None else min(total, start + max_steps)
    history, d_loss, g_loss = _loop(trainer, pyramid(images, config.max_level), phases, start=start, stop=stop,
                                    seed=seed,
                                    batch=batch_size, checkpoint=checkpoint, checkpoint_every=checkpoint_every,
                                    settings=settings, progress=progress,
                                    prior_seconds=float(state.get("seconds", 0.0)) if state else 0.0)
    seconds = time.perf_counter() - started
    prior = float(state.get("seconds", 0.0)) if state else 0.0
    meta = {"images": len(images), "steps": stop, "batch_size": batch_size, "seconds_this_run": round(seconds, 1),
            "seconds_all_runs": round(prior + seconds, 1),
            "images_per_phase": phase_images, "seed": seed}
    version = bundle_io.save_bundle(out, config, [v.numpy() for v in trainer.g_ema.weights], domain=domain,
                                    meta=meta)
    log.info("pggan_trained out=%s version=%s steps=%d seconds=%.1f", out, version, stop, seconds)
    return TrainReport(out, version, resolution, stop, (stop - start) * batch_size, seconds, start,
                       d_loss, g_loss, tuple(history))
