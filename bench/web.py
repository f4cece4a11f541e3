"""Web admin server time: review board pages over 10,000 pending candidates and the dashboard over
50k published posts with 1M metric snapshots (SQLite).

Builds a database at head, fills it with bench/scale_data.py's seeded history plus the pending
queue, then times requests through the real ASGI app in-process (Starlette's TestClient: routing,
session and CSRF guard, the App's reads, template rendering), median of several runs after a
warm-up. Targets: board <= 150 ms per page, dashboard <= 300 ms.

The dashboard is recomputed only when the data changed since the last view (new snapshots, posts,
reviews, candidates or weights); the first view after a change is timed separately.

Last line: `board_ms=<x> board_deep_ms=<x> board_filtered_ms=<x> schedule_ms=<x> schedule_month_ms=<x>
post_ms=<x> dashboard_ms=<x> dashboard_recompute_ms=<x> ...` (schedule: a week's time grid; post: one
published post's page with its readings over time).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import sqlite3
import statistics
import sys
import tempfile
import time
from datetime import UTC, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale_data import END, FMT, Size, caption, fill, sqlite_writer
from feedback import migrate
from feedback.db import make_engine

CONFIG = """[storage]
url = "sqlite:///bench.db"
media_dir = "media"

[[accounts]]
name = "demo"
platform = "outbox"
"""


def add_pending(db: Path, n: int, *, seed: int = 2) -> None:
    """``n`` pending meme candidates, two beams per image, scored by the ranker, with explanations."""
    rng = random.Random(seed)
    with sqlite3.connect(db) as conn:
        start = conn.execute("SELECT coalesce(max(id), 0) FROM candidates").fetchone()[0]
        rows = []
        for i in range(n):
            made = (END - timedelta(minutes=i)).strftime(FMT)
            text = caption(rng)
            explain = json.dumps({"explain": [[f"template=t{i % 60}", round(rng.uniform(-1, 1), 3)],
                                              ["hour=09h", 0.1]], "model": "blr-1"})
            rows.append((start + i + 1, 1, 1 + i % 60, "meme", "v1", f"img{i // 2}", i % 2, -rng.uniform(2, 9),
                         text, text, "{}", "pending", rng.uniform(-1, 1), explain, made, made, 1))
        conn.executemany(
            "INSERT INTO candidates (id, account_id, template_id, generator, model_version, group_key, beam_rank, "
            "beam_score, text, original_text, params, status, predicted_score, predicted_explain, created_at, "
            "updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
        conn.execute("ANALYZE")


def build(folder: Path, *, posts: int, per_post: int, pending: int) -> None:
    db = folder / "bench.db"
    engine = make_engine(f"sqlite:///{db}")
    migrate.upgrade(engine)
    engine.dispose()
    with sqlite3.connect(db) as conn:
        fill(sqlite_writer(conn), Size(posts=posts, snapshots_per_post=per_post, recent=posts // 10), seed=1)
    add_pending(db, pending)
    (folder / "config.toml").write_text(CONFIG, encoding="utf-8")


def timed(client, url: str, runs: int, expect: str) -> tuple[float, float]:
    times = []
    for _ in range(runs + 1):
        t = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - t) * 1000)
        assert response.status_code == 200 and expect in response.text, (url, response.status_code)
    return statistics.median(times[1:]), min(times[1:])


def recompute(app, client) -> float:
    """A poll stored a new snapshot: the next dashboard view recomputes every dataset."""
    from feedback.polling import Counts
    from feedback.repository.metrics import NewSnapshot, add_snapshots

    with app.tx() as session:
        add_snapshots(session, [NewSnapshot(1, END.replace(tzinfo=UTC), 10**6 + int(time.time() * 1000) % 10**6,
                                            Counts(likes=1))])
    t = time.perf_counter()
    assert "<polyline" in client.get("/dashboard").text
    return (time.perf_counter() - t) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--snapshots-per-post", type=int, default=20)
    parser.add_argument("--pending", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from starlette.testclient import TestClient

    from bot.app import build_app
    from bot.config import load_config
    from bot.web.server import create_web

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        build(folder, posts=args.posts, per_post=args.snapshots_per_post, pending=args.pending)
        with sqlite3.connect(folder / "bench.db") as conn:
            counts = {t: conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                      for t in ("metric_snapshots", "posts")}
            counts["pending"] = conn.execute("SELECT count(*) FROM candidates WHERE status = 'pending'").fetchone()[0]
        print(f"filled {counts['posts']} posts, {counts['metric_snapshots']} snapshots, {counts['pending']} pending "
              f"candidates in {time.perf_counter() - started:.1f}s")
        app = build_app(load_config(folder / "config.toml"), clock=lambda: END.replace(tzinfo=UTC))
        app.add_web_user("bench", "bench password")
        client = TestClient(create_web(app))
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert client.post("/login", data={"csrf": csrf, "name": "bench", "password": "bench password"}).status_code == 200
        last_page = -(-counts["pending"] // 24)
        cases = {"floor": ("/accounts", "demo"),  # a page with one tiny query: guard + thread hop + render
                 "board": ("/board", "data-card"), "board_deep": (f"/board?page={last_page}", "data-card"),
                 "board_filtered": ("/board?template=t7&generator=meme", "data-card"),
                 "schedule": ("/schedule?start=2025-12-25", "data-calendar"),
                 "schedule_month": ("/schedule?start=2025-12-25&view=month", "data-calendar"),
                 "post": (f"/posts/{counts['posts'] // 2}", "svg class=\"chart metrics\""),
                 "dashboard": ("/dashboard", "<polyline")}
        results = {name: timed(client, url, args.runs, expect) for name, (url, expect) in cases.items()}
        cold = statistics.median(recompute(app, client) for _ in range(args.runs))
        app.close()
    print(f"server time per request (in-process ASGI), median / best of {args.runs} after a warm-up; "
          f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    for name, (median, best) in results.items():
        print(f"  {name:<16} {median:8.1f} ms  (best {best:.1f})")
    print(f"  dashboard, first view after a poll stored new data (every dataset recomputed): {cold:.1f} ms")
    ok = results["board"][0] <= 150 and results["board_deep"][0] <= 150 and results["dashboard"][0] <= 300
    print(" ".join(f"{name}_ms={median:.1f}" for name, (median, _) in results.items())
          + f" dashboard_recompute_ms={cold:.1f} pending={counts['pending']} snapshots={counts['metric_snapshots']} within_targets={ok}")


if __name__ == "__main__":
    main()
