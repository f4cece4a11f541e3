"""Ranking quality against a seeded simulated audience with the effects real audiences have.

Each round the generators offer a pool (3 template images x 5 beams; each candidate has a caption
drawn from topic and filler words, a tone, an audience, a planned hour, a beam score). A hidden
audience decides engagement. Effects, each switchable per scenario:
  base          template, tone, audience, hour, hashtag and length preferences (log-linear)
  content       a hidden set of topics (and so words) the audience likes or dislikes
  interactions  template x hour and tone x audience
  drift         half of the template and topic preferences are redrawn at post 250
  wide          with drift: the redraw also reaches hours, tones, audiences and both interactions
  gradual       every preference wanders a little each post (a mean-reverting walk; its own sd kept)
  quality       per-caption quality no feature sees (the oracle does not see it either)
  fatigue       a template or words repeated from the account's recent posts earn less
  tails         heavy-tailed noise (Student t, 3 df) and rare viral posts (x5-x30)
  delay         a post's engagement is known only as it matures: a partial reading one slot
                after posting (8 h, with its own noise), the 24 h reading three slots after
  peaked        engagement peaks at 7-word captions (instead of "shorter is better")
Four policies pick one candidate per round, side by side on the same pools, each with its own
history (fatigue depends on what each posted):
  ranker      feedback.ranking.Ranker (Thompson sample), fed what the real system would see
  beam_top1   the best beam score;  random  uniform
  oracle      the best expected engagement from observable features (no hidden quality, no noise)
Share = expected engagement of a policy's picks over posts 401-500 / the oracle's; 5 seeds,
mean and spread (sample sd) per scenario. A cost line times update(10k outcomes) + score(1k).

Last line: `base_share=<r> ... all_effects_share=<r> ... <scenario>_beam_share=<b> ... update_score_ms=<t>`.
"""
from __future__ import annotations

import argparse
import math
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor

# One BLAS thread: the posterior is small (a few hundred features), where threads only contend.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedback.ranking import (
    Applied,
    CandidateFeatures,
    Outcome,
    Ranker,
    Recent,
    engagement_target,
    features_of,
    fit_topics,
    maturity,
)

TEMPLATES = [f"tpl{i}" for i in range(10)]
TONES = ["funny", "dry", "wholesome", "edgy"]
AUDIENCES = ["general", "devs", "gamers"]
HOURS = [9, 13, 19, 22]
TOPICS = {
    "monday": "monday alarm weekend commute inbox meeting", "coffee": "coffee espresso mug caffeine barista latte",
    "cats": "cat kitten purr litter whiskers meow", "dogs": "dog puppy leash walkies bark fetch",
    "code": "bug deploy compile merge stacktrace refactor", "games": "boss respawn loot speedrun lag quest",
    "food": "pizza taco snack fridge leftovers burger", "sleep": "nap pillow snooze insomnia bedtime yawn",
    "gym": "gym squat protein cardio treadmill gains", "money": "rent salary budget invoice taxes wallet",
    "weather": "rain snow heatwave umbrella forecast drizzle", "school": "exam homework teacher deadline essay",
}
FILLERS = ["literally", "honestly", "somehow", "again", "every", "always", "never", "just", "still", "maybe", "today", "tonight", "nobody", "everyone", "really", "actually", "basically", "totally", "friend", "vibe", "moment", "energy", "plan", "thing"]
POSTS, WINDOW, IMAGES, BEAMS = 500, slice(400, 500), 3, 5
RECENT_POSTS, DELAY_SLOTS = 10, 3
ALL = ("base", "content", "interactions", "drift", "quality", "fatigue", "tails", "delay", "peaked")
SCENARIOS = {"base": ("base",), "content_only": ("content",), "interactions": ("base", "interactions"),
             "drift": ("base", "content", "drift"), "quality": ("base", "quality"),
             "fatigue_tails_delay": ("base", "content", "fatigue", "tails", "delay"), "all_effects": ALL,
             # drift together with each other effect, then with all of them, harder drift last
             "drift_interactions": ("base", "content", "interactions", "drift"),
             "drift_fatigue": ("base", "content", "fatigue", "drift"),
             "drift_tails_delay": ("base", "content", "tails", "delay", "drift"),
             "drift_quality_peaked": ("base", "content", "quality", "peaked", "drift"),
             "all_wide_drift": (*ALL, "wide"), "all_gradual_drift": (*ALL, "wide", "gradual")}
GRADUAL_RHO = 0.995  # per post: a preference keeps 0.995 of itself (half-life ~140 posts) and the rest is new
POLICIES = ("ranker", "beam_top1", "random", "oracle")


@dataclass(frozen=True)
class Candidate:
    features: CandidateFeatures  # without history (recent_* are filled per policy)
    topics: tuple[str, ...]
    quality: float


