"""Ranking quality against a seeded simulated audience.

Each round the generators offer a pool of candidates (a few template images x k beams, with varying
tone, audience, caption length, hashtags and planned hour). A hidden audience preference over those
features (log-linear, plus noise) decides each candidate's engagement. Four policies pick one
candidate per round, side by side on the same pools and the same noise draws:
  ranker      feedback.ranking.Ranker (Thompson sample), updated with the normalised engagement of
              what it posted
  beam_top1   the candidate with the best beam score
  random      uniform
  oracle      the best expected engagement under the hidden preference
Cumulative engagement is printed every 100 posts; the ranker's share of the oracle over posts
401-500 is the headline.

Last line: `oracle_share_401_500=<r> beam_top1_share=<b> random_share=<q>`.
"""
from __future__ import annotations

import argparse
import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedback.ranking import CandidateFeatures, Outcome, Ranker

TEMPLATES = [f"tpl{i}" for i in range(10)]
TONES = ["funny", "dry", "wholesome", "edgy"]
AUDIENCES = ["general", "devs", "gamers"]
HOURS = [9, 13, 19, 22]
POSTS = 500
IMAGES_PER_ROUND = 3
BEAMS = 5
BASE_ENGAGEMENT = 20.0


@dataclass(frozen=True)
class Audience:
    """The hidden preference: log-engagement effects per feature value."""

    template: dict[str, float]
    tone: dict[str, float]
    audience: dict[str, float]
    hour: dict[int, float]
    beam_weight: float
    noise_sd: float

    def expected_log(self, f: CandidateFeatures) -> float:
        length = 0.3 if f.length_words <= 6 else (-0.1 if f.length_words <= 11 else -0.5)
        tags = -0.15 * abs(f.hashtags - 2)
        return (self.template[f.template] + self.tone[f.tone] + self.audience[f.audience]
                + self.hour[f.hour] + self.beam_weight * (f.beam_score or 0.0) + length + tags)


def make_audience(rng: np.random.Generator) -> Audience:
    return Audience(
        template={t: float(rng.normal(0, 0.5)) for t in TEMPLATES},
        tone={t: float(rng.normal(0, 0.4)) for t in TONES},
        audience={a: float(rng.normal(0, 0.3)) for a in AUDIENCES},
        hour={h: float(rng.normal(0, 0.25)) for h in HOURS},
        beam_weight=0.05,
        noise_sd=0.35,
    )


def make_pool(rng: np.random.Generator) -> list[CandidateFeatures]:
    pool = []
    for _ in range(IMAGES_PER_ROUND):
        template = TEMPLATES[rng.integers(len(TEMPLATES))]
        top = float(rng.uniform(-6, -3))
        for rank in range(BEAMS):
            pool.append(CandidateFeatures(
                generator="meme", template=template, beam_rank=rank,
                beam_score=top - rank * float(rng.uniform(0.2, 1.0)),
                tone=TONES[rng.integers(len(TONES))], audience=AUDIENCES[rng.integers(len(AUDIENCES))],
                length_words=int(rng.integers(3, 16)), hashtags=int(rng.integers(0, 5)),
                hour=HOURS[rng.integers(len(HOURS))], account="sim"))
    return pool


def run(seed: int) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    audience = make_audience(rng)
    policy_rng = np.random.default_rng(seed + 1)
    ranker = Ranker()
    recent: list[float] = []
    got: dict[str, list[float]] = {"ranker": [], "beam_top1": [], "random": [], "oracle": []}
    for _ in range(POSTS):
        pool = make_pool(rng)
        expected = [audience.expected_log(f) for f in pool]
        noise = rng.normal(0, audience.noise_sd, len(pool))
        realised = [BASE_ENGAGEMENT * math.exp(e + n) for e, n in zip(expected, noise)]
        scores = ranker.score(pool, policy_rng)
        picks = {
            "ranker": max(range(len(pool)), key=lambda i: scores[i].sample),
            "beam_top1": max(range(len(pool)), key=lambda i: pool[i].beam_score),
            "random": int(policy_rng.integers(len(pool))),
            "oracle": max(range(len(pool)), key=lambda i: expected[i]),
        }
        for name, i in picks.items():
            got[name].append(realised[i])
        posted = realised[picks["ranker"]]
        baseline = statistics.median(recent[-30:]) if recent else BASE_ENGAGEMENT
        ranker.update([Outcome(pool[picks["ranker"]], math.log(posted / baseline), None)])
        recent.append(posted)
    return got


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=8)
    args = parser.parse_args()
    got = run(args.seed)
    print(f"seed={args.seed} posts={POSTS} pool={IMAGES_PER_ROUND}x{BEAMS} candidates per post")
    print(f"{'posts':>9} " + " ".join(f"{name:>11}" for name in got))
    for end in range(100, POSTS + 1, 100):
        print(f"{1:>4}-{end:<4} " + " ".join(f"{sum(v[:end]):>11.0f}" for v in got.values()))
    window = slice(400, 500)
    oracle = sum(got["oracle"][window])
    shares = {name: sum(v[window]) / oracle for name, v in got.items()}
    print("share of oracle, posts 401-500: " + " ".join(f"{n}={s:.3f}" for n, s in shares.items()))
    print(f"oracle_share_401_500={shares['ranker']:.3f} beam_top1_share={shares['beam_top1']:.3f} "
          f"random_share={shares['random']:.3f}")


if __name__ == "__main__":
    main()
