"""A warm generate worker: one long-lived process per generator that loads its models once.

    python -m bot.runtime.worker --config PATH --generator meme [--max-runs 50] [--max-rss-mb 1500]

Protocol (JSON lines): the worker prints ``{"ready": true, ...}`` once its models are loaded, then
answers each request line on stdin with exactly one line on stdout::

    -> {"account": "demo", "count": 10, "seed": 7, "generation_id": 12, "tone": null, "now": null}
    <- {"ok": true, "generation_id": 12, "stored": 25, "pending": 10, ..., "rss_mb": 180.5}
    <- {"ok": false, "generation_id": 12, "error": "ValueError: ..."}   (the run is marked failed)

After ``max_runs`` runs, or once its RSS passes ``max_rss_mb``, the answer carries ``"retire": true``
and the worker exits 0; so does end of input. Logs go to stderr, never stdout. ``WorkerClient`` is
the daemon's side: it spawns a worker (pinned threads, own session), sends requests, restarts a
retired or dead one and kills one that overruns its timeout.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import resource
import sys
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import IO, TYPE_CHECKING, Any

from bot.core.kinds import SCHEDULED

if TYPE_CHECKING:
    from bot.app import App

from bot.core.worker_client import (  # noqa: F401  (the worker's protocol partner, re-exported)
    DEFAULT_MAX_RSS_MB,
    DEFAULT_MAX_RUNS,
    Limits,
    WorkerClient,
    WorkerError,
)

log = logging.getLogger(__name__)


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_request(line: str, generator: str):
    """A GenerateRequest from one JSON line; ValueError names what is wrong."""
    from bot.service.pipeline import GenerateRequest

    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise ValueError(f"request is not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(data, dict) or not isinstance(data.get("account"), str):
        raise ValueError("request needs an \"account\" string")  # noqa: TRY004 - one error type for bad input
    try:
        return GenerateRequest(account=data["account"], generator=generator, count=int(data.get("count", 1)),
                               seed=int(data.get("seed", 0)), tone=data.get("tone"),
                               audience=data.get("audience"), generation_id=data.get("generation_id")), data.get("now")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad request field ({exc})") from None


def serve(app: App, generator: str, lines: Iterable[str], out: IO[str], limits: Limits) -> int:
    """Answer requests until input ends or the limits retire the worker; returns the runs made."""
    from bot.service.pipeline import load_models, run_generation

    started = time.perf_counter()
    models = load_models(app.config, generator)
    _say(out, {"ready": True, "generator": generator, "version": models.version, "pid": os.getpid(),
               "load_s": round(time.perf_counter() - started, 3), "rss_mb": round(rss_mb(), 1)})
    runs, clock = 0, app.clock
    for line in lines:
        if not line.strip():
            continue
        runs += 1
        answer: dict[str, Any]
        try:
            req, now = parse_request(line, generator)
            app.clock = _frozen(now) if now else clock
            t0 = time.perf_counter()
            result = run_generation(app.deps, req, models=models)
            answer = {"ok": True, **result.__dict__, "seconds": round(time.perf_counter() - t0, 3)}
        except Exception as exc:  # noqa: BLE001 - the top of one unit of work: report it, serve the next
            answer = {"ok": False, "error": f"{type(exc).__name__}: {exc}"[:2000]}
        rss = rss_mb()
        retire = limits.retire(runs, rss)
        _say(out, answer | {"rss_mb": round(rss, 1), "peak_rss_mb": round(peak_rss_mb(), 1), "runs": runs,
                            "retire": retire})
        if retire:
            break
    return runs


def _frozen(iso: str):
    moment = datetime.fromisoformat(iso).astimezone(UTC)
    return lambda: moment


def _say(out: IO[str], payload: dict[str, Any]) -> None:
    out.write(json.dumps(payload, default=str) + "\n")
    out.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.runtime.worker", description=__doc__.splitlines()[0])
    parser.add_argument("--config", required=True)
    parser.add_argument("--generator", choices=SCHEDULED, required=True)
    parser.add_argument("--max-runs", type=int, default=DEFAULT_MAX_RUNS)
    parser.add_argument("--max-rss-mb", type=float, default=DEFAULT_MAX_RSS_MB)
    args = parser.parse_args(argv)
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, format="%(levelname)s %(name)s %(message)s")
    from bot.app import build_app
    from bot.config import ConfigError, load_config

    try:
        app = build_app(load_config(args.config), auto_create=False)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        serve(app, args.generator, sys.stdin, sys.stdout, Limits(args.max_runs, args.max_rss_mb))
    finally:
        app.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