@dataclass
class Audience:
    effects: frozenset[str]
    rng: np.random.Generator
    prefs: dict[str, float] = field(default_factory=dict)

    def draw(self, keys: list[str], sd: float) -> None:
        for k in keys:
            self.prefs[k] = float(self.rng.normal(0, sd))

    def expected_log(self, f: CandidateFeatures, topics: tuple[str, ...]) -> float:
        p, on = self.prefs, self.effects
        mu = 0.05 * (f.beam_score or 0.0)
        if "base" in on:
            mu += (p[f"t:{f.template}"] + p[f"tone:{f.tone}"] + p[f"aud:{f.audience}"] + p[f"h:{f.hour}"]
                   - 0.15 * abs(f.hashtags - 2))
            if "peaked" not in on:
                mu += 0.3 if f.length_words <= 6 else (-0.1 if f.length_words <= 11 else -0.5)
        if "peaked" in on:
            mu -= 0.025 * (f.length_words - 7) ** 2
        if "content" in on:
            mu += sum(p[f"topic:{t}"] for t in topics)
        if "interactions" in on:
            mu += p[f"th:{f.template}:{f.hour}"] + p[f"ta:{f.tone}:{f.audience}"]
        if "fatigue" in on:
            mu -= 0.12 * f.recent_template + 0.6 * f.recent_overlap
        return mu


def make_audience(rng: np.random.Generator, effects: frozenset[str]) -> Audience:
    a = Audience(effects, rng)
    a.draw([f"t:{t}" for t in TEMPLATES], 0.5)
    a.draw([f"tone:{t}" for t in TONES], 0.4)
    a.draw([f"aud:{x}" for x in AUDIENCES], 0.3)
    a.draw([f"h:{h}" for h in HOURS], 0.25)
    a.draw([f"topic:{t}" for t in TOPICS], 0.6)
    a.draw([f"th:{t}:{h}" for t in TEMPLATES for h in HOURS], 0.4)
    a.draw([f"ta:{t}:{x}" for t in TONES for x in AUDIENCES], 0.4)
    return a


SDS = {"t": 0.5, "tone": 0.4, "aud": 0.3, "h": 0.25, "topic": 0.6, "th": 0.4, "ta": 0.4}


def drift(a: Audience) -> None:
    keys = [f"t:{t}" for t in TEMPLATES] + [f"topic:{t}" for t in TOPICS]
    a.draw([k for k in keys if a.rng.random() < 0.5], 0.5)
    if "wide" in a.effects:  # the audience's hours and tastes move too, not only what it likes to see
        for k in [k for k in a.prefs if k.split(":")[0] in ("tone", "aud", "h", "th", "ta")]:
            if a.rng.random() < 0.5:
                a.prefs[k] = float(a.rng.normal(0, SDS[k.split(":")[0]]))


def wander(a: Audience) -> None:
    """One post's step of a mean-reverting walk that keeps each preference's spread."""
    step = math.sqrt(1 - GRADUAL_RHO ** 2)
    for k, v in a.prefs.items():
        a.prefs[k] = GRADUAL_RHO * v + step * float(a.rng.normal(0, SDS[k.split(":")[0]]))


def caption(rng: np.random.Generator) -> tuple[str, tuple[str, ...]]:
    topics = tuple(rng.choice(list(TOPICS), size=int(rng.integers(1, 3)), replace=False))
    length = int(rng.integers(3, 16))
    words = [str(rng.choice(TOPICS[t].split())) for t in topics for _ in range(int(rng.integers(1, 3)))]
    words += [str(rng.choice(FILLERS)) for _ in range(max(0, length - len(words)))]
    rng.shuffle(words)
    tags = " ".join(f"#{rng.choice(FILLERS)!s}" for _ in range(int(rng.integers(0, 5))))
    return " ".join(words[:max(length, len(topics))]) + (" " + tags if tags else ""), topics


def make_pool(rng: np.random.Generator) -> list[Candidate]:
    pool = []
    for _ in range(IMAGES):
        template, top = TEMPLATES[rng.integers(len(TEMPLATES))], float(rng.uniform(-6, -3))
        for rank in range(BEAMS):
            text, topics = caption(rng)
            f = features_of(generator="meme", text=text, account="sim", hour=HOURS[rng.integers(len(HOURS))],
                            template=template, beam_rank=rank, beam_score=top - rank * float(rng.uniform(0.2, 1)),
                            tone=TONES[rng.integers(len(TONES))], audience=AUDIENCES[rng.integers(len(AUDIENCES))])
            pool.append(Candidate(f, topics, float(rng.normal(0, 0.4))))
    return pool


