"""The daemon's side of a warm generate worker (the worker process itself is bot/runtime/worker.py):
``WorkerClient`` spawns ``python -m bot.runtime.worker`` (pinned threads, own session), sends JSON-line
requests, restarts a retired or dead worker and kills one that overruns its timeout. It lives below
the service so the dependencies object (bot/core/deps.py) can hold one per generator."""
from __future__ import annotations

import json
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

DEFAULT_MAX_RUNS = 50
DEFAULT_MAX_RSS_MB = 1500.0


class WorkerError(Exception):
    """The worker died, answered nonsense or overran its timeout (it is killed)."""


@dataclass(frozen=True)
class Limits:
    max_runs: int = DEFAULT_MAX_RUNS
    max_rss_mb: float = DEFAULT_MAX_RSS_MB

    def retire(self, runs: int, rss: float) -> bool:
        return runs >= self.max_runs or rss >= self.max_rss_mb


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
