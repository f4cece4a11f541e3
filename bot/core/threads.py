"""CPU threads of generate processes: pinned, so two processes on a small machine do not each spawn a
BLAS/OpenMP pool per core and thrash (a decode p50 of 10 ms became 250 ms under contention).

``child_env`` is for the spawner (the variables are read when a library loads); ``pin_threads`` for
the process itself (libraries loaded later read the variables; torch, if loaded, is told directly).
"""
from __future__ import annotations

import os
import sys
from collections.abc import Mapping

THREAD_VARS = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "VECLIB_MAXIMUM_THREADS",
               "NUMEXPR_NUM_THREADS")


def child_env(threads: int, base: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for a generate child: ``base`` (default: ours) with every thread variable set."""
    env = dict(os.environ if base is None else base)
    env.update({name: str(threads) for name in THREAD_VARS})
    return env


def pin_threads(threads: int) -> None:
    """Limit this process's math libraries to ``threads`` threads (before or after they load)."""
    os.environ.update({name: str(threads) for name in THREAD_VARS})
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.set_num_threads(threads)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # optional: without it, already-loaded BLAS keeps what the env said at spawn
        return
    threadpool_limits(threads)
