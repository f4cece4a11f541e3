"""The ranker: cold start follows the beam score, evidence (engagement, decisions, caption words)
moves it, old evidence fades, young readings are replaced exactly, scores explain themselves."""
from __future__ import annotations

import math

import numpy as np
import pytest

from feedback.ranking import (
    STACK_HALF_LIFE,
    CandidateFeatures,
    Outcome,
    Ranker,
    Recent,
    Score,
    Topics,
    choose_beams,
    encode,
    features_of,
    fit_topics,
    sentences,
)


def _f(template="cat", beam_rank=0, beam_score=-4.0, tone="funny", hour=9, words=5, text=()) -> CandidateFeatures:
    return CandidateFeatures(generator="meme", template=template, beam_rank=beam_rank, beam_score=beam_score,
                             tone=tone, audience="general", length_words=words, hashtags=1, hour=hour,
                             account="demo", words=tuple(text))


def test_features_of_reads_length_hashtags_and_words_from_the_text():
    f = features_of(generator="post", text="Monday again, the coffee! #coffee #mood @ann", account="demo", hour=33)
    assert (f.length_words, f.hashtags, f.hour, f.template) == (5, 2, 9, None)
    assert f.words == ("monday", "again", "coffee")


def test_novelty_reads_the_accounts_recent_posts():
    recent = Recent(templates=("cat", "dog", "cat"), words=(frozenset({"monday", "rain"}),))
    f = features_of(generator="meme", text="monday coffee", account="demo", hour=9, template="cat", recent=recent)
    assert (f.recent_template, f.recent_overlap) == (2, 0.5)
    assert encode(f)["fatigue_template"] == pytest.approx(0.4) and encode(f)["fatigue_words"] == 0.5


def test_the_fast_design_matrix_equals_the_reference_encoding():
    items = [features_of(generator="meme", text=t, account="demo", hour=h, template=tpl, beam_rank=r,
                         beam_score=-3.0 - r, tone="dry", audience="devs",
                         recent=Recent(("cat",), (frozenset({"rain"}),)))
             for t, h, tpl, r in (("rain rain on monday", 19, "cat", 0), ("new", 7, None, 3), ("", 23, "dog", 9))]
    ranker = Ranker(topics=Topics(("rain", "monday"), (0, 1), ("rain/snow", "monday/alarm")))
    X = ranker.rows(items).toarray()
    assert encode(items[0]).keys() < ranker.encode(items[0]).keys()  # + topic=rain/snow, topic=monday/alarm
    for row, item in zip(X, items):
        want = ranker.encode(item)
        got = {ranker.names[i]: v for i, v in enumerate(row) if v}
        assert got == pytest.approx(want)


def test_topics_are_words_that_appear_together():
    rng = np.random.default_rng(0)
    groups = [("monday", "alarm", "commute", "inbox"), ("cat", "kitten", "purr", "meow"),
              ("pizza", "taco", "fridge", "snack")]
    captions = [tuple(rng.choice(groups[rng.integers(3)], size=2, replace=False)) + ("literally",)
                for _ in range(600)]
    topics = fit_topics(captions, k=3, dims=3)
    assert topics is not None
    found = {frozenset(w for w, t in zip(topics.words, topics.ids) if t == k) for k in range(3)}
    assert {frozenset(g) for g in groups} <= {f - {"literally"} for f in found}
    assert fit_topics([("one", "two")]) is None  # too little text: no topics
    ranker = Ranker(topics=topics)
    ranker.update([Outcome(_f(text=("monday", "alarm")), 0.8, None), Outcome(_f(text=("pizza", "taco")), -0.8, None)]
                  * 10)
    commute, fridge = ranker.score([_f(text=("commute",)), _f(text=("fridge",))], np.random.default_rng(0))
    assert commute.mean > fridge.mean + 0.3  # what "monday" taught moves "commute", a word never posted
    assert any(e.name.startswith("topic=") and e.contribution > 0 for e in commute.effects)


