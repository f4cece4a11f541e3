"""The web port under hostile traffic (issue 30, findings 1 and 2): half-open connections, bodies that
are too large or too slow, chunked or not, anonymous or logged in. Loopback only, bounded in count
and time."""
from __future__ import annotations

import contextlib
import os
import re
import select
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from tests.bot.publishers.prepared import image_bytes
from tests.bot.web_helpers import PASSWORD

FILE_LIMIT = 256


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# `memeloop run --web PORT` with a soft file limit of FILE_LIMIT (the daemon child only)
LOW_LIMIT_RUN = ("import resource, sys\n"
                 "_soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)\n"
                 f"resource.setrlimit(resource.RLIMIT_NOFILE, ({FILE_LIMIT}, hard))\n"
                 "from bot.cli import main\n"
                 "sys.exit(main(sys.argv[1:]))\n")


class Flood:
    """Keeps ``count`` connections open that send half a request head and then nothing; any the
    server drops are opened again."""

    def __init__(self, port: int, count: int) -> None:
        self.port, self.count, self.socks, self.reopened = port, count, [], 0

    def _open(self) -> socket.socket:
        s = socket.socket()
        s.setblocking(False)
        s.connect_ex(("127.0.0.1", self.port))
        return s

    def fill(self) -> None:
        while len(self.socks) < self.count:
            self.socks.append(self._open())

    def top_up(self) -> None:
        for i, s in enumerate(self.socks):
            try:
                s.send(b"GET /board HTTP/1.1\r\nHost: 127.0.0.1\r\n")  # never the blank line that ends it
                if s.recv(1, socket.MSG_PEEK) == b"":
                    raise ConnectionResetError
            except BlockingIOError:
                continue
            except OSError:
                s.close()
                self.socks[i] = self._open()
                self.reopened += 1

    def close(self) -> None:
        for s in self.socks:
            s.close()


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def _http_login(base: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=5.0, follow_redirects=False)
    page = client.get("/login")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    done = client.post("/login", data={"csrf": csrf, "name": "ann", "password": PASSWORD, "next": "/board"})
    assert done.status_code == 303, done.text[:300]
    return client


