"""Notifications: tell the configured webhooks when something needs a person.

How it works (a transactional outbox fed by scans, so no publishing or review code waits on a network):

1. ``find`` reads the database for what to tell: candidates waiting for review (one batched notice,
   at most every ``notifications.review_every``, and only when new candidates arrived since the last),
   posts that failed, posts unconfirmed longer than ``unconfirmed_after``, paused accounts, and daemons
   whose heartbeat stopped. Each has a stable key (e.g. ``post_failed:12:<when>``).
2. ``store`` writes one outbox row per subscribed webhook and key; a key already there is skipped, so
   scanning again (or from two processes) tells nothing twice. Every known secret value is replaced by
   *** before a row is written: a token in an error message never leaves, nor reaches the database.
3. ``deliver_due`` claims due rows one by one (a lease, as posts are claimed) and POSTs them
   (bot/publishers/webhooks.py); a failure is retried with exponential backoff up to
   ``max_attempts``, then given up (state failed, with the last error).

The daemon's leader runs all three as the ``notify`` job every tick. A process cannot report its own
death: a daemon whose heartbeat went stale is told by whoever scans next: another daemon, the web admin
started on its own (`memeloop web` watches every tick), `memeloop notify check` from cron, or the daemon
itself when it starts again after an unclean stop (its predecessor's stale row: "down since ...").
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot.config import ConfigError
from bot.config.secrets import known_secret_values, redact, webhook_secrets
from bot.config.timefmt import iso, zone_of
from bot.publishers.base import backoff_delay
from bot.publishers.webhooks import Delivery, DeliveryOutcome, Notice, body_for, headers_for, send
from feedback.repository import notifications as repo

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.config import Config, WebhookConfig
    from bot.core.deps import Deps

log = logging.getLogger(__name__)

LOOKBACK = timedelta(days=1)  # a failure older than this when first seen is history, not news
DELIVER_LIMIT = 20  # rows one run delivers at most (each waits at most notifications.timeout)
TEXT_MAX = 300  # a caption quoted in a notice


@dataclass
class NotifySummary:
    found: int = 0
    stored: int = 0
    sent: int = 0
    retried: int = 0
    failed: int = 0
    pruned: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class WebhookCheck:
    webhook: str
    ok: bool
    detail: str


# -- 1. what to tell -------------------------------------------------------------------------------

def _quote(text: str) -> str:
    one_line = " ".join(text.split())
    return one_line if len(one_line) <= TEXT_MAX else one_line[:TEXT_MAX - 1] + "…"


def _review_waiting(deps: Deps, session: Session, now: datetime) -> list[Notice]:
    waiting = repo.waiting_for_review(session)
    if waiting is None:
        return []
    last = repo.latest(session, "review_waiting")
    told_up_to = int(last.payload.get("data", {}).get("newest_id", 0)) if last else 0
    if waiting.newest_id <= told_up_to:
        return []  # nothing new since the last notice
    if last is not None and now - last.created_at < deps.config.notifications.review_every:
        return []  # batched: the next notice counts these too
    per = ", ".join(f"{name or 'no account'}: {n}" for name, n in sorted(waiting.per_account.items(),
                                                                           key=lambda kv: kv[0] or ""))
    total = waiting.total
    return [Notice("review_waiting", f"review_waiting:{waiting.newest_id}",
                   f"{total} candidate{'s' if total != 1 else ''} waiting for review", f"{per}.",
                   now, url="/board", data={"waiting": total, "newest_id": waiting.newest_id,
                                                 "per_account": {k or "": v for k, v in waiting.per_account.items()}})]


def _post_notices(deps: Deps, session: Session, now: datetime) -> list[Notice]:
    cfg = deps.config.notifications
    out = []
    for p in repo.failed_posts(session, since=now - LOOKBACK):
        tz = zone_of(deps.config, p.account)
        out.append(Notice("post_failed", f"post_failed:{p.post_id}:{p.updated_at.isoformat()}",
                          f"Post {p.post_id} failed on {p.account}",
                          f"{p.last_error or p.error_class or 'no reason recorded'} (after {p.attempts} attempt"
                          f"{'s' if p.attempts != 1 else ''}; slot {iso(p.scheduled_at, tz)}). Caption: "
                          f"{_quote(p.text)}", now, p.account, f"/posts/{p.post_id}",
                          data=_post_data(p, tz)))
    for p in repo.unconfirmed_posts(session, older_than=now - cfg.unconfirmed_after,
                                    since=now - cfg.unconfirmed_after - LOOKBACK):
        tz = zone_of(deps.config, p.account)
        out.append(Notice("post_unconfirmed", f"post_unconfirmed:{p.post_id}:{p.updated_at.isoformat()}",
                          f"Post {p.post_id} on {p.account} unconfirmed since {iso(p.updated_at, tz)}",
                          "It may or may not be on the platform and reconcile has not settled it: look on "
                          f"{p.account}, then `memeloop retry {p.post_id}` or cancel it. Last error: "
                          f"{p.last_error or '-'}. Caption: {_quote(p.text)}", now,
                          p.account, f"/posts/{p.post_id}", data=_post_data(p, tz)))
    return out


def _post_data(p: repo.PostIssue, tz: str) -> dict[str, Any]:
    return {"post_id": p.post_id, "candidate_id": p.candidate_id, "account": p.account, "state": p.state,
            "attempts": p.attempts, "error_class": p.error_class, "error": p.last_error,
            "scheduled_at": iso(p.scheduled_at, tz), "since": iso(p.updated_at, tz)}


def _paused(deps: Deps, session: Session, now: datetime) -> list[Notice]:
    out = []
    for a in repo.paused_accounts(session, now=now):
        tz = zone_of(deps.config, a.account)
        forever = a.paused_until.year >= 9999
        until = (f"until an admin resumes it (`memeloop accounts resume {a.account}` or the Accounts page)"
                 if forever else f"until {iso(a.paused_until, tz)}")
        began = a.paused_at or a.paused_until
        out.append(Notice("account_paused", f"account_paused:{a.account}:{began.isoformat()}",
                          f"Account {a.account} is paused", f"{a.reason or 'no reason recorded'}. Nothing is "
                          f"posted to it {until}.", now, a.account, "/accounts",
                          data={"account": a.account, "reason": a.reason,
                                "paused_until": None if forever else iso(a.paused_until, tz),
                                "paused_at": iso(a.paused_at, tz) if a.paused_at else None}))
    return out


def daemon_events(deps: Deps, *, now: datetime | None = None, me: str | None = None) -> list[Notice]:
    """Daemons whose heartbeat went stale (a clean stop removes the row: a stale one died or hangs).
    ``me``: this process's own row, never reported by itself."""
    now = now or deps.clock()
    limit = deps.config.scheduler.stale_after
    tz = deps.config.scheduler.timezone
    with deps.tx() as session:
        silent = repo.silent_processes(session, beat_before=now - limit, since=now - max(LOOKBACK, deps.config.
                                       notifications.keep), except_process=me)
    return [Notice("daemon_down", f"daemon_down:{s.process}:{s.beat_at.isoformat()}",
                   f"Daemon {s.process} is down",
                   f"Its last heartbeat was at {iso(s.beat_at, tz)}, {_ago(now - s.beat_at)} ago (stale after "
                   f"{_ago(limit)}); it started at {iso(s.started_at, tz)}. A clean stop removes the heartbeat, so "
                   "it crashed, was killed or hangs: nothing is generated or published until it runs again.",
                   now, data={"process": s.process, "role": s.role, "last_beat": iso(s.beat_at, tz),
                                            "started_at": iso(s.started_at, tz)})
            for s in silent]


