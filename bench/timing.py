"""Best time to post: share of oracle timing when the audience's active hours are hidden and drift.

A seeded audience is most active around a peak hour (a bell over the clock, later on weekends) plus
small weekday and hour effects; the peak moves 4-7 hours earlier over the run. Two posts a day,
each at an hour the account allows (08-22); what a post earns also depends on its content (noise
here: the timing model does not see it) and heavy-tailed luck. Policies, side by side:
  timing     feedback.ranking.timing.Timing (Thompson over weekday x hour), refitted every post
  greedy     the same posterior's mean (no exploration)
  fixed      the config's slots (13:00 and 19:00)
  random     a uniform allowed hour
  oracle     the best allowed hour for the audience as it is that day
Share = expected timing engagement of the picks / the oracle's, over all 300 posts and over the
last 100; 5 seeds. ``--imported 300``: the account also brings 300 posts of its own history, made
at the owner's habitual hours (mostly 09-12), before memeloop's first post.
Last line: `timing_share=<r> timing_last100_share=<r> greedy_share=<r> fixed_share=<r> random_share=<r> ...`.
"""
from __future__ import annotations

import argparse
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

from feedback.ranking.timing import Observation, Timing

POSTS, PER_DAY = 300, 2
ALLOWED = tuple(range(8, 23))
FIXED = (13, 19)
POLICIES = ("timing", "greedy", "fixed", "random", "oracle")


class Audience:
    def __init__(self, seed: int) -> None:
        rng = np.random.default_rng(seed + 100)
        self.start = float(rng.uniform(17, 21))
        self.end = self.start - float(rng.uniform(4, 7))
        self.weekend_shift = float(rng.uniform(0.5, 2.5))
        self.height = float(rng.uniform(0.7, 1.1))
        self.weekday = rng.normal(0, 0.15, 7)
        self.hour = rng.normal(0, 0.1, 24)

    def mu(self, weekday: int, hour: int, t: int) -> float:
        peak = self.start + (self.end - self.start) * t / POSTS + (self.weekend_shift if weekday >= 5 else 0.0)
        d = (hour - peak + 12) % 24 - 12
        return self.height * math.exp(-d * d / (2 * 2.5 ** 2)) + float(self.weekday[weekday] + self.hour[hour])


def observed(aud: Audience, weekday: int, hour: int, t: int, rng: np.random.Generator) -> float:
    """A post's log engagement ratio: timing, content (unseen by the timing model), heavy-tailed luck."""
    y = aud.mu(weekday, hour, t) - aud.height / 2 + float(rng.normal(0, 0.5)) + 0.3 * float(rng.standard_t(3))
    return max(-2.5, min(2.5, y))


def history(aud: Audience, n: int, rng: np.random.Generator) -> list[Observation]:
    """The owner's own posts before memeloop: mostly mornings, the audience as it was then."""
    out = []
    for i in range(n):
        hour = int(rng.choice([9, 10, 11, 12])) if rng.random() < 0.8 else int(rng.choice(ALLOWED))
        weekday = int(rng.integers(7))
        out.append(Observation(weekday, hour, observed(aud, weekday, hour, 0, rng)))
    return out


def run(seed: int, imported: int = 0) -> dict[str, list[float]]:
    aud = Audience(seed)
    rng, noise = np.random.default_rng(seed), np.random.default_rng(seed + 1)
    past = history(aud, imported, np.random.default_rng(seed + 2))
    seen: dict[str, list[Observation]] = {p: list(past) for p in ("timing", "greedy")}
    got: dict[str, list[float]] = {p: [] for p in POLICIES}
    for t in range(POSTS):
        weekday = (t // PER_DAY) % 7
        values = [aud.mu(weekday, h, t) for h in ALLOWED]
        for policy in POLICIES:
            if policy in seen:
                model = Timing(seen[policy])
                slots = [(weekday, h) for h in ALLOWED]
                i = model.choose(slots, rng) if policy == "timing" else \
                    int(np.argmax([model.mean_of(weekday, h) for h in ALLOWED]))
            elif policy == "fixed":
                i = ALLOWED.index(FIXED[t % len(FIXED)])
            elif policy == "random":
                i = int(rng.integers(len(ALLOWED)))
            else:
                i = int(np.argmax(values))
            got[policy].append(math.exp(values[i]))
            if policy in seen:
                seen[policy].append(Observation(weekday, ALLOWED[i], observed(aud, weekday, ALLOWED[i], t, noise)))
    return got


def shares(got: dict[str, list[float]], window: slice = slice(None)) -> dict[str, float]:
    oracle = sum(got["oracle"][window])
    return {p: sum(v[window]) / oracle for p, v in got.items()}


def _run(seed: int, imported: int) -> tuple[dict[str, float], dict[str, float]]:
    got = run(seed, imported)
    return shares(got), shares(got, slice(POSTS - 100, POSTS))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--imported", type=int, default=0, help="posts of the account's own history (default 0)")
    parser.add_argument("--jobs", type=int, default=2)
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        results = list(pool.map(_run, seeds, [args.imported] * len(seeds)))
    print(f"{POSTS} posts, {PER_DAY} a day, allowed hours {ALLOWED[0]:02d}-{ALLOWED[-1]:02d}, {args.imported} imported, "
          f"seeds {seeds.start}-{seeds.stop - 1}: share of oracle timing, mean +- sd over seeds")
    print(f"{'window':>10} " + " ".join(f"{p:>13}" for p in POLICIES))
    pairs = []
    for label, k in (("all", 0), ("last100", 1)):
        cells = []
        for p in POLICIES:
            values = [r[k][p] for r in results]
            cells.append(f"{statistics.mean(values):.3f}+-{statistics.stdev(values) if len(values) > 1 else 0:.3f}")
            if p != "oracle":
                suffix = "" if label == "all" else "_last100"
                pairs.append(f"{p}{suffix}_share={statistics.mean(values):.3f}")
        print(f"{label:>10} " + " ".join(f"{c:>13}" for c in cells))
    print(" ".join(pairs))


if __name__ == "__main__":
    main()
