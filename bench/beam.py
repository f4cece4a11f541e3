"""Beam-search speed at memefly's dimensions, caption variety and fresh candidates, in one run.

Speed, side by side on the same weights (default: random weights of memefly's shape written
through our bundle API: V=17,240 words, GRU 256, 2048-d features, a 150-slot Keras prefix, captions
up to 29 words; with --bundle DIR that bundle at its own size):
- fast: generator.meme batched beam search (NumPy step, GRU state carried), k=5, one image per call;
- floor: the same arithmetic in plain NumPy with no decoding rules or bookkeeping (GRU step,
  output layer, log-softmax, top-2k over the beams) for as many steps as the fast search took;
- memefly-style: one Keras ``predict`` per beam per word over the padded prefix (a few images,
  it is slow), same decoding rules, so its captions must match the fast ones.

Quality on a trained bundle (default the shipped demo bundle, or --bundle) and its own templates
and captions (config.json data_dir, or --data): distinct-2 across each image's top 5, share of
top-5 captions copied verbatim from the training captions (as handed out, and without the
bundle's training-caption filter), held-out perplexity vs unigram.
Fresh candidates: --runs generate runs like the daemon's (2 seeded templates a run, k=5), once
with deterministic decoding and once with sampling (--temperature, --top-p, --groups); the share
of each run's captions never seen in an earlier run, with the beam score spread beside it.

    python bench/beam.py [--bundle DIR] [--data DIR] [--baseline-images 1] [--repeats 3] [--runs 50]

Last line: fast_ms=.. floor_ms=.. floor_ratio=.. memefly_ms=.. speedup=.. distinct2=.. copies=.. copies_unfiltered=..
ppl=.. unigram_ppl=.. fresh_det=.. fresh_sampled=.. fresh_sampled_min=.. score_p50_det=.. score_p50_sampled=..
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one BLAS thread: timings on a shared box stay comparable
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
MEMEFLY = {"vocab": 17_240, "units": 256, "features": 2048, "slots": 150, "words": 29}


def memefly_logprobs(model, features: np.ndarray, maxlen: int):
    """Next-word log-probs the memefly way: a fresh predict over the whole padded prefix."""
    def logprobs(prefix: tuple[int, ...]) -> np.ndarray:
        tokens = np.zeros((1, maxlen), dtype=np.int32)
        tokens[0, maxlen - len(prefix):] = prefix
        probs = model.predict([features[None, :], tokens], verbose=0)[0]
        return np.log(np.maximum(probs.astype(np.float64), 1e-30))

    return logprobs


class _Counting:
    """Wraps the captioner's step to count step calls (the floor does as many)."""

    def __init__(self, step) -> None:
        self.step, self.calls = step, 0

    def __getattr__(self, name):
        return getattr(self.step, name)

    def __call__(self, *args):
        self.calls += 1
        return self.step(*args)


def time_fast(cap, features: np.ndarray, repeats: int, max_len: int | None):
    """Per-image k=5 times (ms) one image per call, the captions, and step calls per image."""
    cap.beam_search(features[0], k=5, max_len=max_len, novel=False)  # warm-up
    counter = _Counting(cap._step)
    cap._step = counter
    fast_ms, tops = [], []
    for _ in range(repeats):
        tops = []
        for f in features:
            t0 = time.perf_counter()
            tops.append(cap.beam_search(f, k=5, max_len=max_len, novel=False))  # as the baseline decodes
            fast_ms.append((time.perf_counter() - t0) * 1000)
    cap._step = counter.step
    return fast_ms, tops, counter.calls / (repeats * len(features))


