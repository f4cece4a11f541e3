"""Dashboard query speed on SQLite: 50k published posts with 1M metric snapshots.

Builds a database at head (migrations, so the views and indexes are the real ones), fills it with
seeded synthetic rows through executemany, then times every `memeloop stats` query (median of
several runs after one warm-up) and prints them slowest first.

Last line: `slowest_query_ms=<x>`.
"""
from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from feedback import migrate
from feedback.dashboard import APPROVAL_GROUPS, DIMENSIONS
from feedback.db import make_engine, make_session_factory, transaction
from feedback.repository import stats

START = datetime(2025, 1, 1, tzinfo=UTC)
FMT = "%Y-%m-%d %H:%M:%S.%f"  # how SQLAlchemy stores DateTime on SQLite
SNAPSHOT_AGES_H = [1, 6, 24, 72, 168]


def _ts(value: datetime) -> str:
    return value.astimezone(UTC).strftime(FMT)


def fill(engine, *, posts: int, snapshots_per_post: int, extra_candidates: int, seed: int) -> None:
    rng = random.Random(seed)
    accounts = ["demo", "x-main", "ig-main"]
    platforms = ["outbox", "x", "instagram"]
    now = _ts(START)
    with engine.begin() as conn:
        run = conn.exec_driver_sql
        run("INSERT INTO accounts (id, name, platform, hashtag_cap, created_at) VALUES (?, ?, ?, 5, ?)",
            [(i + 1, a, platforms[i], now) for i, a in enumerate(accounts)])
        run("INSERT INTO templates (id, slug, name, image_path, image_sha256, boxes, created_at) "
            "VALUES (?, ?, ?, ?, '', '[]', ?)", [(i + 1, f"t{i}", f"T{i}", f"t{i}.jpg", now) for i in range(60)])
        candidates, post_rows, snaps = [], [], []
        statuses = ["pending", "rejected", "filtered", "duplicate", "approved"]
        for cid in range(1, posts + extra_candidates + 1):
            made = START + timedelta(minutes=cid * 7)
            posted = cid <= posts
            generator = "meme" if rng.random() < 0.7 else "post"
            text = f"caption {cid} " + "word " * rng.randint(1, 12)
            candidates.append((cid, rng.randint(1, 3), rng.randint(1, 60) if generator == "meme" else None,
                               generator, f"v{rng.randint(1, 4)}", rng.randint(0, 4), -rng.uniform(2, 12),
                               text, text if rng.random() < 0.9 else text + "!",
                               rng.choice(["funny", "dry", "wholesome", None]), rng.choice(["general", "devs"]),
                               "posted" if posted else rng.choice(statuses), _ts(made)))
            if posted:
                published = made + timedelta(hours=rng.randint(1, 30))
                post_rows.append((cid, cid, candidates[-1][1], _ts(published), f"m{cid}", f"r{cid}"))
                for k in range(snapshots_per_post):
                    age = timedelta(hours=SNAPSHOT_AGES_H[k % len(SNAPSHOT_AGES_H)] * (1 + k // 5))
                    base = rng.randint(0, 50)
                    snaps.append((cid, _ts(published + age), int(age.total_seconds()), base * (k + 1),
                                  base // 5 * (k + 1), base // 10, None if k % 7 == 0 else base // 20))
        run("INSERT INTO candidates (id, account_id, template_id, generator, model_version, beam_rank, "
            "beam_score, text, original_text, tone, audience, params, status, created_at, updated_at, version) "
            "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, '{}', ?, ?, ?13, 1)", candidates)
        run("INSERT INTO posts (id, candidate_id, account_id, state, scheduled_at, next_attempt_at, attempts, "
            "marker, remote_id, published_at, created_at, updated_at) "
            "VALUES (?, ?, ?, 'published', ?4, ?4, 1, ?, ?, ?4, ?4, ?4)", post_rows)
        run("INSERT INTO metric_snapshots (post_id, taken_at, age_s, likes, reposts, replies, quotes) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)", snaps)
    with engine.begin() as conn:
        conn.exec_driver_sql("ANALYZE")


def queries() -> dict[str, tuple]:
    out: dict[str, tuple] = {"time": (stats.over_time, {}),
                             "time --since": (stats.over_time, {"since": "2025-06-01"}),
                             "top": (stats.top_posts, {"limit": 10}),
                             "bottom": (stats.top_posts, {"limit": 10, "bottom": True}),
                             "models": (stats.model_versions, {}),
                             "by template --account demo": (stats.by_dimension,
                                                            {"dimension": "template", "account": "demo"})}
    out |= {f"by {d}": (stats.by_dimension, {"dimension": d}) for d in DIMENSIONS}
    out |= {f"approval --by {g}": (stats.approval, {"by": g}) for g in APPROVAL_GROUPS}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=50_000)
    parser.add_argument("--snapshots-per-post", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(f"sqlite:///{Path(tmp) / 'bench.db'}")
        migrate.upgrade(engine)
        started = time.perf_counter()
        fill(engine, posts=args.posts, snapshots_per_post=args.snapshots_per_post,
             extra_candidates=args.posts // 5, seed=1)
        print(f"filled {args.posts} posts, {args.posts * args.snapshots_per_post} snapshots "
              f"in {time.perf_counter() - started:.1f}s")
        sessions = make_session_factory(engine)
        timings = {}
        for name, (fn, kwargs) in queries().items():
            runs = []
            for _ in range(args.runs + 1):
                with transaction(sessions) as session:
                    t = time.perf_counter()
                    result = fn(session, **kwargs)
                    runs.append((time.perf_counter() - t) * 1000)
            timings[name] = (statistics.median(runs[1:]), min(runs[1:]), len(result))
        engine.dispose()
    print(f"median / best of {args.runs} runs after a warm-up; load average {os.getloadavg()[0]:.2f} "
          f"on {os.cpu_count()} cores")
    for name, (ms, best, n) in sorted(timings.items(), key=lambda kv: -kv[1][0]):
        print(f"{ms:8.1f} ms  (best {best:6.1f})  {n:6d} rows  stats {name}")
    slowest = max(timings.items(), key=lambda kv: kv[1][0])
    print(f"slowest: stats {slowest[0]} ({slowest[1][0]:.1f} ms; goal <= 100 ms)")
    print(f"slowest_query_ms={slowest[1][0]:.1f}")


if __name__ == "__main__":
    main()
