"""The daemon's hot paths at three history sizes, so the growth (or its absence) is visible.

    python bench/scale.py [--scale 1.0] [--quick] [--db-dir DIR] [--pg-url URL]

Sizes (scale 1): 20k / 200k / 1M published posts with 5 snapshots each (100k / 1M / 5M snapshots)
and 500 / 5k / 20k candidates inside the 30-day duplicate window. Each database is filled at the
schema of migration 0002 (executemany), then upgraded to head, which is timed: the migration runs on a
populated database. With --db-dir the databases are kept and reused (a large one takes minutes to build).

Timed per size (median of --runs after a warm-up): `posts_to_poll` over the 14-day horizon, one run's
duplicate check (10 drafts, the batch API), the same run's ``duplicate`` gate (what the account already
says: bot.service.pipeline_gates.Repeats, read and checked for the 10 drafts), every `memeloop stats`
query (the slowest is printed).
At the smallest size the per-draft duplicate check of before is timed beside the batch one.
With --pg-url the largest size is also loaded into PostgreSQL (COPY) and timed there.

Last line: key=value figures of the largest size.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import scale_data as data
from dashboard import queries as dashboard_queries

from feedback import migrate
from feedback.db import make_engine, make_session_factory, transaction

BASE_REVISION = "0002"
SIZES = (data.Size(20_000, 5, 500), data.Size(200_000, 5, 5_000), data.Size(1_000_000, 5, 20_000))
QUICK_SCALE = 0.01
HORIZON = timedelta(days=14)
WINDOW = timedelta(days=30)


def scaled(scale: float) -> list[data.Size]:
    return [data.Size(max(200, int(s.posts * scale)), s.snapshots_per_post, max(100, int(s.recent * scale)))
            for s in SIZES]


def build_sqlite(path: Path, size: data.Size) -> tuple[float, float]:
    """Fill a new database at BASE_REVISION (seconds) unless it exists, then upgrade it to head (seconds)."""
    fill_s = 0.0
    if not path.exists():
        tmp = path.with_suffix(".building")
        tmp.unlink(missing_ok=True)
        engine = make_engine(f"sqlite:///{tmp}")
        migrate.upgrade(engine, BASE_REVISION)
        started = time.perf_counter()
        raw = engine.raw_connection()
        try:
            raw.execute("PRAGMA cache_size=-500000")
            raw.execute("BEGIN")
            data.fill(data.sqlite_writer(raw), size)
            raw.execute("COMMIT")
            raw.execute("ANALYZE")
        finally:
            raw.close()
        engine.dispose()
        fill_s = time.perf_counter() - started
        tmp.rename(path)
    engine = make_engine(f"sqlite:///{path}")
    started = time.perf_counter()
    migrate.upgrade(engine)
    upgrade_s = time.perf_counter() - started
    if upgrade_s > 0.5:
        with engine.begin() as conn:
            conn.exec_driver_sql("ANALYZE")
    engine.dispose()
    return fill_s, upgrade_s


def build_postgres(url: str, size: data.Size) -> tuple[float, float]:
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.exec_driver_sql("DROP SCHEMA public CASCADE")
        conn.exec_driver_sql("CREATE SCHEMA public")
    migrate.upgrade(engine, BASE_REVISION)
    started = time.perf_counter()
    raw = engine.raw_connection()
    try:
        data.fill(data.postgres_writer(raw.driver_connection), size)
        raw.commit()
    finally:
        raw.close()
    fill_s = time.perf_counter() - started
    started = time.perf_counter()
    migrate.upgrade(engine)
    upgrade_s = time.perf_counter() - started
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE")
    engine.dispose()
    return fill_s, upgrade_s


def timed(sessions, fn: Callable, runs: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs + 1):
        with transaction(sessions) as session:
            started = time.perf_counter()
            result = fn(session)
            times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times[1:]), result


def drafts(size: data.Size) -> list:
    """Ten drafts like one meme run: two images x five beams, one of them a retyped old caption."""
    import random

    from feedback.dedupe import DraftPrint

    rng = random.Random(size.posts)
    texts = [data.caption(rng) for _ in range(9)] + ["w1 w2 w3 w4 w5 w6"]
    return [DraftPrint(text=t, image_phash=None, group_key=f"run:{i // 5}") for i, t in enumerate(texts)]


def _repeats(session, batch, now) -> list:
    from bot.service.pipeline_gates import Repeats

    gate = Repeats(session, 1, now - WINDOW)
    return [gate.reason(d.text) for d in batch]


def hot_paths(url: str, size: data.Size, runs: int, *, legacy: bool) -> dict[str, float]:
    from feedback.dedupe import find_duplicates
    from feedback.dedupe_reference import find_duplicate  # the one-draft reference path
    from feedback.repository import metrics

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = data.END.replace(tzinfo=UTC)
    limits = {"window": WINDOW, "phash_distance": 6, "text_similarity": 0.85}
    batch = drafts(size)
    out: dict[str, float] = {}
    out["posts_to_poll_ms"], polled = timed(sessions, lambda s: metrics.posts_to_poll(s, now=now, horizon=HORIZON),
                                            runs)
    out["dedupe_run_ms"], verdicts = timed(sessions, lambda s: find_duplicates(s, batch, now=now, **limits), runs)
    out["repeat_gate_run_ms"], repeated = timed(sessions, lambda s: _repeats(s, batch, now), runs)
    if legacy:
        out["dedupe_run_per_draft_ms"], old = timed(sessions, lambda s: [find_duplicate(
            s, image_phash=d.image_phash, text=d.text, now=now, group_key=d.group_key, **limits) for d in batch], 1)
        assert old == verdicts, (old, verdicts)
    slowest, slowest_name = 0.0, ""
    for name, (fn, kwargs) in dashboard_queries().items():
        ms, _ = timed(sessions, lambda s, fn=fn, kwargs=kwargs: fn(s, **kwargs), runs)
        if ms > slowest:
            slowest, slowest_name = ms, name
    out["dashboard_slowest_ms"] = slowest
    out["polled_posts"] = len(polled)
    out["duplicates_found"] = sum(v is not None for v in verdicts)
    engine.dispose()
    print(f"  slowest dashboard query: stats {slowest_name}")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every size (1 = 1M posts largest)")
    parser.add_argument("--quick", action="store_true", help=f"smoke test: --scale {QUICK_SCALE}")
    parser.add_argument("--db-dir", type=Path, help="keep (and reuse) the databases here")
    parser.add_argument("--pg-url", help="also time the largest size on this PostgreSQL database (emptied!)")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    sizes = scaled(QUICK_SCALE if args.quick else args.scale)
    with tempfile.TemporaryDirectory() as tmp:
        db_dir = args.db_dir or Path(tmp)
        db_dir.mkdir(parents=True, exist_ok=True)
        results = []
        for size in sizes:
            path = db_dir / f"scale-{size.label}.db"
            fill_s, upgrade_s = build_sqlite(path, size)
            print(f"sqlite {size.posts} posts / {size.snapshots} snapshots / {size.recent} recent candidates: "
                  f"fill {fill_s:.1f}s, upgrade to head {upgrade_s:.1f}s")
            figures = hot_paths(f"sqlite:///{path}", size, args.runs, legacy=size is sizes[0])
            print("  " + "  ".join(f"{k}={v:.1f}" for k, v in figures.items()))
            results.append(figures)
        if args.pg_url:
            fill_s, upgrade_s = build_postgres(args.pg_url, sizes[-1])
            print(f"postgresql {sizes[-1].posts} posts: fill {fill_s:.1f}s, upgrade to head {upgrade_s:.1f}s")
            pg = hot_paths(args.pg_url, sizes[-1], args.runs, legacy=False)
            print("  " + "  ".join(f"{k}={v:.1f}" for k, v in pg.items()))
    print(f"median of {args.runs} runs after a warm-up; load average {os.getloadavg()[0]:.2f} on "
          f"{os.cpu_count()} cores")
    for key in ("posts_to_poll_ms", "dedupe_run_ms", "repeat_gate_run_ms", "dashboard_slowest_ms"):
        print(f"{key:22s} " + " -> ".join(f"{r[key]:8.1f}" for r in results)
              + f"   (posts {' / '.join(str(s.posts) for s in sizes)})")
    last = results[-1]
    tail = [f"{k}={last[k]:.1f}" for k in ("posts_to_poll_ms", "dedupe_run_ms", "repeat_gate_run_ms",
                                            "dashboard_slowest_ms")]
    if args.pg_url:
        tail.append(f"pg_dashboard_slowest_ms={pg['dashboard_slowest_ms']:.1f}")
    print(f"posts={sizes[-1].posts} snapshots={sizes[-1].snapshots} " + " ".join(tail))


if __name__ == "__main__":
    main()
