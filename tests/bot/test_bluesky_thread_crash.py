"""Exactly once per part under SIGKILL on Bluesky: story threads published by `memeloop run --once`
against a local HTTP server playing the PDS (bsky_http.FakePDS behind a real socket, with latency
before and after it writes a record, so kills land before, inside and after a part's createRecord).
Runs are killed at random moments and restarted. At the end every part is on the account exactly
once, each replying to the part before it, and the saved session kept logins to a few."""
from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from tests.bot.publishers import bsky_http as bs
from tests.bot.test_publish_crash import REPO, _run_once
from tests.pipes import stream

THREADS = 8
PARTS = 3
KILLS = 10


def _serve(pds: bs.FakePDS, rng: random.Random) -> ThreadingHTTPServer:
    lock = threading.Lock()

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:  # quiet
            pass

        def _answer(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length") or 0))
            request = httpx.Request(self.command, f"http://pds.local{self.path}", headers=dict(self.headers),
                                    content=body)
            slow = self.path.startswith("/xrpc/com.atproto.repo.createRecord")
            if slow:
                time.sleep(rng.uniform(0.0, 0.08))  # the request is here, the record not yet written
            with lock:
                response = pds.handle(request)
            if slow:
                time.sleep(rng.uniform(0.0, 0.08))  # written, the answer not yet sent
            content = response.content
            try:
                self.send_response(response.status_code)
                for key, value in response.headers.items():
                    if key.lower() not in ("content-length", "transfer-encoding"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(content)))
                self.end_headers()
                self.wfile.write(content)
            except (BrokenPipeError, ConnectionResetError):  # the client was killed meanwhile
                pass

        do_GET = do_POST = _answer

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def _config(port: int) -> str:
    return f"""
[storage]
url = "sqlite:///memeloop.db"
media_dir = "media"

[publishing]
max_attempts = 50
lease = "2s"

[[accounts]]
name = "bsky"
platform = "bluesky"
[accounts.bluesky]
handle = "{bs.HANDLE}"
service_url = "http://127.0.0.1:{port}"
session_file = "bsky-session.txt"
timeout = 10
"""


def _kill_while_publishing(config, rng: random.Random, log) -> bool:
    proc = _run_once(config)
    assert proc.stderr is not None
    for line in proc.stderr:
        log.write(line)
        if "event=bluesky_published" in line:
            break
    try:
        proc.wait(timeout=rng.uniform(0.0, 0.3))
        killed = False
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGKILL)
        killed = True
    log.write(proc.stderr.read())
    proc.wait()
    proc.stderr.close()
    return killed


@pytest.mark.e2e
def test_sigkill_during_a_bluesky_thread_never_loses_or_doubles_a_part(tmp_path, monkeypatch):
    from bot.app import build_app
    from bot.config import load_config
    from feedback.clock import utcnow
    from feedback.repository import posts as posts_repo
    from tests.bot.approving import approve_and_schedule
    from tests.bot.test_story_publish import add_thread

    monkeypatch.setenv("MEMELOOP_BLUESKY_APP_PASSWORD", bs.PASSWORD)
    rng = random.Random(20261206)
    pds = bs.FakePDS()
    server = _serve(pds, random.Random(7))
    try:
        config = tmp_path / "config.toml"
        config.write_text(_config(server.server_address[1]))
        app = build_app(load_config(config))
        ids = [add_thread(app, [f"thread {t} part {p} goes here" for p in range(1, PARTS + 1)], account="bsky")
               for t in range(THREADS)]
        approve_and_schedule(app, ids, actor="test", at=utcnow())
        app.close()
        kills = 0
        with open(tmp_path / "runs.log", "w") as log:
            while kills < KILLS and _kill_while_publishing(config, rng, log):
                kills += 1
            for _ in range(40):  # un-killed runs until everything is settled (dead leases run out in 2s)
                left = subprocess.run([sys.executable, "-m", "bot", "--config", str(config), "posts", "list",
                                       "--state", "scheduled", "--state", "publishing", "--state", "unconfirmed",
                                       "--json"], cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)},
                                      capture_output=True, text=True, check=True)
                if json.loads(left.stdout) == []:
                    break
                time.sleep(1.0)
                final = _run_once(config)
                log.write(stream(final.stderr).read())
                assert final.wait(timeout=120) == 0
                stream(final.stderr).close()
        assert kills >= KILLS // 2, f"only {kills} runs were killed mid-publish"
        texts = Counter(p["record"]["text"] for p in pds.posts)
        assert len(texts) == THREADS * PARTS and set(texts.values()) == {1}, texts.most_common(3)
        by_uri = {p["uri"]: p for p in pds.posts}
        for p in pds.posts:
            text = p["record"]["text"]
            part = int(text.rsplit("(", 1)[1].split("/")[0])
            reply = p["record"].get("reply")
            if part == 1:
                assert reply is None
            else:  # answers the part before it, of the same thread
                parent = by_uri[reply["parent"]["uri"]]["record"]["text"]
                assert parent.split(" part ")[0] == text.split(" part ")[0]
                assert int(parent.rsplit("(", 1)[1].split("/")[0]) == part - 1
        app = build_app(load_config(config))
        with app.tx() as session:
            states = {r.state for r in posts_repo.list_posts(session)}
        app.close()
        assert states == {"published"}
        logins = len(pds.calls("com.atproto.server.createSession"))
        print(f"kills={kills} threads={THREADS} parts={PARTS} logins={logins} records={len(pds.posts)}")
        assert logins <= 3  # the session file is re-used across runs, not a login per run or post
    finally:
        server.shutdown()