def _ago(delta: timedelta) -> str:
    s = int(delta.total_seconds())
    return f"{s // 3600}h {s % 3600 // 60}m" if s >= 3600 else f"{s // 60}m {s % 60}s" if s >= 60 else f"{s}s"


def find(deps: Deps, *, now: datetime | None = None, me: str | None = None) -> list[Notice]:
    now = now or deps.clock()
    with deps.tx() as session:
        found = _review_waiting(deps, session, now) + _post_notices(deps, session, now) + _paused(deps, session, now)
    return found + daemon_events(deps, now=now, me=me)


# -- 2. the outbox ---------------------------------------------------------------------------------

def _payload(notice: Notice, secrets: set[str]) -> dict[str, Any]:
    def clean(value: Any) -> Any:
        if isinstance(value, str):
            return redact(value, secrets)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list):
            return [clean(v) for v in value]
        return value

    return clean({"title": notice.title, "text": notice.text, "occurred_at": notice.occurred_at.isoformat(),
                  "account": notice.account, "path": notice.url, "data": notice.data})


def store(deps: Deps, notices: Sequence[Notice], *, now: datetime | None = None) -> int:
    """One outbox row per enabled, subscribed webhook and notice key not stored before."""
    now = now or deps.clock()
    hooks = [h for h in deps.config.notifications.webhooks if h.enabled]
    if not hooks or not notices:
        return 0
    with deps.tx() as session:
        told = repo.known(session, [n.key for n in notices])
        new = [(hook.name, n) for n in notices for hook in hooks
               if n.event in hook.events and (hook.name, n.key[:200]) not in told]
        if not new:
            return 0  # the steady state of every tick: all found was told before
        secrets = known_secret_values(deps.config)
        payloads = {id(n): _payload(n, secrets) for _, n in new}
        stored = repo.add_many(session, [(name, n.event, n.key, payloads[id(n)]) for name, n in new], now=now)
    if stored:
        log.info("event=notices_stored count=%d", stored)
    return stored


