"""Generation speed as a user gets it: per call, end to end cold, and in a warm worker (CPU, demo bundles).

    python bench/generate.py [--generators meme,post] [--count 10] [--cold-runs 4] [--warm-runs 10]
                             [--threads 1] [--skip-per-call] [--images 256] [--captions 64]

1. Per call (models loaded and warmed first, loads printed, not counted): meme beam captions/s over the
   demo templates (features from the encoder, decode only), PGGAN images/s, GPT-2 captions/s.
2. Cold end to end: `memeloop generate` child processes, what the daemon spawns per run, timed from
   spawn to exit (imports, model loads, decode, render, store). The first meme run fills the template
   feature cache (reported on its own); the median of the others is what an unchanged template set
   costs. Stored candidates/s = candidates stored / child seconds; ``cold_cpu_s`` is a child's CPU time
   (user + system), steadier than wall time on a shared machine.
3. Warm worker: one bot.runtime.worker process per generator fed the same requests; stored candidates/s over
   the runs (its start and model load reported separately and in an including-start rate).
Each child's peak RSS comes from its own rusage (os.wait4): ``child_peak_rss_mb`` over the steady runs,
``first_child_peak_rss_mb`` for the one that loaded the encoder. Threads pinned as the daemon pins them.
The checkout's sources are byte-compiled first (as an installed package is): with PYTHONDONTWRITEBYTECODE
set and no __pycache__, every child would compile them again (~0.4 s CPU).

``--baseline DIR``: another checkout of the project (``git worktree add /tmp/base main``) measured side
by side on a machine whose speed drifts: its meme cold runs alternate with ours (A B A B, same seeds,
each checkout its own fresh database), and its own bench/generate.py reports its warm figures in the
same call; its figures carry the prefix ``base_``.
Last line: key=value figures, per generator prefixed ``meme_`` / ``post_``, and ``cold_run_s`` (meme).
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))  # run as a script from a checkout

CONFIG = """[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"
[generator]
threads = {threads}
[[accounts]]
name = "demo"
platform = "outbox"
"""


def per_call(args: argparse.Namespace, generators: list[str], config: Path) -> dict[str, float]:
    """Model figures in this process (loads excluded), as the generator modules see them."""
    from bot.config import load_config
    from bot.core.threads import pin_threads

    pin_threads(args.threads)
    out: dict[str, float] = {}
    if "meme" in generators:
        meme = load_config(config).generator.meme
        from generator.meme import load_captioner
        from generator.meme.templates import load_templates

        started = time.perf_counter()
        captioner = load_captioner()
        features = captioner.encode_batch([t.image_path for t in load_templates(None)])
        captioner.beam_search_batch(features[:1], k=meme.beam_width, **meme.decode_options())
        print(f"meme captioner version={captioner.version} templates={len(features)} "
              f"load_and_encode_s={time.perf_counter() - started:.2f}")
        started, captions = time.perf_counter(), 0
        for seed in range(args.meme_rounds):
            beams = captioner.beam_search_batch(features, k=meme.beam_width, **{**meme.decode_options(), "seed": seed})
            captions += sum(len(b) for b in beams)
        seconds = time.perf_counter() - started
        print(f"meme beams={captions} seconds={seconds:.2f} (k={meme.beam_width} over {len(features)} templates "
              f"x {args.meme_rounds}, decode {meme.decode_options()})")
        out["meme_captions_per_s"] = captions / seconds
    if "post" in generators:
        out |= _post_per_call(args)
    return out


def _post_per_call(args: argparse.Namespace) -> dict[str, float]:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    from generator.pggan import load_gan
    from generator.textgen import load_writer

    started = time.perf_counter()
    gan = load_gan()
    gan.generate(16, seed=0)
    print(f"gan version={gan.version} resolution={gan.resolution} load_s={time.perf_counter() - started:.2f}")
    started = time.perf_counter()
    writer = load_writer()
    writer.write(2, seed=0)
    print(f"writer version={writer.version} load_s={time.perf_counter() - started:.2f}")
    started = time.perf_counter()
    images = gan.generate(args.images, seed=1)
    image_s = time.perf_counter() - started
    started = time.perf_counter()
    captions: list[str] = []
    seed = 1
    while len(captions) < args.captions:
        captions += writer.write(min(args.batch, args.captions - len(captions)), seed=seed, topic=gan.domain)
        seed += 1
    caption_s = time.perf_counter() - started
    print(f"images={len(images)} seconds={image_s:.2f}; captions={len(captions)} seconds={caption_s:.2f} "
          f"batch={args.batch}; example caption: {captions[0]!r}")
    return {"images_per_s": len(images) / image_s, "captions_per_s": len(captions) / caption_s}


def cold_run(config: Path, generator: str, count: int, seed: int, threads: int,
             repo: Path = REPO) -> tuple[float, int, float, float]:
    """(seconds spawn to exit, candidates stored, peak RSS in MB, CPU seconds) of one generate child
    of the checkout ``repo``."""
    from bot.core.threads import child_env

    argv = [sys.executable, "-m", "bot", "--config", str(config), "generate", "--account", "demo",
            "--generator", generator, "--count", str(count), "--seed", str(seed), "--json"]
    env = {**child_env(threads), "PYTHONPATH": str(repo), "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, env=env)
        _, status, usage = os.wait4(proc.pid, 0)  # this child's own rusage, not all children's peak
        seconds = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise SystemExit(f"{generator} generate child exited {proc.returncode}: "
                             f"{err.read().decode(errors='replace')[-1500:]}")
        out.seek(0)
        answer = json.loads(out.read().decode().strip().splitlines()[-1])
    return seconds, int(answer["stored"]), usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def cold(config: Path, generator: str, args: argparse.Namespace,
         baseline: tuple[Path, Path] | None = None) -> tuple[dict[str, float], dict[str, float]]:
    """Our cold figures and, with ``baseline`` (its checkout and config), the baseline's, its runs
    alternating with ours."""
    ours: list[tuple[float, int, float, float]] = []
    base: list[tuple[float, int, float, float]] = []
    for seed in range(args.cold_runs):
        ours.append(cold_run(config, generator, args.count, seed, args.threads))
        if baseline is not None:
            base.append(cold_run(baseline[1], generator, args.count, seed, args.threads, repo=baseline[0]))
    out = _cold_figures(generator, ours, "")
    return out, (_cold_figures(generator, base, "baseline ") if base else {})


def _cold_figures(generator: str, runs: list[tuple[float, int, float, float]], label: str) -> dict[str, float]:
    for i, (s, n, rss, cpu) in enumerate(runs):
        print(f"{label}{generator} cold run {i}: {s:.2f}s (cpu {cpu:.2f}s) stored={n} peak_rss={rss:.0f}MB"
              + (" (fills the template feature cache)" if i == 0 and generator == "meme" else ""))
    steady = runs[1:] or runs
    return {"cold_first_run_s": runs[0][0], "cold_run_s": statistics.median(r[0] for r in steady),
            "cold_cpu_s": statistics.median(r[3] for r in steady),
            "cold_stored_per_run": statistics.median(r[1] for r in steady),
            "cold_candidates_per_s": sum(r[1] for r in steady) / sum(r[0] for r in steady),
            "child_peak_rss_mb": max(r[2] for r in steady), "first_child_peak_rss_mb": runs[0][2]}


def baseline_warm(repo: Path, args: argparse.Namespace) -> dict[str, float]:
    """The baseline checkout's own bench/generate.py, meme warm figures only (one cold run to fill its cache)."""
    argv = [sys.executable, str(repo / "bench" / "generate.py"), "--generators", "meme", "--cold-runs", "1",
            "--warm-runs", str(args.warm_runs), "--count", str(args.count), "--threads", str(args.threads),
            "--skip-per-call"]
    done = subprocess.run(argv, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(repo)})
    if done.returncode != 0:
        raise SystemExit(f"baseline bench exited {done.returncode}: {done.stderr[-1500:]}")
    last = dict(pair.split("=", 1) for pair in done.stdout.strip().splitlines()[-1].split())
    return {k: float(v) for k, v in last.items() if k.startswith("meme_warm_") or k == "meme_worker_peak_rss_mb"}


