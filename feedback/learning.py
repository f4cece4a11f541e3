"""The learning loop: stored engagement and review decisions -> the persisted ranker -> the queue.

Incremental: ``record_outcomes`` runs where snapshots are stored (inside that transaction; it
touches the new readings, one account's recent rows and the one state row), refreshes those
posts' readings at the learning age (feedback.repository.outcomes) and folds them into the persisted
sufficient statistics: a young post counts early with its age's weight and is replaced by its
mature reading later. ``load_ranker`` reads the state (plus review decisions made since) and never
scans history; scoring (``score_pending``) needs no transaction, ``store_predictions`` writes.

Engagement: a post's weighted counts (``ranking.weights``, the one definition), as a robust log
ratio to the account's anchor: the median of its first ``baseline_posts`` mature posts. A fixed
anchor, not a moving one: a baseline that rose with the ranker's own success would make the same
post worth less every month and shrink what is learned; the account's drift in level is what the
``account=`` feature (with forgetting) follows. Hours are the
account's local hours (``timezones``), the same convention the pipeline scores with.
"""
from __future__ import annotations

import hashlib
import io
import json
import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy.orm import Session

from feedback.polling import Counts, baseline, engagement_score
from feedback.ranking import (
    STACK_HALF_LIFE,
    Applied,
    CandidateFeatures,
    Outcome,
    Ranker,
    RankerState,
    Recent,
    Score,
    Topics,
    content_words,
    engagement_target,
    features_of,
    fit_topics,
    maturity,
    sentences,
)
from feedback.ranking.timing import Observation
from feedback.repository import candidates as candidate_repo
from feedback.repository import history as history_repo
from feedback.repository import metrics as metrics_repo
from feedback.repository import outcomes as outcome_repo

log = logging.getLogger(__name__)

MODEL = "blr-8"  # blr-8: the imported history folded in robustly (Huber); blr-7: size-free targets, beam prior
# 0.25, length curve (stored states of older models are rebuilt once)
STATE_NAME = "ranker"
# A rebuild folds the last REBUILD_TAIL readings REBUILD_CHUNK at a time (their weight in the stacking
# sums is above 1% of a new one's: 7 of its half-lives).
REBUILD_TAIL, REBUILD_CHUNK = 7 * int(STACK_HALF_LIFE), 10
RECENT_POSTS, RECENT_WORD_POSTS = 10, 5  # the history novelty fatigue looks at
BACKFILL_AGE_S = 24 * 3600  # the learning age migration 0005 backfilled readings with
TOPICS_AFTER = 500  # candidates before topics are worth fitting
IMPORTED = "imported"  # the generator value of an account's imported posts
IMPORTED_WEIGHT = 0.5  # an imported post counts half of one of ours: its tone and audience (unless read from its
# caption) and its template (when its picture was not recognised) are unknown, so more of its engagement is noise
# to the ranker (bench/warm_start.py, all effects, before templates were recognised: 1.0 -> 0.675, 0.5 -> 0.701, 0.25 -> 0.698; with recognised templates a
# recognised post at 0.5 / 0.65 / 0.75 / 0.9 gave 0.660 / 0.643 / 0.632 / 0.641 on seeds 6-10: 0.5 for all kept)


@dataclass(frozen=True)
class Settings:
    """How engagement is turned into learning (config `ranking` + each account's time zone)."""

    weights: Mapping[str, float]
    engagement_age: timedelta
    baseline_posts: int
    timezones: Mapping[str, str] = field(default_factory=dict)

    @property
    def age_s(self) -> int:
        return int(self.engagement_age.total_seconds())

    def fingerprint(self) -> str:
        weights = json.dumps(sorted((k, float(v)) for k, v in self.weights.items()))
        digest = hashlib.sha256(weights.encode()).hexdigest()[:12]
        return f"{MODEL};age={self.age_s};n={self.baseline_posts};w={digest}"

    def hour(self, account: str | None, at: datetime) -> int:
        return at.astimezone(ZoneInfo(self.timezones.get(account or "", "UTC"))).hour

    def weekday(self, account: str | None, at: datetime) -> int:
        return at.astimezone(ZoneInfo(self.timezones.get(account or "", "UTC"))).weekday()


def new_ranker(topics: Topics | None = None) -> Ranker:
    return Ranker(topics=topics, version=MODEL)


def facts_features(facts: metrics_repo.CandidateFacts, *, hour: int, text: str | None = None,
                   recent: Recent | None = None, weekday: int | None = None) -> CandidateFeatures:
    return features_of(generator=facts.generator, text=facts.text if text is None else text,
                       account=facts.account or "-", hour=hour, template=facts.template,
                       beam_rank=facts.beam_rank, beam_score=facts.beam_score, tone=facts.tone,
                       audience=facts.audience, recent=recent, weekday=weekday)


