"""Fine-tune a caption writer on a user's own captions: the user's voice.

Starts from a writer bundle (an installed GPT-2, or the shipped demo writer), labels the captions
with a control prefix (``<tone=own>`` by default, which becomes the bundle's default tone), and
trains with bounded memory: each caption is cut to ``max_tokens`` tokens, batches are built one at
a time, and the optimiser state is the only copy of the model beside the weights. Every
``checkpoint_every`` steps the weights, optimiser, scheduler and position are written atomically to
``checkpoint_dir``; a run started again with the same captions and settings resumes there.
"""
from __future__ import annotations

import hashlib
import json
import logging
import math
import shutil
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from generator import BundleError, DataError
from generator.textgen.corpus_io import EOS, Example, control_tokens, training_text
from generator.textgen.writer import FORMAT, META_FILE, bundle_version

log = logging.getLogger(__name__)

MIN_CAPTIONS = 8
STATE_FILE = "state.json"
OPTIMIZER_FILE = "optimizer.pt"


@dataclass(frozen=True)
class Settings:
    epochs: int = 3
    max_steps: int | None = None  # stop after this many optimiser steps (None = all epochs)
    batch_size: int = 8
    max_tokens: int = 64  # a caption longer than this (control prefix included) is cut
    lr: float = 5e-5
    seed: int = 0
    checkpoint_every: int = 50

    def key(self) -> dict:
        return {"epochs": self.epochs, "max_steps": self.max_steps, "batch_size": self.batch_size,
                "max_tokens": self.max_tokens, "lr": self.lr, "seed": self.seed}


@dataclass(frozen=True)
class Step:
    """What the progress callback sees after every optimiser step."""

    step: int
    total: int
    loss: float
    tokens_per_s: float
    seconds: float
    resumed_from: int


@dataclass(frozen=True)
class FinetuneReport:
    out_dir: Path
    version: str
    captions: int
    steps: int
    resumed_from: int
    seconds: float
    tokens: int
    first_loss: float
    last_loss: float


def examples_from_texts(texts: Sequence[str], *, tone: str, audience: str, topic: str = "general") -> list[Example]:
    """The user's captions as training examples under one control prefix; blank lines are skipped,
    control tokens in a caption are refused (they would teach the model to write them)."""
    out = []
    for i, text in enumerate(texts, 1):
        text = " ".join(text.split())
        if not text:
            continue
        if EOS in text or "<tone=" in text or "<audience=" in text:
            raise DataError(f"caption {i} contains a control token ({text[:40]!r})")
        out.append(Example(tone, audience, topic, text))
    if len(out) < MIN_CAPTIONS:
        raise DataError(f"{len(out)} captions; fine-tuning needs at least {MIN_CAPTIONS}")
    return out


def read_caption_lines(path: str | Path) -> list[str]:
    """One caption per line of a UTF-8 text file."""
    file = Path(path)
    if not file.is_file():
        raise DataError(f"captions file {file} does not exist or is not a file")
    try:
        return file.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise DataError(f"captions file {file} is not UTF-8 text ({exc.reason} at byte {exc.start})") from None


def _load_base(base: Path, specials: list[str]):
    from transformers import AutoTokenizer, GPT2LMHeadModel

    meta_path = base / META_FILE
    meta = json.loads(meta_path.read_text()) if meta_path.is_file() else {}
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    new = [s for s in specials if s not in tokenizer.get_vocab()]
    if new:
        tokenizer.add_special_tokens({"additional_special_tokens": new})
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = GPT2LMHeadModel.from_pretrained(base, local_files_only=True)
    if len(tokenizer) > int(model.config.vocab_size):
        model.resize_token_embeddings(len(tokenizer))
    return tokenizer, model, meta


def _order(n: int, settings: Settings, epoch: int) -> list[int]:
    import numpy as np

    return np.random.default_rng([settings.seed, epoch]).permutation(n).tolist()


def _batches(encoded: list[list[int]], settings: Settings, pad_id: int, skip: int) -> Iterator[tuple]:
    """(ids, mask, labels) per step in a fixed seeded order; the first ``skip`` steps are passed over
    without building them (a resumed run sees exactly the batches it had not seen)."""
    import torch

    per_epoch = math.ceil(len(encoded) / settings.batch_size)
    step = 0
    for epoch in range(settings.epochs):
        order = _order(len(encoded), settings, epoch)
        for start in range(0, per_epoch * settings.batch_size, settings.batch_size):
            step += 1
            if step <= skip:
                continue
            rows = [encoded[i] for i in order[start:start + settings.batch_size]]
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, row in enumerate(rows):
                ids[i, : len(row)] = torch.tensor(row)
                mask[i, : len(row)] = 1
            yield ids, mask, ids.masked_fill(mask == 0, -100)


def _digest(encoded: list[list[int]], settings: Settings, base_version: str) -> str:
    h = hashlib.sha256(json.dumps([settings.key(), base_version]).encode())
    for row in encoded:
        h.update(b"," .join(str(t).encode() for t in row) + b";")
    return h.hexdigest()[:16]


