"""Who may use the web admin: users with scrypt-hashed passwords, a one-time start token, server-side
sessions with a CSRF token each, and a login rate limit. Nothing here is ever rendered or logged."""
from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.service.web_users import (  # noqa: F401  (re-exported: the routes and tests use them here)
    MIN_PASSWORD,
    NAME,
    SCRYPT,
    TOKEN_ACTOR,
    add_user,
    check_login,
    hash_password,
    verify_password,
)


@dataclass
class WebSession:
    csrf: str
    seen: float
    user: str | None = None
    flash: str | None = None


@dataclass
class Sessions:
    """Server-side sessions: the cookie holds only a random id. Lost on restart (log in again)."""

    clock: Callable[[], float] = time.monotonic
    idle_s: float = 12 * 3600
    max_sessions: int = 10_000
    _by_id: dict[str, WebSession] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def get(self, sid: str | None) -> WebSession | None:
        with self._lock:
            s = self._by_id.get(sid or "")
            if s is None:
                return None
            if self.clock() - s.seen > self.idle_s:
                del self._by_id[sid or ""]
                return None
            s.seen = self.clock()
            return s

    def new(self, user: str | None = None) -> tuple[str, WebSession]:
        sid, s = secrets.token_urlsafe(32), WebSession(csrf=secrets.token_urlsafe(32), seen=self.clock(), user=user)
        with self._lock:
            if len(self._by_id) >= self.max_sessions:  # idle ones first, then the oldest anonymous ones
                self._prune()
            self._by_id[sid] = s
        return sid, s

    def _prune(self) -> None:
        now = self.clock()
        for key in [k for k, v in self._by_id.items() if now - v.seen > self.idle_s]:
            del self._by_id[key]
        anonymous = sorted((v.seen, k) for k, v in self._by_id.items() if v.user is None)
        for _, key in anonymous[: max(0, len(self._by_id) - self.max_sessions // 2)]:
            del self._by_id[key]

    def drop(self, sid: str | None) -> None:
        with self._lock:
            self._by_id.pop(sid or "", None)


@dataclass
class LoginLimiter:
    """At most ``attempts`` failed logins per client and per user name within ``window_s``."""

    attempts: int = 5
    window_s: float = 300.0
    clock: Callable[[], float] = time.monotonic
    _fails: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def wait_s(self, *keys: str) -> int:
        """Seconds until another attempt is allowed (0: now)."""
        now, worst = self.clock(), 0.0
        with self._lock:
            for key in keys:
                recent = [t for t in self._fails.get(key, []) if now - t < self.window_s]
                self._fails[key] = recent
                if len(recent) >= self.attempts:
                    worst = max(worst, recent[0] + self.window_s - now)
        return int(worst) + (1 if worst else 0)

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._fails.setdefault(key, []).append(self.clock())


@dataclass
class OneTimeToken:
    """A login token printed when the server starts; it works once."""

    value: str | None = field(default_factory=lambda: secrets.token_urlsafe(24))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def use(self, offered: str) -> bool:
        with self._lock:
            if not self.value or not offered or not hmac.compare_digest(offered.encode(), self.value.encode()):
                return False
            self.value = None
            return True