def imported_outcomes(rows: Sequence[history_repo.ImportedReading], settings: Settings) -> list[Outcome]:
    """Pure: an account's own history (oldest first) as outcomes: the caption's words and topics,
    its hour and weekday, the template its picture was recognised as (and so template fatigue), the
    tone and audience its caption reads as (stored by the import; None: not sure), and
    its engagement as a log ratio to the median of the account's imported posts. Imported counters are lifetime readings, not readings at the learning age, so they are
    measured against their own anchor, never against the account's posts made through memeloop."""
    scores: dict[str, list[float]] = defaultdict(list)
    for r in rows:
        score = engagement_score(r.counts, settings.weights)
        if score is not None:
            scores[r.account].append(score)
    base = {a: baseline(v) for a, v in scores.items()}
    posted: dict[str, list[tuple[str | None, str]]] = defaultdict(list)
    out = []
    for r in rows:
        features = features_of(generator=IMPORTED, text=r.text, account=r.account, template=r.template,
                               tone=r.tone, audience=r.audience,
                               hour=settings.hour(r.account, r.created_at),
                               weekday=settings.weekday(r.account, r.created_at), recent=recent_of(posted[r.account]))
        posted[r.account].append((r.template, r.text))
        score = engagement_score(r.counts, settings.weights)
        target = None if score is None or base.get(r.account) is None else engagement_target(score, base[r.account])
        out.append(Outcome(features, target, None, weight=IMPORTED_WEIGHT))
    return out


def recent_of(posts: Sequence[tuple[str | None, str]]) -> Recent:
    """Novelty-fatigue history from (template, text) of an account's last posts, oldest first."""
    posts = list(posts)[-RECENT_POSTS:]
    return Recent(tuple(t for t, _ in posts),
                  tuple(frozenset(content_words(body)) for _, body in posts[-RECENT_WORD_POSTS:]))


def recent_for(session: Session, account: str, *, now: datetime) -> Recent:
    """The account's recent history as of ``now`` (what a candidate planned now is compared with)."""
    account_id = outcome_repo.account_ids(session).get(account)
    if account_id is None:
        return Recent()
    return recent_of(outcome_repo.recent_posts(session, account_id, now, RECENT_POSTS))


def pack(state: RankerState) -> bytes:
    buf = io.BytesIO()
    topics = state.topics or Topics((), (), ())
    arrays: dict[str, np.ndarray] = {
        "names": np.array(state.names, dtype=str), "precision": state.precision, "b": state.b,
        "prior_precision": state.prior_precision, "prior_mean": state.prior_mean,
        "counters": np.array([state.step, state.observations]), "settings": np.array(state.settings),
        "topic_words": np.array(topics.words, dtype=str), "topic_ids": np.array(topics.ids, dtype=int),
        "topic_labels": np.array(topics.labels, dtype=str)}
    if state.short_precision is not None and state.short_b is not None:  # the short memory (blr-6)
        arrays.update(short_precision=state.short_precision, short_b=state.short_b,
                      short_half_life=np.array(state.short_half_life))
    arrays.update(stack=np.array(state.stack, dtype=float))  # the stacking sums (a state stored without them loads with none)
    np.savez_compressed(buf, allow_pickle=False, **arrays)
    return buf.getvalue()


def unpack(blob: bytes) -> RankerState:
    with np.load(io.BytesIO(blob), allow_pickle=False) as z:
        step, observations = z["counters"]
        names = tuple(str(n) for n in z["names"])
        topics = Topics(tuple(str(w) for w in z["topic_words"]), tuple(int(i) for i in z["topic_ids"]),
                        tuple(str(t) for t in z["topic_labels"]))
        short = "short_precision" in z.files
        return RankerState(names, z["precision"], z["b"], z["prior_precision"], z["prior_mean"], float(step),
                           int(observations), tuple(z["settings"].tolist()), topics if topics.words else None,
                           z["short_precision"] if short else None, z["short_b"] if short else None,
                           float(z["short_half_life"]) if short else 0.0,
                           (float(z["stack"][0]), float(z["stack"][1])) if "stack" in z.files else (0.0, 0.0))


def _features_json(f: CandidateFeatures) -> dict:
    return asdict(f)


def _features_from(data: Mapping) -> CandidateFeatures:
    return CandidateFeatures(**{**data, "words": tuple(data.get("words") or ())})