def test_words_that_go_with_every_topic_get_none():
    rng = np.random.default_rng(3)
    groups = [("monday", "alarm", "commute", "inbox"), ("pizza", "taco", "fridge", "snack"),
              ("cat", "kitten", "purr", "litter"), ("rain", "snow", "umbrella", "drizzle"),
              ("gym", "squat", "cardio", "gains"), ("rent", "salary", "taxes", "wallet")]
    fillers = ("literally", "honestly", "again", "today", "just", "still", "really", "vibe")
    captions = [tuple(rng.choice(groups[rng.integers(len(groups))], size=2, replace=False))
                + tuple(rng.choice(fillers, size=3, replace=False)) for _ in range(1500)]
    topics = fit_topics(captions, k=8, dims=8)
    assert topics is not None
    assert not set(topics.words) & set(fillers)  # they co-occur at chance: they tie no captions together
    assert topics is not None
    assert set(topics.words) == {w for g in groups for w in g}
    for t in set(topics.ids):  # and no topic mixes two groups (more topics than groups may split one)
        assert topics is not None
        members = {w for w, i in zip(topics.words, topics.ids) if i == t}
        assert sum(1 for g in groups if members & set(g)) == 1


def test_cold_start_orders_by_beam_score_without_randomness():
    beams = [_f(beam_rank=r, beam_score=-3.0 - r) for r in range(5)]
    scores = Ranker().score(beams, np.random.default_rng(0))
    assert [s.sample for s in scores] == [s.mean for s in scores]
    assert choose_beams(scores, 2) == [0, 1]
    assert scores[0].explain[0][0] == "beam_score"


def test_engagement_teaches_a_preference_over_the_beam_score():
    ranker = Ranker()
    rng = np.random.default_rng(1)
    ranker.update([Outcome(_f(template="dog"), 1.0, None) for _ in range(20)]
                  + [Outcome(_f(template="cat"), -1.0, None) for _ in range(20)])
    cat, dog = ranker.score([_f(template="cat", beam_score=-2.0), _f(template="dog", beam_score=-6.0)], rng)
    assert dog.mean > cat.mean
    assert dog.explain[0][0] == "template=dog" and dog.explain[0][1] > 0
    assert ranker.weights()["template=dog"] > 0.5


def test_caption_words_are_learned_and_said_in_words():
    ranker = Ranker(half_life=None)  # evidence counts undecayed: 24 posts said "monday"
    monday = [_f(text=("monday", w)) for w in ("rain", "coffee", "boss", "alarm")]
    other = [_f(text=("friday", w)) for w in ("rain", "coffee", "boss", "alarm")]
    ranker.update([Outcome(f, 0.6, None) for f in monday * 6] + [Outcome(f, -0.3, None) for f in other * 6])
    [score] = ranker.score([_f(hour=19, text=("monday", "cat"))], np.random.default_rng(0))
    assert score.effects[0].name == "word=monday" and score.effects[0].sd > 0
    said = sentences(score.effects, hour=19, account="demo")[0]
    assert said.startswith('captions about "monday" do ') and "x baseline at 19:00 for demo (likely " in said
    assert "from 24 posts" in said


def test_review_decisions_count_with_edit_weaker_than_reject():
    approved, rejected, edited = Ranker(), Ranker(), Ranker()
    approved.update([Outcome(_f(tone="dry"), None, "approve")] * 5)
    rejected.update([Outcome(_f(tone="dry"), None, "reject")] * 5)
    edited.update([Outcome(_f(tone="dry"), None, "edit")] * 5)
    rng = np.random.default_rng(2)
    means = [r.score([_f(tone="dry")], rng)[0].mean for r in (approved, rejected, edited)]
    assert means[0] > 0 > means[2] > means[1]
    with pytest.raises(ValueError, match="unknown review decision 'like'"):
        Ranker().update([Outcome(_f(), None, "like")])


def test_replacing_a_young_reading_takes_out_exactly_what_it_put_in():
    staged, direct = Ranker(half_life=None), Ranker(half_life=None)
    first, young = _f(template="cat"), _f(template="dog")
    staged.update([Outcome(first, 0.2, None)])
    [applied] = staged.update([Outcome(young, 1.5, None, weight=0.3)])
    staged.update([Outcome(young, -0.4, None, replaces=applied)])
    direct.update([Outcome(first, 0.2, None), Outcome(young, -0.4, None)])
    assert staged.weights() == pytest.approx(direct.weights(), abs=1e-9)
    forgetting = Ranker(half_life=50)
    forgetting.update([Outcome(first, 0.2, None)])
    [applied] = forgetting.update([Outcome(young, 1.5, None, weight=0.3)])
    forgetting.update([Outcome(first, 0.0, None)] * 10)
    forgetting.update([Outcome(young, -0.4, None, replaces=applied)])
    assert forgetting.weights()["template=dog"] < 0  # the young +1.5 is gone, decayed as it was


