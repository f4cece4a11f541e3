"""Warm start from imported history: share of oracle over an account's first posts, warm vs cold.

The audience of bench/ranking.py (same effects, same scenarios) has seen the account's own past
posts: 300 posts a human made before memeloop (captions from the same topics and fillers, at random
tones, audiences and hours), each with its engagement as a lifetime reading. 80% of them
(TEMPLATE_SHARE) were made on one of the account's library templates; the other 20% on other
pictures (photos: for the audience no template effect, no template x hour interaction, no template
fatigue). What the warm start knows of a past post's template is what the real recogniser
(generator/image_match.py) says of its picture: before the seeds run, every sim template is tied
to one shipped template (tpl<i> -> the i-th of generator/meme/demo_data) and the real matcher is
run on real renders of them (bench/image_match.py: random captions, crops, sizes, JPEG) and on
pictures that are no template; a past post's recognised template is drawn from the outcomes
measured for its template (or for a non-template picture), so misses and false assignments come in
at the measured rates, printed above the table. The warm ranker folds the history in first as
feedback.learning does (generator "imported"; words, topics, hour, length, hashtags, the recognised
template and its fatigue; engagement as a log ratio to the median of the imported posts, at
feedback.learning's IMPORTED_WEIGHT); the cold ranker starts from the beam order. Then both (and
beam top-1, random, the ceilings, oracle) pick one of 15 candidates per round on the same pools,
each with its own history and its own random streams (so cold's draws never depend on what warm
does), learning from what it posted as bench/ranking.py's Learner does.

The history is folded in as feedback.learning folds it: one robust batch (Huber's weights,
feedback/ranking/robust.py: a viral or dead past post does not teach its words and template as hard as
its distance). Each past post's caption is read for its tone and audience as the import reads it
(generator/textgen/style.py, the classifier fitted on the writer's corpus): the sim's captions are
made of topic and filler words and carry no tone, so, as for templates, a past post's read tone
(audience) is its true one, another one or none at the rates the real classifier reaches on corpus
topics it was not fitted on (printed above the table). That assumes an account's captions show their
tone in their words as well as the corpus's held-out topics do: an upper bound for an account whose
voice is unlike the corpus (``warm_nostyle`` is the other end: nothing read).

Ceilings (no learning at all): ``ceiling`` knows exactly every effect a history with recognised
templates and no read captions can show (topics, hours, length, hashtags, fatigue, template,
template x hour) and nothing of tone, audience and their interaction (so a warm start that reads
captions can pass it); ``ceiling_notpl`` knows neither templates (the history as imported before
templates were recognised: 0.748 on all effects).

Share = expected engagement of the picks over the first 50 posts / the oracle's; 5 seeds.
``warm_notpl`` is the warm ranker fed the same history with no template recognised and no caption
read (the import as it was before pictures were read), ``warm_nostyle`` with templates but no caption
read (before captions were read), beside it in the same run.

Last line: `<scenario>_warm_share=<r> <scenario>_cold_share=<r> <scenario>_ceiling_share=<r>
<scenario>_warm_notpl_share=<r> <scenario>_warm_nostyle_share=<r> ... warm_share=<r> cold_share=<r>
ceiling_share=<r> warm_notpl_share=<r> warm_nostyle_share=<r> recognised=<r> false_assigned=<r>` (the
unprefixed shares: all effects; recognised / false_assigned: the measured recognition rates the
history used).
"""
from __future__ import annotations

import argparse
import dataclasses
import math
import os
import statistics
import sys
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
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
TEMPLATE_SHARE = 0.8  # past posts made on a library template; the rest on other pictures
# warm_notpl: the same ranker fed the same history with no template recognised (the import before
# pictures were read); last, so the other policies keep their random streams
# warm_nostyle: fed the history with templates but no tone or audience read from the captions (the import
# before captions were read); after warm_notpl for the same reason
POLICIES = ("warm", "cold", "ceiling", "ceiling_notpl", "beam_top1", "random", "oracle", "warm_notpl", "warm_nostyle")
# the imported batch is folded in as feedback.learning does: robust (Huber) against its heavy tails
ROBUST = True
MISS = -1  # a recognition outcome: no template assigned


