"""What a database session costs each web request: the lookup of a stored session (SHA-256 of the
cookie's token, one indexed SELECT joined to its user for the current role, a rare seen_at write)
beside the in-memory dict the web admin used before, with many sessions stored; and the floor page
(/accounts: guard + one tiny read + render) through the real ASGI app for scale.

Last line: `db_session_ms=<x> memory_session_ms=<x> floor_ms=<x> sessions=<n> ratio=<db/memory>`.
"""
from __future__ import annotations

import argparse
import re
import statistics
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

CONFIG = '[storage]\nurl = "sqlite:///bench.db"\nmedia_dir = "media"\n\n[[accounts]]\nname = "demo"\nplatform = "outbox"\n'


def median_ms(fn, runs: int) -> float:
    fn()
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=300)
    args = parser.parse_args()
    from starlette.testclient import TestClient

    from bot.app import build_app
    from bot.config import load_config
    from bot.web.auth import Sessions
    from bot.web.server import create_web
    from feedback.clock import utcnow

    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "config.toml").write_text(CONFIG, encoding="utf-8")
        app = build_app(load_config(Path(tmp) / "config.toml"))
        for i in range(10):
            app.add_web_user(f"user{i}", "bench password", role=("admin", "editor", "viewer")[i % 3])
        now = utcnow()
        tokens = [app.start_web_session(f"user{i % 10}", now=now - timedelta(minutes=i % 600))
                  for i in range(args.sessions)]
        token = tokens[len(tokens) // 2]
        db = median_ms(lambda: app.web_session(token, now=utcnow()), args.runs)
        memory = Sessions(max_sessions=args.sessions * 2)
        sids = [memory.new(f"user{i % 10}")[0] for i in range(args.sessions)]
        mem = median_ms(lambda: memory.get(sids[len(sids) // 2]), args.runs)
        client = TestClient(create_web(app))
        page = client.get("/login")
        csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
        assert client.post("/login", data={"csrf": csrf, "name": "user0", "password": "bench password"}
                           ).status_code == 200
        floor = median_ms(lambda: client.get("/accounts"), max(20, args.runs // 10))
        app.close()
    print(f"session lookup, median of {args.runs}: database {db:.3f} ms, in memory {mem:.4f} ms; "
          f"floor page {floor:.1f} ms ({args.sessions} stored sessions)")
    print(f"db_session_ms={db:.3f} memory_session_ms={mem:.4f} floor_ms={floor:.1f} sessions={args.sessions} "
          f"ratio={db / mem:.0f}")


if __name__ == "__main__":
    main()