def notice_of(row: repo.Row, config: Config) -> Notice:
    p = row.payload
    base = config.notifications.base_url
    path = p.get("path")
    url = base.rstrip("/") + path if base and path else None
    return Notice(row.event, row.key, str(p.get("title", "")), str(p.get("text", "")),
                  datetime.fromisoformat(str(p.get("occurred_at"))) if p.get("occurred_at") else row.created_at,
                  p.get("account"), url, dict(p.get("data") or {}))


# -- 3. delivery -----------------------------------------------------------------------------------

def target(config: Config, hook: WebhookConfig) -> tuple[str, str | None]:
    """The webhook's URL and signing secret, or a ConfigError naming where to set what is missing."""
    found = webhook_secrets(config, hook.name)
    url = found.url.reveal() if found.url else hook.url
    where = f" or [webhooks.{hook.name}] {{key}} in the secrets file" if config.secrets.file else ""
    if not url:
        raise ConfigError(f"notifications.webhooks {hook.name!r}: no URL: set MEMELOOP_WEBHOOK_{hook.env_name}_URL"
                          + where.format(key="url") + (" (or url in the config for a json webhook)"
                                                       if hook.format == "json" else ""))
    secret = found.secret.reveal() if found.secret else None
    if hook.format == "json" and not secret:
        raise ConfigError(f"notifications.webhooks {hook.name!r}: a json webhook is signed, but there is no secret: "
                          f"set MEMELOOP_WEBHOOK_{hook.env_name}_SECRET" + where.format(key="secret"))
    return url, secret


def post_notice(config: Config, hook: WebhookConfig, notice: Notice, delivery_id: str) -> Delivery:
    """Build the webhook's body for ``notice`` and POST it once."""
    url, secret = target(config, hook)
    body = body_for(hook.format, notice, delivery_id)
    headers = headers_for(hook.format, notice, delivery_id, body, secret=secret, now_s=time.time())
    return send(url, body, headers, timeout_s=config.notifications.timeout.total_seconds())


def deliver_due(deps: Deps, *, now: datetime | None = None, limit: int = DELIVER_LIMIT) -> NotifySummary:
    """Deliver due outbox rows (one attempt each); never raises for a receiver's failure."""
    cfg = deps.config.notifications
    hooks = {h.name: h for h in cfg.webhooks}
    summary = NotifySummary()
    lease = cfg.timeout * 2 + timedelta(seconds=30)
    with deps.tx() as session:
        ids = repo.due_ids(session, now=now or deps.clock(), limit=limit)
    for notice_id in ids:
        if deps.stopping.is_set():
            break
        at = now or deps.clock()
        with deps.tx() as session:
            row = repo.claim(session, notice_id, now=at, lease=lease)
        if row is None:
            continue
        hook = hooks.get(row.webhook)
        if hook is None or not hook.enabled:
            with deps.tx() as session:
                repo.give_up(session, row.id, error=f"webhook {row.webhook!r} is no longer configured (or disabled)")
            summary.failed += 1
            continue
        try:
            result = post_notice(deps.config, hook, notice_of(row, deps.config), str(row.id))
        except ConfigError as exc:
            result = Delivery(DeliveryOutcome.RETRY, None, str(exc))
        _settle(deps, row, result, at, summary)
    return summary