def _save_checkpoint(folder: Path, model, tokenizer, opt, sched, state: dict) -> None:
    import torch

    tmp = folder.with_name(folder.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    model.save_pretrained(tmp)
    tokenizer.save_pretrained(tmp)
    torch.save({"optimizer": opt.state_dict(), "scheduler": sched.state_dict(), "rng": torch.get_rng_state()},
               tmp / OPTIMIZER_FILE)
    (tmp / STATE_FILE).write_text(json.dumps(state))
    old = folder.with_name(folder.name + ".old")
    if folder.exists():
        folder.rename(old)
    tmp.rename(folder)
    shutil.rmtree(old, ignore_errors=True)


def _resume_state(folder: Path | None, digest: str) -> dict | None:
    if folder is None or not (folder / STATE_FILE).is_file():
        return None
    state = json.loads((folder / STATE_FILE).read_text())
    if state.get("digest") != digest:
        log.warning("checkpoint_ignored folder=%s reason=other captions or settings", folder)
        return None
    return state


def finetune(examples: Sequence[Example], base: Path, out_dir: Path, *, settings: Settings = Settings(),
             checkpoint_dir: Path | None = None, default_tone: str | None = None,
             on_step: Callable[[Step], None] | None = None) -> FinetuneReport:
    """Fine-tune the writer bundle ``base`` on ``examples`` and write the new bundle to ``out_dir``."""
    import torch
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    started = time.perf_counter()
    torch.manual_seed(settings.seed)
    tones = sorted({e.tone for e in examples})
    audiences = sorted({e.audience for e in examples})
    tokenizer, model, base_meta = _load_base(base, control_tokens(tones, audiences))
    limit = min(settings.max_tokens, model.config.n_positions)
    encoded = [tokenizer(training_text(e))["input_ids"][:limit] for e in examples]
    digest = _digest(encoded, settings, bundle_version(base))
    state = _resume_state(checkpoint_dir, digest)
    if state is not None:
        assert checkpoint_dir is not None
        from transformers import GPT2LMHeadModel

        model = GPT2LMHeadModel.from_pretrained(checkpoint_dir, local_files_only=True)
    total = settings.epochs * math.ceil(len(encoded) / settings.batch_size)
    total = min(total, settings.max_steps) if settings.max_steps else total
    # foreach=False: the update runs parameter by parameter instead of on copies of all of them at once
    # (a 124M GPT-2 peaks about a weight-copy lower; bench/finetune.py)
    opt = torch.optim.AdamW(model.parameters(), lr=settings.lr, weight_decay=0.01, foreach=False)
    warm = max(1, total // 20)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, total) / total)))
    done = 0
    if state is not None:
        assert checkpoint_dir is not None
        saved = torch.load(checkpoint_dir / OPTIMIZER_FILE, weights_only=True)
        opt.load_state_dict(saved["optimizer"])
        sched.load_state_dict(saved["scheduler"])
        torch.set_rng_state(saved["rng"])  # dropout continues as if the run had never stopped
        done = int(state["step"])
    losses, tokens = _loop(model, tokenizer, opt, sched, encoded, settings, done, total, digest,
                           checkpoint_dir, on_step)
    if done < total and (not losses or not all(math.isfinite(x) for x in losses[-5:])):
        raise BundleError(f"fine-tuning diverged (last losses {losses[-5:]})")
    seconds = time.perf_counter() - started
    version = _write(out_dir, tokenizer, model, examples, base_meta, default_tone, {
        "base": str(base), "base_version": bundle_version(base), "captions": len(examples), "steps": total,
        "resumed_from": done, **settings.key(), "final_loss": round(losses[-1], 4) if losses else None})
    log.info("gpt2_finetuned out=%s version=%s steps=%d resumed_from=%d seconds=%.1f", out_dir, version, total,
             done, seconds)
    return FinetuneReport(out_dir, version, len(examples), total, done, seconds, tokens,
                          losses[0] if losses else math.nan, losses[-1] if losses else math.nan)


def _loop(model, tokenizer, opt, sched, encoded, settings: Settings, done: int, total: int, digest: str,
          checkpoint_dir: Path | None, on_step) -> tuple[list[float], int]:
    import torch

    model.train()
    losses: list[float] = []
    tokens, started, step = 0, time.perf_counter(), done
    for ids, mask, labels in _batches(encoded, settings, tokenizer.pad_token_id, done):
        if step >= total:
            break
        loss = model(input_ids=ids, attention_mask=mask, labels=labels).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        step += 1
        losses.append(float(loss.item()))
        tokens += int(mask.sum())
        elapsed = time.perf_counter() - started
        if on_step is not None:
            on_step(Step(step, total, losses[-1], tokens / max(elapsed, 1e-9), elapsed, done))
        if checkpoint_dir is not None and (step % settings.checkpoint_every == 0 or step == total):
            _save_checkpoint(checkpoint_dir, model, tokenizer, opt, sched, {"step": step, "digest": digest})
    model.eval()
    return losses, tokens


def _write(out: Path, tokenizer, model, examples: Sequence[Example], base_meta: dict, default_tone: str | None,
           trained: dict) -> str:
    out.mkdir(parents=True, exist_ok=True)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    # the result is asked with the control prefix: a plain GPT-2 base only knows the prefixes trained here
    known = {} if base_meta.get("prompt") == "plain" else base_meta
    tones = sorted({e.tone for e in examples} | set(known.get("tones", [])))
    audiences = sorted({e.audience for e in examples} | set(known.get("audiences", [])))
    topics = sorted({e.topic for e in examples} | set(base_meta.get("topics", [])))
    doc = {"format": FORMAT, "tones": tones, "audiences": audiences, "topics": topics, "trained": trained}
    if default_tone:
        doc["default_tone"] = default_tone
    (out / META_FILE).write_text(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return bundle_version(out)
