"""Beam-search speed and caption variety of a meme bundle (default: the shipped demo bundle).

Side by side on the same weights and the same template images:
- fast: generator.meme batched beam search (NumPy step, GRU state carried), k=5, one image per call;
- memefly-style: one Keras ``predict`` per beam per word over the padded prefix (capped to a few
  images because it is slow), same decoding rules, so its captions must match the fast ones.
Also distinct-2 across each image's top-5 captions, and the bundle's held-out perplexity next to
its unigram baseline (measured on validation templates at training time, see config.json).

    python bench/beam.py [--bundle DIR] [--baseline-images 3] [--repeats 5]

Last line: speedup=<x> p50_ms=<ms> distinct2=<d> ppl=<p> unigram_ppl=<u>
"""
from __future__ import annotations

import argparse
import json
import os
import time
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def distinct_n(texts: list[str], n: int = 2) -> float:
    """Unique n-grams / all n-grams over a set of captions (1.0 = no shared word pairs)."""
    grams = [tuple(words[i:i + n]) for words in (t.split() for t in texts) for i in range(len(words) - n + 1)]
    return len(set(grams)) / len(grams) if grams else 0.0


def memefly_logprobs(model, features: np.ndarray, maxlen: int):
    """Next-word log-probs the memefly way: a fresh predict over the whole padded prefix."""
    def logprobs(prefix: tuple[int, ...]) -> np.ndarray:
        tokens = np.zeros((1, maxlen), dtype=np.int32)
        tokens[0, maxlen - len(prefix):] = prefix
        probs = model.predict([features[None, :], tokens], verbose=0)[0]
        return np.log(np.maximum(probs.astype(np.float64), 1e-30))

    return logprobs


def time_fast(cap, features: np.ndarray, repeats: int):
    """Per-image k=5 times (ms) one image per call, the captions, and ms/image when batched."""
    cap.beam_search(features[0], k=5)  # warm-up
    fast_ms, tops = [], []
    for _ in range(repeats):
        tops = []
        for f in features:
            t0 = time.perf_counter()
            tops.append(cap.beam_search(f, k=5))
            fast_ms.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    cap.beam_search_batch(features, k=5)
    return fast_ms, tops, (time.perf_counter() - t0) * 1000 / len(features)


def time_memefly(cap, features: np.ndarray, tops) -> tuple[list[float], int]:
    """Per-image times of the memefly-style decoder and on how many images it matched the fast top 5."""
    import keras

    from generator.meme.beam import choose
    from generator.meme.captioner import DIVERSITY
    from generator.meme.reference import reference_beam_search
    from generator.meme.vocab import detokenize

    model = keras.models.load_model(cap.bundle_dir / "model.keras", compile=False)
    slow_ms, agree = [], 0

    def key(ids: tuple[int, ...]) -> str:
        return detokenize(cap.vocab.decode(ids))

    for f, fast in zip(features, tops):
        t0 = time.perf_counter()
        pool = reference_beam_search(memefly_logprobs(model, f, cap.vocab.maxlen), cap.rules, 10, key)
        slow = choose(pool, 5, DIVERSITY)
        slow_ms.append((time.perf_counter() - t0) * 1000)
        agree += [key(h.ids) for h in slow] == [c.text for c in fast]
    return slow_ms, agree


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--baseline-images", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    import torch

    torch.set_num_threads(1)
    from generator.meme import load_captioner
    from generator.meme.templates import DEMO_DATA_DIR, load_templates

    cap = load_captioner(args.bundle)
    templates = load_templates()
    features = cap.encode_batch([t.image_path for t in templates])
    print(f"bundle={cap.bundle_dir} version={cap.version} vocab={cap.vocab.size} images={len(templates)}")
    fast_ms, tops, batch_ms = time_fast(cap, features, args.repeats)
    n = args.baseline_images
    slow_ms, agree = time_memefly(cap, features[:n], tops[:n])

    for t, captions in zip(templates, tops):
        print(f"{t.slug:12s} " + " | ".join(c.text for c in captions[:2]))
    p50, p95 = np.percentile(fast_ms, [50, 95])
    slow_p50 = float(np.median(slow_ms))
    distinct2 = float(np.mean([distinct_n([c.text for c in caps]) for caps in tops]))
    seen = {json.loads(line)["text"].lower() for line in (DEMO_DATA_DIR / "captions.jsonl").read_text().splitlines()}
    novel = float(np.mean([c.text not in seen for caps in tops for c in caps]))
    metrics = cap.config.get("metrics", {})
    print(f"fast k=5 per image: p50={p50:.2f} ms p95={p95:.2f} ms (batched over {len(features)} images: "
          f"{batch_ms:.2f} ms/image)")
    print(f"memefly-style k=5 per image: p50={slow_p50:.0f} ms over {len(slow_ms)} images; "
          f"same top-5 as fast on {agree}/{len(slow_ms)}")
    print(f"top-5 captions not copied verbatim from the demo training captions: {novel:.0%}")
    print(f"speedup={slow_p50 / p50:.0f} p50_ms={p50:.2f} distinct2={distinct2:.3f} "
          f"ppl={metrics.get('val_ppl', float('nan')):.2f} unigram_ppl={metrics.get('unigram_ppl', float('nan')):.2f}")


if __name__ == "__main__":
    main()
