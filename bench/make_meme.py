"""Text -> meme: how well the template matcher picks the template a text was written for.

1. Held-out texts (bench/data/make_meme_texts.jsonl): 112 texts written by hand for the shipped
   templates, in the words a page owner would use, never in the training corpus (a test checks).
   The matcher is fitted on the whole caption corpus with the templates' descriptions and keywords
   (template.toml), and once on the corpus alone; beside them the most-frequent-template baseline
   (the corpus's most common template for top-1, its 3 most common for top-3).
2. Stratified k-fold over the caption corpus (default: the shipped demo data): each fold holds out
   a share of every template's captions, fits on the rest (with the templates' words) and ranks the
   held-out captions' templates, beside the training fold's most frequent templates.

Settings (keyword and description weights) are chosen on a separate development set
(bench/data/make_meme_dev.jsonl, 56 texts), never on the held-out texts; its figures are printed too.

Last line: `held_top1=.. held_top3=.. held_corpus_only_top1=.. held_corpus_only_top3=..
held_baseline_top1=.. held_baseline_top3=.. dev_top1=.. dev_top3=.. held_texts=.. top1=.. top5=.. baseline_top1=..
baseline_top5=.. top5_over_baseline=.. fit_s=..` (top1/top5/baseline_* are the k-fold figures).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.meme.data import load_dataset
from generator.meme.templates import DEMO_DATA_DIR
from generator.template_match import MatchSettings, TemplateMatcher, template_words

HELD_OUT = Path(__file__).resolve().parent / "data" / "make_meme_texts.jsonl"
DEV = Path(__file__).resolve().parent / "data" / "make_meme_dev.jsonl"  # for choosing settings; never the held-out


def read_held_out(path: Path) -> list[tuple[str, str]]:
    """(text, template) pairs of the hand-written held-out set."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return [(row["text"], row["template"]) for row in rows]


def hits(matcher: TemplateMatcher, texts: list[str], labels: list[str], k: int) -> tuple[int, int]:
    """(top-1 hits, top-k hits) of the matcher on labelled texts."""
    top = np.argsort(-matcher.probabilities(texts), axis=1, kind="stable")[:, :k]
    ranked = [[matcher.slugs[j] for j in row] for row in top]
    return sum(r[0] == lb for r, lb in zip(ranked, labels)), sum(lb in r for r, lb in zip(ranked, labels))


def held_out(data, settings: MatchSettings, path: Path) -> dict[str, float]:
    pairs = read_held_out(path)
    texts, labels = [t for t, _ in pairs], [lb for _, lb in pairs]
    corpus, corpus_labels = [c.text for c in data.captions], [c.template for c in data.captions]
    about = template_words(data.templates)
    with_words = TemplateMatcher.fit(corpus, corpus_labels, settings, about)
    corpus_only = TemplateMatcher.fit(corpus, corpus_labels, settings)
    common = [slug for slug, _ in Counter(corpus_labels).most_common(3)]
    n = len(texts)
    w1, w3 = hits(with_words, texts, labels, 3)
    c1, c3 = hits(corpus_only, texts, labels, 3)
    order = np.argsort(-with_words.probabilities(texts), axis=1, kind="stable")[:, 0]
    for text, label, j in zip(texts, labels, order):
        if with_words.slugs[j] != label:
            print(f"  miss: {text!r} -> {with_words.slugs[j]} (written for {label})")
    out = {"held_top1": w1 / n, "held_top3": w3 / n, "held_corpus_only_top1": c1 / n,
           "held_corpus_only_top3": c3 / n, "held_baseline_top1": sum(lb == common[0] for lb in labels) / n,
           "held_baseline_top3": sum(lb in common for lb in labels) / n}
    print(f"held-out texts: {n} over {len(set(labels))} templates ({path.name})")
    print(f"  corpus + template words  top1 {out['held_top1']:.3f}  top3 {out['held_top3']:.3f}")
    print(f"  corpus only              top1 {out['held_corpus_only_top1']:.3f}  "
          f"top3 {out['held_corpus_only_top3']:.3f}")
    print(f"  most frequent baseline   top1 {out['held_baseline_top1']:.3f}  top3 {out['held_baseline_top3']:.3f}")
    return out


def dev_figures(data, settings: MatchSettings) -> dict[str, float]:
    """Top-1/top-3 on the development texts (the ones settings are chosen on), corpus + template words."""
    pairs = read_held_out(DEV)
    matcher = TemplateMatcher.fit([c.text for c in data.captions], [c.template for c in data.captions], settings,
                                  template_words(data.templates))
    d1, d3 = hits(matcher, [t for t, _ in pairs], [lb for _, lb in pairs], 3)
    print(f"development texts: {len(pairs)} ({DEV.name}): top1 {d1 / len(pairs):.3f}  top3 {d3 / len(pairs):.3f}")
    return {"dev_top1": d1 / len(pairs), "dev_top3": d3 / len(pairs)}


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
    parser.add_argument("--held-out", type=Path, default=HELD_OUT, help="hand-labelled texts (JSONL: text, template)")
    parser.add_argument("--keyword-weight", type=float, default=MatchSettings().keyword_weight)
    parser.add_argument("--description-weight", type=float, default=MatchSettings().description_weight)
    args = parser.parse_args()

    data = load_dataset(args.data)
    settings = MatchSettings(keyword_weight=args.keyword_weight, description_weight=args.description_weight)
    dev = dev_figures(data, settings)
    held = held_out(data, settings, args.held_out)
    about = template_words(data.templates)
    texts = [c.text for c in data.captions]
    labels = [c.template for c in data.captions]
    print(f"corpus: {len(texts)} captions over {len(set(labels))} templates; {args.folds}-fold stratified")
    hits1 = hits5 = base1 = base5 = total = 0
    fit_s = 0.0
    for n, test in enumerate(folds(labels, args.folds, args.seed)):
        train = np.setdiff1d(np.arange(len(texts)), test)
        t0 = time.perf_counter()
        matcher = TemplateMatcher.fit([texts[i] for i in train], [labels[i] for i in train], settings, about)
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
    print(" ".join(f"{key}={value:.3f}" for key, value in {**held, **dev}.items()) + f" held_texts={len(read_held_out(args.held_out))} "
          f"top1={top1:.3f} top5={top5:.3f} baseline_top1={b1:.3f} baseline_top5={b5:.3f} "
          f"top5_over_baseline={top5 / max(b1, 1e-9):.2f} fit_s={fit_s / args.folds:.2f}")


if __name__ == "__main__":
    main()
