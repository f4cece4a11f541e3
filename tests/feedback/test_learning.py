"""Fitting the ranker from stored snapshots and review decisions, and re-scoring the queue."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest

from feedback import learning
from feedback.db import transaction
from feedback.polling import Counts
from feedback.repository import candidates as cand_repo
from feedback.repository import metrics, reviews
from tests.feedback import feedback_rows as rows

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
WEIGHTS = {"likes": 1.0, "reposts": 2.0}


def _published(s, acc, tpl, likes_at_age: list[tuple[int, int]], *, at: datetime) -> int:
    cand = rows.candidate(s, now=at, account_id=acc.id, template_id=tpl.id, text=f"caption {at}", status="posted")
    post = rows.post(s, candidate_id=cand.id, account_id=acc.id, at=at)
    metrics.add_snapshots(s, [metrics.NewSnapshot(post.id, at + timedelta(hours=h), h * 3600, Counts(likes=n))
                              for h, n in likes_at_age])
    return post.id


def test_engagement_is_read_at_the_fixed_age_and_normalised_per_account(sessions):
    with transaction(sessions) as s:
        acc, tpl = rows.account(s, now=T0), rows.template(s, now=T0)
        _published(s, acc, tpl, [(1, 1), (24, 9), (72, 50)], at=T0)
        _published(s, acc, tpl, [(6, 3), (25, 29)], at=T0 + timedelta(hours=1))
        _published(s, acc, tpl, [(6, 3)], at=T0 + timedelta(hours=2))  # too young for 24h
        found = metrics.engagement_at_age(s, age=timedelta(hours=24), now=T0 + timedelta(days=5))
    assert [None if r.counts is None else r.counts.likes for r in found] == [9, 29, None]
    outcomes = learning.engagement_outcomes(found, weights=WEIGHTS, baseline_posts=30)
    assert len(outcomes) == 1  # the first post is the baseline, the third has no reading yet
    assert outcomes[0].engagement == pytest.approx(np.log(30 / 10))
    assert outcomes[0].features.template == "cat" and outcomes[0].features.hour == 13


def test_decisions_become_outcomes_edit_about_the_original_text(sessions):
    with transaction(sessions) as s:
        acc = rows.account(s, now=T0)
        a = rows.candidate(s, now=T0, account_id=acc.id, text="one two three")
        b = rows.candidate(s, now=T0, account_id=acc.id, text="x")
        reviews.edit(s, a.id, actor="ann", now=T0, text="a much longer caption than before #tag")
        reviews.reject(s, b.id, actor="ann", now=T0, reason="meh")
        rows_ = metrics.review_decisions(s, now=T0)
    outcomes = learning.decision_outcomes(rows_)
    assert [(o.decision, o.features.length_words, o.features.hashtags) for o in outcomes] == [
        ("edit", 3, 0), ("reject", 1, 0)]


def test_load_ranker_and_rescore_pending(sessions):
    with transaction(sessions) as s:
        acc, cat, dog = rows.account(s, now=T0), rows.template(s, now=T0), rows.template(s, "dog", now=T0)
        for i in range(12):
            tpl, likes = (cat, 2) if i % 2 else (dog, 40)
            _published(s, acc, tpl, [(24, likes)], at=T0 + timedelta(hours=i))
        wait_cat = rows.candidate(s, now=T0, account_id=acc.id, template_id=cat.id, text="c", beam_score=-1.0)
        wait_dog = rows.candidate(s, now=T0, account_id=acc.id, template_id=dog.id, text="d", beam_score=-5.0)
        done = rows.candidate(s, now=T0, account_id=acc.id, template_id=dog.id, text="e", status="rejected")
    now = T0 + timedelta(days=3)
    with transaction(sessions) as s:
        ranker = learning.load_ranker(s, weights=WEIGHTS, engagement_age=timedelta(hours=24),
                                      baseline_posts=5, now=now)
        assert ranker.observations == 11
        assert learning.rescore_pending(s, ranker, np.random.default_rng(0), now=now) == 2
    with transaction(sessions) as s:
        queue = cand_repo.list_queue(s, now)
        assert [r.id for r in queue] == [wait_dog.id, wait_cat.id]
        explain = cand_repo.get_candidate(s, wait_dog.id).predicted_explain
        assert explain["explain"][0][0] == "template=dog"
        assert cand_repo.get_candidate(s, done.id).predicted_score is None


def test_prediction_is_what_the_queue_stores():
    ranker = learning.Ranker()
    score = ranker.score([learning.features_of(generator="meme", text="hi", account="demo", hour=9,
                                               beam_score=-2.0)], np.random.default_rng(0))[0]
    predicted, explain = learning.prediction(score, ranker, now=T0)
    assert predicted == score.sample and explain["model"] == "blr-1" and explain["observations"] == 0
    assert explain["explain"][0][0] == "beam_score" and explain["scored_at"] == T0.isoformat()
