"""Webhook notifications end to end: the real config, SQLite, outbox and HTTP client, against a local
receiver (tests/bot/webhook_server.py): what is told, signed how, retried when, given up after what,
shaped as Slack and Discord read it, and never carrying a secret."""
from __future__ import annotations

import json
import time
from datetime import timedelta

import pytest

from bot.config import ConfigError, parse_config
from bot.publishers.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature
from bot.service import notify
from feedback.repository import accounts as account_repo
from feedback.repository import heartbeats
from feedback.repository import notifications as notices
from feedback.repository import posts as posts_repo
from tests.bot.approving import approve_and_schedule
from tests.bot.publishers.apps import OUTBOX, add_candidates, make_app
from tests.bot.webhook_server import receiver

SECRET = "whsec-test-signing-key-123"


def hooks(*blocks: str, **settings: str) -> str:
    head = "[notifications]\n" + "".join(f"{k} = {v}\n" for k, v in settings.items())
    return head + "".join(blocks)


def json_hook(url: str, name: str = "ops", events: str | None = None) -> str:
    return (f'[[notifications.webhooks]]\nname = "{name}"\nformat = "json"\nurl = "{url}"\n'
            + (f"events = {events}\n" if events else ""))


@pytest.fixture
def secret_env(monkeypatch):
    monkeypatch.setenv("MEMELOOP_WEBHOOK_OPS_SECRET", SECRET)


def _app(tmp_path, clock, extra: str):
    return make_app(tmp_path, clock, OUTBOX, extra=extra)


def _fail_post(app, clock, text: str, error: str) -> int:
    (cid,) = add_candidates(app, [text])
    (post,) = approve_and_schedule(app, [cid], actor="ann", at=clock())
    with app.tx() as s:
        assert posts_repo.claim_due(s, owner="w", now=clock(), lease=timedelta(minutes=5))
        assert posts_repo.mark_failed(s, post.id, owner="w", error_class="permanent", error=error, now=clock())
    return post.id


def _rows(app):
    with app.tx() as s:
        return notices.recent(s, limit=100)


# -- config ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("extra", "message"), [
    ('[[notifications.webhooks]]\nname = "ops"\nformat = "teams"\n', "notifications.webhooks[0].format"),
    ('[[notifications.webhooks]]\nname = "ops"\nsecret = "abc"\n', "secrets are not allowed in the config file"),
    ('[[notifications.webhooks]]\nname = "chat"\nformat = "slack"\nurl = "https://hooks.slack.com/services/T/B/x"\n',
     "MEMELOOP_WEBHOOK_CHAT_URL"),
    ('[[notifications.webhooks]]\nname = "a"\n[[notifications.webhooks]]\nname = "a"\n', "used twice"),
    ('[[notifications.webhooks]]\nname = "ops"\nevents = ["post_exploded"]\n', "notifications.webhooks[0].events[0]"),
    ('[notifications]\nbackoff = "2h"\nmax_backoff = "1m"\n', "max_backoff"),
    ('[notifications]\ntimeout = "10m"\n', "notifications.timeout"),
    ('[[notifications.webhooks]]\nname = "has space"\n', "notifications.webhooks[0].name"),
])
def test_bad_webhook_config_is_refused_naming_the_key(extra, message):
    with pytest.raises(ConfigError) as err:
        parse_config(extra, source="config.toml")
    assert message in str(err.value)
    assert str(err.value).startswith("config.toml: ")


def test_missing_url_or_secret_is_named_when_used(tmp_path, clock, run_cli, write_config):
    path = write_config('[storage]\nurl = "sqlite:///memeloop.db"\n[[notifications.webhooks]]\nname = "ops"\n'
                        'url = "http://127.0.0.1:9/x"\n[[accounts]]\nname = "demo"\nplatform = "outbox"\n')
    result = run_cli("--config", str(path), "notify", "test")
    assert result.code == 2
    assert "MEMELOOP_WEBHOOK_OPS_SECRET" in result.err and "Traceback" not in result.err
    unknown = run_cli("--config", str(path), "notify", "test", "--webhook", "nope")
    assert unknown.code == 2 and "unknown webhook 'nope' (known: ops)" in unknown.err


