"""`memeloop train gpt2`: train the caption writer on a JSONL corpus, or fine-tune it on your own
captions (a text file, or an account's published posts) and install the result as a model id."""
from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.cli import CliState, config_option, pass_state
from bot.cli.types import bad_data_is_usage


def _progress_printer():
    """Prints the first steps one by one, then about every 5% (progress shows from the first batch)."""
    def show(step) -> None:
        every = max(1, step.total // 20)
        if step.step <= 3 or step.step % every == 0 or step.step == step.total:
            resumed = f" (resumed at {step.resumed_from})" if step.resumed_from else ""
            click.echo(f"gpt2 step {step.step}/{step.total} loss={step.loss:.3f} {step.tokens_per_s:.0f} tok/s "
                       f"{step.seconds:.0f}s{resumed}", err=True)
            sys.stderr.flush()

    return show


@click.command(name="gpt2")
@click.option("--corpus", "corpus_file", type=click.Path(path_type=Path),
              help="JSON Lines file: one {tone, audience, topic, text} object per caption (trains a bundle, --out).")
@click.option("--captions", "captions_file", type=click.Path(path_type=Path),
              help="Your captions, one per line: fine-tune the writer in your voice (installed as --name).")
@click.option("--from-account", "account", help="Fine-tune on this account's published posts (installed as --name).")
@click.option("--out", "out_dir", type=click.Path(path_type=Path), help="Bundle folder to write (--corpus).")
@click.option("--name", "model_id", default="voice", show_default=True,
              help="Model id the fine-tuned writer is installed as (set [generator.post] writer_model to use it).")
@click.option("--base", default=None,
              help="Start from this: an installed model id or a bundle folder (fine-tuning; default: the installed "
                   "gpt2, then distilgpt2, else the demo writer), or with --corpus a local folder or 'gpt2' from "
                   "the hub (needs a network).")
@click.option("--tone", default="own", show_default=True, help="Control tone your captions are learned under "
                                                                   "(the fine-tuned writer's default).")
@click.option("--audience", default="general", show_default=True, help="Control audience of your captions.")
@click.option("--epochs", type=int, help="Passes over the captions [default: 8 with --corpus, 3 fine-tuning].")
@click.option("--steps", "max_steps", type=int, help="Stop after this many optimiser steps (fine-tuning).")
@click.option("--batch-size", type=int, help="Captions per step [default: 16 with --corpus, 8 fine-tuning].")
@click.option("--max-tokens", default=64, show_default=True, type=int,
              help="Tokens kept per caption when fine-tuning (bounds memory).")
@click.option("--lr", type=float, help="Learning rate [default: 3e-3 with --corpus; fine-tuning 1e-4 for GPT-2 "
                                       "sizes, 1e-3 for the demo writer].")
@click.option("--checkpoint-every", default=50, show_default=True, type=int,
              help="Steps between resumable checkpoints (fine-tuning).")
@click.option("--fresh", is_flag=True, help="Ignore a checkpoint of an interrupted run and start over.")
@click.option("--seed", default=0, show_default=True, type=int)
@click.option("--threads", default=1, show_default=True, type=int, help="CPU threads for torch.")
@config_option
@pass_state
@bad_data_is_usage
def command(state: CliState, corpus_file: Path | None, captions_file: Path | None, account: str | None,
            out_dir: Path | None, model_id: str, base: str | None, tone: str, audience: str, epochs: int | None,
            max_steps: int | None, batch_size: int | None, max_tokens: int, lr: float | None,
            checkpoint_every: int, fresh: bool, seed: int, threads: int) -> None:
    """Train the caption writer with <tone=..> <audience=..> <topic=..> control prefixes, or fine-tune
    it on your own captions.

    \b
    Example: memeloop train gpt2 --captions my-captions.txt --name myvoice
    Example: memeloop train gpt2 --from-account demo --name demovoice --steps 200
    Example: memeloop train gpt2 --corpus generator/textgen/corpus/captions.jsonl --out bundles/captions
    """
    from bot.errors import UsageError

    sources = [s for s in (corpus_file, captions_file, account) if s is not None]
    if len(sources) != 1:
        raise UsageError("give one of --corpus FILE, --captions FILE or --from-account NAME")
    for name, value in (("--epochs", epochs), ("--steps", max_steps), ("--batch-size", batch_size),
                        ("--max-tokens", max_tokens), ("--checkpoint-every", checkpoint_every),
                        ("--threads", threads)):
        if value is not None and value < 1:
            raise UsageError(f"{name} must be at least 1, not {value}")
    import torch

    torch.set_num_threads(threads)
    if corpus_file is not None:
        if out_dir is None:
            raise UsageError("--corpus needs --out FOLDER")
        from generator.textgen.train import train

        report = train(corpus_file, out_dir, base=base, epochs=epochs or 8, batch_size=batch_size or 16,
                       lr=lr or 3e-3, seed=seed, progress=True)
        click.echo(f"wrote {report.out_dir} version={report.version} captions={report.captions} "
                   f"steps={report.steps} seconds={report.seconds:.0f} loss {report.first_loss:.3f} -> "
                   f"{report.last_loss:.3f}")
        return
    _finetune(state, captions_file, account, model_id=model_id, base=base, tone=tone, audience=audience,
              epochs=epochs, max_steps=max_steps, batch_size=batch_size, max_tokens=max_tokens, lr=lr,
              checkpoint_every=checkpoint_every, fresh=fresh, seed=seed)


def _finetune(state: CliState, captions_file: Path | None, account: str | None, *, model_id: str,
              base: str | None, tone: str, audience: str, epochs: int | None, max_steps: int | None,
              batch_size: int | None, max_tokens: int, lr: float | None, checkpoint_every: int, fresh: bool,
              seed: int) -> None:
    from bot.core.modelstore import data_dir
    from bot.service.voice import choose_base, default_lr, train_voice
    from generator.textgen.finetune import Settings, read_caption_lines

    root = data_dir(state.config())
    if captions_file is not None:
        texts = read_caption_lines(captions_file)
    else:
        assert account is not None
        texts = state.app().account_captions(account)
    base_name, base_dir = choose_base(root, base)
    settings = Settings(epochs=epochs or 3, max_steps=max_steps, batch_size=batch_size or 8, max_tokens=max_tokens,
                        lr=lr or default_lr(base_dir), seed=seed, checkpoint_every=checkpoint_every)
    click.echo(f"fine-tuning {base_name} on {len([t for t in texts if t.strip()])} captions "
               f"(tone={tone}, audience={audience})", err=True)
    result = train_voice(root, texts, name=model_id, base=base, tone=tone, audience=audience, settings=settings,
                         fresh=fresh, on_step=_progress_printer())
    r = result.report
    click.echo(f"installed {result.model.id} at {result.model.path}: {r.captions} captions, {r.steps} steps"
               + (f" (resumed at {r.resumed_from})" if r.resumed_from else "")
               + f", loss {r.first_loss:.3f} -> {r.last_loss:.3f}, {r.seconds:.0f}s; "
               f"use it with [generator.post] writer_model = \"{result.model.id}\"")