def timing_observations(session: Session, account: str, settings: Settings) -> list[Observation]:
    """What the best-time model learns from: the account's imported posts and its own posts (their
    targets as folded into the ranker), each at its local weekday and hour, oldest first."""
    account_id = outcome_repo.account_ids(session).get(account)
    if account_id is None:
        return []
    history = history_repo.readings(session, account_ids=[account_id])
    seen = [(r.created_at, Observation(o.features.weekday or 0, o.features.hour, o.engagement))
            for r, o in zip(history, imported_outcomes(history, settings)) if o.engagement is not None]
    seen += [(at, Observation(settings.weekday(account, at), settings.hour(account, at), target, weight))
             for at, target, weight in outcome_repo.folded_targets(session, account_id)]
    return [o for _, o in sorted(seen, key=lambda p: p[0])]


def reading_outcome(reading: outcome_repo.Reading, *, features: CandidateFeatures, base: float | None,
                    settings: Settings) -> Outcome:
    """Pure: a post's reading -> an outcome that also takes out what its earlier reading put in.

    A young reading is extrapolated to the learning age and counts with the share of its
    engagement it is expected to show by then; the first post of an account (no baseline yet)
    and a reading without any weighted count teach nothing (but still retract)."""
    replaces = None
    if reading.applied_step is not None and reading.target is not None and reading.weight is not None:
        replaces = Applied(reading.target, reading.weight, reading.applied_step)
    score = engagement_score(reading.counts, settings.weights)
    if score is None or base is None:
        return Outcome(features, None, None, replaces=replaces)
    weight = 1.0 if reading.final else maturity(reading.age_s, settings.age_s)
    return Outcome(features, engagement_target(score / weight, base), None, weight=weight, replaces=replaces)


def decision_outcomes(rows: Sequence[metrics_repo.ReviewFacts], settings: Settings | None = None) -> list[Outcome]:
    """Pure: an edit teaches about the text before the edit; approve/reject about the text judged."""
    settings = settings or Settings({}, timedelta(0), 1)
    outcomes = []
    for row in rows:
        text = row.before_text if row.action == "edit" else (row.after_text or row.before_text)
        hour = settings.hour(row.facts.account, row.created_at)
        outcomes.append(Outcome(facts_features(row.facts, hour=hour, text=text), None, row.action))
    return outcomes


def record_outcomes(session: Session, post_ids: Sequence[int], *, settings: Settings, now: datetime) -> int:
    """Fold the new snapshots of these posts (and review decisions since the last fold) into the
    persisted learning state; returns how many post readings changed. Cheap: call it in the
    transaction that stored the snapshots."""
    row = outcome_repo.load_state(session, STATE_NAME)
    if row is None or not _current(row.fingerprint, settings) or _topics_due(session, row.fingerprint):
        outcome_repo.refresh_readings(session, post_ids, age_s=settings.age_s)
        _rebuild(session, settings, now, stored_fingerprint=None if row is None else row.fingerprint)
        return len(post_ids)
    ranker = Ranker.from_state(unpack(row.state), version=MODEL)
    changed = sorted(outcome_repo.refresh_readings(session, post_ids, age_s=settings.age_s),
                     key=lambda c: (c[1].published_at, c[1].post_id))
    facts = outcome_repo.post_facts(session, [after.post_id for _, after in changed])
    anchors = {a: outcome_repo.anchor_readings(session, a, settings.baseline_posts)
               for a in {after.account_id for _, after in changed}}
    readings, outcomes = [], []
    for _, after in changed:
        if after.post_id in facts:
            features = _features_of_reading(session, after, facts[after.post_id], settings)
            base = _anchor(anchors[after.account_id], after.published_at, settings)
            readings.append(after)
            outcomes.append(reading_outcome(after, features=features, base=base, settings=settings))
    _apply(session, ranker, readings, outcomes)
    last_review = _fold_reviews(session, ranker, row.last_review_id, settings, now)
    _save(session, ranker, settings, last_review, now)
    return len(changed)


def _features_of_reading(session: Session, reading: outcome_repo.Reading,
                         facts: tuple[metrics_repo.CandidateFacts, str], settings: Settings) -> CandidateFeatures:
    if reading.features is not None:
        return _features_from(reading.features)  # exactly what was folded in, so it can be taken out
    fact, account = facts
    recent = recent_of(outcome_repo.recent_posts(session, reading.account_id, reading.published_at, RECENT_POSTS))
    return facts_features(fact, hour=settings.hour(account, reading.published_at), recent=recent,
                          weekday=settings.weekday(account, reading.published_at))