# -- generic JSON, signed ------------------------------------------------------------------------------

def test_a_failed_post_is_told_once_signed_and_verifiable(tmp_path, clock, secret_env):
    with receiver(200) as hook:
        app = _app(tmp_path, clock, hooks(json_hook(hook.url)))
        post_id = _fail_post(app, clock, "the caption", "HTTP 403: you may not post this")
        summary = notify.run(app.deps)
        assert (summary.stored, summary.sent) == (1, 1)
        assert notify.run(app.deps).stored == 0  # found again, told once
        (got,) = hook.received
        body = got.json()
        assert body["event"] == "post_failed" and body["data"]["post_id"] == post_id
        assert "HTTP 403: you may not post this" in body["text"] and "the caption" in body["text"]
        assert body["account"] == "demo"
        ts, sig = got.headers[TIMESTAMP_HEADER], got.headers[SIGNATURE_HEADER]
        assert sig.startswith("sha256=")
        assert verify_signature(SECRET, got.body, ts, sig, now_s=time.time())
        assert not verify_signature("another-secret", got.body, ts, sig, now_s=time.time())
        assert not verify_signature(SECRET, got.body.replace(b"the caption", b"THE caption"), ts, sig,
                                    now_s=time.time())
        assert not verify_signature(SECRET, got.body, ts, sig, now_s=time.time() + 3600)  # a replay, later
        assert [r.state for r in _rows(app)] == ["sent"]
        app.close()


def test_retry_after_500_with_backoff_then_delivered(tmp_path, clock, secret_env):
    with receiver(500, 200) as hook:
        app = _app(tmp_path, clock, hooks(json_hook(hook.url), backoff='"30s"'))
        _fail_post(app, clock, "x", "boom")
        first = notify.run(app.deps)
        assert (first.sent, first.retried) == (0, 1)
        (row,) = _rows(app)
        assert (row.state, row.attempts, row.last_error) == ("pending", 1, "HTTP 500")
        assert row.next_attempt_at == clock() + timedelta(seconds=30)
        assert notify.deliver_due(app.deps).sent == 0  # not due yet: nothing sent early
        clock.advance(seconds=30)
        assert notify.deliver_due(app.deps).sent == 1
        assert len(hook.received) == 2 and hook.received[0].body == hook.received[1].body
        assert _rows(app)[0].state == "sent"
        app.close()


def test_given_up_after_max_attempts(tmp_path, clock, secret_env):
    with receiver(503) as hook:
        app = _app(tmp_path, clock, hooks(json_hook(hook.url), max_attempts="3", backoff='"10s"',
                                          max_backoff='"15s"'))
        _fail_post(app, clock, "x", "boom")
        notify.run(app.deps)
        delays = []
        for _ in range(5):
            (row,) = _rows(app)
            delays.append(row.next_attempt_at - clock())
            clock.advance(minutes=1)
            notify.deliver_due(app.deps)
        (row,) = _rows(app)
        assert row.state == "failed" and row.attempts == 3
        assert row.last_error == "gave up after 3 attempts: HTTP 503"
        from bot.runtime.heartbeat import status_report

        assert status_report(app)["notifications"] == {"failed": 1}
        assert len(hook.received) == 3
        assert delays[0] == timedelta(seconds=10)  # then 15 s: the backoff is capped
        app.close()


def test_a_receiver_that_refuses_for_good_is_not_retried(tmp_path, clock, secret_env):
    with receiver(404) as hook:
        app = _app(tmp_path, clock, hooks(json_hook(hook.url)))
        _fail_post(app, clock, "x", "boom")
        assert notify.run(app.deps).failed == 1
        assert _rows(app)[0].last_error == "HTTP 404: the receiver refused it"
        assert len(hook.received) == 1
        app.close()


