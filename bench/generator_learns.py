"""A generator that learns from winners: what the meme captioner writes, with and without adaptation.

The shipped demo captioner writes captions for the demo templates (3 template images a round, k=5
beams each, the configured sampled beams: temperature 1, top_p 0.95, 2 groups). A hidden audience
likes some content words and dislikes others (10 each, drawn among the words the captioner writes
in 3-20% of its captions before any learning), on top of an hour preference, a per-caption quality
no feature sees and noise. feedback.ranking.Ranker picks one candidate a round (Thompson sample) and
learns from its engagement as bench/ranking.py's Learner does. Three arms on the same rounds (same
templates, seeds and hours):
  fixed     the captioner as trained
  adapted   every ADAPT_EVERY posts, what `memeloop adapt` stores from the ranker's
            feedback.ranking.word_effects; the captioner follows the posterior means of the effects
            (generator.meme.adapt.captioner_bias)
  margin    the same, but the adaptation keeps only the offsets (effect less one sd:
            generator.meme.adapt.word_bias), which is what the captioner followed before it read the
            effects (and what it follows in an adaptation stored before they were kept)
Measured over the last 50 of 300 posts: the share of generated candidates carrying a liked word (and
a disliked one), the expected engagement of the picks as a share of the oracle's (the best expected
engagement in the fixed arm's pool of the same round: the generator as trained), and the share of
the candidates the pipeline's text gates pass (generator.gates.check_text with the bundle's training
captions: internals, truth, fluency, meaning, coherence; the bench decodes without the captioner's
``fluent`` choice, so this is the decoder's own rate), 2 seeds. `--meme-only` runs just these
(`--posts` fewer rounds, `--samples` writes the measured candidates to a file to read, `--fluent`
decodes as the pipeline does: gate-passing captions handed out first).

The caption writer (generator.textgen, the shipped demo GPT-2: GAN posts, photo captions, stories)
the same way: WRITER_POSTS rounds of WRITER_K captions (a random topic and tone a round), its own
hidden words (drawn as above among what the writer writes), three arms on the same rounds:
  fixed     the writer as trained
  adapted   every ADAPT_EVERY posts, what `memeloop adapt` stores; the writer follows the posterior
            means of the ranker's word effects (generator/textgen/bias.py writer_bias)
  margin    the same, but following only the stored offsets (effect less one sd: word_bias),
            which is what the writer followed before it read the effects
the share of its captions carrying a liked (disliked) word over the last LAST rounds and the picks'
expected engagement as a share of the oracle's (the best in the fixed arm's pool of the round).
`--writer-only` runs just these.

Last line: `liked_share_adapted=<r> liked_share_fixed=<r> liked_share_margin=<r> disliked_share_{adapted,fixed,margin}=<r>
share_of_oracle_{...}=<r> gate_pass_{...}=<r> writer_liked_{fixed,adapted,margin}=<r>
writer_disliked_{...}=<r> writer_oracle_{...}=<r> run_s=<s>` (--writer-only: the writer_ keys and run_s;
--meme-only: the others).
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor
from functools import partial
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from feedback.ranking import (
    Outcome,
    Ranker,
    content_words,
    engagement_target,
    features_of,
    fit_topics,
    word_effects,
)
from generator.gates import check_text
from generator.meme import load_captioner
from generator.meme.adapt import Adaptation, captioner_bias, word_bias

POSTS, LAST, ADAPT_EVERY, IMAGES, K = 300, 50, 50, 3, 5
HIDDEN, EFFECT = 10, 0.7
HOURS = (9, 13, 19, 22)
DECODE = {"temperature": 1.0, "top_p": 0.95, "groups": 2, "group_penalty": 1.0}
BASELINE_POSTS = 30
FEATURES = Path(os.environ.get("TMPDIR", "/tmp")) / "memeloop-demo-template-features.npz"


def template_features() -> tuple[list[str], np.ndarray]:
    """The demo templates' image features (encoded once, cached beside the temp folder)."""
    folders = sorted(p.parent for p in (ROOT / "generator/meme/demo_data").glob("*/image.jpg"))
    slugs = [f.name for f in folders]
    if FEATURES.exists():
        cached = np.load(FEATURES)
        if list(cached["slugs"]) == slugs:
            return slugs, cached["features"]
    feats = load_captioner().encode_batch([f / "image.jpg" for f in folders])
    np.savez(FEATURES, slugs=np.array(slugs), features=feats)
    return slugs, feats


