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
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

log = logging.getLogger(__name__)

DEFAULT_MAX_RUNS = 50
DEFAULT_MAX_RSS_MB = 1500.0


class WorkerError(Exception):
    """The worker died, answered nonsense or overran its timeout (it is killed)."""


def rss_mb() -> float:
    """Current resident set size of this process (Linux /proc), else the peak from getrusage."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@dataclass(frozen=True)
class Limits:
    max_runs: int = DEFAULT_MAX_RUNS
    max_rss_mb: float = DEFAULT_MAX_RSS_MB

    def retire(self, runs: int, rss: float) -> bool:
        return runs >= self.max_runs or rss >= self.max_rss_mb


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


def serve(app, generator: str, lines: Iterable[str], out: IO[str], limits: Limits) -> int:
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
            result = run_generation(app, req, models=models)
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
    parser.add_argument("--generator", choices=["meme", "post"], required=True)
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


class WorkerClient:
    """The daemon's handle on one warm worker: ``run(request) -> answer``, (re)started on demand."""

    def __init__(self, config_path: str, generator: str, *, threads: int = 1, limits: Limits = Limits(),
                 stderr: IO[bytes] | int | None = subprocess.DEVNULL, log_path: Path | None = None) -> None:
        self.argv = [sys.executable, "-m", "bot.runtime.worker", "--config", config_path, "--generator", generator,
                     "--max-runs", str(limits.max_runs), "--max-rss-mb", str(limits.max_rss_mb)]
        self.threads, self.stderr = threads, stderr
        self.log_path = log_path  # when set, each worker's stderr is appended here instead
        self.proc: subprocess.Popen | None = None
        self.ready: dict[str, Any] = {}
        self.peak_rss_mb = 0.0  # the highest RSS any worker of this client reported
        self.stop: threading.Event | None = None  # set = give up waiting and kill the worker
        self.lock = threading.Lock()  # one request at a time (jobs of two accounts may overlap)

    def _start(self, timeout_s: float) -> None:
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            with open(self.log_path, "ab") as log_file:  # the child keeps its own copy of the descriptor
                self.proc = self._spawn(log_file)
        else:
            self.proc = self._spawn(self.stderr)
        self.ready = self._read(timeout_s)
        if not self.ready.get("ready"):
            raise self._fail(f"worker did not start: {self.ready}")

    def _spawn(self, stderr) -> subprocess.Popen:
        from bot.core.threads import child_env

        return subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                                env=child_env(self.threads), start_new_session=True, text=True, bufsize=1)

    def run(self, request: dict[str, Any], *, timeout_s: float = 600.0) -> dict[str, Any]:
        """One generate run in the worker (started if needed); WorkerError if it dies or overruns."""
        if self.proc is None or self.proc.poll() is not None:
            self._start(timeout_s)
        assert self.proc is not None and self.proc.stdin is not None
        try:
            self.proc.stdin.write(json.dumps(request) + "\n")
            self.proc.stdin.flush()
        except BrokenPipeError:
            raise self._fail("worker closed its input") from None
        answer = self._read(timeout_s)
        self.peak_rss_mb = max(self.peak_rss_mb, float(answer.get("peak_rss_mb", 0.0)))
        if answer.get("retire"):
            self.close()
        return answer

    def _read(self, timeout_s: float) -> dict[str, Any]:
        assert self.proc is not None and self.proc.stdout is not None
        for line in self._lines(timeout_s):
            try:
                return json.loads(line)
            except json.JSONDecodeError:
                raise self._fail(f"worker answered a non-JSON line: {line[:200]!r}") from None
        raise self._fail("worker exited without answering")

    def _lines(self, timeout_s: float) -> Iterator[str]:
        deadline = time.monotonic() + timeout_s
        assert self.proc is not None and self.proc.stdout is not None  # started by run()
        out = self.proc.stdout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise self._fail(f"worker gave no answer within {timeout_s:g}s; killed")
            if self.stop is not None and self.stop.is_set():
                raise self._fail("stopping; worker killed")
            ready, _, _ = select.select([out], [], [], min(left, 1.0))
            if ready:
                line = out.readline()
                if not line:
                    return
                yield line

    def _fail(self, message: str) -> WorkerError:
        self.kill()
        return WorkerError(message)

    def close(self) -> None:
        """Ask the worker to finish (end of input) and wait for it briefly; kill it if it lingers."""
        if self.proc is None:
            return
        try:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            self.proc.wait(timeout=10)
        except (subprocess.TimeoutExpired, BrokenPipeError):
            self.kill()
        self.proc = None

    def kill(self) -> None:
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.proc.wait()
        self.proc = None


if __name__ == "__main__":
    sys.exit(main())
