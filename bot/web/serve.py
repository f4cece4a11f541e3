"""Serving the web admin with uvicorn: in the foreground (`memeloop web`) or on a thread beside
the daemon (`memeloop run --web`), stopped with the daemon."""
from __future__ import annotations

import logging
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from bot.web.auth import OneTimeToken

if TYPE_CHECKING:
    from bot.app import App
    from bot.web.limits import Limits

log = logging.getLogger(__name__)
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")


class WebServer:
    def __init__(self, app: App, *, host: str = "127.0.0.1", port: int = 8080, limits: Limits | None = None) -> None:
        import uvicorn

        from bot.web.limits import BACKLOG, Limits, protocol_class
        from bot.web.server import create_web

        self.token = OneTimeToken()
        self.host, self.port = host, port
        self.limits = limits or Limits()
        http, self.connections = protocol_class(self.limits)
        local = host in LOCAL_HOSTS
        web = create_web(app, token=self.token, limits=self.limits, secure_cookies=not local,
                         allowed_hosts=("127.0.0.1", "localhost", "[::1]") if local else None)
        config = uvicorn.Config(web, host=host, port=port,
                                log_level="warning", access_log=False, server_header=False, proxy_headers=False,
                                http=http, backlog=BACKLOG, timeout_keep_alive=int(self.limits.idle_timeout_s),
                                h11_max_incomplete_event_size=16 * 1024)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def banner(self, *, terminal: bool = True, token_file: Path | None = None) -> list[str]:
        """What to print at start. The one-time login link only to a terminal: under systemd stdout is the
        journal, so the link goes to ``token_file`` (0600) and only its path is printed."""
        shown = f"[{self.host}]" if ":" in self.host else self.host
        link = f"http://{shown}:{self.port}/login?token={self.token.value}"
        lines = [f"web admin: http://{shown}:{self.port}/  (users from `memeloop users add`, or the token below)"]
        if terminal or token_file is None:
            lines.append(f"one-time login: {link}")
        else:
            write_private(token_file, link + "\n")
            lines.append(f"one-time login: the link is in {token_file} (readable by you only; not printed "
                         "because standard output is not a terminal)")
        if self.host not in LOCAL_HOSTS:
            lines.append(f"warning: listening on {self.host}, not only this machine: put it behind TLS")
        return lines

    def run(self) -> None:
        """In the foreground until SIGINT/SIGTERM (uvicorn handles both)."""
        self.server.run()

    def start(self) -> None:
        """On a thread; uvicorn installs no signal handlers off the main thread, the daemon owns them."""
        self._thread = threading.Thread(target=self.server.run, name="memeloop-web", daemon=True)
        self._thread.start()
        log.info("event=web_started host=%s port=%s", self.host, self.port)

    def stop(self, timeout: float = 5.0) -> None:
        self.server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        log.info("event=web_stopped")


def write_private(path: Path, text: str) -> None:
    path.unlink(missing_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        f.write(text)


def token_file(app: App) -> Path:
    return app.data_dir() / "web-login-link.txt"


def serve(app: App, *, host: str, port: int, say: Callable[[str], None]) -> None:
    server = WebServer(app, host=host, port=port)
    for line in server.banner(terminal=sys.stdout.isatty(), token_file=token_file(app)):
        say(line)
    watcher = NoticeWatcher(app)
    if app.config.notifications.webhooks:
        say("notifications: this process also watches the daemon's heartbeat and tells the webhooks if it stops")
        watcher.start()
    try:
        server.run()
    finally:
        watcher.stop()


class NoticeWatcher:
    """The web admin on its own (`memeloop web`) is a process beside the daemon: every tick it tells the
    webhooks when the daemon's heartbeat went stale, and delivers what is due (bot/service/notify.py)."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.every = app.config.scheduler.tick.total_seconds()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._loop, name="memeloop-notice-watch", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while not self._stop.wait(self.every):
            try:
                self.app.notify_watch()
            except Exception:  # the top of a unit of work: log it and watch on
                log.exception("event=notice_watch outcome=error")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