BASE_ENGAGEMENT = 20.0
SLOT_S, FULL_S = 8 * 3600, 24 * 3600
BASELINE_POSTS = 30  # the account anchor: median of its first mature posts (feedback.learning)


def with_history(c: Candidate, history: list[CandidateFeatures]) -> CandidateFeatures:
    recent = history[-RECENT_POSTS:]
    base = c.features
    from feedback.ranking import novelty

    uses, overlap = novelty(base.template, base.words,
                            Recent(tuple(h.template for h in recent), tuple(frozenset(h.words) for h in recent[-5:])))
    return CandidateFeatures(**{**base.__dict__, "recent_template": uses, "recent_overlap": overlap})


def realise(audience: Audience, mu: float, c: Candidate, rng: np.random.Generator) -> float:
    on = audience.effects
    log_e = mu + (c.quality if "quality" in on else 0.0)
    if "tails" in on:
        log_e += 0.35 * float(rng.standard_t(3))
        if rng.random() < 0.03:
            log_e += math.log(float(rng.uniform(5, 30)))
    else:
        log_e += float(rng.normal(0, 0.35))
    return BASE_ENGAGEMENT * math.exp(log_e)


@dataclass
class Learner:
    """What the real system does for the ranker: baseline, robust target, young then mature readings."""

    ranker: Ranker
    delayed: bool
    finals: list[float] = field(default_factory=list)
    pending: list[tuple[int, CandidateFeatures, float, Applied | None]] = field(default_factory=list)

    def observe(self, t: int, f: CandidateFeatures, engagement: float, rng: np.random.Generator) -> None:
        if not self.delayed:
            self._final(f, engagement, None)
            return
        self.pending.append((t, f, engagement, None))

    def tick(self, t: int, rng: np.random.Generator) -> None:
        keep = []
        for posted, f, e, applied in self.pending:
            age = t - posted
            if age >= DELAY_SLOTS:
                self._final(f, e, applied)
                continue
            if age == 1 and self.finals:
                reading = e * (SLOT_S / FULL_S) ** 0.6 * math.exp(float(rng.normal(0, 0.25)))
                m = maturity(SLOT_S, FULL_S)
                target = engagement_target(reading / m, statistics.median(self.finals[:BASELINE_POSTS]))
                applied = self.ranker.update([Outcome(f, target, None, weight=m)])[0]
            keep.append((posted, f, e, applied))
        self.pending = keep

    def _final(self, f: CandidateFeatures, e: float, applied: Applied | None) -> None:
        if self.finals:
            target = engagement_target(e, statistics.median(self.finals[:BASELINE_POSTS]))
            self.ranker.update([Outcome(f, target, None, replaces=applied)])
        elif applied is not None:
            self.ranker.update([Outcome(f, None, None, replaces=applied)])
        self.finals.append(e)


def caption_topics(seed: int):
    """Topics fitted from captions the generators produce before any engagement is known (in the
    real system: the stored candidates' texts), from their own random stream."""
    rng = np.random.default_rng(seed + 5000)
    return fit_topics([c.features.words for _ in range(100) for c in make_pool(rng)])


def run(seed: int, effects: tuple[str, ...] = ALL) -> dict[str, list[float]]:
    """Per policy, the expected engagement (observable features only) of each post it made."""
    rng = np.random.default_rng(seed)
    audience = make_audience(np.random.default_rng(seed + 1000), frozenset(effects))
    policy_rng, noise_rng = np.random.default_rng(seed + 1), np.random.default_rng(seed + 2)
    learner = Learner(Ranker(topics=caption_topics(seed)), "delay" in effects)
    history: dict[str, list[CandidateFeatures]] = {p: [] for p in POLICIES}
    got: dict[str, list[float]] = {p: [] for p in POLICIES}
    for t in range(POSTS):
        if "drift" in effects and t == POSTS // 2:
            drift(audience)
        if "gradual" in effects:
            wander(audience)
        pool = make_pool(rng)
        learner.tick(t, noise_rng)
        for policy in POLICIES:
            feats = [with_history(c, history[policy]) for c in pool]
            mus = [audience.expected_log(f, c.topics) for f, c in zip(feats, pool)]
            i = pick(policy, feats, mus, learner.ranker, policy_rng)
            got[policy].append(math.exp(mus[i]))
            history[policy].append(feats[i])
            if policy == "ranker":
                learner.observe(t, feats[i], realise(audience, mus[i], pool[i], noise_rng), noise_rng)
    return got


def pick(policy: str, feats: list[CandidateFeatures], mus: list[float], ranker: Ranker,
         rng: np.random.Generator) -> int:
    if policy == "ranker":
        scores = ranker.score(feats, rng)
        return max(range(len(feats)), key=lambda i: scores[i].sample)
    if policy == "beam_top1":
        return max(range(len(feats)), key=lambda i: _beam(feats[i]))
    if policy == "random":
        return int(rng.integers(len(feats)))
    return max(range(len(feats)), key=lambda i: mus[i])


