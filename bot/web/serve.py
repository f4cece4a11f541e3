"""Serving the web admin with uvicorn: in the foreground (`memeloop web`) or on a thread beside
the daemon (`memeloop run --web`), stopped with the daemon."""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
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
        config = uvicorn.Config(create_web(app, token=self.token, limits=self.limits), host=host, port=port,
                                log_level="warning", access_log=False, server_header=False, proxy_headers=False,
                                http=http, backlog=BACKLOG, timeout_keep_alive=int(self.limits.idle_timeout_s),
                                h11_max_incomplete_event_size=16 * 1024)
        self.server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    def banner(self) -> list[str]:
        shown = f"[{self.host}]" if ":" in self.host else self.host
        lines = [f"web admin: http://{shown}:{self.port}/  (users from `memeloop users add`, or the token below)",
                 f"one-time login: http://{shown}:{self.port}/login?token={self.token.value}"]
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


def serve(app: App, *, host: str, port: int, say: Callable[[str], None]) -> None:
    server = WebServer(app, host=host, port=port)
    for line in server.banner():
        say(line)
    server.run()
