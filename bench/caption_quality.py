"""Meme captioner at memefly's scale, offline: memory, time and caption quality of a real training run.

Builds a synthetic data set of memefly's shape (108 templates x ~190 captions = 20,520, 3-29
words, ~7,000 words with Zipf frequencies; each template has its own phrasing: a sparse
word-to-word chain over its own topic words, mixed with globally Zipf-distributed words), with
template images made from the photos the demo data ships (distinct crop, flip and colour per
template). Then it trains with ``generator.meme.train`` (the same code as ``memeloop train meme``,
one thread, bounded by --budget seconds) and reports:

- peak RSS of the whole process (encoder + training + decoding), train time;
- caption-split perplexity (held-out captions of seen templates) vs a unigram model, and the
  template-split perplexity (unseen templates) vs unigram;
- over the top-5 beams of every seen template: distinct-2 and the verbatim-copy rate (as handed
  out, i.e. with the bundle's training-caption filter, and without it: copies_unfiltered).

    python bench/caption_quality.py [--budget 240] [--quick] [--keep DIR]

Last line: peak_rss_mb=.. train_s=.. captions=.. vocab=.. ppl=.. unigram_ppl=.. ppl_ratio=..
template_ppl=.. template_unigram_ppl=.. distinct2=.. copies=.. copies_unfiltered=..
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
        out[t] = captions
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


def write_dataset(root: Path, n_templates: int, per_template: int, n_words: int, seed: int = 0) -> Path:
    captions = synthetic_captions(n_templates, per_template, n_words, seed)
    rows = []
    for t, img in enumerate(template_images(n_templates, seed)):
        slug = f"t{t:03d}"
        (root / slug).mkdir(parents=True, exist_ok=True)
        img.save(root / slug / "image.jpg", quality=85)
        (root / slug / "template.toml").write_text(f'name = "Template {t}"\nimage = "image.jpg"\n')
        rows += [{"template": slug, "text": c} for c in captions[t]]
    (root / "captions.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows),
                                         encoding="utf-8")
    return root


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
    from generator.meme.metrics import copy_rate, distinct_n
    from generator.meme.train import train

    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        data = write_dataset(root / "data", n_t, per_t, n_w)
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
    texts = [c.text for caps in tops for c in caps]
    distinct2 = float(np.mean([distinct_n([c.text for c in caps]) for caps in tops]))
    copies = copy_rate(texts, [c.text for c in train_rows.captions])
    raw_copies = copy_rate([c.text for caps in unfiltered for c in caps], [c.text for c in train_rows.captions])
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    for t, caps in list(zip(seen.templates, tops))[:3]:
        print(f"{t.slug}: " + " | ".join(c.text for c in caps[:3]))
    print(f"data: {len(dataset.captions)} captions, {len(dataset.templates)} templates, vocabulary {report.vocab_size},"
          f" epochs run {report.epochs_run} (best {report.best_epoch}), memory estimate "
          f"{report.memory_needed / 2**20:.0f} MB")
    print(f"peak_rss_mb={rss_mb:.0f} train_s={train_s:.0f} captions={len(dataset.captions)} vocab={report.vocab_size} "
          f"ppl={report.val_ppl:.1f} unigram_ppl={report.unigram_ppl:.1f} "
          f"ppl_ratio={report.val_ppl / report.unigram_ppl:.3f} template_ppl={report.template_ppl:.1f} "
          f"template_unigram_ppl={report.template_unigram_ppl:.1f} distinct2={distinct2:.3f} copies={copies:.3f} "
          f"copies_unfiltered={raw_copies:.3f}")


if __name__ == "__main__":
    main()