def floor_decode(step, features: np.ndarray, width: int, steps: int) -> None:
    """The arithmetic alone: GRU step + output layer + log-softmax + top-2k over ``width`` beams."""
    w, u = step.w, step.w.units
    context = step.image_context(features[None, :])
    h = np.zeros((width, u), np.float32)
    tokens = np.ones(width, dtype=np.int64)
    cum = np.zeros(width)
    for _ in range(steps):
        gx = context + step.word_proj[tokens]
        gh = h @ w.gru_recurrent + w.gru_bias[1]
        z = 0.5 * (np.tanh(0.5 * (gx[:, :u] + gh[:, :u])) + 1.0)
        r = 0.5 * (np.tanh(0.5 * (gx[:, u:2 * u] + gh[:, u:2 * u])) + 1.0)
        h = z * h + (1.0 - z) * np.tanh(gx[:, 2 * u:] + r * gh[:, 2 * u:])
        logits = h @ w.out_kernel + w.out_bias
        logits -= logits.max(axis=1, keepdims=True)
        total = (cum[:, None] + logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))).ravel()
        top = np.argpartition(-total, 2 * width)[: 2 * width][:width]
        parents, tokens, cum = top // logits.shape[1], top % logits.shape[1], total[top]
        h = h[parents]


def time_floor(cap, features: np.ndarray, repeats: int, steps: int) -> list[float]:
    out = []
    for _ in range(repeats):
        for f in features:
            t0 = time.perf_counter()
            floor_decode(cap._step, f, 10, steps)
            out.append((time.perf_counter() - t0) * 1000)
    return out


def time_memefly(cap, features: np.ndarray, tops, max_len: int | None) -> tuple[list[float], int]:
    """Per-image times of the memefly-style decoder and on how many images it matched the fast top 5."""
    import keras

    from generator.meme.beam import choose
    from generator.meme.captioner import DIVERSITY
    from generator.meme.reference import reference_beam_search

    model = keras.models.load_model(cap.bundle_dir / "model.keras", compile=False)
    slow_ms, agree = [], 0
    for f, fast in zip(features, tops):
        t0 = time.perf_counter()
        pool = reference_beam_search(memefly_logprobs(model, f, cap.vocab.maxlen), cap._rules(max_len), 10,
                                     cap.vocab.text)
        slow = choose(pool, 5, DIVERSITY)
        slow_ms.append((time.perf_counter() - t0) * 1000)
        agree += [cap.vocab.text(h.ids) for h in slow] == [c.text for c in fast]
    return slow_ms, agree


def speed(cap, features: np.ndarray, args, max_len: int | None) -> dict[str, float]:
    fast_ms, tops, steps = time_fast(cap, features, args.repeats, max_len)
    floor_ms = time_floor(cap, features, args.repeats, round(steps))
    slow_ms, agree = time_memefly(cap, features[: args.baseline_images], tops, max_len)
    fast, floor, slow = (float(np.median(x)) for x in (fast_ms, floor_ms, slow_ms))
    print(f"speed at V={cap.vocab.size} U={cap._step.w.units} F={cap.feature_dim} slots={cap.vocab.maxlen}: "
          f"fast k=5 p50={fast:.1f} ms p95={np.percentile(fast_ms, 95):.1f} ms ({steps:.0f} steps/image); "
          f"NumPy floor p50={floor:.1f} ms; memefly-style p50={slow:.0f} ms over {len(slow_ms)} images, "
          f"same top-5 as fast on {agree}/{len(slow_ms)}")
    return {"fast_ms": fast, "floor_ms": floor, "floor_ratio": fast / floor, "memefly_ms": slow,
            "speedup": slow / fast}


def memefly_sized_captioner(tmp: Path):
    from generator.meme import load_captioner
    from generator.meme.tiny import write_random_bundle

    words = [f"w{i}" for i in range(MEMEFLY["vocab"] - 4)]
    path = write_random_bundle(tmp / "memefly", words=words, feature_dim=MEMEFLY["features"],
                               units=MEMEFLY["units"], max_tokens=MEMEFLY["slots"] - 1, seed=0, keras_model=True,
                               scale=0.1)
    return load_captioner(path)


