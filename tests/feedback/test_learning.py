"""The learning loop: readings kept as snapshots arrive, the persisted state folded into
incrementally, the ranker loaded from it, the queue re-scored."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from sqlalchemy import select, text

from feedback import learning, migrate
from feedback.db import make_engine, transaction
from feedback.models import LearningState, PostOutcome
from feedback.polling import Counts
from feedback.repository import candidates as cand_repo
from feedback.repository import metrics, reviews
from feedback.repository import outcomes as outcome_repo
from tests.feedback import feedback_rows as rows

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)
WEIGHTS = {"likes": 1.0, "reposts": 2.0}
DAY = timedelta(hours=24)
SETTINGS = learning.Settings(WEIGHTS, DAY, 30, {"demo": "America/New_York"})


def _published(s, acc, tpl, *, at: datetime, text: str | None = None) -> int:
    cand = rows.candidate(s, now=at, account_id=acc.id, template_id=tpl.id, text=text or f"caption {at}",
                          status="posted")
    return rows.post(s, candidate_id=cand.id, account_id=acc.id, at=at).id


def _snap(s, post_id: int, published: datetime, hours: float, likes: int) -> None:
    metrics.add_snapshots(s, [metrics.NewSnapshot(post_id, published + timedelta(hours=hours), int(hours * 3600),
                                                  Counts(likes=likes))])


def _poll(sessions, post_id: int, published: datetime, hours: float, likes: int) -> None:
    """What the poll job does: store a snapshot and record the outcome in one transaction."""
    with transaction(sessions) as s:
        _snap(s, post_id, published, hours, likes)
        learning.record_outcomes(s, [post_id], settings=SETTINGS, now=published + timedelta(hours=hours))


def test_the_reading_is_the_first_snapshot_past_the_age_else_the_newest(sessions):
    with transaction(sessions) as s:
        acc, tpl = rows.account(s, now=T0), rows.template(s, now=T0)
        a, b = _published(s, acc, tpl, at=T0), _published(s, acc, tpl, at=T0 + timedelta(hours=1))
        for h, n in ((1, 1), (6, 4)):
            _snap(s, a, T0, h, n)
        first = outcome_repo.refresh_readings(s, [a, b], age_s=86400)
        for h, n in ((24, 9), (72, 50)):
            _snap(s, a, T0, h, n)
        second = outcome_repo.refresh_readings(s, [a], age_s=86400)
        third = outcome_repo.refresh_readings(s, [a], age_s=86400)
    assert [(before, after.counts.likes, after.final) for before, after in first] == [(None, 4, False)]
    assert [(before.counts.likes, after.counts.likes, after.final) for before, after in second] == [(4, 9, True)]
    assert third == []  # nothing new: nothing to fold in again


def test_young_readings_count_early_and_are_replaced_by_the_mature_one(sessions):
    with transaction(sessions) as s:
        acc, tpl = rows.account(s, now=T0), rows.template(s, now=T0)
        first = _published(s, acc, tpl, at=T0)
        second = _published(s, acc, tpl, at=T0 + timedelta(hours=1))
    _poll(sessions, first, T0, 24, 10)  # the account's baseline
    _poll(sessions, second, T0 + timedelta(hours=1), 6, 12)  # young and already ahead
    with transaction(sessions) as s:
        young = s.get(PostOutcome, second)
        assert young is not None
        assert not young.final and 0 < young.weight < 1 and young.target > 0
        steps = s.get(LearningState, learning.STATE_NAME)
        assert steps is not None
        assert steps.observations == 1
    _poll(sessions, second, T0 + timedelta(hours=1), 25, 40)
    with transaction(sessions) as s:
        mature = s.get(PostOutcome, second)
        assert mature is not None
        assert mature.final and mature.weight == 1.0
        assert mature is not None
        assert mature.target == pytest.approx(np.log(40.5 / 10.5))  # 40 vs a base of 10, offset 5% of the base
        ranker = learning.load_ranker(s, weights=WEIGHTS, engagement_age=DAY, baseline_posts=30,
                                      now=T0 + timedelta(days=2), timezones=SETTINGS.timezones)
    assert ranker.observations == 2  # the young reading and the mature one; the young one retracted
    fresh = learning.new_ranker()
    fresh.update([learning.Outcome(learning._features_from(mature.features), mature.target, None)])
    assert ranker.weights()["template=cat"] == pytest.approx(fresh.weights()["template=cat"], rel=0.02)


def test_learning_hours_are_the_accounts_local_hours(sessions):
    with transaction(sessions) as s:
        acc, tpl = rows.account(s, now=T0), rows.template(s, now=T0)
        first, second = _published(s, acc, tpl, at=T0), _published(s, acc, tpl, at=T0 + timedelta(hours=2))
    _poll(sessions, first, T0, 24, 10)
    _poll(sessions, second, T0 + timedelta(hours=2), 24, 30)
    with transaction(sessions) as s:
        assert s.get(PostOutcome, second).features["hour"] == 9  # 14:00 UTC is 09:00 in New York


def test_load_ranker_reads_the_state_and_folds_in_decisions_made_since(sessions):
    with transaction(sessions) as s:
        acc, tpl = rows.account(s, now=T0), rows.template(s, now=T0)
        first = _published(s, acc, tpl, at=T0)
        dry = rows.candidate(s, now=T0, account_id=acc.id, text="dry one", tone="dry")
    _poll(sessions, first, T0, 24, 10)
    with transaction(sessions) as s:
        reviews.reject(s, dry.id, actor="ann", now=T0 + DAY, reason="meh")
        ranker = learning.load_ranker(s, weights=WEIGHTS, engagement_age=DAY, baseline_posts=30, now=T0 + DAY)
        state = s.get(LearningState, learning.STATE_NAME)
    assert ranker is not None and state is not None
    assert ranker.observations == state.observations + 1  # the reject, not yet in the saved state
    assert ranker.weights()["tone=dry"] < 0


def test_a_changed_setting_rebuilds_the_state_once(sessions, caplog):
    with transaction(sessions) as s:
        acc, tpl = rows.account(s, now=T0), rows.template(s, now=T0)
        posts = [_published(s, acc, tpl, at=T0 + timedelta(hours=i)) for i in range(3)]
        for i, p in enumerate(posts):
            _snap(s, p, T0 + timedelta(hours=i), 6, 5 + i)
            _snap(s, p, T0 + timedelta(hours=i), 48, 10 + 10 * i)
    caplog.set_level("INFO", logger="feedback.learning")
    with transaction(sessions) as s:  # no state yet: built once from the readings
        learning.load_ranker(s, weights=WEIGHTS, engagement_age=DAY, baseline_posts=30, now=T0 + 3 * DAY)
        learning.load_ranker(s, weights=WEIGHTS, engagement_age=DAY, baseline_posts=30, now=T0 + 3 * DAY)
    assert sum("learning state rebuilt" in r.message for r in caplog.records) == 1
    with transaction(sessions) as s:  # a younger learning age: the readings themselves are redone
        ranker = learning.load_ranker(s, weights=WEIGHTS, engagement_age=timedelta(hours=6), baseline_posts=30,
                                      now=T0 + 3 * DAY)
        ages = sorted(s.scalars(select(PostOutcome.age_s)))
    assert ages == [6 * 3600] * 3 and ranker.observations == 2


def test_topics_are_fitted_once_there_are_enough_captions(sessions):
    with transaction(sessions) as s:
        acc, tpl = rows.account(s, now=T0), rows.template(s, now=T0)
        first, second = _published(s, acc, tpl, at=T0), _published(s, acc, tpl, at=T0 + timedelta(hours=1))
    _poll(sessions, first, T0, 24, 10)
    with transaction(sessions) as s:
        assert s.get(LearningState, learning.STATE_NAME).fingerprint.endswith(";t=0@2")  # too little text
        rng = np.random.default_rng(0)
        groups = ["monday alarm commute inbox", "cat kitten purr meow", "pizza taco fridge snack",
                  "rain snow umbrella forecast", "gym squat cardio protein", "exam essay teacher homework"]
        for i in range(learning.TOPICS_AFTER):
            words = rng.choice(groups[i % len(groups)].split(), size=2, replace=False)
            rows.candidate(s, now=T0, account_id=acc.id, text=" ".join(words) + " literally", status="filtered")
    _poll(sessions, second, T0 + timedelta(hours=1), 24, 30)
    with transaction(sessions) as s:
        state = s.get(LearningState, learning.STATE_NAME)
        assert state is not None
        ranker = learning.Ranker.from_state(learning.unpack(state.state))
    assert state is not None
    assert state.fingerprint.endswith(";t=1") and ranker.topics is not None
    assert {"commute", "kitten"} <= set(ranker.topics.words)


def test_decisions_become_outcomes_edit_about_the_original_text(sessions):
    with transaction(sessions) as s:
        acc = rows.account(s, now=T0)
        a = rows.candidate(s, now=T0, account_id=acc.id, text="one two three")
        b = rows.candidate(s, now=T0, account_id=acc.id, text="x")
        reviews.edit(s, a.id, actor="ann", now=T0, text="a much longer caption than before #tag")
        reviews.reject(s, b.id, actor="ann", now=T0, reason="meh")
        rows_ = metrics.review_decisions(s, now=T0)
        later = metrics.review_decisions(s, now=T0, after_id=rows_[0].review_id)
    outcomes = learning.decision_outcomes(rows_, SETTINGS)
    assert [(o.decision, o.features.length_words, o.features.hashtags) for o in outcomes] == [
        ("edit", 3, 0), ("reject", 1, 0)]
    assert outcomes[0].features.hour == 7  # 12:00 UTC in New York
    assert [r.action for r in later] == ["reject"]


def test_load_ranker_and_rescore_pending(sessions):
    with transaction(sessions) as s:
        acc, cat, dog = rows.account(s, now=T0), rows.template(s, now=T0), rows.template(s, "dog", now=T0)
        posts = []
        for i in range(12):
            tpl, likes = (cat, 2) if i % 2 else (dog, 40)
            posts.append((_published(s, acc, tpl, at=T0 + timedelta(hours=i)), T0 + timedelta(hours=i), likes))
        wait_cat = rows.candidate(s, now=T0, account_id=acc.id, template_id=cat.id, text="c", beam_score=-1.0)
        wait_dog = rows.candidate(s, now=T0, account_id=acc.id, template_id=dog.id, text="d", beam_score=-5.0)
        done = rows.candidate(s, now=T0, account_id=acc.id, template_id=dog.id, text="e", status="rejected")
    for post_id, at, likes in posts:
        _poll(sessions, post_id, at, 24, likes)
    now = T0 + timedelta(days=3)
    with transaction(sessions) as s:
        ranker = learning.load_ranker(s, weights=WEIGHTS, engagement_age=DAY, baseline_posts=5, now=now)
        assert ranker.observations == 11  # the first post is the baseline
        batch = learning.pending_batch(s, now=now)
    predictions = learning.predict(ranker, batch, np.random.default_rng(0), now=now)
    with transaction(sessions) as s:
        assert learning.store_predictions(s, predictions) == 2
    with transaction(sessions) as s:
        queue = cand_repo.list_queue(s, now)
        assert [r.id for r in queue] == [wait_dog.id, wait_cat.id]
        explain = cand_repo.get_candidate(s, wait_dog.id).predicted_explain
        assert explain["explain"][0][0].startswith("template=dog")
        assert 'the "dog" template' in explain["sentences"][0] and "baseline" in explain["sentences"][0]
        assert cand_repo.get_candidate(s, done.id).predicted_score is None


def test_prediction_is_what_the_queue_stores():
    ranker = learning.new_ranker()
    score = ranker.score([learning.features_of(generator="meme", text="hi", account="demo", hour=9,
                                               beam_score=-2.0)], np.random.default_rng(0))[0]
    predicted, explain = learning.prediction(score, ranker, now=T0, hour=9, account="demo")
    assert predicted == score.sample and explain["model"] == learning.MODEL and explain["observations"] == 0
    assert explain["explain"][0][0] == "beam_score" and explain["scored_at"] == T0.isoformat()
    assert explain["mean"] == score.mean and explain["sentences"][0].startswith("the caption model's confidence")


def test_state_round_trips_through_its_bytes():
    ranker = learning.new_ranker()
    f = learning.features_of(generator="meme", text="monday coffee again", account="demo", hour=19)
    ranker.update([learning.Outcome(f, 0.7, None), learning.Outcome(f, None, "reject")])
    back = learning.Ranker.from_state(learning.unpack(learning.pack(ranker.state())))
    rng_a, rng_b = np.random.default_rng(3), np.random.default_rng(3)
    assert back.score([f], rng_a) == ranker.score([f], rng_b) and back.step == ranker.step


def test_the_stacking_sums_round_trip_and_an_older_state_without_them_loads():
    ranker = learning.new_ranker()
    f = learning.features_of(generator="meme", text="monday coffee again", account="demo", hour=19)
    g = learning.features_of(generator="meme", text="cat nap", account="demo", hour=9)
    for k in range(30):
        ranker.update([learning.Outcome(f if k % 2 else g, 0.1 * (k % 7) - 0.3, None)])
    assert ranker.state().stack != (0.0, 0.0)
    assert learning.unpack(learning.pack(ranker.state())).stack == ranker.state().stack
    buf = io.BytesIO()
    with np.load(io.BytesIO(learning.pack(ranker.state())), allow_pickle=False) as z:  # as blr-8 stored it
        np.savez_compressed(buf, allow_pickle=False, **{k: z[k] for k in z.files if k != "stack"})
    older = learning.unpack(buf.getvalue())
    assert older.stack == (0.0, 0.0) and np.array_equal(older.precision, ranker.state().precision)


def test_upgrading_a_populated_database_backfills_the_readings(tmp_path):
    from tests.feedback.test_migrations import _seed_0002

    engine = make_engine(f"sqlite:///{tmp_path / 'old.sqlite'}")
    migrate.upgrade(engine, "0002")
    with engine.begin() as conn:
        _seed_0002(conn)
        conn.execute(text("UPDATE posts SET published_at = :t"), {"t": datetime(2026, 1, 1)})
        conn.execute(text("INSERT INTO metric_snapshots (post_id, taken_at, age_s, likes) VALUES (1, :t, 90000, 9)"),
                     {"t": datetime(2026, 1, 2)})
    migrate.upgrade(engine)
    with engine.connect() as conn:
        got = conn.execute(text("SELECT post_id, age_s, likes, final FROM post_outcomes")).all()
    assert [tuple(r) for r in got] == [(1, 90000, 9, 1)]
    engine.dispose()


def test_imported_history_warms_the_ranker_with_words_hours_and_weekdays(sessions):
    from feedback.repository import history as history_repo

    with transaction(sessions) as s:
        acc = rows.account(s, now=T0)
        old = []
        for i in range(60):  # coffee at 19:00 New York on Fridays does well; monday alarms do not
            good = i % 2 == 0
            at = datetime(2025, 11, 7, 0, 0, tzinfo=UTC) - timedelta(days=7 * (i // 2)) if good else \
                datetime(2025, 11, 3, 13, 0, tzinfo=UTC) - timedelta(days=7 * (i // 2))
            old.append(history_repo.NewImport(f"r{i}", at, "espresso coffee again" if good else "monday alarm again",
                                              None, 0, Counts(likes=80 if good else 8, reposts=None)))
        history_repo.add(s, acc.id, old, now=T0)
        coffee = rows.candidate(s, now=T0, account_id=acc.id, text="coffee espresso", beam_score=-2.0)
        monday = rows.candidate(s, now=T0, account_id=acc.id, text="monday alarm", beam_score=-1.0)
    with transaction(sessions) as s:
        ranker = learning.load_ranker(s, weights=WEIGHTS, engagement_age=DAY, baseline_posts=30, now=T0,
                                      timezones={"demo": "America/New_York"})
        batch = learning.pending_batch(s, now=T0, timezones={"demo": "America/New_York"})
    assert ranker.observations == 60  # no post of ours yet: all of it is history
    weights = ranker.weights()
    assert weights["word=coffee"] > 0 > weights["word=monday"]
    assert weights["weekday=thu"] > weights["weekday=mon"]  # Friday 00:00 UTC is Thursday 19:00 in New York
    assert weights["hour=18h"] > weights["hour=06h"]
    means = {cid: s.mean for (cid, _), s in zip(batch.candidates, ranker.score(batch.items, np.random.default_rng(0)))}
    assert means[coffee.id] > means[monday.id]  # against the beam order
    cold = learning.new_ranker().score(batch.items, np.random.default_rng(0))
    assert cold[[c for c, _ in batch.candidates].index(coffee.id)].mean < \
        cold[[c for c, _ in batch.candidates].index(monday.id)].mean


def test_imported_posts_teach_the_template_their_picture_was_recognised_as(sessions):
    from feedback.repository import history as history_repo

    with transaction(sessions) as s:
        acc = rows.account(s, now=T0)
        cat, rocket = rows.template(s, "cat", now=T0), rows.template(s, "rocket", now=T0)
        old = [history_repo.NewImport(f"r{i}", T0 - timedelta(days=60 - i), "same words every time", None, 1,
                                      Counts(likes=60 if i % 2 else 6), "cat" if i % 2 else "rocket", 0.9)
               for i in range(40)]
        history_repo.add(s, acc.id, old, now=T0)
        on_cat = rows.candidate(s, now=T0, account_id=acc.id, template_id=cat.id, text="a new caption", beam_score=-3.0)
        on_rocket = rows.candidate(s, now=T0, account_id=acc.id, template_id=rocket.id, text="a new caption",
                                   beam_score=-1.0)
    with transaction(sessions) as s:
        ranker = learning.load_ranker(s, weights=WEIGHTS, engagement_age=DAY, baseline_posts=30, now=T0)
        batch = learning.pending_batch(s, now=T0)
    weights = ranker.weights()
    assert weights["template=cat"] > 0 > weights["template=rocket"]
    means = {cid: s.mean for (cid, _), s in zip(batch.candidates, ranker.score(batch.items, np.random.default_rng(0)))}
    assert means[on_cat.id] > means[on_rocket.id]  # against the beam order: what the history showed