def test_a_slow_receiver_costs_at_most_the_timeout(tmp_path, clock, secret_env):
    app = _app(tmp_path, clock, hooks(json_hook("http://127.0.0.1:9/closed"), timeout='"1s"'))
    _fail_post(app, clock, "x", "boom")
    started = time.monotonic()
    summary = notify.run(app.deps)
    assert summary.retried == 1 and time.monotonic() - started < 5
    assert _rows(app)[0].last_error == "could not connect (ConnectionError)"  # no URL in the error
    app.close()


# -- Slack and Discord ---------------------------------------------------------------------------------

def test_slack_body_is_an_incoming_webhook_message(tmp_path, clock, monkeypatch):
    with receiver(200) as hook:
        monkeypatch.setenv("MEMELOOP_WEBHOOK_CHAT_URL", hook.url)
        app = _app(tmp_path, clock, hooks('[[notifications.webhooks]]\nname = "chat"\nformat = "slack"\n',
                                          base_url='"https://memeloop.example.org"'))
        post_id = _fail_post(app, clock, "<!channel> & friends " + "long " * 1000, "refused")
        assert notify.run(app.deps).sent == 1
        body = hook.received[0].json()
        assert set(body) == {"text", "blocks"}
        (section,) = body["blocks"]
        assert section["type"] == "section" and section["text"]["type"] == "mrkdwn"
        assert len(section["text"]["text"]) <= 3000 and len(body["text"]) <= 3000
        assert "<!channel>" not in json.dumps(body) and "&lt;!channel&gt; &amp; friends" in section["text"]["text"]
        assert section["text"]["text"].endswith(f"<https://memeloop.example.org/posts/{post_id}|Open in memeloop>")
        assert SIGNATURE_HEADER not in hook.received[0].headers
        app.close()


def test_discord_body_is_an_execute_webhook_body(tmp_path, clock, monkeypatch):
    with receiver(204) as hook:
        monkeypatch.setenv("MEMELOOP_WEBHOOK_CHAT_URL", hook.url)
        app = _app(tmp_path, clock, hooks('[[notifications.webhooks]]\nname = "chat"\nformat = "discord"\n'))
        _fail_post(app, clock, "@everyone look " + "x" * 5000, "refused")
        assert notify.run(app.deps).sent == 1  # Discord answers 204 No Content
        body = hook.received[0].json()
        assert body["allowed_mentions"] == {"parse": []}  # a caption's @everyone pings nobody
        (embed,) = body["embeds"]
        assert embed["title"].startswith("Post ") and len(embed["title"]) <= 256
        assert len(embed["description"]) <= 4096 and len(body["content"]) <= 2000
        assert embed["timestamp"] == clock().isoformat() and isinstance(embed["color"], int)
        assert "url" not in embed  # no base_url configured: no link
        app.close()


# -- never a secret ------------------------------------------------------------------------------------

def test_no_token_or_password_reaches_a_body_or_the_database(tmp_path, clock, monkeypatch, secret_env):
    token, password, hook_token = "xtok-AAAA-1111-secret", "hunter2-db-pass", "T0KEN-in-the-path"
    monkeypatch.setenv("MEMELOOP_X_ACCESS_TOKEN", token)
    monkeypatch.setenv("MEMELOOP_DB_PASSWORD", password)
    (tmp_path / "secrets.toml").write_text('[accounts.demo]\napi_key = "file-kept-key-9999"\n')
    with receiver(200) as json_rx, receiver(200) as slack_rx:
        monkeypatch.setenv("MEMELOOP_WEBHOOK_CHAT_URL", slack_rx.url)
        extra = ('[secrets]\nfile = "secrets.toml"\n'
                 + hooks(json_hook(json_rx.url), '[[notifications.webhooks]]\nname = "chat"\nformat = "slack"\n'))
        app = make_app(tmp_path, clock, OUTBOX, '[[accounts]]\nname = "xacct"\nplatform = "x"\n', extra=extra)
        leaked = f"auth failed for token {token} (db {password}, key file-kept-key-9999, hook {SECRET})"
        _fail_post(app, clock, f"caption with {token}", leaked)
        with app.tx() as s:
            account_repo.pause(s, app.account_ids["xacct"], None, f"login refused: {token}", clock())
        summary = notify.run(app.deps)
        assert summary.sent == 4  # post_failed + account_paused, to each of two webhooks
        bodies = b"".join(r.body for r in json_rx.received + slack_rx.received)
        stored = json.dumps([r.payload for r in _rows(app)])
        for value in (token, password, "file-kept-key-9999", SECRET, hook_token):
            assert value.encode() not in bodies
            assert value not in stored
        assert b"***" in bodies
        app.close()