def _data_dir(cap, given: Path | None) -> Path:
    from generator.meme.templates import DEMO_DATA_DIR

    if given:
        return given
    named = Path(cap.config.get("data_dir") or DEMO_DATA_DIR)
    root = Path(__file__).resolve().parent.parent
    return next((p for p in (named, root / named) if (p / "captions.jsonl").is_file()), DEMO_DATA_DIR)


def quality(cap, data_dir: Path, args) -> dict[str, float]:
    from generator.meme.metrics import copy_rate, distinct_n, fresh_rates, spread
    from generator.meme.templates import load_templates

    templates = load_templates(data_dir)
    features = cap.encode_batch([t.image_path for t in templates])
    tops = cap.beam_search_batch(features, k=5)
    unfiltered = cap.beam_search_batch(features, k=5, novel=False)
    for t, captions in list(zip(templates, tops))[:6]:
        print(f"  {t.slug:12s} " + " | ".join(c.text for c in captions[:3]))
    training = [json.loads(line)["text"] for line in (data_dir / "captions.jsonl").read_text("utf-8").splitlines()
                if line.strip()]
    metrics = cap.config.get("metrics", {})
    out = {"distinct2": float(np.mean([distinct_n([c.text for c in caps]) for caps in tops])),
           "copies": copy_rate([c.text for caps in tops for c in caps], training),
           "copies_unfiltered": copy_rate([c.text for caps in unfiltered for c in caps], training),
           "ppl": float(metrics.get("val_ppl", float("nan"))),
           "unigram_ppl": float(metrics.get("unigram_ppl", float("nan")))}
    options = {"temperature": args.temperature, "top_p": args.top_p, "groups": args.groups}
    for label, opts in (("det", {}), ("sampled", options)):
        runs, scores = [], []
        for run in range(args.runs):
            rng = np.random.default_rng(run)
            chosen = rng.choice(len(templates), size=min(2, len(templates)), replace=False)
            beams = cap.beam_search_batch(features[chosen], k=5, seed=run if opts else None, **opts)
            runs.append([c.text for caps in beams for c in caps])
            scores += [c.score for caps in beams for c in caps]
        rates, s = fresh_rates(runs), spread(scores)
        print(f"fresh candidates, {label} {opts or ''}: mean {np.mean(rates):.0%} over {args.runs} runs, "
              f"min {min(rates):.0%}, last 10 {np.mean(rates[-10:]):.0%}; beam score p10/p50/p90 "
              f"{s['p10']:.2f}/{s['p50']:.2f}/{s['p90']:.2f}")
        out[f"fresh_{label}"] = float(np.mean(rates))
        out[f"score_p50_{label}"] = s["p50"]
        if opts:
            out["fresh_sampled_min"] = float(min(rates))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--data", type=Path, default=None, help="the bundle's data set [default: config data_dir]")
    parser.add_argument("--baseline-images", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--images", type=int, default=6, help="images timed on the fast path")
    parser.add_argument("--runs", type=int, default=50)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--groups", type=int, default=2)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from generator.meme import load_captioner
    from generator.meme.fit import quiet_tensorflow, setup

    quiet_tensorflow()
    setup(1, 0)
    trained = load_captioner(args.bundle)
    with tempfile.TemporaryDirectory() as tmp:
        if args.bundle:
            data = _data_dir(trained, args.data)
            from generator.meme.templates import load_templates

            feats = trained.encode_batch([t.image_path for t in load_templates(data)][: args.images])
            figures = speed(trained, feats, args, None)
        else:
            cap = memefly_sized_captioner(Path(tmp))
            feats = np.random.default_rng(0).standard_normal((args.images, MEMEFLY["features"])).astype(np.float32)
            figures = speed(cap, feats, args, MEMEFLY["words"])
    data = _data_dir(trained, args.data)
    print(f"quality: bundle={trained.bundle_dir} version={trained.version} vocab={trained.vocab.size} data={data}")
    figures |= quality(trained, data, args)
    print(" ".join(f"{k}={v:.3f}" if abs(v) < 100 else f"{k}={v:.0f}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
