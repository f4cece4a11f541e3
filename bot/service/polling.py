"""The poll job: fetch engagement of published posts on the thinning schedule and store snapshots.

Which posts are due and how snapshots are stored live in feedback/ (feedback.polling,
feedback.repository.metrics); this module only talks to the publishers. After new snapshots the
pending candidates are re-scored, so the review queue follows what the audience liked.
"""
from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import numpy as np

from bot.publishers.base import Publisher, PublishError
from feedback import learning
from feedback.polling import Counts, PollTarget, batches, select_due
from feedback.repository import metrics as metrics_repo

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

# A post whose last scheduled poll was missed (downtime) is still polled this long after the
# final schedule age, relative to that age.
HORIZON_FACTOR = 2


def poll_due(app: App, *, now: datetime | None = None) -> int:
    """Poll every due post once; returns the number of snapshots stored. A platform error for one
    account is logged and the other accounts are still polled."""
    now = now or app.clock()
    ages = list(app.config.polling.ages)
    with app.tx() as session:
        targets = metrics_repo.posts_to_poll(session, now=now, horizon=max(ages) * HORIZON_FACTOR)
    due = select_due(targets, now, ages)
    by_account: dict[str, list[PollTarget]] = defaultdict(list)
    for target in due:
        by_account[target.account].append(target)
    stored = 0
    for account, posts in sorted(by_account.items()):
        try:
            stored += _poll_account(app, app.publisher(account), posts, now)
        except PublishError as exc:
            log.warning("poll failed account=%s error_class=%s error=%s", account, exc.error_class, exc)
    log.info("poll done due=%d snapshots=%d", len(due), stored)
    if stored:
        rescore(app, now)
    return stored


def _poll_account(app: App, publisher: Publisher, posts: Sequence[PollTarget], now: datetime) -> int:
    from bot.service.story_publish import part_remote_ids, roll_up

    stored = 0
    size = app.config.polling.batch_size
    for batch in batches(posts, size):
        by_remote = {t.remote_id: t for t in batch}
        with app.tx() as session:  # a thread's later parts are polled too and rolled up into its post
            parts = part_remote_ids(session, [t.post_id for t in batch])
        wanted = list(dict.fromkeys([*by_remote, *(r for ids in parts.values() for r in ids)]))
        readings = {r.remote_id: r for chunk in batches(wanted, size)
                    for r in publisher.fetch_metrics(list(chunk), now=now)}
        snapshots = []
        for remote_id, target in list(by_remote.items()):
            reading = readings.get(remote_id)
            if reading is None:
                continue
            del by_remote[remote_id]
            counts, raw = Counts.of(reading), _jsonable(reading.raw)
            if target.post_id in parts:
                counts, raw = roll_up([readings.get(r) for r in parts[target.post_id]], parts[target.post_id])
            snapshots.append(metrics_repo.NewSnapshot(
                post_id=target.post_id, taken_at=now, age_s=int((now - target.published_at).total_seconds()),
                counts=counts, raw=raw))
        for missing in by_remote.values():
            log.info("no metrics post_id=%d remote_id=%s (deleted or hidden?)", missing.post_id,
                     missing.remote_id)
        with app.tx() as session:
            stored += metrics_repo.add_snapshots(session, snapshots)
            # the new readings only (plus the one state row): cheap inside this transaction
            learning.record_outcomes(session, [s.post_id for s in snapshots], settings=_learning(app), now=now)
    return stored


def _learning(app) -> learning.Settings:
    cfg = app.config.ranking
    return learning.Settings(dict(cfg.weights), cfg.engagement_age, cfg.baseline_posts,
                             {acc.name: acc.timezone for acc in app.config.accounts})


def _jsonable(raw: object) -> dict | None:
    """The platform's raw answer as stored JSON (timestamps and ids as strings)."""
    if not raw:
        return None
    return json.loads(json.dumps(raw, default=str))


def rescore(app: App, now: datetime) -> int:
    """Re-score the pending queue with the ranker as it stands; returns how many rows moved."""
    cfg = app.config.ranking
    seed = cfg.seed if cfg.seed is not None else int(now.timestamp())
    zones = {acc.name: acc.timezone for acc in app.config.accounts}
    with app.tx() as session:
        ranker = app.ranker(session)
        batch = learning.pending_batch(session, now=now, timezones=zones)
    predictions = learning.predict(ranker, batch, np.random.default_rng(seed), now=now)  # outside the lock
    with app.tx() as session:
        updated = learning.store_predictions(session, predictions)
    log.info("queue rescored candidates=%d seed=%d", updated, seed)
    return updated