# -- the events ----------------------------------------------------------------------------------------

def test_secret_values_include_a_password_written_into_storage_url(tmp_path):
    from bot.config.secrets import known_secret_values

    cfg = parse_config('[storage]\nurl = "postgresql+psycopg://bot:s3cr%40t-pw@db:5432/memeloop"\n', base=tmp_path)
    assert {"s3cr%40t-pw", "s3cr@t-pw"} <= known_secret_values(cfg, environ={})


def test_candidates_waiting_are_batched(tmp_path, clock, secret_env):
    with receiver(200) as hook:
        app = _app(tmp_path, clock, hooks(json_hook(hook.url), review_every='"1h"'))
        add_candidates(app, ["a", "b", "c"])
        notify.run(app.deps)
        add_candidates(app, ["d", "e"])
        clock.advance(minutes=30)
        notify.run(app.deps)  # within the hour: the next notice counts these too
        assert [r.json()["title"] for r in hook.received] == ["3 candidates waiting for review"]
        clock.advance(minutes=31)
        notify.run(app.deps)
        clock.advance(hours=2)
        notify.run(app.deps)  # nothing new since: no notice
        titles = [r.json()["title"] for r in hook.received]
        assert titles == ["3 candidates waiting for review", "5 candidates waiting for review"]
        assert hook.received[1].json()["data"]["per_account"] == {"demo": 5}
        app.close()


def test_unconfirmed_too_long_and_paused_accounts(tmp_path, clock, secret_env):
    with receiver(200) as hook:
        app = _app(tmp_path, clock, hooks(json_hook(hook.url, events='["post_unconfirmed", "account_paused"]'),
                                          unconfirmed_after='"1h"'))
        (cid,) = add_candidates(app, ["maybe out"])
        (post,) = approve_and_schedule(app, [cid], actor="ann", at=clock())
        with app.tx() as s:
            posts_repo.claim_due(s, owner="w", now=clock(), lease=timedelta(minutes=5))
            posts_repo.mark_unconfirmed(s, post.id, owner="w", error_class="timeout", error="read timed out",
                                        now=clock(), settle_after=clock())
            account_repo.pause(s, app.account_ids["demo"], None, "challenge: open the app", clock())
        notify.run(app.deps)
        assert [r.json()["event"] for r in hook.received] == ["account_paused"]  # unconfirmed: not yet
        clock.advance(minutes=61)
        notify.run(app.deps)
        assert [r.json()["event"] for r in hook.received] == ["account_paused", "post_unconfirmed"]
        assert "memeloop accounts resume demo" in hook.received[0].json()["text"]
        app.resume_account("demo", actor="ann")
        with app.tx() as s:  # paused again later: a new pause, told again
            account_repo.pause(s, app.account_ids["demo"], None, "challenge: open the app", clock())
        notify.run(app.deps)
        assert [r.json()["event"] for r in hook.received][-1] == "account_paused" and len(hook.received) == 3
        app.close()


