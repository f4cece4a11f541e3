"""Meme captioner at memefly's scale, offline: memory, time and caption quality of a real training run.

Builds a synthetic data set of memefly's shape (108 templates x ~190 captions = 20,520, 3-29
words, ~7,000 words with Zipf frequencies; each template has its own phrasing: a sparse
word-to-word chain over its own topic words, mixed with globally Zipf-distributed words), with
template images made from the photos the demo data ships (distinct crop, flip and colour per
template). Like scraped memes, 12% of the captions come again as near duplicates (a "!" added, a
"." dropped, shouted, a word dropped or swapped) and 5% mention a sensitive topic (religion,
sexuality, abortion, tragedies, ...: real English terms among the synthetic words). It is written
as memefly JSON (boxes listed bottom first, as memefly does) and imported with
``generator.meme.memefly`` (the code of ``memeloop data import-memefly``), then trained with
``generator.meme.train`` (the same code as ``memeloop train meme``, one thread, bounded by
--budget seconds) and reports:

- peak RSS of the whole process (encoder + training + decoding), train time;
- caption-split perplexity (held-out captions of seen templates) vs a unigram model, and the
  template-split perplexity (unseen templates) vs unigram;
- over the top-5 beams of every seen template: distinct-2 and the verbatim-copy rate (as handed
  out, i.e. with the bundle's training-caption filter, and without it: copies_unfiltered);
- the near-copy rate (the same words as a training caption, case and punctuation aside; one word
  inserted, dropped or swapped when the longer has >= 3 words; or six words in a row shared),
  found by brute force over the bundle's training captions (not by the captioner's index): as handed
  out (near_copies), with the exact-key filter the captioner had before (near_copies_exact_filter)
  and without a filter (near_copies_unfiltered). Target: near_copies <= 0.02. The bench trains
  without the refit, so the bundle never saw the held-out 10% of captions; near_copies_vs_all
  also counts near copies of those (a default `memeloop train meme` refits on all and knows them);
- import: captions dropped for a sensitive topic (topic_dropped), boxes stored top first
  (boxes_in_reading_order); the share of handed-out captions that touch a sensitive topic
  (topics_raw) and of those the pipeline's draft check lets into the queue (topics_queued;
  target 0: generator.safety.find_unsafe + topic_reason, the check bot/pipeline.py runs).

    python bench/caption_quality.py [--budget 240] [--quick] [--keep DIR]

Last line: peak_rss_mb=.. train_s=.. captions=.. vocab=.. ppl=.. unigram_ppl=.. ppl_ratio=..
template_ppl=.. template_unigram_ppl=.. distinct2=.. copies=.. copies_unfiltered=.. near_copies=..
near_copies_exact_filter=.. near_copies_unfiltered=.. near_copies_vs_all=.. topic_dropped=.. boxes_in_reading_order=..
topics_raw=.. topics_queued=..
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # one thread throughout, like `memeloop train meme --threads 1`
import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

SYLLABLES = [c + v for c in "bdfghklmnprstvz" for v in "aeiou"] + ["é", "ka", "ré", "ön"]
TOPIC_TERMS = ["jesus", "church", "god", "muslims", "abortion", "gay", "sex", "9/11", "hitler", "rape",
               "obama", "pray", "holocaust", "lesbian", "bible"]
NEAR_DUPLICATES, TOPICAL = 0.12, 0.05


def _words(n: int, rng: np.random.Generator) -> list[str]:
    out: dict[str, None] = {}
    while len(out) < n:
        k = int(rng.integers(1, 4))
        out["".join(rng.choice(SYLLABLES, size=k))] = None
    return list(out)


def synthetic_captions(n_templates: int, per_template: int, n_words: int, seed: int = 0) -> dict[int, list[str]]:
    """Captions per template index: template chain (p=0.65) mixed with global Zipf words."""
    rng = np.random.default_rng(seed)
    words = _words(n_words, rng)
    zipf = 1.0 / (np.arange(n_words) + 2.7) ** 1.07
    zipf /= zipf.sum()
    out = {}
    for t in range(n_templates):
        topic = rng.choice(np.arange(40, n_words), size=60, replace=False)
        pool = np.concatenate([topic, np.arange(40)])  # template words + the most common words
        table = {w: rng.choice(pool, size=6, replace=False) for w in pool}
        openers = rng.choice(topic, size=6, replace=False)
        captions = []
        for _ in range(per_template):
            length = int(np.clip(round(rng.lognormal(np.log(9), 0.55)), 3, 29))
            seq = [int(rng.choice(openers))]
            while len(seq) < length:
                nxt = table.get(seq[-1])
                if nxt is not None and rng.random() < 0.65:
                    seq.append(int(nxt[min(int(rng.geometric(0.45)) - 1, 5)]))
                else:
                    seq.append(int(rng.choice(n_words, p=zipf)))
            captions.append(" ".join(words[i] for i in seq))
        out[t] = scraped(captions, words, rng)
    return out


def scraped(captions: list[str], words: list[str], rng: np.random.Generator) -> list[str]:
    """The captions as a scrape holds them: some posted again with a small change, some on a sensitive topic."""
    out = []
    for text in captions:
        if rng.random() < TOPICAL:
            ws = text.split()
            ws.insert(int(rng.integers(0, len(ws) + 1)), str(rng.choice(TOPIC_TERMS)))
            text = " ".join(ws)
        out.append(text)
        if rng.random() < NEAR_DUPLICATES:
            ws = text.split()
            kind = int(rng.integers(5))
            if kind == 0:
                out.append(text + "!")
            elif kind == 1:
                out.append(text.upper())
            elif kind == 2:
                out.append(text + ".")
            elif kind == 3 and len(ws) > 3:
                del ws[int(rng.integers(len(ws)))]
                out.append(" ".join(ws))
            else:
                ws[int(rng.integers(len(ws)))] = str(rng.choice(words[:200]))
                out.append(" ".join(ws))
    return out


def template_images(n: int, seed: int = 0):
    """n distinct RGB images from the demo photos: two photos blended, crop window, mirror, colour."""
    from PIL import Image, ImageOps

    from generator.meme.templates import load_templates

    photos = [Image.open(t.image_path).convert("RGB") for t in load_templates()]
    rng = np.random.default_rng(seed)
    def crop(img):
        w, h = img.size
        cw, ch = int(w * rng.uniform(0.5, 0.9)), int(h * rng.uniform(0.5, 0.9))
        x, y = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        return img.crop((x, y, x + cw, y + ch)).resize((256, 256))

    m = len(photos)
    for i in range(n):
        out = Image.blend(crop(photos[i % m]), crop(photos[(i % m + 1 + i // m) % m]), 0.35)
        if rng.random() < 0.5:
            out = ImageOps.mirror(out)
        tint = Image.new("RGB", out.size, tuple(int(c) for c in rng.integers(0, 256, 3)))
        yield Image.blend(out, tint, float(rng.uniform(0.15, 0.45)))


def write_memefly(root: Path, n_templates: int, per_template: int, n_words: int, seed: int = 0) -> Path:
    """memefly JSON + template images (bottom box listed first, as memefly does) in ``root``."""
    captions = synthetic_captions(n_templates, per_template, n_words, seed)
    root.mkdir(parents=True, exist_ok=True)
    entries = []
    for t, img in enumerate(template_images(n_templates, seed)):
        slug = f"t{t:03d}"
        img.save(root / f"{slug}.jpg", quality=85)
        entries.append({"meme_id": t, "meme_name": slug, "meme_url": f"https://i.example/{slug}.jpg",
                        "meme_bounding_box": ["left: 4px; top: 190px; width: 248px; height: 62px;",
                                              "left: 4px; top: 4px; width: 248px; height: 62px;"],
                        "meme_text": captions[t]})
    (root / "memes.json").write_text(json.dumps(entries, ensure_ascii=False), encoding="utf-8")
    return root / "memes.json"


def _one_edit(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """Within one word insertion, deletion or substitution (a != b)."""
    if abs(len(a) - len(b)) > 1:
        return False
    p = 0
    while p < min(len(a), len(b)) and a[p] == b[p]:
        p += 1
    s = 0
    while s < min(len(a), len(b)) - p and a[-1 - s] == b[-1 - s]:
        s += 1
    return p + s >= max(len(a), len(b)) - 1


def near_copy_rate(texts: list[str], training: list[str]) -> float:
    """Share of ``texts`` that copy a training caption, brute force (see the module docstring)."""
    from generator.meme.novelty import words

    train = {words(t) for t in training}
    by_len: dict[int, list[tuple[str, ...]]] = {}
    for w in train:
        by_len.setdefault(len(w), []).append(w)
    runs = {w[i:i + 6] for w in train for i in range(len(w) - 5)}
    copies = 0
    for text in texts:
        w = words(text)
        near = w in train or any(w[i:i + 6] in runs for i in range(len(w) - 5)) or any(
            max(len(w), len(t)) >= 3 and _one_edit(w, t)
            for n in (len(w) - 1, len(w), len(w) + 1) for t in by_len.get(n, ()))
        copies += near
    return copies / len(texts) if texts else 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--budget", type=float, default=240.0, help="seconds of training (default 240)")
    parser.add_argument("--quick", action="store_true", help="12 templates x 40 captions, 30 s (for tests)")
    parser.add_argument("--keep", type=Path, default=None, help="write data and bundle here instead of a temp dir")
    args = parser.parse_args()
    n_t, per_t, n_w, budget = (12, 40, 600, min(args.budget, 30.0)) if args.quick else (108, 190, 7000, args.budget)

    import torch

    torch.set_num_threads(1)
    from generator.meme import load_captioner
    from generator.meme.data import load_dataset, split_by_caption, split_by_template
    from generator.meme.memefly import import_memefly
    from generator.meme.metrics import copy_rate, distinct_n
    from generator.meme.train import train
    from generator.safety import find_unsafe, topic_reason

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        imported = import_memefly(write_memefly(root / "memefly", n_t, per_t, n_w), root / "data")
        data = imported.out_dir
        t0 = time.monotonic()
        report = train(data, root / "bundle", epochs=20, patience=2, batch_size=64, seed=0, refit=False,
                       progress=False, threads=1, max_seconds=budget, resume=False, learning_rate=3e-3)
        train_s = time.monotonic() - t0
        cap = load_captioner(root / "bundle")
        dataset = load_dataset(data)
        seen, _ = split_by_template(dataset, val_fraction=0.1, seed=0)
        train_rows, _ = split_by_caption(seen, val_fraction=0.1, seed=0)
        feats = cap.encode_batch([t.image_path for t in seen.templates])
        tops = cap.beam_search_batch(feats, k=5)
        unfiltered = cap.beam_search_batch(feats, k=5, novel=False)
        index, cap.novelty = cap.novelty, None  # the filter before: verbatim keys only (captions.npy)
        exact = cap.beam_search_batch(feats, k=5)
        cap.novelty = index
    texts = [c.text for caps in tops for c in caps]
    raw_texts = [c.text for caps in unfiltered for c in caps]
    training = [c.text for c in train_rows.captions]  # what the bundle was trained on (refit=False)
    distinct2 = float(np.mean([distinct_n([c.text for c in caps]) for caps in tops]))
    copies = copy_rate(texts, [c.text for c in train_rows.captions])
    raw_copies = copy_rate(raw_texts, [c.text for c in train_rows.captions])
    near = near_copy_rate(texts, training)
    near_exact = near_copy_rate([c.text for caps in exact for c in caps], training)
    near_raw = near_copy_rate(raw_texts, training)
    near_all = near_copy_rate(texts, [c.text for c in dataset.captions])  # held-out captions too
    topical = [t for t in texts if topic_reason(t)]
    queued = [t for t in texts if not find_unsafe(t) and not topic_reason(t)]
    topics_queued = sum(bool(topic_reason(t)) for t in queued) / max(len(queued), 1)
    dropped = sum(n for reason, n in imported.skipped.items() if reason.startswith("sensitive topic"))
    in_order = float(np.mean([[b.y for b in t.boxes] == sorted(b.y for b in t.boxes) for t in dataset.templates]))
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for t, caps in list(zip(seen.templates, tops))[:3]:
        print(f"{t.slug}: " + " | ".join(c.text for c in caps[:3]))
    print(f"data: {len(dataset.captions)} captions, {len(dataset.templates)} templates, vocabulary {report.vocab_size},"
          f" epochs run {report.epochs_run} (best {report.best_epoch}), memory estimate "
          f"{report.memory_needed / 2**20:.0f} MB")
    print(f"import: {imported.captions} captions kept; dropped {dict(sorted(imported.skipped.items()))}")
    print(f"peak_rss_mb={rss_mb:.0f} train_s={train_s:.0f} captions={len(dataset.captions)} vocab={report.vocab_size} "
          f"ppl={report.val_ppl:.1f} unigram_ppl={report.unigram_ppl:.1f} "
          f"ppl_ratio={report.val_ppl / report.unigram_ppl:.3f} template_ppl={report.template_ppl:.1f} "
          f"template_unigram_ppl={report.template_unigram_ppl:.1f} distinct2={distinct2:.3f} copies={copies:.3f} "
          f"copies_unfiltered={raw_copies:.3f} near_copies={near:.3f} near_copies_exact_filter={near_exact:.3f} "
          f"near_copies_unfiltered={near_raw:.3f} near_copies_vs_all={near_all:.3f} topic_dropped={dropped} boxes_in_reading_order={in_order:.3f} "
          f"topics_raw={len(topical) / max(len(texts), 1):.3f} topics_queued={topics_queued:.3f}")


if __name__ == "__main__":
    main()
