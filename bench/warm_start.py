"""Warm start from imported history: share of oracle over an account's first posts, warm vs cold.

The audience of bench/ranking.py (same effects, same scenarios) has seen the account's own past
posts: 300 posts a human made before memeloop (captions from the same topics and fillers, on
random templates, tones and audiences the ranker never learns about, at random hours), each with
its engagement as a lifetime reading. The warm ranker folds them in first as feedback.learning
does (generator "imported"; words, topics, hour, length and hashtags; engagement as a log ratio to
the median of the imported posts, at feedback.learning's IMPORTED_WEIGHT); the cold ranker starts from the beam order. Then both (and
beam top-1, random, oracle) pick one of 15 candidates per round on the same pools, each with its
own history, learning from what it posted as bench/ranking.py's Learner does.

Share = expected engagement of the picks over the first 50 posts / the oracle's; 5 seeds.
Last line: `<scenario>_warm_share=<r> <scenario>_cold_share=<r> ... warm_share=<r> cold_share=<r>`
(the last pair: all effects).

What the warm start can reach: a policy that knows every effect the history shows (topics, hours,
length, hashtags, fatigue) exactly and nothing of template, tone, audience and their interactions
gets 0.748 of the oracle on all effects (seeds 1-5); the rest must be learned in the 50 posts.
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import ranking as sim

from feedback.learning import IMPORTED_WEIGHT
from feedback.ranking import CandidateFeatures, Outcome, Ranker, engagement_target

FIRST, IMPORTED = 50, 300
POLICIES = ("warm", "cold", "beam_top1", "random", "oracle")


def history(seed: int, audience: sim.Audience, n: int) -> list[Outcome]:
    """The account's own past posts as the warm start sees them (nothing of template, tone,
    audience or beam), with targets against their own median."""
    rng, noise = np.random.default_rng(seed + 7000), np.random.default_rng(seed + 7001)
    posted: list[CandidateFeatures] = []
    seen, engagement = [], []
    for _ in range(n):
        pool = sim.make_pool(rng)
        c = pool[int(rng.integers(len(pool)))]
        f = sim.with_history(c, posted)
        e = sim.realise(audience, audience.expected_log(f, c.topics), c, noise)
        posted.append(f)
        seen.append(dataclasses.replace(f, generator="imported", template=None, beam_rank=None, beam_score=None,
                                        tone=None, audience=None, recent_template=0))
        engagement.append(e)
    base = statistics.median(engagement)
    return [Outcome(f, engagement_target(e, base), None, weight=IMPORTED_WEIGHT) for f, e in zip(seen, engagement)]


def run(seed: int, effects: tuple[str, ...], imported: int = IMPORTED) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    audience = sim.make_audience(np.random.default_rng(seed + 1000), frozenset(effects))
    policy_rng, noise_rng = np.random.default_rng(seed + 1), np.random.default_rng(seed + 2)
    topics = sim.caption_topics(seed)
    delayed = "delay" in effects
    learners = {"warm": sim.Learner(Ranker(topics=topics), delayed), "cold": sim.Learner(Ranker(topics=topics), delayed)}
    learners["warm"].ranker.update(history(seed, audience, imported))
    posted: dict[str, list[CandidateFeatures]] = {p: [] for p in POLICIES}
    got: dict[str, list[float]] = {p: [] for p in POLICIES}
    for t in range(FIRST):
        pool = sim.make_pool(rng)
        for learner in learners.values():
            learner.tick(t, noise_rng)
        for policy in POLICIES:
            feats = [sim.with_history(c, posted[policy]) for c in pool]
            mus = [audience.expected_log(f, c.topics) for f, c in zip(feats, pool)]
            learner = learners.get(policy)
            i = sim.pick("ranker" if learner else policy, feats, mus, learner.ranker if learner else None,
                         policy_rng)  # type: ignore[arg-type]
            got[policy].append(math.exp(mus[i]))
            posted[policy].append(feats[i])
            if learner is not None:
                learner.observe(t, feats[i], sim.realise(audience, mus[i], pool[i], noise_rng), noise_rng)
    return got


def shares(got: dict[str, list[float]]) -> dict[str, float]:
    oracle = sum(got["oracle"])
    return {p: sum(v) / oracle for p, v in got.items()}


def _shares(name: str, seed: int, imported: int) -> dict[str, float]:
    return shares(run(seed, sim.SCENARIOS[name], imported))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--imported", type=int, default=IMPORTED, help="imported posts (default 300)")
    parser.add_argument("--scenario", action="append", choices=list(sim.SCENARIOS),
                        help="default: content_only, interactions, fatigue_tails_delay, all_effects")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    names = args.scenario or ["content_only", "interactions", "fatigue_tails_delay", "all_effects"]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {(n, s): pool.submit(_shares, n, s, args.imported) for n in names for s in seeds}
    print(f"first {FIRST} posts, {args.imported} imported posts, seeds {seeds.start}-{seeds.stop - 1}: share of "
          f"oracle expected engagement, mean +- sd over seeds")
    print(f"{'scenario':>20} " + " ".join(f"{p:>13}" for p in POLICIES))
    pairs = []
    for name in names:
        runs = [futures[name, s].result() for s in seeds]
        cells = []
        for p in POLICIES:
            values = [r[p] for r in runs]
            cells.append(f"{statistics.mean(values):.3f}+-{statistics.stdev(values) if len(values) > 1 else 0:.3f}")
        print(f"{name:>20} " + " ".join(f"{c:>13}" for c in cells), flush=True)
        warm, cold = (statistics.mean(r[p] for r in runs) for p in ("warm", "cold"))
        pairs.append(f"{name}_warm_share={warm:.3f} {name}_cold_share={cold:.3f}")
        if name == "all_effects":
            pairs.append(f"warm_share={warm:.3f} cold_share={cold:.3f}")
    print(" ".join(pairs))


if __name__ == "__main__":
    main()