def test_a_stale_daemon_heartbeat_is_told_by_the_watcher_once(tmp_path, clock, secret_env):
    with receiver(200) as hook:
        app = _app(tmp_path, clock, hooks(json_hook(hook.url)))
        with app.tx() as s:
            heartbeats.beat(s, process="daemon@host:7", role="leader", pid=7, host="host",
                            started_at=clock() - timedelta(hours=3), now=clock() - timedelta(minutes=1), jobs={})
        assert app.notify_watch().stored == 0  # a fresh beat: alive
        clock.advance(minutes=10)
        assert app.notify_watch().sent == 1
        assert app.notify_watch().stored == 0  # the same silence is told once
        body = hook.received[0].json()
        assert body["event"] == "daemon_down" and body["data"]["process"] == "daemon@host:7"
        assert "2026-01-05T11:59+00:00" in body["text"]  # the last beat, in the one time format
        app.close()


def test_notify_test_command_against_a_local_receiver(tmp_path, run_cli, write_config, monkeypatch, secret_env):
    with receiver(200) as ok, receiver(500) as broken:
        monkeypatch.setenv("MEMELOOP_WEBHOOK_DOWN_URL", broken.url)
        path = write_config('[storage]\nurl = "sqlite:///memeloop.db"\n'
                            + hooks(json_hook(ok.url), '[[notifications.webhooks]]\nname = "down"\nformat = "discord"\n')
                            + '[[accounts]]\nname = "demo"\nplatform = "outbox"\n')
        one = run_cli("--config", str(path), "notify", "test", "--webhook", "ops")
        assert one.code == 0 and "ops: ok (HTTP 200)" in one.out
        assert ok.received[0].json()["event"] == "test"
        both = run_cli("--config", str(path), "notify", "test")
        assert both.code == 1
        assert "down: FAILED (HTTP 500)" in both.out and "1 of 2 webhook(s)" in both.err
        listed = run_cli("--config", str(path), "notify", "list", "--json")
        assert listed.code == 0 and json.loads(listed.out) == []  # a test notice skips the outbox


def test_webhook_removed_from_config_gives_its_notices_up(tmp_path, clock, secret_env):
    with receiver(500) as hook:
        app = _app(tmp_path, clock, hooks(json_hook(hook.url)))
        _fail_post(app, clock, "x", "boom")
        notify.run(app.deps)
        app.close()
    other = _app(tmp_path, clock, hooks(json_hook("http://127.0.0.1:9/x", name="new", events='["daemon_down"]')))
    clock.advance(hours=1)
    assert notify.deliver_due(other.deps).failed == 1
    row = next(r for r in _rows(other) if r.webhook == "ops")
    assert row.state == "failed" and "no longer configured" in (row.last_error or "")
    other.close()


def test_the_daemon_runs_the_notify_job_and_tells_its_predecessors_unclean_stop(tmp_path, clock, secret_env):
    from bot.runtime.daemon import Daemon, planned_jobs

    with receiver(200) as hook:
        app = _app(tmp_path, clock, hooks(json_hook(hook.url)))
        assert "notify" in {spec.id for spec in planned_jobs(app)}
        with app.tx() as s:  # the last run of this container crashed: its row is still there, stale
            heartbeats.beat(s, process="daemon@box:1", role="leader", pid=1, host="box",
                            started_at=clock() - timedelta(days=1), now=clock() - timedelta(hours=5), jobs={})
        daemon = Daemon(app, blocking=False)
        daemon.tell_unclean_stops()
        (row,) = _rows(app)
        assert row.event == "daemon_down" and row.state == "pending"  # stored; the notify job delivers it
        assert notify.deliver_due(app.deps).sent == 1 and hook.received[0].json()["data"]["process"] == "daemon@box:1"
        app.close()
    plain = make_app(tmp_path / "plain", clock, OUTBOX)
    assert "notify" not in {spec.id for spec in planned_jobs(plain)}  # no webhooks: no job
    plain.close()
