"""Maintenance use cases the daemon runs: give up generations whose daemon is gone, auto-approve
(when configured), prune old media and logs. Each takes deps and owns its transactions."""
from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.core.deps import Deps
    from feedback.queue_sql import QueueRow

log = logging.getLogger(__name__)


def reap_abandoned(deps: Deps) -> int:
    """Generations still 'running' whose daemon is gone (killed, crashed) are failed, so a child that
    outlived it can never store its results (the child's final write is conditional on 'running').
    Same host: the daemon's pid is checked; another host's: after generator.timeout. Returns how many."""
    from bot.core.owners import gone_on_this_host
    from feedback.repository import generations as gen_repo

    now = deps.clock()
    reaped = 0
    with deps.tx() as session:
        for gen in gen_repo.running(session):
            parent = str((gen.params or {}).get("parent") or "")
            gone = gone_on_this_host(parent) or (
                now - gen.started_at > deps.config.generator.timeout + timedelta(minutes=1))
            if gone and gen_repo.fail_generation(session, gen.id, now=now,
                                                 error=f"abandoned: its daemon {parent or '?'} stopped"):
                reaped += 1
    if reaped:
        log.warning("event=generations_reaped count=%d", reaped)
    return reaped


def auto_approve(deps: Deps, *, per_account: int = 1) -> int:
    """Only with publishing.auto_approve = true: give each account with an empty schedule its
    best-ranked pending candidate. Off by default (the demo turns it on and says so)."""
    from bot.service import reads, review

    approved = 0
    for acc in deps.config.accounts:
        if not acc.enabled or reads.posts(deps, states=("scheduled",), account=acc.name, limit=1):
            continue
        queue = one_per_image(deps, reads.queue(deps, account=acc.name, limit=per_account + 20), per_account)
        for row in queue:
            review.approve(deps, row.id, actor="auto-approve", account=acc.name)
            approved += 1
        log.info("job=auto_approve account=%s approved=%s", acc.name, [row.id for row in queue])
    return approved


def one_per_image(deps: Deps, rows: Sequence[QueueRow], n: int) -> list[QueueRow]:
    """The first ``n`` of ``rows`` (queue order) with at most one candidate per image: none whose
    sibling (same group_key) was approved before, and none of an image the pick has already, be it
    the same run's image, the same template or the same source photo (two runs' memes on one template)."""
    from feedback.repository import candidates as cand_repo

    with deps.tx() as session:
        keys = cand_repo.image_keys(session, [r.id for r in rows])
        groups = [k.removeprefix("group:") for ks in keys.values() for k in ks if k.startswith("group:")]
        taken = {f"group:{g}" for g in cand_repo.approved_groups(session, groups)}
    out = []
    for row in rows:
        mine = keys.get(row.id, ())
        if taken.intersection(mine):
            continue
        out.append(row)
        taken.update(mine)
        if len(out) >= n:
            break
    return out


def prune_media(deps: Deps) -> int:
    """Delete image files of rejected/filtered/duplicate candidates older than scheduler.keep_media,
    and generate logs as old. Rows stay (history); their image path is cleared."""
    from feedback.repository import media as media_repo

    now = deps.clock()
    cutoff = now - deps.config.scheduler.keep_media
    with deps.tx() as session:
        doomed = media_repo.prunable_media(session, before=cutoff)
    for _cid, path in doomed:
        Path(path).unlink(missing_ok=True)
    with deps.tx() as session:
        media_repo.forget_media(session, [cid for cid, _ in doomed], now)
    logs = deps.data_dir() / "logs"
    old_logs = [p for p in logs.glob("generate-*.log") if p.stat().st_mtime < cutoff.timestamp()] \
        if logs.is_dir() else []
    for p in old_logs:
        p.unlink(missing_ok=True)
    log.info("job=prune outcome=ok files=%s logs=%s", len(doomed), len(old_logs))
    return len(doomed)