def _beam(f: CandidateFeatures) -> float:
    """A candidate's beam score; one without (an imported post) never wins beam top-1."""
    return float("-inf") if f.beam_score is None else f.beam_score


def shares(got: dict[str, list[float]]) -> dict[str, float]:
    oracle = sum(got["oracle"][WINDOW])
    return {p: sum(v[WINDOW]) / oracle for p, v in got.items()}


def cost_ms(seed: int = 0, outcomes: int = 10_000, candidates: int = 1_000) -> dict[str, float]:
    """Medians of 3: one update with ``outcomes`` outcomes plus one score of ``candidates`` (wall and
    CPU time), and the incremental path (a persisted state with that history folds 100 new outcomes,
    then scores)."""
    rng = np.random.default_rng(seed)
    pool = [c.features for _ in range((outcomes + candidates) // (IMAGES * BEAMS) + 1) for c in make_pool(rng)]
    history = [Outcome(f, float(rng.normal()), None) for f in pool[:outcomes]]
    items = pool[outcomes:outcomes + candidates]
    topics = caption_topics(seed)
    wall, cpu, incremental = [], [], []
    for _ in range(3):
        ranker = Ranker(topics=topics)
        start, start_cpu = time.perf_counter(), time.process_time()
        ranker.update(history)
        ranker.score(items, np.random.default_rng(seed))
        wall.append((time.perf_counter() - start) * 1000)
        cpu.append((time.process_time() - start_cpu) * 1000)
        state = ranker.state()
        start = time.perf_counter()
        again = Ranker.from_state(state)
        again.update(history[:100])
        again.score(items, np.random.default_rng(seed))
        incremental.append((time.perf_counter() - start) * 1000)
    return {"update_score_ms": statistics.median(wall), "update_score_cpu_ms": statistics.median(cpu),
            "incremental_ms": statistics.median(incremental), "features": float(len(ranker.names))}


def _shares(name: str, seed: int) -> dict[str, float]:
    return shares(run(seed, SCENARIOS[name]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1,
                        help="seeds first-seed .. first-seed + seeds - 1 (others than 1-5: does a gain hold?)")
    parser.add_argument("--scenario", action="append", choices=list(SCENARIOS), help="default: all")
    parser.add_argument("--jobs", type=int, default=2, help="worker processes (scenario x seed runs)")
    args = parser.parse_args()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    names = args.scenario or list(SCENARIOS)
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {(name, seed): pool.submit(_shares, name, seed) for name in names for seed in seeds}
    print(f"posts={POSTS} pool={IMAGES}x{BEAMS} seeds={seeds.start}-{seeds.stop - 1} share of oracle expected engagement, "
          f"posts {WINDOW.start + 1}-{WINDOW.stop}: mean +- sd over seeds")
    print(f"{'scenario':>20} " + " ".join(f"{p:>13}" for p in POLICIES))
    headline = {}
    for name in names:
        runs = [futures[name, seed].result() for seed in seeds]
        cells = []
        for p in POLICIES:
            values = [r[p] for r in runs]
            spread = statistics.stdev(values) if len(values) > 1 else 0.0
            cells.append(f"{statistics.mean(values):.3f}+-{spread:.3f}")
        headline[name] = statistics.mean(r["ranker"] for r in runs)
        headline[f"{name}_beam"] = statistics.mean(r["beam_top1"] for r in runs)
        headline[f"{name}_random"] = statistics.mean(r["random"] for r in runs)
        print(f"{name:>20} " + " ".join(f"{c:>13}" for c in cells), flush=True)
    cost = cost_ms()
    print(f"cost: update(10000 outcomes) + score(1000 candidates) = {cost['update_score_ms']:.0f} ms wall, "
          f"{cost['update_score_cpu_ms']:.0f} ms CPU; from a persisted state +100 outcomes + score(1000) = "
          f"{cost['incremental_ms']:.0f} ms; {cost['features']:.0f} features (median of 3; load average "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores)")
    pairs = [f"{k}_share={v:.3f}" for k, v in headline.items() if not k.endswith(("_beam", "_random"))]
    pairs += [f"{k}_share={v:.3f}" for k, v in headline.items() if k.endswith(("_beam", "_random"))]
    print(" ".join(pairs) + f" update_score_ms={cost['update_score_ms']:.0f}"
          f" update_score_cpu_ms={cost['update_score_cpu_ms']:.0f} incremental_ms={cost['incremental_ms']:.0f}")


if __name__ == "__main__":
    main()
