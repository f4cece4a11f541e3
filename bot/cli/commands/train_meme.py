"""`memeloop train meme` and `memeloop data import-memefly`: thin shells over generator.meme."""
from __future__ import annotations

from pathlib import Path

import click

from bot.cli.types import bad_data_is_usage

ENCODERS = ("efficientnet_lite0", "inception_v3")  # generator.meme.encoders.ENCODERS, kept import-free


@click.command("meme")
@click.option("--data", "data_dir", type=click.Path(path_type=Path, file_okay=False, exists=True), required=True,
              help="Data set folder: a folder per template (image + template.toml) and captions.jsonl.")
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Bundle folder to write (training checkpoints go to OUT/train_state).")
@click.option("--encoder", type=click.Choice(ENCODERS), default="efficientnet_lite0", show_default=True,
              help="Image encoder; inception_v3 downloads ImageNet weights once (needs a network).")
@click.option("--encoder-weights", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Local weights file for the encoder (e.g. InceptionV3 .h5 when offline).")
@click.option("--epochs", type=click.IntRange(min=1), default=40, show_default=True,
              help="Most epochs of the model-selection phase (early stopping usually ends it sooner).")
@click.option("--final-epochs", type=click.IntRange(min=1), default=None,
              help="Epochs of the refit on all templates [default: the selected best epoch].")
@click.option("--batch-size", type=click.IntRange(min=1), default=32, show_default=True)
@click.option("--patience", type=click.IntRange(min=0), default=4, show_default=True,
              help="Epochs without caption-split improvement before stopping (0 = never stop early).")
@click.option("--learning-rate", type=click.FloatRange(min=0, min_open=True), default=2e-3, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="CPU threads (run-time only: changing it never restarts training).")
@click.option("--checkpoint-every", type=click.IntRange(min=1), default=200, show_default=True,
              help="Steps between mid-epoch checkpoints (a re-run resumes from the last one).")
@click.option("--max-minutes", type=click.FloatRange(min=0, min_open=True), default=None,
              help="Stop each phase of this run after this long (a re-run carries on).")
@click.option("--resume/--no-resume", default=True, show_default=True,
              help="Continue from OUT/train_state when it matches the data and settings.")
@bad_data_is_usage
def command(data_dir: Path, out_dir: Path, encoder: str, encoder_weights: Path | None, epochs: int,
            final_epochs: int | None, batch_size: int, patience: int, learning_rate: float, seed: int, threads: int,
            checkpoint_every: int, max_minutes: float | None, resume: bool) -> None:
    """Train the meme captioner and write a bundle (model.keras, vocab.json, config.json, weights.npz).

    Validation holds out a share of the captions (caption split, early stopping) and whole
    templates (template split); the summary shows both perplexities next to unigram baselines.
    Memory is checked up front; checkpoints every --checkpoint-every steps; a re-run resumes.

    Example: memeloop train meme --data generator/meme/demo_data --out generator/meme/demo_bundle
    """
    from generator.meme.train import train

    report = train(data_dir, out_dir, encoder=encoder, epochs=epochs, batch_size=batch_size, patience=patience,
                   learning_rate=learning_rate, seed=seed, resume=resume, progress=True, threads=threads,
                   final_epochs=final_epochs, encoder_weights=encoder_weights, checkpoint_every=checkpoint_every,
                   max_seconds=max_minutes * 60 if max_minutes else None)
    _summary(report)


def _summary(report) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"meme bundle written to {report.bundle_dir}", show_header=False)
    rows = [
        ("encoder", report.encoder),
        ("templates (held out)", f"{report.templates} ({', '.join(report.val_templates)})"),
        ("captions train / held out", f"{report.train_captions} / {report.val_captions}"),
        ("vocabulary", str(report.vocab_size)),
        ("best epoch / epochs run", f"{report.best_epoch} / {report.epochs_run}"),
        ("caption-split loss (nats/token)", f"{report.val_loss:.4f}"),
        ("caption-split perplexity / unigram", f"{report.val_ppl:.2f} / {report.unigram_ppl:.2f}"),
        ("template-split perplexity / unigram", f"{report.template_ppl:.2f} / {report.template_unigram_ppl:.2f}"),
        ("final train loss", f"{report.train_loss:.4f}"),
        ("skipped rows", _skipped(report)),
        ("resumed", "yes" if report.resumed else "no"),
        ("memory estimate", f"{report.memory_needed / 2**30:.1f} GB"),
        ("time", f"{report.seconds:.0f} s this run, {report.train_seconds:.0f} s of training over all runs"),
    ]
    for key, value in rows:
        table.add_row(key, value)
    Console().print(table)


def _skipped(report) -> str:
    if not report.skipped_total:
        return "0"
    counts = ", ".join(f"{reason}: {n}" for reason, n in sorted(report.skipped.items()))
    return f"{report.skipped_total} ({counts}); first: {'; '.join(report.skipped_examples)}"


@click.command("import-memefly")
@click.argument("json_path", metavar="JSON", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--out", "out_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Data set folder to write (a folder per template + captions.jsonl).")
@click.option("--images", "images_dir", type=click.Path(path_type=Path, file_okay=False, exists=True),
              default=None, help="Folder holding the template images [default: the JSON file's folder].")
@bad_data_is_usage
def import_memefly(json_path: Path, out_dir: Path, images_dir: Path | None) -> None:
    """Convert a memefly-style JSON file (meme_name, meme_bounding_box, meme_text) into a data set.

    Images are never downloaded: put each template's image next to the JSON (named like its
    meme_url file or <meme_name>.jpg) or point --images at them.

    Example: memeloop data import-memefly memes.json --out data/memes --images memes/
    """
    from generator.meme.memefly import import_memefly as run_import

    report = run_import(json_path, out_dir, images_dir)
    click.echo(f"imported {report.templates} templates, {report.captions} captions into {report.out_dir}")
    if report.skipped:
        counts = ", ".join(f"{reason}: {n}" for reason, n in sorted(report.skipped.items()))
        click.echo(f"skipped {sum(report.skipped.values())} ({counts}); first: {'; '.join(report.skipped_examples)}")