@dataclass(frozen=True)
class Recognition:
    """Outcomes of the real matcher on real renders: per sim template the library index it said
    (MISS: none), and what it said of pictures that are no template."""

    of_template: tuple[tuple[int, ...], ...]
    of_other: tuple[int, ...]

    def blind(self) -> Recognition:
        """The same shape, recognising nothing."""
        return Recognition(tuple((MISS,) for _ in self.of_template), (MISS,))

    def rates(self) -> dict[str, float]:
        said = [(i, j) for i, row in enumerate(self.of_template) for j in row]
        n = max(1, len(said))
        return {"recognised": sum(i == j for i, j in said) / n, "wrong": sum(j not in (i, MISS) for i, j in said) / n,
                "missed": sum(j == MISS for _, j in said) / n,
                "false_assigned": sum(j != MISS for j in self.of_other) / max(1, len(self.of_other))}


def measure_recognition(per_template: int, negatives: int, seed: int = 11) -> Recognition:
    """Run generator/image_match.py on renders of the shipped templates tied to the sim's templates
    and on non-template pictures (bench/image_match.py's samples)."""
    import image_match as bench_match

    from generator.image_match import ImageMatcher
    from generator.meme.templates import DEMO_DATA_DIR, load_templates

    library = load_templates(DEMO_DATA_DIR)
    if len(library) < len(sim.TEMPLATES):
        raise SystemExit(f"{len(library)} shipped templates: the simulation needs {len(sim.TEMPLATES)}")
    matcher = ImageMatcher.from_templates(library)
    index = {t.slug: i for i, t in enumerate(library)}
    found = bench_match.samples(matcher, library[:len(sim.TEMPLATES)], per_template=per_template,
                                negatives=negatives, seed=seed)
    rows: list[list[int]] = [[] for _ in sim.TEMPLATES]
    other = []
    for truth, m in found:
        said = MISS if m.slug is None else index[m.slug]
        if truth is None:
            other.append(said)
        else:
            rows[index[truth]].append(said)
    return Recognition(tuple(tuple(r) for r in rows), tuple(other))


@dataclass(frozen=True)
class StyleReading:
    """How the real style classifier (generator/textgen/style.py) reads captions of a topic it was not
    fitted on: per label the share read right and the share read wrong (the rest: unsure, None)."""

    tone: tuple[float, float]
    audience: tuple[float, float]


def measure_styles() -> StyleReading:
    """Fit the classifier on the writer's corpus less one topic, read that topic's captions; every
    topic in turn (its lines never seen: the closest the corpus comes to an account's own captions)."""
    from generator.textgen.corpus_io import read_corpus
    from generator.textgen.style import CORPUS, held_out, split_by_topic

    corpus = read_corpus(CORPUS)
    runs = [held_out(*split_by_topic(corpus, t)) for t in sorted({e.topic for e in corpus})]
    n = sum(a.n for a in runs)

    def rates(kept: str, right: str) -> tuple[float, float]:
        return (sum(a.n * getattr(a, kept) * getattr(a, right) for a in runs) / n,
                sum(a.n * getattr(a, kept) * (1 - getattr(a, right)) for a in runs) / n)

    return StyleReading(rates("tone_kept", "tone_kept_right"), rates("audience_kept", "audience_kept_right"))


def _read(truth: str, labels: list[str], rates: tuple[float, float], rng: np.random.Generator) -> str | None:
    """A label as the classifier reads it: right, another one, or none, at the measured rates (the
    sim's labels stand in for the writer's: a caption's tone is read as often as the corpus's are)."""
    u = float(rng.random())
    if u < rates[0]:
        return truth
    if u < rates[0] + rates[1]:
        others = [x for x in labels if x != truth]
        return others[int(rng.integers(len(others)))]
    return None


def _recognised(said: int) -> str | None:
    # a library template beyond the sim's ten is still a wrong template: fold it onto one of them
    return None if said == MISS else sim.TEMPLATES[said % len(sim.TEMPLATES)]


