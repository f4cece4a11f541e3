"""Fine-tune or train a GPT-2 caption writer with tone/audience/topic control prefixes.

With `base` (a local model folder, or "gpt2" from the hub for users with a network) the pretrained
model and its tokenizer are fine-tuned after adding the control tokens. Without it (offline), a
byte-level BPE tokenizer is trained with `tokenizers` and a small GPT-2 is built from a GPT2Config.
"""
from __future__ import annotations

import json
import logging
import math
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from generator import BundleError
from generator.textgen.corpus_io import EOS, Example, control_tokens, read_corpus, training_text
from generator.textgen.writer import FORMAT, META_FILE, bundle_version

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TrainReport:
    out_dir: Path
    version: str
    captions: int
    steps: int
    seconds: float
    first_loss: float
    last_loss: float
    losses: tuple[float, ...] = field(default=())


@dataclass(frozen=True)
class TinyGPT2:
    """Size of the offline model (ignored when fine-tuning a `base`)."""

    vocab_size: int = 1200
    n_positions: int = 96
    n_embd: int = 128
    n_layer: int = 3
    n_head: int = 4


def _train_tokenizer(texts: list[str], specials: list[str], vocab_size: int):
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=[EOS, *specials], show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer=trainer)
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=EOS, bos_token=EOS, unk_token=EOS,
                                   pad_token=EOS, additional_special_tokens=specials)


def _from_base(base: str, specials: list[str]):
    from transformers import AutoTokenizer, GPT2LMHeadModel

    if Path(base).is_dir():
        os.environ["HF_HUB_OFFLINE"] = "1"  # a local folder must never fall through to the hub
    tokenizer = AutoTokenizer.from_pretrained(base)
    tokenizer.add_special_tokens({"additional_special_tokens": specials})
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = GPT2LMHeadModel.from_pretrained(base)
    model.resize_token_embeddings(len(tokenizer))
    return tokenizer, model


def _fresh(texts: list[str], specials: list[str], size: TinyGPT2):
    from transformers import GPT2Config, GPT2LMHeadModel

    tokenizer = _train_tokenizer(texts, specials, size.vocab_size)
    config = GPT2Config(vocab_size=len(tokenizer), n_positions=size.n_positions, n_embd=size.n_embd,
                        n_layer=size.n_layer, n_head=size.n_head, bos_token_id=tokenizer.eos_token_id,
                        eos_token_id=tokenizer.eos_token_id)
    return tokenizer, GPT2LMHeadModel(config)


def _batches(encoded: list[list[int]], batch_size: int, pad_id: int, rng):
    import torch

    order = rng.permutation(len(encoded))
    for start in range(0, len(order), batch_size):
        rows = [encoded[i] for i in order[start:start + batch_size]]
        width = max(len(r) for r in rows)
        ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row)
            mask[i, : len(row)] = 1
        labels = ids.masked_fill(mask == 0, -100)
        yield ids, mask, labels


def _progress(enabled: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

    return Progress(TextColumn("[bold]gpt2[/] epoch {task.fields[epoch]}"), BarColumn(), MofNCompleteColumn(),
                    TextColumn("loss={task.fields[loss]:.3f} {task.fields[tps]:.0f} tok/s"),
                    TimeRemainingColumn(), disable=not enabled)


def fit(model, encoded: list[list[int]], pad_id: int, *, epochs: int, batch_size: int, lr: float, seed: int,
        progress: bool) -> list[float]:
    """Plain AdamW loop with linear warm-up and cosine decay; returns the loss of every step."""
    import numpy as np
    import torch

    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    steps = epochs * math.ceil(len(encoded) / batch_size)
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=0.01)
    warm = max(1, steps // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    losses: list[float] = []
    model.train()
    started = time.perf_counter()
    tokens = 0
    with _progress(progress) as bar:
        task = bar.add_task("fit", total=steps, epoch=1, loss=0.0, tps=0.0)
        for epoch in range(epochs):
            for ids, mask, labels in _batches(encoded, batch_size, pad_id, rng):
                loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
                opt.zero_grad()
                loss.backward()
                torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
                opt.step()
                sched.step()
                losses.append(loss.item())
                tokens += int(mask.sum())
                bar.update(task, advance=1, epoch=epoch + 1, loss=losses[-1],
                           tps=tokens / max(time.perf_counter() - started, 1e-9))
    model.eval()
    return losses


def save_bundle(out: Path, tokenizer, model, examples: list[Example], meta: dict) -> str:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    doc = {"format": FORMAT, "tones": sorted({e.tone for e in examples}),
           "audiences": sorted({e.audience for e in examples}), "topics": sorted({e.topic for e in examples}),
           "trained": meta}
    (out / META_FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return bundle_version(out)


def train(corpus_file: str | Path, out_dir: str | Path, *, base: str | None = None, size: TinyGPT2 = TinyGPT2(),
          epochs: int = 8, batch_size: int = 16, lr: float = 3e-3, seed: int = 0,
          progress: bool = True) -> TrainReport:
    """Train a caption writer on a JSONL corpus and write a bundle to `out_dir`."""
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    examples = read_corpus(corpus_file)
    started = time.perf_counter()
    torch.manual_seed(seed)
    texts = [training_text(e) for e in examples]
    specials = control_tokens(sorted({e.tone for e in examples}), sorted({e.audience for e in examples}))
    tokenizer, model = _from_base(base, specials) if base else _fresh(texts, specials, size)
    limit = model.config.n_positions
    encoded = [tokenizer(t)["input_ids"][:limit] for t in texts]
    if base is None and any(len(tokenizer(t)["input_ids"]) > limit for t in texts):
        log.warning("captions_truncated corpus=%s n_positions=%d", corpus_file, limit)
    losses = fit(model, encoded, tokenizer.pad_token_id, epochs=epochs, batch_size=batch_size, lr=lr, seed=seed,
                 progress=progress)
    if not losses or not all(math.isfinite(x) for x in losses[-5:]):
        raise BundleError(f"training on {corpus_file} diverged (last losses {losses[-5:]})")
    seconds = time.perf_counter() - started
    meta = {"base": base or "offline-bpe", "captions": len(examples), "epochs": epochs, "steps": len(losses),
            "seed": seed, "seconds": round(seconds, 1), "final_loss": round(losses[-1], 4)}
    version = save_bundle(Path(out_dir), tokenizer, model, examples, meta)
    log.info("gpt2_trained out=%s version=%s steps=%d seconds=%.1f loss=%.3f", out_dir, version, len(losses),
             seconds, losses[-1])
    return TrainReport(Path(out_dir), version, len(examples), len(losses), seconds, losses[0], losses[-1],
                       tuple(losses))