def test_forgetting_follows_a_preference_that_changed():
    old_news = [Outcome(_f(template="dog"), 1.0, None)] * 300 + [Outcome(_f(template="dog"), -1.0, None)] * 100
    remembers, forgets = Ranker(half_life=None), Ranker(half_life=60)
    remembers.update(old_news)
    forgets.update(old_news)
    assert forgets.weights()["template=dog"] < 0 < remembers.weights()["template=dog"]


def test_features_past_the_cap_share_hash_buckets():
    ranker = Ranker(max_features=30)
    ranker.update([Outcome(_f(text=(f"w{i}", f"v{i}")), 0.1, None) for i in range(40)])
    assert len(ranker.names) <= 30 + 64 and any(n.startswith("hash:") for n in ranker.names)


def test_thompson_samples_explore_but_are_reproducible_with_a_seed():
    ranker = Ranker()
    ranker.update([Outcome(_f(template="cat"), 0.2, None)])
    items = [_f(template="cat"), _f(template="new")]
    a = ranker.score(items, np.random.default_rng(5))
    b = ranker.score(items, np.random.default_rng(5))
    c = ranker.score(items, np.random.default_rng(6))
    assert a == b and a != c
    assert a[1].sample != a[1].mean  # an unseen template is uncertain, so the sample wanders


def test_choose_beams_prefers_sample_then_mean_then_index():
    scores = [Score(0.1, 0.5, ()), Score(0.9, 0.5, ()), Score(0.0, 0.7, ())]
    assert choose_beams(scores, 2) == [2, 1]
    assert choose_beams(scores, 0) == []
    assert choose_beams(scores, 9) == [2, 1, 0]


@pytest.mark.slow
def test_simulated_audience_content_is_learned():
    from bench import ranking as bench

    shares = bench.shares(bench.run(seed=3, effects=("content",)))
    assert shares["ranker"] >= 0.85 and shares["ranker"] > shares["beam_top1"] + 0.2


@pytest.mark.parametrize("max_features", [600, 40])
def test_the_batched_design_matrix_numbers_columns_as_a_row_by_row_walk(max_features):
    rng = np.random.default_rng(4)
    vocab = ["rain", "monday", "coffee", "cat", "boss", "alarm", "nap", "pizza", "again", "literally"]
    items = [features_of(generator="meme", text=" ".join(rng.choice(vocab, size=int(rng.integers(0, 7)))),
                         account="demo", hour=int(rng.integers(24)), template=f"t{rng.integers(6)}",
                         beam_rank=int(rng.integers(6)), beam_score=float(rng.uniform(-9, -2)),
                         tone=str(rng.choice(["dry", "funny"])), audience="devs",
                         recent=Recent(("t1",), (frozenset({"rain", "cat"}),)))
             for _ in range(300)]
    topics = Topics(("rain", "monday", "alarm"), (0, 1, 1), ("rain/snow", "monday/alarm"))
    batched, walked = Ranker(topics=topics, max_features=max_features), Ranker(topics=topics, max_features=max_features)
    X = batched.rows(items).toarray()
    rows = [walked.rows([f]).toarray()[0] for f in items]
    assert batched.names == walked.names
    width = len(walked.names)
    assert np.array_equal(X, np.array([np.pad(r, (0, width - len(r))) for r in rows]))
    if max_features == 40:
        assert any(n.startswith("hash:") for n in batched.names)


@pytest.mark.parametrize("n", [0, 1, 9, 300])
def test_the_numpy_design_matrix_ops_equal_scipy(n):
    """feedback.ranking.sparse (no scipy import in a generate run) pinned to scipy's CSR kernels."""
    from scipy.linalg import solve_triangular
    from scipy.sparse import csr_matrix

    from feedback.ranking.sparse import GRAM_IN_NUMPY, Rows, tri_solve

    rng = np.random.default_rng(n)
    width = 50
    rows = np.sort(rng.integers(0, max(n, 1), 8 * n))
    cols, values = rng.integers(0, width, len(rows)), rng.uniform(-2, 2, len(rows))
    X = Rows.from_coo(rows, cols, values, (n, width))
    S = csr_matrix((values, (rows, cols)), shape=(n, width))
    S.sum_duplicates()
    assert np.allclose(X.toarray(), S.toarray(), rtol=0, atol=1e-12)
    v, u, scale = rng.normal(size=width), rng.normal(size=n), rng.uniform(0.1, 2, n)
    assert np.allclose(X @ v, S @ v, rtol=1e-12, atol=1e-12)
    assert np.allclose(X.rmatvec(u), S.T @ u, rtol=1e-12, atol=1e-12)
    scaled = S.copy()
    scaled.data *= np.repeat(scale, np.diff(S.indptr))
    assert np.allclose(X.gram(scale), (S.T @ scaled).toarray(), rtol=1e-12, atol=1e-12)
    assert int((np.diff(X.indptr) ** 2).sum()) <= GRAM_IN_NUMPY  # these took the numpy path
    lower = np.tril(rng.normal(size=(150, 150))) + 20 * np.eye(150)
    rhs = rng.normal(size=(150, 3))
    assert np.allclose(tri_solve(lower, rhs, lower=True), solve_triangular(lower, rhs, lower=True), atol=1e-12)
    assert np.allclose(tri_solve(lower.T, rhs[:, 0], lower=False), solve_triangular(lower.T, rhs[:, 0], lower=False),
                       atol=1e-12)


