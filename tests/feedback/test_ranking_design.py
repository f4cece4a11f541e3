"""The design matrix's fast paths pinned to their references: the batched encoding to
features.encode (every field varied, over several batches), the structured-block products to the
plain matrix, a batched update to one outcome at a time, the vectorised explanations to a per-row
walk."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from feedback.ranking import EXPLAIN_TOP, CandidateFeatures, Outcome, Ranker, Topics
from feedback.ranking.batch import DENSE_GRAM
from feedback.ranking.design import GROUP_FIELDS, Design

VOCAB = ["rain", "monday", "coffee", "cat", "boss", "alarm", "nap", "pizza", "again", "literally", "deploy", "bug"]
TOPICS = Topics(("rain", "monday", "alarm", "bug", "deploy"), (0, 1, 1, 2, 2), ("rain/snow", "monday/alarm", "code"))


def _random_features(rng: np.random.Generator, n: int) -> list[CandidateFeatures]:
    def pick(*options):
        return options[int(rng.integers(len(options)))]

    return [CandidateFeatures(generator=pick("meme", "post"), template=pick(None, "cat", "dog", "drake"),
                              beam_rank=pick(None, 0, 1, 3, 7), beam_score=pick(None, -2.5, float(rng.uniform(-30, 0)),
                                                                                 float("nan"), float("-inf")),
                              tone=pick(None, "dry", "funny"), audience=pick(None, "devs", "general"),
                              length_words=int(rng.integers(0, 20)), hashtags=int(rng.integers(0, 7)),
                              hour=int(rng.integers(24)), account=pick("demo", "other"),
                              words=tuple(rng.choice(VOCAB, size=int(rng.integers(0, 8))).tolist()),
                              recent_template=pick(0, 1, 6), recent_overlap=pick(0.0, 0.25, 1.0),
                              weekday=pick(None, 0, 4, 6))
            for _ in range(n)]


def test_group_fields_are_fields_of_candidate_features():
    names = {f.name for f in dataclasses.fields(CandidateFeatures)}
    assert {f for group in GROUP_FIELDS for f in group} <= names


def test_batched_encoding_equals_the_reference_for_every_field_over_several_batches():
    rng = np.random.default_rng(7)
    design = Design(TOPICS)
    for size in (1, 40, 0, 300, 5):  # the memo of structured keys and the word/pair caches carry over
        items = _random_features(rng, size)
        X = design.matrix(items).toarray()
        assert X.shape == (size, len(design.names))
        for row, item in zip(X, items):
            got = {design.names[i]: v for i, v in enumerate(row) if v}
            assert got == pytest.approx(design.reference(item))


@pytest.mark.parametrize(("max_features", "rows"), [(600, 3), (600, 3000), (30, 3), (30, 3000)])
def test_the_gram_and_products_of_a_batch_equal_those_of_its_matrix(max_features, rows):
    rng = np.random.default_rng(8)
    design = Design(TOPICS, max_features)
    design.encode(_random_features(rng, 50))
    batch = design.encode(_random_features(rng, rows))
    X = batch.matrix().toarray()
    if max_features == 30:
        assert any(n.startswith("hash:") for n in design.names)
    s = rng.normal(size=len(X))  # negative weights too (a retraction)
    w = rng.normal(size=(int(X.shape[1]),))
    cols, gram = batch.gram(s)
    assert (rows * len(cols) <= DENSE_GRAM) == (rows == 3)  # both ways of computing it are pinned
    assert np.array_equal(cols, np.flatnonzero(np.abs(X).sum(axis=0)))
    np.testing.assert_allclose(gram, (X.T @ (s[:, None] * X))[np.ix_(cols, cols)], atol=1e-9)
    np.testing.assert_allclose(batch.project(s), X.T @ s, atol=1e-9)
    np.testing.assert_allclose(batch.dot(w), X @ w, atol=1e-9)


def test_a_batched_update_equals_one_outcome_at_a_time():
    rng = np.random.default_rng(9)
    items = _random_features(rng, 120)
    outcomes = [Outcome(f, float(rng.normal()), [None, "approve", "reject", "edit"][i % 4], weight=0.5 + (i % 3) / 4)
                for i, f in enumerate(items)]
    batched, single = Ranker(topics=TOPICS, half_life=40), Ranker(topics=TOPICS, half_life=40)
    applied = batched.update(outcomes)
    assert applied == [a for o in outcomes for a in single.update([o])]
    assert batched.names == single.names
    np.testing.assert_allclose(batched.state().precision, single.state().precision, atol=1e-9)
    np.testing.assert_allclose(batched.state().b, single.state().b, atol=1e-9)
    short = [(st.short_precision, st.short_b, st.short_half_life) for st in (batched.state(), single.state())]
    for precision, b, half_life in short:  # the short memory is part of the state
        assert precision is not None and b is not None and half_life > 0
    (p_batched, b_batched, _), (p_single, b_single, _) = short
    assert p_batched is not None and p_single is not None and b_batched is not None and b_single is not None
    np.testing.assert_allclose(p_batched, p_single, atol=1e-9)
    np.testing.assert_allclose(b_batched, b_single, atol=1e-9)
    assert batched.weights() == pytest.approx(single.weights(), abs=1e-9)


def test_the_explained_effects_are_each_rows_largest_contributions():
    rng = np.random.default_rng(10)
    ranker = Ranker(topics=TOPICS)
    ranker.update([Outcome(f, float(rng.normal()), None) for f in _random_features(rng, 300)])
    items = _random_features(rng, 60)
    scores = ranker.score(items, np.random.default_rng(0))
    X = ranker.rows(items).toarray()
    alpha, gap_w = ranker._switch(ranker.rows(items))  # how far each row takes the short memory's mean
    assert 0 < alpha.max() and alpha.min() < 1  # (noise alone moves some rows, not all: both paths are pinned)
    sds = ranker.weight_sd(ranker.names)
    for row, score, a in zip(X, scores, alpha):
        w = ranker._posterior()[0] + a * gap_w
        cols = [c for c in np.flatnonzero(row) if ranker.names[c] != "bias" and row[c] * w[c] != 0.0]
        top = sorted(cols, key=lambda c: -abs(row[c] * w[c]))[:EXPLAIN_TOP]  # stable: ties in column order
        assert [e.name for e in score.effects] == [ranker.names[c] for c in top]
        assert [e.contribution for e in score.effects] == [round(row[c] * w[c], 4) for c in top]
        assert [e.sd for e in score.effects] == pytest.approx([round(abs(row[c]) * sds[ranker.names[c]], 4)
                                                              for c in top], abs=1e-4)
        assert [e.evidence for e in score.effects] == [round(max(0.0, ranker.evidence(ranker.names[c])), 1)
                                                       for c in top]
        assert score.mean == pytest.approx(row @ w)
    assert ranker.score([], np.random.default_rng(0)) == []


def test_a_rebuild_from_a_long_history_equals_folding_it_in_chunks():
    """Past ~1300 outcomes the short memory's oldest readings have faded below 1e-16 and a rebuild
    leaves them out: the state must still be what folding the history in chunks gives."""
    rng = np.random.default_rng(11)
    items = _random_features(rng, 1600)
    outcomes = [Outcome(f, float(rng.normal()), None, weight=0.5 + (i % 3) / 4) for i, f in enumerate(items)]
    rebuilt, chunked = Ranker(topics=TOPICS), Ranker(topics=TOPICS)
    rebuilt.update(outcomes)
    for lo in range(0, len(outcomes), 100):
        chunked.update(outcomes[lo:lo + 100])
    a, b = rebuilt.state(), chunked.state()
    assert a.short_precision is not None and b.short_precision is not None
    assert a.short_b is not None and b.short_b is not None
    np.testing.assert_allclose(a.short_precision, b.short_precision, atol=1e-9)
    np.testing.assert_allclose(a.short_b, b.short_b, atol=1e-9)
    np.testing.assert_allclose(a.precision, b.precision, atol=1e-9)
    scores = [r.score(items[:50], np.random.default_rng(0)) for r in (rebuilt, chunked)]
    assert [s.sample for s in scores[0]] == pytest.approx([s.sample for s in scores[1]], abs=1e-9)