def photo_mu(audience: sim.Audience, f: CandidateFeatures, topics: tuple[str, ...]) -> float:
    """What the audience expects of a post on a picture that is no template: no template effect, no
    template x hour interaction (and no template fatigue: ``f`` has template None)."""
    t = sim.TEMPLATES[0]
    mu = audience.expected_log(dataclasses.replace(f, template=t), topics)
    if "base" in audience.effects:
        mu -= audience.prefs[f"t:{t}"]
    if "interactions" in audience.effects:
        mu -= audience.prefs[f"th:{t}:{f.hour}"]
    return mu


def known_mu(audience: sim.Audience, f: CandidateFeatures, topics: tuple[str, ...], *, templates: bool) -> float:
    """The audience's expectation less what no history shows (tone, audience, their interaction)
    and, without ``templates``, less the template effects too."""
    p, on = audience.prefs, audience.effects
    mu = audience.expected_log(f, topics)
    if "base" in on:
        mu -= p[f"tone:{f.tone}"] + p[f"aud:{f.audience}"] + (0.0 if templates else p[f"t:{f.template}"])
    if "interactions" in on:
        mu -= p[f"ta:{f.tone}:{f.audience}"] + (0.0 if templates else p[f"th:{f.template}:{f.hour}"])
    return mu


def history(seed: int, audience: sim.Audience, n: int, recognition: Recognition,
            styles: StyleReading | None = None) -> list[Outcome]:
    """The account's own past posts as the warm start sees them: the recognised template (or none),
    the tone and audience read from the caption at the classifier's measured rates (none without
    ``styles``), nothing of beam; targets against their own median."""
    rng, noise = np.random.default_rng(seed + 7000), np.random.default_rng(seed + 7001)
    pictures = np.random.default_rng(seed + 7002)  # template or not, and what the recogniser says
    captions = np.random.default_rng(seed + 7003)  # what the style classifier says (only drawn with ``styles``)
    posted: list[CandidateFeatures] = []
    seen: list[CandidateFeatures] = []
    engagement: list[float] = []
    for _ in range(n):
        pool = sim.make_pool(rng)
        c = pool[int(rng.integers(len(pool)))]
        if pictures.random() < TEMPLATE_SHARE:
            f = sim.with_history(c, posted)
            mu = audience.expected_log(f, c.topics)
            outcomes = recognition.of_template[sim.TEMPLATES.index(str(c.features.template))]
        else:
            c = dataclasses.replace(c, features=dataclasses.replace(c.features, template=None))
            f = sim.with_history(c, posted)
            mu = photo_mu(audience, f, c.topics)
            outcomes = recognition.of_other
        e = sim.realise(audience, mu, c, noise)
        template = _recognised(outcomes[int(pictures.integers(len(outcomes)))])
        uses = sum(1 for h in seen[-sim.RECENT_POSTS:] if h.template is not None and h.template == template)
        tone = None if styles is None else _read(str(c.features.tone), sim.TONES, styles.tone, captions)
        said = None if styles is None else _read(str(c.features.audience), sim.AUDIENCES, styles.audience, captions)
        seen.append(dataclasses.replace(f, generator="imported", template=template, beam_rank=None, beam_score=None,
                                        tone=tone, audience=said, recent_template=uses))
        posted.append(f)
        engagement.append(e)
    base = statistics.median(engagement)
    return [Outcome(f, engagement_target(e, base), None, weight=IMPORTED_WEIGHT) for f, e in zip(seen, engagement)]


