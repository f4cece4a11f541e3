"""Daemon memory: idle RSS of a real `memeloop run`, and RSS growth over N generate cycles.

The daemon never holds a model: each generate run is a child process. Phase 1 starts the daemon
with nothing to generate (publish/poll/reconcile ticks every 5-10 s find nothing due) and reads its
resident set size once every job has run. Phase 2 restarts it
with a generate schedule of every second (tiny random-weight meme bundle, 1 image, k=3), so the
generate job runs back to back in child processes, and compares the daemon's RSS after the warm-up
cycles with its RSS after the last one. Both phases end with SIGTERM and time the clean exit.

With --warm-worker the generate runs go to one warm worker process per generator instead
(generator.warm_worker), recycled every 50 runs; the children's peak RSS is sampled either way.

Usage: python bench/daemon_memory.py [--cycles 200] [--warmup 10] [--warm-worker]
Last line: idle_rss_mb=<x> growth_pct=<y> child_peak_rss_mb=<z>
"""
from __future__ import annotations

import argparse
import os
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from a checkout
CONFIG = """
[storage]
url = "sqlite:///bench.db"
media_dir = "media"
[logging]
file = "daemon.log"
[generator]
timeout = "2m"
warm_worker = {warm}
worker_max_runs = 50
[generator.meme]
bundle = "tiny-bundle"
beam_width = 3
images_per_run = 1
forward_per_image = 1
[scheduler]
tick = "5s"
reconcile_every = "10s"
prune_every = "7d"
[[accounts]]
name = "bench"
platform = "outbox"
generate = {{ generator = "meme", every = "{every}", count = 1 }}
"""


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for pid {pid}")


def children_rss_mb(pid: int) -> float:
    """The largest RSS among the daemon's direct children right now (0 when it has none). Each
    thread lists the children it spawned (the scheduler's threads spawn the generate processes)."""
    kids = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            kids += (task / "children").read_text().split()
        except OSError:
            continue
    sizes = []
    for kid in kids:
        try:
            sizes.append(rss_mb(int(kid)))
        except (OSError, RuntimeError):
            continue  # gone meanwhile
    return max(sizes, default=0.0)


def query(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(db, timeout=30) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # table not there yet
        return 0


def wait_for(predicate, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.5)


def start(folder: Path, every: str, warm: bool = False) -> subprocess.Popen:
    (folder / "config.toml").write_text(CONFIG.format(every=every, warm=str(warm).lower()), encoding="utf-8")
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": str(REPO), "HF_HUB_OFFLINE": "1"}
    return subprocess.Popen([sys.executable, "-m", "bot", "--config", str(folder / "config.toml"), "run"],
                            cwd=folder, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def stop(proc: subprocess.Popen) -> float:
    started = time.monotonic()
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=30)
    if code != 0:
        raise SystemExit(f"daemon exited with {code} on SIGTERM")
    return time.monotonic() - started


def finished(db: Path) -> int:
    return query(db, "SELECT count(*) FROM generations WHERE status != 'running'")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cycles", type=int, default=200)
    parser.add_argument("--warmup", type=int, default=10)
    parser.add_argument("--warm-worker", action="store_true", help="generate in a warm worker, not children")
    args = parser.parse_args()
    from generator.meme.tiny import write_random_bundle

    with tempfile.TemporaryDirectory(prefix="memeloop-bench-") as tmp:
        folder = Path(tmp)
        write_random_bundle(folder / "tiny-bundle", feature_dim=1280, seed=0)
        db = folder / "bench.db"
        beats = "SELECT count(*) FROM heartbeats"
        (folder / "config.toml").write_text(CONFIG.format(every="7d", warm="false"), encoding="utf-8")
        # a service restarts on an existing database: migrate first so Alembic is not in the figure
        subprocess.run([sys.executable, "-m", "bot", "--config", str(folder / "config.toml"), "db", "upgrade"],
                       check=True, capture_output=True, env={**os.environ, "PYTHONPATH": str(REPO)})

        daemon = start(folder, every="7d")
        wait_for(lambda: query(db, beats) > 0, 120, "the first heartbeat")
        time.sleep(12)  # every periodic job (publish, poll, reconcile) has run at least once
        idle = rss_mb(daemon.pid)
        idle_stop = stop(daemon)
        print(f"idle daemon: rss {idle:.1f} MB, SIGTERM -> exit in {idle_stop:.2f}s")

        daemon = start(folder, every="1s", warm=args.warm_worker)
        started = time.monotonic()
        wait_for(lambda: finished(db) >= args.warmup, 600, f"{args.warmup} warm-up cycles")
        warm = rss_mb(daemon.pid)
        samples = [(args.warmup, warm)]
        child_peak = children_rss_mb(daemon.pid)
        while finished(db) < args.cycles:
            if daemon.poll() is not None:
                raise SystemExit("the daemon died during the cycles")
            for _ in range(20):  # a generate child lives about a second: look for it often
                time.sleep(0.1)
                child_peak = max(child_peak, children_rss_mb(daemon.pid))
            samples.append((finished(db), rss_mb(daemon.pid)))
        end = rss_mb(daemon.pid)
        seconds = time.monotonic() - started
        busy_stop = stop(daemon)
        failed = query(db, "SELECT count(*) FROM generations WHERE status = 'failed'")
        pending = query(db, "SELECT count(*) FROM candidates")
        if failed > args.cycles // 10:
            raise SystemExit(f"{failed} of {args.cycles} generate runs failed: not a valid measurement "
                             f"(see the generate logs under {folder / 'logs'})")
        peak = max(mb for _, mb in samples)
        growth = (end - warm) / warm * 100
        where = "one warm worker" if args.warm_worker else "child processes"
        print(f"{args.cycles} generate cycles in {seconds:.0f}s ({seconds / args.cycles:.2f}s each, {where}), "
              f"{failed} failed, {pending} candidates stored; children's peak RSS (sampled) {child_peak:.1f} MB")
        print(f"daemon rss after {args.warmup} cycles {warm:.1f} MB, after {args.cycles} {end:.1f} MB, "
              f"peak {peak:.1f} MB; SIGTERM while busy -> exit in {busy_stop:.2f}s")
        print(f"idle_rss_mb={idle:.1f} growth_pct={growth:.2f} child_peak_rss_mb={child_peak:.1f}")


if __name__ == "__main__":
    main()