def test_finding_1_half_open_connections_do_not_starve_the_board(write_config, tmp_path):
    from bot.app import build_app
    from bot.config import load_config
    from feedback.repository import posts as posts_repo

    cfg = write_config('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n[scheduler]\ntick = "1s"\n'
                       '[[accounts]]\nname = "demo"\nplatform = "outbox"\n')
    (tmp_path / "cat.png").write_bytes(image_bytes())
    app = build_app(load_config(cfg))
    app.add_web_user("ann", PASSWORD)
    candidate = app.add_candidate(tmp_path / "cat.png", "published through the flood", account="demo", actor="t")
    app.close()
    port = _free_port()
    log = (tmp_path / "daemon.log").open("wb")
    child = subprocess.Popen([sys.executable, "-c", LOW_LIMIT_RUN, "--config", str(cfg), "run", "--web", str(port)],
                             stdout=log, stderr=subprocess.STDOUT, cwd=tmp_path,
                             env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    flood = Flood(port, 2 * FILE_LIMIT)
    try:
        _wait_for(lambda: "one-time login" in (tmp_path / "daemon.log").read_text(errors="replace"), 30,
                  "the web admin to start")
        _wait_for(lambda: not socket.socket().connect_ex(("127.0.0.1", port)), 10, "the port")
        flood.fill()
        for _ in range(10):  # the server accepts, evicts and drops; the flood keeps them open
            flood.top_up()
            time.sleep(0.1)
        client = _http_login(f"http://127.0.0.1:{port}")
        board = client.get("/board")
        assert board.status_code == 200 and "logout" in board.text.lower()
        app = build_app(load_config(cfg))
        post_id = app.approve(candidate, actor="ann", at=datetime.now(UTC)).post_id

        def published():
            flood.top_up()
            with app.tx() as session:
                return posts_repo.get_post(session, post_id).state == "published"

        _wait_for(published, 20, "the due post to be published during the flood")
        app.close()
        assert client.get("/board").status_code == 200
        client.close()
    finally:
        flood.close()
        child.terminate()
        code = child.wait(20)
        log.close()
    output = (tmp_path / "daemon.log").read_text(errors="replace")
    assert code == 0, output[-2000:]
    assert "Traceback" not in output and "Too many open files" not in output, output[-3000:]
    assert len(output) < 20_000  # a flood is one warning line per 10 s, not a log storm
    assert "event=web_connection_cap" in output or flood.reopened == 0


# -- finding 2: bodies limited while they stream ---------------------------------------------------

@pytest.fixture
def served(write_config, tmp_path, clock):
    """The web admin on uvicorn (a thread, loopback), as `memeloop web` serves it."""
    from bot.app import build_app
    from bot.config import load_config
    from bot.web.limits import Limits
    from bot.web.serve import WebServer

    app = build_app(load_config(write_config()), clock=clock)
    app.add_web_user("ann", PASSWORD)
    server = WebServer(app, port=_free_port(), limits=Limits(body_timeout_s=1.0, header_timeout_s=1.0))
    server.start()
    base = f"http://127.0.0.1:{server.port}"
    _wait_for(lambda: not socket.socket().connect_ex(("127.0.0.1", server.port)), 10, "the port")
    yield server, base
    server.stop()
    app.close()


def _send_body(port: int, head: str, chunks: int, chunk: bytes, *, chunked: bool, first: bytes = b""
               ) -> tuple[int, str]:
    """Send a request head, then up to ``chunks`` chunks of body while the server reads; returns the
    bytes of body sent before the server answered (or closed) and its status line."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(head.encode())
    sent, deadline = 0, time.monotonic() + 20
    pending = ((f"{len(first):x}\r\n".encode() + first + b"\r\n") if chunked else first) if first else b""
    framed = (f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n") if chunked else chunk
    try:
        s.setblocking(False)
        while time.monotonic() < deadline:
            if not pending:
                if chunks == 0:
                    break
                pending, chunks = framed, chunks - 1
            readable, writable, _ = select.select([s], [s], [], 1.0)
            if readable:
                break
            if writable:
                try:
                    n = s.send(pending)
                except BlockingIOError:
                    continue
                except OSError:
                    break
                pending, sent = pending[n:], sent + n
        s.settimeout(10)
        answer = b""
        with contextlib.suppress(OSError):
            while b"\r\n" not in answer:
                got = s.recv(4096)
                if not got:
                    break
                answer += got
    finally:
        s.close()
    return sent, answer.split(b"\r\n", 1)[0].decode(errors="replace")


def _cookie_and_csrf(base: str) -> tuple[str, str]:
    client = _http_login(base)
    page = client.get("/create")
    csrf = re.search(r'name="csrf" value="([^"]+)"', page.text).group(1)
    cookie = "; ".join(f"{k}={v}" for k, v in client.cookies.items())
    client.close()
    return cookie, csrf


def _anonymous_cookie(base: str) -> str:
    with httpx.Client(base_url=base, timeout=5.0) as client:
        client.get("/login")
        return "; ".join(f"{k}={v}" for k, v in client.cookies.items())


def test_finding_2_anonymous_login_body_is_refused_while_it_streams(served):
    server, base = served
    head = ("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=xx\r\n"
            f"Cookie: {_anonymous_cookie(base)}\r\nTransfer-Encoding: chunked\r\n\r\n")
    field = b'--xx\r\nContent-Disposition: form-data; name="name"\r\n\r\n'
    sent, status = _send_body(server.port, head, chunks=4096, chunk=b"x" * 65536, chunked=True,
                              first=field)  # 256 MiB offered
    assert status.startswith("HTTP/1.1 413") and sent < 16 * 1024 * 1024, (sent, status)
    declared = ("POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                "Content-Length: 1073741824\r\n\r\n")
    sent, status = _send_body(server.port, declared, chunks=1, chunk=b"a=b", chunked=False)
    assert status.startswith("HTTP/1.1 413")


def test_finding_2_logged_in_chunked_upload_is_refused_past_the_upload_limit(served):
    from bot.web.routes_create import MAX_UPLOAD

    server, base = served
    cookie, csrf = _cookie_and_csrf(base)
    head = ("POST /create/caption HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=xx\r\n"
            f"Cookie: {cookie}\r\nX-CSRF-Token: {csrf}\r\nTransfer-Encoding: chunked\r\n\r\n")
    preamble = (b'--xx\r\nContent-Disposition: form-data; name="photo"; filename="big.png"\r\n'
                b"Content-Type: image/png\r\n\r\n")
    sent, status = _send_body(server.port, head, chunks=2048, chunk=b"\0" * 65536, chunked=True,
                              first=preamble)  # 128 MiB offered
    assert status.startswith("HTTP/1.1 413") and sent < MAX_UPLOAD + 8 * 1024 * 1024, (sent, status)


def test_finding_2_a_body_that_never_finishes_is_cut_off(served):
    server, base = served
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(b"POST /login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
              + f"Cookie: {_anonymous_cookie(base)}\r\n".encode() + b"Content-Length: 100\r\n\r\ncsrf=")
    s.settimeout(10)
    status = s.recv(4096).split(b"\r\n", 1)[0]
    s.close()
    assert status.startswith(b"HTTP/1.1 408"), status


def test_finding_2_half_open_connection_is_dropped_after_the_header_timeout(served):
    server, _ = served
    s = socket.create_connection(("127.0.0.1", server.port), timeout=10)
    s.sendall(b"GET /board HTTP/1.1\r\nHost: 127.0.0.1\r\n")
    started = time.monotonic()
    assert s.recv(4096) == b""  # closed without an answer
    assert time.monotonic() - started < 5
    s.close()


def test_finding_2_refused_upload_leaves_no_temp_file_open(served):
    _server, base = served
    tmpdir = Path(tempfile.gettempdir())

    def open_temp_files() -> int:
        count = 0
        for fd in Path("/proc/self/fd").iterdir():
            with contextlib.suppress(OSError):
                if os.readlink(fd).startswith(str(tmpdir)):
                    count += 1
        return count

    before = open_temp_files()
    client = _http_login(base)
    csrf = re.search(r'name="csrf" value="([^"]+)"', client.get("/create").text).group(1)
    big = os.urandom(3 * 1024 * 1024)  # past the 1 MiB spool: starlette writes it to a temp file
    answer = client.post("/create/caption", data={"csrf": csrf}, files={"photo": ("x.png", big, "image/png")})
    client.close()
    assert answer.status_code in (400, 502) and open_temp_files() == before
