"""Fine-tuning the writer at the real size: GPT-2 124M (GPT2Config() defaults, randomly initialised:
the same arithmetic and memory as the pretrained weights, which cannot be downloaded here).

Each variant runs in its own child process (peak RSS is the child's own), alternating, on the same
captions and the same number of optimiser steps:

- ``ours``: generator.textgen.finetune (what `memeloop train gpt2 --captions` runs): batches padded
  to their longest caption, captions cut at --max-tokens, resumable checkpoint at the end;
- ``plain``: the loop of the transformers docs: tokenizer(padding="max_length", truncation=True),
  model(**batch, labels=...), AdamW, no checkpoints.

Throughput counts real (unpadded) caption tokens per second of training steps after the first (the
first step pays one-off allocation). Generation: 10 captions of up to 48 new tokens from the tuned
model, batched (ours: one ``generate`` with num_return_sequences=10, as the Writer does) vs one
``generate`` call per caption (plain). The tokenizer is the demo writer's byte-level BPE (the real
GPT-2 vocabulary cannot be downloaded here); the model keeps GPT-2's 50,257-entry embedding and LM
head, so the cost per token is GPT-2's. GPT-2's own BPE cuts these captions into fewer tokens, so
captions/s would be higher with it; tokens/s is the comparable figure.

    python bench/finetune.py [--steps 4] [--batch-size 4] [--captions 64] [--threads 2]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MAX_TOKENS = 48
NEW_TOKENS = 48


def captions(n: int) -> list[str]:
    rows = [json.loads(line) for line in (REPO / "generator/textgen/corpus/captions.jsonl").read_text().splitlines()]
    return [r["text"] for r in rows[:: max(1, len(rows) // n)]][:n]


def make_base(folder: Path) -> None:
    """A randomly initialised GPT-2 124M with the demo tokenizer, as `memeloop models install` keeps it."""
    import torch
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from bot.core.modelstore import PLAIN_WRITER_META, WRITER_META
    from generator.textgen.writer import DEMO_BUNDLE

    torch.manual_seed(0)
    tok = AutoTokenizer.from_pretrained(DEMO_BUNDLE)
    GPT2LMHeadModel(GPT2Config()).save_pretrained(folder)
    tok.save_pretrained(folder)
    (folder / WRITER_META).write_text(json.dumps(PLAIN_WRITER_META))


def run_ours(base: Path, texts: list[str], steps: int, batch_size: int, work: Path) -> dict:
    from generator.textgen.finetune import Settings, examples_from_texts, finetune
    from generator.textgen.writer import Writer

    seen: list = []
    loop_rss: list[float] = []

    def on_step(step) -> None:  # the loop's own peak: read before the step's checkpoint is written
        seen.append(step)
        loop_rss.append(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)

    examples = examples_from_texts(texts, tone="own", audience="general")
    settings = Settings(epochs=100, max_steps=steps, batch_size=batch_size, max_tokens=MAX_TOKENS, lr=1e-4,
                        checkpoint_every=steps)
    started, cpu0 = time.perf_counter(), time.process_time()
    finetune(examples, base, work / "out", settings=settings, checkpoint_dir=work / "ckpt",
                      default_tone="own", on_step=on_step)
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
    train_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    train_s = seen[-1].seconds - seen[0].seconds
    tokens = seen[-1].tokens_per_s * seen[-1].seconds - seen[0].tokens_per_s * seen[0].seconds  # after step 1
    first_step_s = seen[0].seconds
    writer = Writer(work / "out", max_new_tokens=NEW_TOKENS)
    prompt = "<tone=own> <audience=general> <topic=coffee>"
    writer._sample(prompt, 1, 0)  # warm-up
    t = time.perf_counter()
    writer._sample(prompt, 10, 1)
    gen_s = time.perf_counter() - t
    return {"tokens_per_s": tokens / train_s, "captions_per_s": batch_size * (len(seen) - 1) / train_s,
            "first_step_s": first_step_s, "wall_s": wall, "cpu_s": cpu, "gen10_s": gen_s, "train_rss_mb": train_rss,
            "loop_rss_mb": loop_rss[-1], "loss_first": seen[0].loss, "loss_last": seen[-1].loss}


def run_plain(base: Path, texts: list[str], steps: int, batch_size: int) -> dict:
    """The transformers-docs loop: fixed-length padding, labels = ids with pads masked."""
    import torch
    from transformers import AutoTokenizer, GPT2LMHeadModel

    tok = AutoTokenizer.from_pretrained(base, local_files_only=True)
    tok.add_special_tokens({"additional_special_tokens": ["<tone=own>", "<audience=general>"]})
    tok.pad_token = tok.eos_token
    model = GPT2LMHeadModel.from_pretrained(base, local_files_only=True)
    if len(tok) > model.config.vocab_size:  # keep GPT-2's 50,257-row embedding and head: the same cost as ours
        model.resize_token_embeddings(len(tok))
    data = [f"<tone=own> <audience=general> <topic=general> {t}{tok.eos_token}" for t in texts]
    enc = tok(data, padding="max_length", truncation=True, max_length=MAX_TOKENS, return_tensors="pt")
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)
    model.train()
    times, real_tokens = [], []
    torch.manual_seed(0)
    cpu0 = time.process_time()
    for step in range(steps):
        idx = torch.randperm(len(data))[:batch_size]
        ids, mask = enc["input_ids"][idx], enc["attention_mask"][idx]
        t = time.perf_counter()
        out = model(input_ids=ids, attention_mask=mask, labels=ids.masked_fill(mask == 0, -100))
        opt.zero_grad()
        out.loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
        real_tokens.append(int(mask.sum()))
    cpu = time.process_time() - cpu0
    train_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    model.eval()
    prompt = tok("<tone=own> <audience=general> <topic=coffee>", return_tensors="pt")
    gen = {"do_sample": True, "top_p": 0.95, "max_new_tokens": NEW_TOKENS, "pad_token_id": tok.eos_token_id}
    with torch.no_grad():
        model.generate(**prompt, **gen)  # warm-up
        t = time.perf_counter()
        for _ in range(10):
            model.generate(**prompt, **gen)
        gen_s = time.perf_counter() - t
    train_s = sum(times[1:])
    return {"tokens_per_s": sum(real_tokens[1:]) / train_s, "captions_per_s": batch_size * (steps - 1) / train_s,
            "first_step_s": times[0], "wall_s": sum(times), "cpu_s": cpu, "gen10_s": gen_s, "train_rss_mb": train_rss,
            "loop_rss_mb": train_rss, "loss_first": 0.0, "loss_last": 0.0}


def child(args: argparse.Namespace) -> None:
    import torch

    torch.set_num_threads(args.threads)
    texts = captions(args.captions)
    with tempfile.TemporaryDirectory(prefix="bench-finetune-") as tmp:
        if args.variant == "ours":
            out = run_ours(Path(args.base), texts, args.steps, args.batch_size, Path(tmp))
        else:
            out = run_plain(Path(args.base), texts, args.steps, args.batch_size)
    out["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print("RESULT " + json.dumps(out))


def spawn(variant: str, base: Path, args: argparse.Namespace) -> dict:
    cmd = [sys.executable, __file__, "--child", variant, "--base", str(base), "--steps", str(args.steps),
           "--batch-size", str(args.batch_size), "--captions", str(args.captions), "--threads", str(args.threads)]
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    line = next((x for x in proc.stdout.splitlines() if x.startswith("RESULT ")), None)
    if proc.returncode or line is None:
        raise SystemExit(f"{variant} failed: {proc.stderr[-2000:]}")
    return json.loads(line[len("RESULT "):])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--steps", type=int, default=4)
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--captions", type=int, default=64)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=1, help="Alternating runs of each variant (best is kept).")
    ap.add_argument("--child", choices=["ours", "plain"], dest="variant")
    ap.add_argument("--base")
    args = ap.parse_args()
    if args.variant:
        child(args)
        return
    sys.path.insert(0, str(REPO))
    with tempfile.TemporaryDirectory(prefix="bench-gpt2-124m-") as tmp:
        base = Path(tmp) / "gpt2-random"
        make_base(base)
        results: dict[str, list[dict]] = {"ours": [], "plain": []}
        for _ in range(args.rounds):
            for variant in ("ours", "plain"):
                results[variant].append(spawn(variant, base, args))
                r = results[variant][-1]
                print(f"{variant:>5}: {r['tokens_per_s']:.0f} tok/s, {r['captions_per_s']:.2f} captions/s, first step "
                      f"{r['first_step_s']:.1f}s, training {r['wall_s']:.0f}s wall / {r['cpu_s']:.0f}s CPU, 10 captions "
                      f"in {r['gen10_s']:.2f}s, peak RSS loop {r['loop_rss_mb']:.0f} MB / with checkpoint+bundle {r['train_rss_mb']:.0f} MB / whole run "
                      f"{r['peak_rss_mb']:.0f} MB", flush=True)
    best = {v: max(rs, key=lambda r: r["tokens_per_s"]) for v, rs in results.items()}
    low = {v: min(r["gen10_s"] for r in rs) for v, rs in results.items()}
    o, p = best["ours"], best["plain"]
    print(f"model=gpt2-124m-random steps={args.steps} batch={args.batch_size} threads={args.threads} "
          f"ours_tokens_per_s={o['tokens_per_s']:.0f} plain_tokens_per_s={p['tokens_per_s']:.0f} "
          f"ours_captions_per_s={o['captions_per_s']:.2f} plain_captions_per_s={p['captions_per_s']:.2f} "
          f"ours_gen10_s={low['ours']:.2f} plain_gen10_s={low['plain']:.2f} "
          f"ours_loop_rss_mb={o['loop_rss_mb']:.0f} plain_loop_rss_mb={p['loop_rss_mb']:.0f} "
          f"ours_train_rss_mb={o['train_rss_mb']:.0f} plain_train_rss_mb={p['train_rss_mb']:.0f} "
          f"ours_peak_rss_mb={o['peak_rss_mb']:.0f} plain_peak_rss_mb={p['peak_rss_mb']:.0f} "
          f"ours_train_cpu_s={o['cpu_s']:.0f} plain_train_cpu_s={p['cpu_s']:.0f} "
          f"ours_first_step_s={o['first_step_s']:.1f} ours_wall_s={o['wall_s']:.1f}")


if __name__ == "__main__":
    main()
