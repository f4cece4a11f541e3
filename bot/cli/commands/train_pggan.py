"""`memeloop train pggan`: train a progressive GAN on a folder of images and write a bundle."""
from __future__ import annotations

from pathlib import Path

import click

from bot.cli.types import bad_data_is_usage, power_of_two


@click.command(name="pggan")
@click.option("--images", "images_dir", required=True, type=click.Path(path_type=Path),
              help="Folder of training images (png/jpg/webp; searched recursively).")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path),
              help="Bundle folder to write (checkpoints go to OUT/checkpoint/).")
@click.option("--resolution", default=64, show_default=True, type=int, callback=power_of_two,
              help="Final resolution (power of two).")
@click.option("--latent-dim", default=128, show_default=True, type=int)
@click.option("--fmap-base", default=512, show_default=True, type=int, help="Feature-map budget (channels).")
@click.option("--fmap-max", default=128, show_default=True, type=int, help="Most channels in any layer.")
@click.option("--fmap-min", default=16, show_default=True, type=int,
              help="Fewest channels in any layer (the high resolutions have the fewest; they cost the most).")
@click.option("--batch-size", default=16, show_default=True, type=int)
@click.option("--images-per-phase", default="20000", show_default=True,
              help="Images shown per fade-in phase and per stable phase of each resolution: one number, or "
                   "one per resolution from 4 px up, comma-separated (e.g. 12000,12000,12000,12000,12000,8000).")
@click.option("--lr", default=1e-3, show_default=True, type=float)
@click.option("--domain", default="abstract textures", show_default=True,
              help="Short label of what the images show; conditions the captions.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--threads", default=1, show_default=True, type=int, help="CPU threads for TensorFlow.")
@click.option("--resume/--no-resume", default=True, show_default=True,
              help="Continue from OUT/checkpoint/ when it exists.")
@bad_data_is_usage
def command(images_dir: Path, out_dir: Path, resolution: int, latent_dim: int, fmap_base: int, fmap_max: int,
            fmap_min: int, batch_size: int, images_per_phase: str, lr: float, domain: str, seed: int, threads: int,
            resume: bool) -> None:
    """Train a progressive GAN (pixel norm, equalized lr, minibatch stddev, WGAN-GP, fade-in).

    \b
    Example: memeloop train pggan --images photos/ --out bundles/gan --resolution 64
    """
    try:
        counts = [int(part) for part in images_per_phase.split(",")]
    except ValueError:
        raise click.BadParameter(f"{images_per_phase!r} is not a number or a comma-separated list of numbers",
                                 param_hint="--images-per-phase") from None
    if len(counts) > 1 and resolution >= 4 and not resolution & (resolution - 1):
        from generator import BundleError
        from generator.pggan.train import per_level

        try:
            per_level(counts, resolution.bit_length() - 3)
        except BundleError as exc:
            raise click.BadParameter(str(exc), param_hint="--images-per-phase") from None
    from generator.frameworks import quiet_tensorflow

    quiet_tensorflow()
    import tensorflow as tf

    from generator.pggan.train import train

    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(threads)
    report = train(images_dir, out_dir, resolution=resolution, latent_dim=latent_dim, fmap_base=fmap_base,
                   fmap_max=fmap_max, fmap_min=fmap_min, batch_size=batch_size,
                   images_per_phase=counts[0] if len(counts) == 1 else counts, lr=lr,
                   domain=domain, seed=seed, resume=resume, progress=True)
    click.echo(f"wrote {report.out_dir} version={report.version} resolution={report.resolution} "
               f"steps={report.steps} seconds={report.seconds:.0f} d_loss={report.d_loss:.3f} "
               f"g_loss={report.g_loss:.3f}")


if __name__ == "__main__":
    command()
