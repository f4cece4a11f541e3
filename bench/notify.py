"""Notifications: what one run of the daemon's notify job costs over a busy database, and what a
delivery costs against a local receiver (SQLite, real App, real HTTP client).

The database holds --pending pending candidates and --posts posts, of which 10% failed and 2% are
unconfirmed for over an hour; two webhooks (json, discord). Timed: the scan (find: five reads), the
outbox writes of the first run (store), a second scan that finds only what was told (the steady state
every tick), and the delivery of every stored notice to a local http.server (median per notice).
Target: the steady-state scan well under one tick (the default tick is 1 minute; aim <= 200 ms on a
loaded 2-core machine); delivery bounded by the receiver and notifications.timeout.

Last line: `find_ms=<x> store_ms=<x> steady_find_ms=<x> deliver_per_notice_ms=<x> notices=<n> sent=<n>`.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.app import build_app
from bot.config import parse_config
from bot.service import notify
from feedback.models import Candidate, Post

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)


class _Ok(BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def _fill(app, pending: int, posts: int) -> None:
    account = app.account_ids["demo"]
    with app.tx() as s:
        s.add_all(Candidate(generator="manual", model_version="", text=f"caption number {i}",
                            original_text=f"caption number {i}", params={}, account_id=account,
                            status="pending" if i < pending else "approved", created_at=NOW, updated_at=NOW,
                            version=1) for i in range(pending + posts))
    with app.tx() as s:
        ids = [cid for (cid,) in s.query(Candidate.id).filter(Candidate.status == "approved")]
        rows = []
        for n, cid in enumerate(ids):
            state = "failed" if n % 10 == 0 else "unconfirmed" if n % 50 == 1 else "published"
            at = NOW - timedelta(minutes=30 if state == "failed" else 90)
            rows.append(Post(candidate_id=cid, account_id=account, state=state, scheduled_at=at, next_attempt_at=at,
                             attempts=1, marker=f"m-{n}", last_error="HTTP 403" if state == "failed" else None,
                             created_at=at, updated_at=at))
        s.add_all(rows)


def _ms(fn) -> tuple[float, object]:
    started = time.perf_counter()
    out = fn()
    return (time.perf_counter() - started) * 1000, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--posts", type=int, default=2_000)
    args = parser.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Ok)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/hook"
    os.environ["MEMELOOP_WEBHOOK_OPS_SECRET"] = "bench-secret"
    os.environ["MEMELOOP_WEBHOOK_CHAT_URL"] = url
    with tempfile.TemporaryDirectory() as tmp:
        config = parse_config(f'[storage]\nurl = "sqlite:///bench.db"\n[notifications]\nmax_attempts = 3\n'
                              f'[[notifications.webhooks]]\nname = "ops"\nurl = "{url}"\n'
                              '[[notifications.webhooks]]\nname = "chat"\nformat = "discord"\n'
                              '[[accounts]]\nname = "demo"\nplatform = "outbox"\n', base=Path(tmp))
        app = build_app(config, clock=lambda: NOW)
        _fill(app, args.pending, args.posts)
        find_ms, found = _ms(lambda: notify.find(app.deps))
        store_ms, stored = _ms(lambda: notify.store(app.deps, found))
        steady = [_ms(lambda: notify.store(app.deps, notify.find(app.deps)))[0] for _ in range(5)]
        total_ms, summary = _ms(lambda: [notify.deliver_due(app.deps, limit=1000)])
        sent = summary[0].sent
        app.close()
    server.shutdown()
    print(f"find_ms={find_ms:.1f} store_ms={store_ms:.1f} steady_find_ms={statistics.median(steady):.1f} "
          f"deliver_per_notice_ms={total_ms / max(1, sent):.2f} notices={stored} sent={sent}")


if __name__ == "__main__":
    main()