def _settle(deps: Deps, row: repo.Row, result: Delivery, now: datetime, summary: NotifySummary) -> None:
    cfg = deps.config.notifications
    with deps.tx() as session:
        if result.outcome is DeliveryOutcome.DELIVERED:
            repo.sent(session, row.id, now=now)
            summary.sent += 1
        elif result.outcome is DeliveryOutcome.REFUSED or row.attempts >= cfg.max_attempts:
            why = result.detail if result.outcome is DeliveryOutcome.REFUSED else \
                f"gave up after {row.attempts} attempts: {result.detail}"
            repo.give_up(session, row.id, error=why)
            summary.failed += 1
            log.warning("event=notice_given_up id=%s webhook=%s notice_event=%s error=%s", row.id, row.webhook,
                        row.event, why)
        else:
            delay = backoff_delay(row.attempts, cfg.backoff, cfg.max_backoff)
            if result.retry_after_s is not None:
                delay = min(max(delay, timedelta(seconds=result.retry_after_s)), cfg.max_backoff)
            repo.retry(session, row.id, at=now + delay, error=result.detail)
            summary.retried += 1
            log.info("event=notice_retry id=%s webhook=%s attempt=%d next=%s error=%s", row.id, row.webhook,
                     row.attempts, iso(now + delay), result.detail)


def run(deps: Deps, *, me: str | None = None) -> NotifySummary:
    """The daemon's notify job: find, store, deliver, prune."""
    if not deps.config.notifications.webhooks:
        return NotifySummary()
    now = deps.clock()
    found = find(deps, now=now, me=me)
    stored = store(deps, found, now=now)
    summary = deliver_due(deps, now=now)
    summary.found, summary.stored = len(found), stored
    with deps.tx() as session:
        summary.pruned = repo.prune(session, before=now - max(deps.config.notifications.keep, LOOKBACK * 2))
    return summary


def watch(deps: Deps, *, me: str | None = None) -> NotifySummary:
    """What a process beside the daemon does (the web admin, cron's `memeloop notify check`): tell a
    stale daemon heartbeat, and deliver what is due (the daemon may be the one that is down)."""
    if not deps.config.notifications.webhooks:
        return NotifySummary()
    found = daemon_events(deps, me=me)
    stored = store(deps, found)
    summary = deliver_due(deps)
    summary.found, summary.stored = len(found), stored
    return summary


def recent(deps: Deps, *, limit: int = 50, states: tuple[str, ...] | None = None) -> list[repo.Row]:
    """The newest outbox rows (`memeloop notify list`, the web admin's Notifications page), each last
    error with every known secret value replaced by *** (a row written before a secret was added to
    the config, or an error a receiver echoed, is shown scrubbed all the same)."""
    secrets = known_secret_values(deps.config)
    with deps.tx() as session:
        rows = repo.recent(session, limit=limit, states=states)
    return [replace(r, last_error=redact(r.last_error, secrets)) if r.last_error else r for r in rows]


def send_test(deps: Deps, webhook: str | None = None) -> list[WebhookCheck]:
    """`memeloop notify test`: one test notice to each (or the named) webhook, now, outside the outbox."""
    cfg = deps.config.notifications
    hooks = [cfg.webhook(webhook)] if webhook else list(cfg.webhooks)
    if not hooks:
        raise ConfigError("no webhooks configured: add [[notifications.webhooks]] with a name to the config")
    now = deps.clock()
    secrets = known_secret_values(deps.config)
    notice = Notice("test", f"test:{int(now.timestamp())}", "memeloop test notice",
                    redact(f"If you read this, memeloop can reach this webhook "
                           f"({iso(now, deps.config.scheduler.timezone)}).", secrets), now, None,
                    (cfg.base_url.rstrip("/") + "/board") if cfg.base_url else None, {"test": True})
    out = []
    for hook in hooks:
        try:
            result = post_notice(deps.config, hook, notice, f"test-{int(now.timestamp())}")
        except ConfigError as exc:
            out.append(WebhookCheck(hook.name, False, redact(str(exc), secrets)))
            continue
        out.append(WebhookCheck(hook.name, result.outcome is DeliveryOutcome.DELIVERED, redact(result.detail, secrets)))
    return out