@pytest.mark.parametrize("in_numpy", [True, False])
def test_the_numpy_ops_take_rows_as_a_batch_builds_them(monkeypatch, in_numpy):
    """A Batch's parts hold a row's columns unsorted and a hashed column twice: every Rows op (and
    both ways of the Gram product) sums them as scipy does."""
    from scipy.sparse import csr_matrix

    from feedback.ranking import sparse

    monkeypatch.setattr(sparse, "GRAM_IN_NUMPY", sparse.GRAM_IN_NUMPY if in_numpy else -1)
    rng = np.random.default_rng(3)
    n, width = 40, 30
    counts = rng.integers(0, 9, n)
    indptr = np.concatenate([[0], np.cumsum(counts)])
    indices = rng.integers(0, width, int(indptr[-1]))  # unsorted, with repeats
    data = rng.uniform(-2, 2, len(indices))
    X = sparse.Rows(indptr, indices, data, (n, width))
    S = csr_matrix((data, indices, indptr), shape=(n, width))
    assert np.allclose(X.toarray(), S.toarray(), rtol=0, atol=1e-12)
    v, u, scale = rng.normal(size=width), rng.normal(size=n), rng.uniform(-1, 2, n)
    assert np.allclose(X @ v, S @ v, rtol=1e-12, atol=1e-12)
    assert np.allclose(X.rmatvec(u), S.T @ u, rtol=1e-12, atol=1e-12)
    dense = S.toarray()
    assert np.allclose(X.gram(scale), dense.T @ (scale[:, None] * dense), rtol=1e-12, atol=1e-12)
    local = rng.permutation(width)
    moved = np.zeros((n, width))
    moved[:, local] = dense
    assert np.allclose(X.relabel(local, width).toarray(), moved, rtol=0, atol=1e-12)
    canonical = sparse.Rows.from_coo(X.row_ids(), indices, data, (n, width))
    assert all(np.all(np.diff(canonical.indices[lo:hi]) > 0) for lo, hi in zip(canonical.indptr, canonical.indptr[1:]))
    assert np.allclose(canonical.toarray(), dense, rtol=0, atol=1e-12)


def test_a_generate_run_never_imports_scipy():
    import os
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys, numpy as np, feedback.learning, bot.service.pipeline\n"
            "from feedback.ranking import Outcome, Ranker, features_of\n"
            "f = [features_of(generator='meme', text=f'a cat {i}', account='a', hour=i % 24, template=f't{i % 3}',"
            " beam_rank=i % 5, beam_score=-1.0 - i) for i in range(340)]\n"
            # a saved state (300 rows: Batch.gram's structured path, its rest x rest product in numpy) ...
            "saved = Ranker(); saved.update([Outcome(x, 0.1 * (i % 7), None) for i, x in enumerate(f[:300])])\n"
            # ... and, as load_ranker does, the review decisions since; then the pending candidates scored
            "r = Ranker.from_state(saved.state())\n"
            "r.update([Outcome(x, None, ('approve', 'reject', 'edit')[i % 3]) for i, x in enumerate(f[300:320])])\n"
            "r.score(f[320:], np.random.default_rng(0)); r.weight_sd(r.names)\n"
            "print('scipy' in sys.modules)")
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
    assert out.stdout.strip() == "False"


