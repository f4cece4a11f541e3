"""End-to-end generation as the daemon gets it: stored candidates/s including imports and model loads.

    python bench/generate_e2e.py [--generator meme] [--count 10] [--cold-runs 3] [--warm-runs 10]

Cold: `memeloop generate` child processes (what the daemon spawns today), timed from spawn to exit;
the first run fills the template feature cache, later runs show what an unchanged template set costs.
Warm: one bot.worker process fed the same requests (load counted once, then per-run figures).
Children's peak RSS is reported. Last line: key=value figures.
"""
from __future__ import annotations

import argparse
import json
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIG = '[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n[[accounts]]\nname = "demo"\nplatform = "outbox"\n'


def cold_run(config: Path, generator: str, count: int, seed: int) -> tuple[float, int]:
    from bot.threads import child_env

    started = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "generate", "--account", "demo",
                          "--generator", generator, "--count", str(count), "--seed", str(seed), "--json"],
                         capture_output=True, text=True, env=child_env(1), check=True)
    return time.perf_counter() - started, json.loads(out.stdout.strip().splitlines()[-1])["stored"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generator", choices=["meme", "post"], default="meme")
    parser.add_argument("--count", type=int, default=10)
    parser.add_argument("--cold-runs", type=int, default=3)
    parser.add_argument("--warm-runs", type=int, default=10)
    args = parser.parse_args()
    from bot.worker import Limits, WorkerClient

    with tempfile.TemporaryDirectory() as tmp:
        config = Path(tmp) / "config.toml"
        config.write_text(CONFIG, encoding="utf-8")
        subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "db", "upgrade"], check=True,
                       capture_output=True)
        cold = [cold_run(config, args.generator, args.count, seed) for seed in range(args.cold_runs)]
        child_peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        for i, (s, n) in enumerate(cold):
            print(f"cold run {i}: {s:.2f}s stored={n}" + (" (fills the feature cache)" if i == 0 else ""))
        started = time.perf_counter()
        client = WorkerClient(str(config), args.generator, limits=Limits(max_runs=args.warm_runs + 1))
        answers = [client.run({"account": "demo", "count": args.count, "seed": 100 + i})
                   for i in range(args.warm_runs)]
        warm_total = time.perf_counter() - started
        load_s = client.ready.get("load_s", 0.0)
        client.close()
    steady = cold[1:] or cold
    cold_s = statistics.median(s for s, _ in steady)
    cold_rate = sum(n for _, n in steady) / sum(s for s, _ in steady)
    per_run = [a["seconds"] for a in answers if a.get("ok")]
    stored = sum(a.get("stored", 0) for a in answers)
    warm_rate = stored / sum(per_run)
    print(f"warm worker: load {load_s:.2f}s, {len(per_run)} runs, median {statistics.median(per_run):.3f}s/run, "
          f"{stored} stored, {warm_total:.1f}s including start; worker peak RSS {client.peak_rss_mb:.0f} MB")
    print(f"cold children peak RSS {child_peak:.0f} MB")
    print(f"generator={args.generator} cold_run_s={cold_s:.2f} cold_candidates_per_s={cold_rate:.1f} "
          f"warm_candidates_per_s={warm_rate:.1f} warm_incl_start_per_s={stored / warm_total:.1f} "
          f"worker_peak_rss_mb={client.peak_rss_mb:.0f} child_peak_rss_mb={child_peak:.0f}")


if __name__ == "__main__":
    main()
