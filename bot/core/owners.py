"""Who holds a publish lease or started a generation: ``host:pid:start``, where start is the process's
start time (clock ticks since boot, from /proc) so a recycled pid is not mistaken for its owner.

On the same host, a process can tell at once that an owner is dead (no such pid, or a pid that
started at another time) and hand its work to reconcile instead of waiting out the lease. An owner
on another host is never judged from here: its lease runs out by itself.
"""
from __future__ import annotations

import os
import socket
from dataclasses import dataclass
from functools import lru_cache


def this_host() -> str:
    return socket.gethostname()[:100]


def start_ticks(pid: int) -> str | None:
    """The process's start time from /proc/PID/stat (field 22), or None when unknown (no /proc)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            stat = f.read().decode("ascii", "replace")
    except OSError:
        return None
    fields = stat[stat.rfind(")") + 2:].split()  # the command name may hold spaces and parentheses
    return fields[19] if len(fields) > 19 else None


@lru_cache(maxsize=1)
def _own_start() -> str | None:
    return start_ticks(os.getpid())


def process_owner() -> str:
    """This process as a lease owner (stable for its lifetime)."""
    start = _own_start()
    owner = f"{this_host()}:{os.getpid()}"
    return f"{owner}:{start}" if start else owner


@dataclass(frozen=True)
class Owner:
    host: str
    pid: int
    start: str | None  # None: written by an older version, or a host without /proc


def parse_owner(owner: str | None) -> Owner | None:
    """``host:pid[:start]`` (older rows have no start); None for anything else."""
    if not owner:
        return None
    head, _, last = owner.rpartition(":")
    if not head:
        return None
    if last.isdigit() and head.rpartition(":")[2].isdigit() and head.rpartition(":")[0]:
        host, _, pid = head.rpartition(":")
        return Owner(host, int(pid), last)
    return Owner(head, int(last), None) if last.isdigit() else None


def gone_on_this_host(owner: str | None) -> bool:
    """True only when ``owner`` ran on this host and that process is no longer running."""
    who = parse_owner(owner)
    if who is None or who.host != this_host():
        return False
    if who.pid == os.getpid():
        return who.start is not None and who.start != _own_start()
    try:
        os.kill(who.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # someone else's process with that pid: alive, unless its start differs
        pass
    if who.start is None:
        return False
    now = start_ticks(who.pid)
    return now is not None and now != who.start