def test_word_effects_are_what_a_one_word_caption_would_gain_and_leave_the_ranker_unchanged():
    from feedback.ranking import word_effects

    rng = np.random.default_rng(0)
    groups = [("monday", "alarm", "commute", "inbox"), ("cat", "kitten", "purr", "meow"),
              ("pizza", "taco", "fridge", "snack")]
    topics = fit_topics([tuple(rng.choice(groups[rng.integers(3)], size=2, replace=False)) for _ in range(600)],
                        k=3, dims=3)
    ranker = Ranker(topics=topics, half_life=None)
    ranker.update([Outcome(_f(text=("monday", "alarm")), 0.8, None), Outcome(_f(text=("pizza", "taco")), -0.8, None),
                   Outcome(_f(text=("cat",)), 0.0, None)] * 12)
    names, weights = list(ranker.names), ranker.weights()
    effects = word_effects(ranker)
    assert set(effects) == {"monday", "alarm", "pizza", "taco", "cat"}
    assert effects["monday"][0] > 0.3 and effects["taco"][0] < -0.3 and abs(effects["cat"][0]) < 0.2
    [one, none] = ranker.score([_f(text=("monday",)), _f(text=())], np.random.default_rng(0))
    assert effects["monday"][0] == pytest.approx(one.mean - none.mean)
    assert all(sd > 0 for _, sd in effects.values())
    assert word_effects(ranker, ["cat", "commute"]).keys() == {"cat"}  # "commute" carried no outcome
    assert word_effects(ranker, min_evidence=100) == {}
    assert ranker.names == names and ranker.weights() == weights



def _switching_history(rng: np.random.Generator, before: int, after: int) -> list[Outcome]:
    """Templates cat (+0.3), owl (0) and dog (+0.8, then -0.8 from outcome ``before`` on) at random
    hours, with noise."""
    effect = {"cat": 0.3, "owl": 0.0, "dog": 0.8}
    out = []
    for i in range(before + after):
        template, hour = str(rng.choice(list(effect))), int(rng.choice([9, 13, 19]))
        turned = template == "dog" and i >= before
        out.append(Outcome(_f(template=template, hour=hour), (-0.8 if turned else effect[template])
                           + float(rng.normal(0, 0.3)), None))
    return out


def test_the_short_memory_follows_an_abrupt_change_and_stable_weights_keep_their_precision():
    history = _switching_history(np.random.default_rng(7), 600, 60)  # about 20 dog posts since it turned
    two, long_only = Ranker(), Ranker(short_half_life=None)
    two.update(history)
    long_only.update(history)
    items = [_f(template="cat", hour=13), _f(template="dog", hour=13), _f(template="owl", hour=13)]
    rng = np.random.default_rng(0)
    (cat, dog, owl), (cat_long, dog_long, owl_long) = two.score(items, rng), long_only.score(items, rng)
    # the long memory alone still ranks dog first; with the short one dog has turned to last
    assert dog_long.mean > cat_long.mean > owl_long.mean and dog_long.mean > 0.3
    assert dog.mean < owl.mean < cat.mean
    # the unchanged templates keep (about) the long memory's means and exactly its precision
    assert cat.mean - owl.mean == pytest.approx(cat_long.mean - owl_long.mean, abs=0.1)
    names = ["template=cat", "template=owl", "hour=12h"]
    assert two.weight_sd(names) == pytest.approx(long_only.weight_sd(names), rel=1e-9)


def test_without_a_change_the_two_memories_agree():
    rng = np.random.default_rng(8)
    history = [Outcome(_f(template=t, hour=h), w + float(rng.normal(0, 0.3)), None)
               for _ in range(150) for t, h, w in (("cat", 9, 0.3), ("dog", 13, -0.2), ("owl", 19, 0.0))]
    two, long_only = Ranker(), Ranker(short_half_life=None)
    two.update(history)
    long_only.update(history)
    assert two.weights() == pytest.approx(long_only.weights(), abs=1e-9)


def _templates_history(rng: np.random.Generator, n: int, *, wander: bool) -> list[Outcome]:
    """Five templates' effects, fixed or each a mean-reverting walk (keeping its spread), sd 0.4 noise."""
    effect = {t: float(rng.normal(0, 0.5)) for t in ("cat", "dog", "owl", "fox", "bee")}
    out = []
    for _ in range(n):
        if wander:
            effect = {t: 0.97 * v + 0.5 * math.sqrt(1 - 0.97 ** 2) * float(rng.normal()) for t, v in effect.items()}
        template = str(rng.choice(list(effect)))
        out.append(Outcome(_f(template=template, hour=int(rng.choice([9, 13, 19]))),
                           effect[template] + float(rng.normal(0, 0.4)), None))
    return out


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_the_short_memory_is_trusted_where_preferences_keep_moving_and_not_under_stationary_noise(seed):
    trust = {}
    for wander in (False, True):
        ranker = Ranker()
        for o in _templates_history(np.random.default_rng(seed), 400, wander=wander):
            ranker.update([o])  # one at a time: each reading is predicted before it is folded in
        trust[wander] = ranker._trust()
    assert trust[False] < 0.1 and trust[True] > 0.4