def _anchor(anchor: Sequence[tuple[datetime, Counts]], before: datetime, settings: Settings) -> float | None:
    """The account's anchor as it stood when this post went out (its earlier first mature posts)."""
    scores = [engagement_score(c, settings.weights) for at, c in anchor if at < before]
    return baseline([s for s in scores if s is not None])


def _apply(session: Session, ranker: Ranker, readings: Sequence[outcome_repo.Reading],
           outcomes: Sequence[Outcome]) -> None:
    """Fold outcomes in (one batch, oldest first) and record how, to replace them exactly later."""
    marks = []
    for reading, outcome, applied in zip(readings, outcomes, ranker.update(outcomes)):
        marks.append({"post_id": reading.post_id, "features": _features_json(outcome.features),
                      "target": None if applied is None else applied.engagement,
                      "weight": None if applied is None else applied.weight,
                      "applied_step": None if applied is None else applied.step})
    outcome_repo.mark_applied(session, marks)


def _fold_reviews(session: Session, ranker: Ranker, after_id: int, settings: Settings, now: datetime) -> int:
    rows = metrics_repo.review_decisions(session, now=now, after_id=after_id)
    ranker.update(decision_outcomes(rows, settings))
    return max([after_id, *(r.review_id for r in rows)])


def _save(session: Session, ranker: Ranker, settings: Settings, last_review: int, now: datetime) -> None:
    # The topics marker: fitted ("t=1"), or not yet, and how many candidates there were ("t=0@<id>").
    marker = "1" if ranker.topics is not None else f"0@{outcome_repo.max_candidate_id(session)}"
    outcome_repo.save_state(session, STATE_NAME, fingerprint=f"{settings.fingerprint()};t={marker}",
                            state=pack(ranker.state()),
                            last_review_id=last_review, observations=ranker.observations, now=now)


def _rebuild(session: Session, settings: Settings, now: datetime, *, stored_fingerprint: str | None) -> Ranker:
    """The state from every post's reading (once: first use, or the settings changed)."""
    stored_age = BACKFILL_AGE_S if stored_fingerprint is None else _age_of(stored_fingerprint)
    if stored_age != settings.age_s:
        outcome_repo.rebuild_readings(session, age_s=settings.age_s)
    readings = outcome_repo.all_readings(session)
    facts = outcome_repo.post_facts(session, [r.post_id for r in readings])
    # Topics are fitted here only: they define what the topic features mean for this state's life.
    # The account's own history first (it is older): a warm start instead of the beam order alone.
    history = history_repo.readings(session)
    corpus = [*outcome_repo.candidate_texts(session), *(r.text for r in history)]
    ranker = new_ranker(fit_topics(content_words(t) for t in corpus))
    ranker.update(imported_outcomes(history, settings), robust=True)
    finals: dict[int, list[float]] = defaultdict(list)
    posted: dict[int, list[tuple[str | None, str]]] = defaultdict(list)
    folded, outcomes = [], []
    for r in readings:
        if r.post_id not in facts:
            continue
        fact, account = facts[r.post_id]
        features = facts_features(fact, hour=settings.hour(account, r.published_at),
                                  recent=recent_of(posted[r.account_id]),
                                  weekday=settings.weekday(account, r.published_at))
        posted[r.account_id].append((fact.template, fact.text))
        base = baseline(finals[r.account_id][:settings.baseline_posts])
        fresh = outcome_repo.Reading(r.post_id, r.account_id, r.published_at, r.age_s, r.final, r.counts)
        folded.append(r)
        outcomes.append(reading_outcome(fresh, features=features, base=base, settings=settings))
        score = engagement_score(r.counts, settings.weights)
        if r.final and score is not None:
            finals[r.account_id].append(score)
    # The stacking sums predict each reading from the state before it (Ranker._stack): the recent
    # readings go in small batches, as polling folds them, the older ones (faded from the sums) at once.
    start = max(0, len(folded) - REBUILD_TAIL)
    for lo, hi in [(0, start), *((k, k + REBUILD_CHUNK) for k in range(start, len(folded), REBUILD_CHUNK))]:
        if hi > lo:
            _apply(session, ranker, folded[lo:hi], outcomes[lo:hi])
    last_review = _fold_reviews(session, ranker, 0, settings, now)
    _save(session, ranker, settings, last_review, now)
    log.info("learning state rebuilt readings=%d imported=%d observations=%d features=%d", len(readings),
             len(history), ranker.observations, len(ranker.names))
    return ranker


def _current(stored: str, settings: Settings) -> bool:
    return stored.split(";t=")[0] == settings.fingerprint()