def compile_sources(repo: Path) -> None:
    """Byte-compile a checkout's packages, as installing them does (children then load, not compile)."""
    subprocess.run([sys.executable, "-m", "compileall", "-q", *(str(repo / p) for p in ("bot", "generator", "feedback"))],
                   check=True, capture_output=True)


def warm(config: Path, generator: str, args: argparse.Namespace) -> dict[str, float]:
    from bot.runtime.worker import Limits, WorkerClient

    started = time.perf_counter()
    client = WorkerClient(str(config), generator, threads=args.threads, limits=Limits(max_runs=args.warm_runs + 1))
    try:
        answers = [client.run({"account": "demo", "count": args.count, "seed": 100 + i}, timeout_s=900)
                   for i in range(args.warm_runs)]
        total = time.perf_counter() - started
        load_s = float(client.ready.get("load_s", 0.0))
    finally:
        client.close()
    failed = [a.get("error") for a in answers if not a.get("ok")]
    if failed:
        raise SystemExit(f"{generator} warm worker runs failed: {failed[:3]}")
    per_run = [float(a["seconds"]) for a in answers]
    stored = sum(int(a["stored"]) for a in answers)
    print(f"{generator} warm worker: load {load_s:.2f}s, {len(per_run)} runs, median {statistics.median(per_run):.3f}s"
          f"/run, {stored} stored, {total:.1f}s including start; worker peak RSS {client.peak_rss_mb:.0f} MB")
    pending = sum(int(a["pending"]) for a in answers)  # of those, the ones put forward for review
    return {"warm_run_s": statistics.median(per_run), "warm_candidates_per_s": stored / sum(per_run),
            "warm_pending_per_s": pending / sum(per_run),
            "warm_incl_start_per_s": stored / total, "worker_load_s": load_s, "worker_peak_rss_mb": client.peak_rss_mb}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generators", default="meme,post", help="comma-separated: meme, post")
    parser.add_argument("--count", type=int, default=10, help="candidates asked of each run")
    parser.add_argument("--cold-runs", type=int, default=4, help="generate children per generator")
    parser.add_argument("--post-cold-runs", type=int, default=2, help="post children (each loads TF)")
    parser.add_argument("--warm-runs", type=int, default=10)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--skip-per-call", action="store_true")
    parser.add_argument("--meme-rounds", type=int, default=8, help="per call: beam searches over all templates")
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--captions", type=int, default=64)
    parser.add_argument("--batch", type=int, default=8, help="captions per write() call")
    parser.add_argument("--baseline", type=Path, default=None,
                        help="another checkout: its meme cold runs alternate with ours, figures prefixed base_")
    args = parser.parse_args()
    generators = [g.strip() for g in args.generators.split(",") if g.strip()]
    unknown = sorted(set(generators) - {"meme", "post"})
    if unknown or not generators:
        parser.error(f"--generators: unknown {', '.join(unknown) or '(none given)'}; use meme and/or post")

    if args.baseline is not None and not (args.baseline / "bot" / "__main__.py").is_file():
        parser.error(f"--baseline: {args.baseline} is not a checkout of the project (no bot/__main__.py)")

    figures: dict[str, float] = {}
    base: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="memeloop-bench-") as tmp:
        config = _database(Path(tmp) / "ours", REPO, args.threads)
        baseline = (args.baseline, _database(Path(tmp) / "base", args.baseline, args.threads)) if args.baseline else None
        for generator in generators:  # children first: this process loads no model before them
            runs = args.cold_runs if generator == "meme" else args.post_cold_runs
            sub = argparse.Namespace(**{**vars(args), "cold_runs": runs})
            ours, theirs = cold(config, generator, sub, baseline if generator == "meme" else None)
            figures |= {f"{generator}_{k}": v for k, v in ours.items()}
            base |= {f"base_{generator}_{k}": v for k, v in theirs.items()}
            figures |= {f"{generator}_{k}": v for k, v in warm(config, generator, args).items()}
        if args.baseline is not None and "meme" in generators:
            base |= {f"base_{k}": v for k, v in baseline_warm(args.baseline, args).items()}
        if not args.skip_per_call:
            figures |= per_call(args, generators, config)
    if "meme" in generators:
        figures["cold_run_s"] = figures["meme_cold_run_s"]
    figures |= base
    print(" ".join(f"{k}={v:.2f}" if k.endswith("_s") else f"{k}={v:.1f}" for k, v in figures.items()))


def _database(folder: Path, repo: Path, threads: int) -> Path:
    """A fresh bot (config + migrated database) in ``folder`` for the checkout ``repo``, its sources compiled."""
    folder.mkdir(parents=True)
    compile_sources(repo)
    config = folder / "config.toml"
    config.write_text(CONFIG.format(threads=threads), encoding="utf-8")
    subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "db", "upgrade"], check=True,
                   capture_output=True, env={**os.environ, "PYTHONPATH": str(repo)})
    return config


if __name__ == "__main__":
    main()