def test_the_trusted_share_moves_every_candidate_toward_the_short_memory():
    ranker = Ranker()
    for o in _templates_history(np.random.default_rng(3), 400, wander=True):
        ranker.update([o])
    items = [_f(template=t) for t in ("cat", "dog", "owl", "fox", "bee")]
    alpha, gap_w = ranker._switch(ranker.rows(items))
    taken = np.maximum(alpha, ranker._trust())
    assert (taken > alpha).any()  # the switch alone would have left some at the long memory's mean
    means = [s.mean for s in ranker.score(items, np.random.default_rng(0))]
    expected = ranker.rows(items) @ (ranker._posterior()[0]) + taken * (ranker.rows(items) @ gap_w)
    assert means == pytest.approx(expected.tolist(), abs=1e-9)
    off = Ranker.from_state(ranker.state())
    off.stack_half_life = None  # without stacking: the switch alone
    assert [s.mean for s in off.score(items, np.random.default_rng(0))] != pytest.approx(means, abs=1e-6)


def test_a_reading_that_replaces_a_young_one_stays_out_of_the_stacking_sums():
    ranker = Ranker()
    for o in _templates_history(np.random.default_rng(5), 60, wander=True):
        ranker.update([o])
    young = ranker.update([Outcome(_f(template="dog"), 0.9, None, weight=0.5)])[0]
    before = ranker.state().stack
    ranker.update([Outcome(_f(template="dog"), -0.9, None, replaces=young)])  # the short memory saw its young one
    h = 0.5 ** (1 / STACK_HALF_LIFE)
    assert ranker.state().stack == pytest.approx((before[0] * h, before[1] * h), abs=1e-12)


def test_the_stacking_sums_are_part_of_the_state():
    ranker = Ranker()
    for o in _templates_history(np.random.default_rng(4), 120, wander=True):
        ranker.update([o])
    assert ranker.state().stack != (0.0, 0.0)
    back = Ranker.from_state(ranker.state())
    assert back._trust() == ranker._trust() and back.state().stack == ranker.state().stack


def test_scoring_a_new_feature_after_a_change_matches_a_fresh_load():
    history = _switching_history(np.random.default_rng(9), 300, 60)
    ranker = Ranker()
    ranker.update(history)
    ranker.score([_f(template="dog")], np.random.default_rng(0))  # caches both memories
    items = [_f(template="dog"), _f(template="newcomer", text=("fresh",))]
    grown = ranker.score(items, np.random.default_rng(1))
    fresh = Ranker.from_state(ranker.state()).score(items, np.random.default_rng(1))
    assert [s.mean for s in grown] == pytest.approx([s.mean for s in fresh], abs=1e-9)
    assert [s.sample for s in grown] == pytest.approx([s.sample for s in fresh], abs=1e-9)


def test_engagement_target_is_a_ratio_whatever_the_account_size():
    from feedback.ranking import engagement_target

    # twice the baseline reads the same for an account with 3 likes a post and one with 3000
    small, large = engagement_target(6.0, 3.0), engagement_target(6000.0, 3000.0)
    assert small == pytest.approx(large) and small == pytest.approx(math.log(6.15 / 3.15))
    assert small > 0.6  # log1p read +0.56 for 3 -> 6: the effects of a small account were squashed
    assert engagement_target(0.0, 3.0) == -2.5 and engagement_target(5.0, 0.0) == pytest.approx(math.log(6.0))


def test_length_curve_follows_a_preferred_length_inside_a_band():
    from feedback.ranking.features import length_curve

    assert length_curve(9) == [("length_at=9", 1.0)]
    (a, wa), (b, wb) = length_curve(14)
    assert (a, b) == ("length_at=12", "length_at=16") and wa == pytest.approx(0.5) and wb == pytest.approx(0.5)
    assert length_curve(1) == [("length_at=3", 1.0)] and length_curve(99) == [("length_at=40", 1.0)]