def run(seed: int, effects: tuple[str, ...], recognition: Recognition, styles: StyleReading | None = None,
        imported: int = IMPORTED) -> dict[str, list[float]]:
    rng = np.random.default_rng(seed)
    audience = sim.make_audience(np.random.default_rng(seed + 1000), frozenset(effects))
    # each policy its own streams: what one samples or sees never moves another's draws
    policy_rngs = {p: np.random.default_rng([seed, 1, k]) for k, p in enumerate(POLICIES)}
    noise_rngs = {p: np.random.default_rng([seed, 2, k]) for k, p in enumerate(POLICIES)}
    topics = sim.caption_topics(seed)
    delayed = "delay" in effects
    learners = {p: sim.Learner(Ranker(topics=topics), delayed) for p in ("warm", "cold", "warm_notpl", "warm_nostyle")}
    fold = {"warm": (recognition, styles), "warm_notpl": (recognition.blind(), None), "warm_nostyle": (recognition, None)}
    for name, (seen, read) in fold.items():
        learners[name].ranker.update(history(seed, audience, imported, seen, read), robust=ROBUST)
    posted: dict[str, list[CandidateFeatures]] = {p: [] for p in POLICIES}
    got: dict[str, list[float]] = {p: [] for p in POLICIES}
    for t in range(FIRST):
        pool = sim.make_pool(rng)
        for name, learner in learners.items():
            learner.tick(t, noise_rngs[name])
        for policy in POLICIES:
            feats = [sim.with_history(c, posted[policy]) for c in pool]
            mus = [audience.expected_log(f, c.topics) for f, c in zip(feats, pool)]
            learner = learners.get(policy)
            if policy.startswith("ceiling"):
                known = [known_mu(audience, f, c.topics, templates=policy == "ceiling") for f, c in zip(feats, pool)]
                i = sim.pick("oracle", feats, known, None, policy_rngs[policy])  # type: ignore[arg-type]
            else:
                i = sim.pick("ranker" if learner else policy, feats, mus, learner.ranker if learner else None,
                             policy_rngs[policy])  # type: ignore[arg-type]
            got[policy].append(math.exp(mus[i]))
            posted[policy].append(feats[i])
            if learner is not None:
                noise = noise_rngs[policy]
                learner.observe(t, feats[i], sim.realise(audience, mus[i], pool[i], noise), noise)
    return got


def shares(got: dict[str, list[float]]) -> dict[str, float]:
    oracle = sum(got["oracle"])
    return {p: sum(v) / oracle for p, v in got.items()}


def _shares(name: str, seed: int, imported: int, recognition: Recognition, styles: StyleReading) -> dict[str, float]:
    return shares(run(seed, sim.SCENARIOS[name], recognition, styles, imported))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument("--imported", type=int, default=IMPORTED, help="imported posts (default 300)")
    parser.add_argument("--scenario", action="append", choices=list(sim.SCENARIOS),
                        help="default: content_only, interactions, fatigue_tails_delay, all_effects")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--renders", type=int, default=12, help="renders per template for the recognition rates")
    parser.add_argument("--others", type=int, default=120, help="non-template pictures for the recognition rates")
    args = parser.parse_args()
    recognition = measure_recognition(args.renders, args.others)
    rates = recognition.rates()
    print(f"recognition measured by generator/image_match.py on {sum(map(len, recognition.of_template))} renders "
          f"of {len(sim.TEMPLATES)} templates and {len(recognition.of_other)} other pictures: "
          + " ".join(f"{k}={v:.3f}" for k, v in rates.items()), flush=True)
    styles = measure_styles()
    print(f"captions read by generator/textgen/style.py (fitted on the writer's corpus less one topic, read on that "
          f"topic; every topic): tone right={styles.tone[0]:.3f} wrong={styles.tone[1]:.3f}, audience "
          f"right={styles.audience[0]:.3f} wrong={styles.audience[1]:.3f} (the rest unsure: none)", flush=True)
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    names = args.scenario or ["content_only", "interactions", "fatigue_tails_delay", "all_effects"]
    with ProcessPoolExecutor(max_workers=args.jobs) as pool:
        futures = {(n, s): pool.submit(_shares, n, s, args.imported, recognition, styles) for n in names for s in seeds}
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
        warm, cold, ceiling, notpl, nostyle = (statistics.mean(r[p] for r in runs)
                                               for p in ("warm", "cold", "ceiling", "warm_notpl", "warm_nostyle"))
        pairs.append(f"{name}_warm_share={warm:.3f} {name}_cold_share={cold:.3f} {name}_ceiling_share={ceiling:.3f} "
                     f"{name}_warm_notpl_share={notpl:.3f} {name}_warm_nostyle_share={nostyle:.3f}")
        if name == "all_effects":
            pairs.append(f"warm_share={warm:.3f} cold_share={cold:.3f} ceiling_share={ceiling:.3f} "
                         f"warm_notpl_share={notpl:.3f} warm_nostyle_share={nostyle:.3f}")
    print(" ".join(pairs) + f" recognised={rates['recognised']:.3f} false_assigned={rates['false_assigned']:.3f}")


if __name__ == "__main__":
    main()
