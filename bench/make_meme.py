"""Text -> meme: how well the template matcher predicts a held-out caption's template.

Stratified k-fold over the captioner's caption corpus (default: the shipped demo data): each fold
holds out a share of every template's captions, fits generator.template_match on the rest and
ranks the held-out captions' templates. Side by side on the same folds: the most-frequent-template
baseline (the training fold's most common template for top-1, its 5 most common for top-5).
The issue's target is top-5 accuracy >= 3x the baseline's (top-1) accuracy.

Last line: `top1=<a> top5=<b> baseline_top1=<c> baseline_top5=<d> top5_over_baseline=<r> fit_s=<s>`.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.meme.data import load_dataset
from generator.meme.templates import DEMO_DATA_DIR
from generator.template_match import TemplateMatcher


def folds(labels: list[str], k: int, seed: int) -> list[np.ndarray]:
    """k disjoint test index sets, each with about 1/k of every template's captions."""
    rng = np.random.default_rng(seed)
    out: list[list[int]] = [[] for _ in range(k)]
    for slug in sorted(set(labels)):
        idx = [i for i, lb in enumerate(labels) if lb == slug]
        rng.shuffle(idx)
        for j, i in enumerate(idx):
            out[j % k].append(i)
    return [np.array(sorted(f)) for f in out]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, default=DEMO_DATA_DIR, help="meme data folder (captions.jsonl)")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    data = load_dataset(args.data)
    texts = [c.text for c in data.captions]
    labels = [c.template for c in data.captions]
    print(f"corpus: {len(texts)} captions over {len(set(labels))} templates; {args.folds}-fold stratified")
    hits1 = hits5 = base1 = base5 = total = 0
    fit_s = 0.0
    for n, test in enumerate(folds(labels, args.folds, args.seed)):
        train = np.setdiff1d(np.arange(len(texts)), test)
        t0 = time.perf_counter()
        matcher = TemplateMatcher.fit([texts[i] for i in train], [labels[i] for i in train])
        fit_s += time.perf_counter() - t0
        common = [slug for slug, _ in Counter(labels[i] for i in train).most_common(5)]
        probs = matcher.probabilities([texts[i] for i in test])
        top = np.argsort(-probs, axis=1, kind="stable")[:, :5]
        f1 = f5 = 0
        for row, i in enumerate(test):
            predicted = [matcher.slugs[j] for j in top[row]]
            f1 += predicted[0] == labels[i]
            f5 += labels[i] in predicted
            base1 += common[0] == labels[i]
            base5 += labels[i] in common
        hits1, hits5, total = hits1 + f1, hits5 + f5, total + len(test)
        print(f"fold {n}: held out {len(test)}  top1 {f1 / len(test):.3f}  top5 {f5 / len(test):.3f}")
    top1, top5, b1, b5 = hits1 / total, hits5 / total, base1 / total, base5 / total
    print(f"matcher   top1 {top1:.3f}  top5 {top5:.3f}")
    print(f"baseline  top1 {b1:.3f}  top5 {b5:.3f}  (most frequent templates of the training fold)")
    print(f"matcher top-5 is {top5 / max(b1, 1e-9):.1f}x the baseline's accuracy (target >= 3x)")
    print(f"top1={top1:.3f} top5={top5:.3f} baseline_top1={b1:.3f} baseline_top5={b5:.3f} "
          f"top5_over_baseline={top5 / max(b1, 1e-9):.2f} fit_s={fit_s / args.folds:.2f}")


if __name__ == "__main__":
    main()