def _topics_due(session: Session, stored: str) -> bool:
    """A state built before there was enough text for topics is rebuilt once the candidates have
    doubled (and number at least TOPICS_AFTER): the poll path checks, at the cost of one max(id)."""
    marker = stored.split(";t=")[-1] if ";t=" in stored else "1"
    if not marker.startswith("0@"):
        return False
    then, now_id = int(marker[2:]), outcome_repo.max_candidate_id(session)
    return now_id >= max(TOPICS_AFTER, 2 * then)


def _age_of(fingerprint: str) -> int | None:
    for part in fingerprint.split(";"):
        if part.startswith("age="):
            return int(part[4:])
    return None


def load_ranker(session: Session, *, weights: Mapping[str, float], engagement_age: timedelta,
                baseline_posts: int, now: datetime, timezones: Mapping[str, str] | None = None) -> Ranker:
    """The persisted ranker plus the review decisions made since it was saved (read-only, no history
    scan; only a missing or outdated state is rebuilt, once)."""
    settings = Settings(dict(weights), engagement_age, baseline_posts, dict(timezones or {}))
    row = outcome_repo.load_state(session, STATE_NAME)
    if row is None or not _current(row.fingerprint, settings):
        return _rebuild(session, settings, now, stored_fingerprint=None if row is None else row.fingerprint)
    ranker = Ranker.from_state(unpack(row.state), version=MODEL)
    _fold_reviews(session, ranker, row.last_review_id, settings, now)
    log.info("ranker loaded observations=%d features=%d", ranker.observations, len(ranker.names))
    return ranker


@dataclass(frozen=True)
class Prediction:
    candidate_id: int
    version: int
    score: float
    explain: dict


@dataclass(frozen=True)
class PendingBatch:
    """The pending candidates and their features (read in a transaction, scored outside one)."""

    candidates: tuple[tuple[int, int], ...]  # (candidate id, row version)
    items: tuple[CandidateFeatures, ...]


def pending_batch(session: Session, *, now: datetime, timezones: Mapping[str, str] | None = None) -> PendingBatch:
    """Every pending candidate's features: planned hour in its account's time zone, recent history."""
    settings = Settings({}, timedelta(0), 1, dict(timezones or {}))
    pending = candidate_repo.pending_facts(session)
    if not pending:
        return PendingBatch((), ())
    hours = metrics_repo.publish_hours(session, [p.facts.candidate_id for p in pending])
    recent = {a: recent_for(session, a, now=now) for a in {p.facts.account or "-" for p in pending}}
    items = []
    for p in pending:
        at = hours.get(p.facts.candidate_id) or now
        items.append(facts_features(p.facts, hour=settings.hour(p.facts.account, at), recent=recent[p.facts.account or "-"],
                                    weekday=settings.weekday(p.facts.account, at)))
    return PendingBatch(tuple((p.facts.candidate_id, p.version) for p in pending), tuple(items))


def predict(ranker: Ranker, batch: PendingBatch, rng: np.random.Generator, *, now: datetime) -> list[Prediction]:
    """Pure: score a batch (no transaction needed)."""
    if not batch.items:
        return []
    out = []
    for (cid, version), item, score in zip(batch.candidates, batch.items, ranker.score(batch.items, rng)):
        predicted, explain = prediction(score, ranker, now=now, hour=item.hour, account=item.account)
        out.append(Prediction(cid, version, predicted, explain))
    return out


def score_pending(session: Session, ranker: Ranker, rng: np.random.Generator, *, now: datetime,
                  timezones: Mapping[str, str] | None = None) -> list[Prediction]:
    return predict(ranker, pending_batch(session, now=now, timezones=timezones), rng, now=now)


def store_predictions(session: Session, predictions: Sequence[Prediction]) -> int:
    return sum(candidate_repo.set_prediction(session, p.candidate_id, version=p.version, score=p.score,
                                             explain=p.explain) for p in predictions)


def rescore_pending(session: Session, ranker: Ranker, rng: np.random.Generator, *, now: datetime,
                    timezones: Mapping[str, str] | None = None) -> int:
    """Refresh predicted_score/explanation of every pending candidate (the review-queue order)."""
    return store_predictions(session, score_pending(session, ranker, rng, now=now, timezones=timezones))


def prediction(score: Score, ranker: Ranker, *, now: datetime, hour: int | None = None,
               account: str | None = None) -> tuple[float, dict]:
    """What a candidate stores: predicted_score (the Thompson sample, so the review order keeps
    exploring) and predicted_explain (mean, sample, top effects, sentences, model, evidence, time)."""
    return score.sample, {**score.as_dict(), "model": ranker.version, "observations": ranker.observations,
                          "scored_at": now.isoformat(),
                          "sentences": sentences(score.effects, hour=hour, account=account)}
