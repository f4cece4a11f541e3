"""`memeloop train gpt2`: train or fine-tune the GPT-2 caption writer on a JSONL caption corpus."""
from __future__ import annotations

from pathlib import Path

import click

from bot.cli.types import bad_data_is_usage


@click.command(name="gpt2")
@click.option("--corpus", "corpus_file", required=True, type=click.Path(path_type=Path),
              help="JSON Lines file: one {tone, audience, topic, text} object per caption.")
@click.option("--out", "out_dir", required=True, type=click.Path(path_type=Path), help="Bundle folder to write.")
@click.option("--base", default=None,
              help="Fine-tune this model: a local folder, or 'gpt2' from the hub (needs a network). "
                   "Default: train a small GPT-2 and a byte-level BPE tokenizer from scratch, offline.")
@click.option("--epochs", default=8, show_default=True, type=int)
@click.option("--batch-size", default=16, show_default=True, type=int)
@click.option("--lr", default=3e-3, show_default=True, type=float)
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--threads", default=1, show_default=True, type=int, help="CPU threads for torch.")
@bad_data_is_usage
def command(corpus_file: Path, out_dir: Path, base: str | None, epochs: int, batch_size: int, lr: float,
            seed: int, threads: int) -> None:
    """Train the caption writer with <tone=..> <audience=..> <topic=..> control prefixes.

    \b
    Example: memeloop train gpt2 --corpus generator/textgen/corpus/captions.jsonl --out bundles/captions
    """
    import torch

    from generator.textgen.train import train

    torch.set_num_threads(threads)
    report = train(corpus_file, out_dir, base=base, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                   progress=True)
    click.echo(f"wrote {report.out_dir} version={report.version} captions={report.captions} "
               f"steps={report.steps} seconds={report.seconds:.0f} loss {report.first_loss:.3f} -> "
               f"{report.last_loss:.3f}")


if __name__ == "__main__":
    command()