def generate(captioner, feats: np.ndarray, chosen: list[int], seed: int) -> list[list]:
    return captioner.beam_search_batch(feats[chosen], k=K, seed=seed, **DECODE)


MEME_ARMS = ("fixed", "adapted", "margin")


def run(seed: int, posts: int = POSTS, strength: float = 1.0, samples: list[str] | None = None,
        fluent: bool = False) -> dict[str, float]:
    """The captioner's arms (see the module text); ``samples`` (when given) gets a line per measured
    candidate: seed, post, arm, template, the liked (+) and disliked (-) words it carries, the gates'
    verdict, text. ``fluent``: the captioners hand out the captions the gates pass first, as the
    pipeline's does."""
    slugs, feats = template_features()
    rng = np.random.default_rng(seed)
    fixed, adapted, margin = (load_captioner(fluent=fluent) for _ in range(3))
    sources = fixed.meaning_sources()
    # Before learning: what the captioner writes (the hidden words' pool, and the ranker's topics).
    calib = []
    for r in range(40):
        chosen = list(rng.choice(len(slugs), size=IMAGES, replace=False))
        calib += [content_words(c.text) for caps in generate(fixed, feats, chosen, 10_000 + r) for c in caps]
    freq = Counter(w for ws in calib for w in set(ws))
    pool = sorted(w for w, n in freq.items() if 0.03 * len(calib) <= n <= 0.20 * len(calib))
    hidden = list(rng.choice(pool, size=2 * HIDDEN, replace=False))
    liked, disliked = set(hidden[:HIDDEN]), set(hidden[HIDDEN:])
    prefs = {w: EFFECT for w in liked} | {w: -EFFECT for w in disliked}
    hour_pref = {h: float(rng.normal(0, 0.25)) for h in HOURS}
    topics = fit_topics(calib)
    arms = {"fixed": fixed, "adapted": adapted, "margin": margin}
    rankers = {a: Ranker(topics=topics) for a in arms}
    finals: dict[str, list[float]] = {a: [] for a in arms}
    # each arm its own streams from the same seeds: before the first adaptation both arms post the same
    policy_rng = {a: np.random.default_rng(seed + 1) for a in arms}
    noise_rng = {a: np.random.default_rng(seed + 2) for a in arms}
    got: dict[str, list[float]] = {a: [] for a in arms}
    oracle: list[float] = []
    carrying: dict[str, list[tuple[float, float]]] = {a: [] for a in arms}
    best_own: dict[str, list[float]] = {a: [] for a in arms}  # the best expected engagement in the arm's own pool
    picked: dict[str, list[tuple[float, float]]] = {a: [] for a in arms}  # does the pick carry a liked / disliked word
    distinct: dict[str, list[float]] = {a: [] for a in arms}  # distinct texts per pool
    passed: dict[str, list[float]] = {a: [] for a in arms}  # the text gates pass the candidate
    adaptations = 0

    def expected(text: str, hour: int) -> float:
        words = set(content_words(text))
        return sum(prefs.get(w, 0.0) for w in words) + hour_pref[hour]

    for t in range(posts):
        if t and t % ADAPT_EVERY == 0:
            for arm in ("adapted", "margin"):
                effects = word_effects(rankers[arm], adapted.vocab.tokens)
                # adapted: what `memeloop adapt` stores (the offsets and the effects, the captioner
                # follows the effects' means); margin: the offsets alone (effect less one sd)
                arms[arm].adapt(Adaptation(word_bias(effects, strength=strength), source={"strength": strength},
                                           version=t // ADAPT_EVERY, effects=effects if arm == "adapted" else {}))
            adaptations += 1
        chosen = list(rng.choice(len(slugs), size=IMAGES, replace=False))
        hours = [HOURS[int(h)] for h in rng.integers(len(HOURS), size=IMAGES * K)]
        round_seed = int(rng.integers(2**31))
        qualities = rng.normal(0, 0.4, size=IMAGES * K)
        for arm, captioner in arms.items():
            caps = [(slugs[i], c) for i, cs in zip(chosen, generate(captioner, feats, chosen, round_seed)) for c in cs]
            cand = [features_of(generator="meme", text=c.text, account="sim", hour=hours[j], template=slug,
                                beam_rank=c.rank, beam_score=c.score) for j, (slug, c) in enumerate(caps)]
            mus = [expected(c.text, hours[j]) for j, (_, c) in enumerate(caps)]
            if arm == "fixed":
                oracle.append(math.exp(max(mus)))
            if t >= posts - LAST:
                words = [set(f.words) for f in cand]
                carrying[arm].append((sum(bool(w & liked) for w in words) / len(words),
                                      sum(bool(w & disliked) for w in words) / len(words)))
                best_own[arm].append(math.exp(max(mus)))
                distinct[arm].append(len({c.text for _, c in caps}) / len(caps))
                verdicts = [check_text(c.text, sources=sources) for _, c in caps]
                passed[arm].append(sum(v.ok for v in verdicts) / len(verdicts))
                if samples is not None:
                    samples += [f"{seed}\t{t}\t{arm}\t{slug}\t{' '.join(sorted('+' + x for x in ws & liked) + sorted('-' + x for x in ws & disliked))}"
                                f"\t{'ok' if v.ok else v.gate}\t{c.text}" for ws, v, (slug, c) in zip(words, verdicts, caps)]
            scores = rankers[arm].score(cand, policy_rng[arm])
            i = max(range(len(cand)), key=lambda j: scores[j].sample)
            if t >= posts - LAST:
                picked[arm].append((float(bool(set(cand[i].words) & liked)), float(bool(set(cand[i].words) & disliked))))
            got[arm].append(math.exp(mus[i]))
            e = 20.0 * math.exp(mus[i] + qualities[i] + float(noise_rng[arm].normal(0, 0.35)))
            if finals[arm]:
                target = engagement_target(e, statistics.median(finals[arm][:BASELINE_POSTS]))
                rankers[arm].update([Outcome(cand[i], target, None)])
            finals[arm].append(e)
    window = slice(posts - LAST, posts)
    bias = captioner_bias(adapted.adaptation) if adapted.adaptation else {}
    out = {"adaptations": float(adaptations), "biased_words": float(len(bias)),
           "bias_up_liked": float(sum(b > 0 and w in liked for w, b in bias.items())),
           "bias_up_other": float(sum(b > 0 and w not in liked for w, b in bias.items())),
           "bias_down_disliked": float(sum(b < 0 and w in disliked for w, b in bias.items())),
           "bias_down_other": float(sum(b < 0 and w not in disliked for w, b in bias.items()))}
    for arm in arms:
        out[f"liked_{arm}"] = statistics.mean(x for x, _ in carrying[arm])
        out[f"disliked_{arm}"] = statistics.mean(y for _, y in carrying[arm])
        out[f"oracle_{arm}"] = sum(got[arm][window]) / sum(oracle[window])
        out[f"pool_best_{arm}"] = sum(best_own[arm]) / sum(oracle[window])
        out[f"pick_liked_{arm}"] = statistics.mean(x for x, _ in picked[arm])
        out[f"pick_disliked_{arm}"] = statistics.mean(y for _, y in picked[arm])
        out[f"distinct_{arm}"] = statistics.mean(distinct[arm])
        out[f"gate_pass_{arm}"] = statistics.mean(passed[arm])
    return out


WRITER_POSTS, WRITER_K = POSTS, 5
WRITER_ARMS = ("fixed", "adapted", "margin")


def run_writer(seed: int, posts: int = WRITER_POSTS) -> dict[str, float]:
    """The writer's arms (see the module text): liked / disliked shares of what it writes, and the
    expected engagement of the picks as a share of the oracle's (the best in the fixed arm's pool)."""
    from generator.textgen import load_writer

    rng = np.random.default_rng(seed + 100)
    arms = {a: load_writer() for a in WRITER_ARMS}
    fixed = arms["fixed"]
    ask = lambda: {"topic": str(rng.choice(fixed.topics)), "tone": str(rng.choice(fixed.tones)),
                   "audience": "general", "seed": int(rng.integers(2**31))}
    calib = [content_words(c) for r in range(40) for c in fixed.write(WRITER_K, **ask())]
    freq = Counter(w for ws in calib for w in set(ws))
    pool = sorted(w for w, n in freq.items() if 0.03 * len(calib) <= n <= 0.20 * len(calib))
    hidden = list(rng.choice(pool, size=min(2 * HIDDEN, len(pool) // 2 * 2), replace=False))
    liked, disliked = set(hidden[:len(hidden) // 2]), set(hidden[len(hidden) // 2:])
    prefs = {w: EFFECT for w in liked} | {w: -EFFECT for w in disliked}
    rankers = {a: Ranker(topics=fit_topics(calib)) for a in arms}
    policy_rng = {a: np.random.default_rng(seed + 1) for a in arms}
    noise_rng = {a: np.random.default_rng(seed + 2) for a in arms}
    finals: dict[str, list[float]] = {a: [] for a in arms}
    carrying: dict[str, list[tuple[float, float]]] = {a: [] for a in arms}
    got: dict[str, list[float]] = {a: [] for a in arms}
    oracle: list[float] = []
    for t in range(posts):
        if t and t % ADAPT_EVERY == 0:
            for arm in ("adapted", "margin"):
                effects = word_effects(rankers[arm])
                # adapted: what `memeloop adapt` stores (the writer follows the effects' means);
                # margin: the captioner's offsets alone (effect less one sd), as the writer did before
                arms[arm].adapt(Adaptation(word_bias(effects), version=t // ADAPT_EVERY,
                                           effects=effects if arm == "adapted" else {}))
        request, hour = ask(), HOURS[int(rng.integers(len(HOURS)))]
        for arm, writer in arms.items():
            texts = writer.write(WRITER_K, **request)
            cand = [features_of(generator="post", text=c, account="sim", hour=hour, beam_rank=r, tone=request["tone"],
                                audience="general") for r, c in enumerate(texts)]
            words = [set(f.words) for f in cand]
            mus = [sum(prefs.get(w, 0.0) for w in ws) for ws in words]
            if arm == "fixed":
                oracle.append(math.exp(max(mus)))
            if t >= posts - LAST:
                carrying[arm].append((sum(bool(w & liked) for w in words) / len(words),
                                      sum(bool(w & disliked) for w in words) / len(words)))
            scores = rankers[arm].score(cand, policy_rng[arm])
            i = max(range(len(cand)), key=lambda j: scores[j].sample)
            got[arm].append(math.exp(mus[i]))
            e = 20.0 * math.exp(mus[i] + float(noise_rng[arm].normal(0, 0.35)))
            if finals[arm]:
                rankers[arm].update([Outcome(cand[i], engagement_target(e, statistics.median(finals[arm][:BASELINE_POSTS])), None)])
            finals[arm].append(e)
    window = slice(posts - LAST, posts)
    out = {f"writer_{k}_{arm}": statistics.mean(x[j] for x in carrying[arm])
           for arm in arms for j, k in enumerate(("liked", "disliked"))}
    return out | {f"writer_oracle_{arm}": sum(got[arm][window]) / sum(oracle[window]) for arm in arms}


def run_seed(seed: int, *, meme: bool = True, writer: bool = True, posts: int = POSTS, writer_posts: int = WRITER_POSTS,
             strength: float = 1.0, samples: bool = False, fluent: bool = False) -> tuple[dict[str, float], list[str]]:
    """One seed's figures (the captioner's and / or the writer's) and, with ``samples``, the captioner's measured candidates."""
    lines: list[str] | None = [] if samples else None
    out = run(seed, posts, strength, lines, fluent) if meme else {}
    return out | (run_writer(seed, writer_posts) if writer else {}), lines or []


def writer_line(mean: dict[str, float]) -> str:
    return " ".join(f"writer_{k}_{arm}={mean[f'writer_{k}_{arm}']:.3f}"
                    for k in ("liked", "disliked", "oracle") for arm in WRITER_ARMS)


def meme_line(mean: dict[str, float]) -> str:
    return " ".join(f"{name}_{arm}={mean[f'{k}_{arm}']:.3f}"
                    for k, name in (("liked", "liked_share"), ("disliked", "disliked_share"),
                                    ("oracle", "share_of_oracle"), ("gate_pass", "gate_pass"))
                    for arm in ("adapted", "fixed", "margin"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=2)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--jobs", type=int, default=2)
    only = parser.add_mutually_exclusive_group()
    only.add_argument("--writer-only", action="store_true", help="only the caption writer's arms")
    only.add_argument("--meme-only", action="store_true", help="only the meme captioner's arms")
    parser.add_argument("--posts", type=int, default=POSTS, help="the captioner's rounds (>= 2 x 50)")
    parser.add_argument("--writer-posts", type=int, default=WRITER_POSTS, help="the writer's rounds (>= 2 x 50)")
    parser.add_argument("--strength", type=float, default=1.0, help="the adaptations' strength (memeloop adapt --strength)")
    parser.add_argument("--fluent", action="store_true",
                        help="the captioners hand out gate-passing captions first, as the pipeline's does")
    parser.add_argument("--samples", type=Path, help="write the captioner's measured candidates here (tab-separated)")
    args = parser.parse_args()
    for name, value in (("--posts", args.posts), ("--writer-posts", args.writer_posts)):
        if value < 2 * LAST:
            parser.error(f"{name} must be at least {2 * LAST}, got {value}")
    if not 0 <= args.strength <= 5:
        parser.error(f"--strength must be between 0 and 5, got {args.strength}")
    start = time.perf_counter()
    if not args.writer_only:
        template_features()  # encode once before the workers start
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    job = partial(run_seed, meme=not args.writer_only, writer=not args.meme_only, posts=args.posts,
                  writer_posts=args.writer_posts, strength=args.strength, samples=args.samples is not None, fluent=args.fluent)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        done = list(pool.map(job, seeds))
    runs = [figures for figures, _ in done]
    if args.samples is not None:
        args.samples.write_text("seed\tpost\tarm\ttemplate\twords\tgates\ttext\n" + "".join(f"{line}\n" for _, lines in done for line in lines))
    print(f"{args.posts} posts (writer: {args.writer_posts}), adapted every {ADAPT_EVERY}, last {LAST} posts, "
          f"strength {args.strength}{', fluent' if args.fluent else ''}, seeds {seeds.start}-{seeds.stop - 1} (per seed, then the mean)")
    for key in runs[0]:
        values = [r[key] for r in runs]
        print(f"{key:>20} " + " ".join(f"{v:.3f}" for v in values) + f"  mean {statistics.mean(values):.3f}")
    mean = {k: statistics.mean(r[k] for r in runs) for k in runs[0]}
    parts = ([] if args.writer_only else [meme_line(mean)]) + ([] if args.meme_only else [writer_line(mean)])
    print(" ".join(parts) + f" run_s={time.perf_counter() - start:.0f}")


if __name__ == "__main__":
    main()
