"""Who may use the web admin: users with scrypt-hashed passwords and roles, a one-time start token,
sessions with a CSRF token each, and a login rate limit. Nothing here is ever rendered or logged.

A logged-in session lives in the database (bot/service/web_users.py: only a hash of its token is
stored; it survives a restart; "log out everywhere" ends them all); its CSRF token is derived from
the session token, so nothing more is stored. The login form's anonymous session stays in memory
(``Sessions``): a flood of login pages never writes to the database."""
from __future__ import annotations

import hashlib
import hmac
import math
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
    Role,
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
    role: Role | None = None
    key: int | None = None  # the stored session's id (None: an anonymous login-form session in memory)


def csrf_of(token: str) -> str:
    """A stored session's CSRF token: derived from its secret token, which only its cookie holds."""
    return hmac.new(token.encode(), b"memeloop csrf", hashlib.sha256).hexdigest()


@dataclass
class Sessions:
    """Anonymous sessions of the login form (its CSRF token): the cookie holds only a random id."""

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
    """Slows password guessing without locking out the real user.

    Per address: after ``attempts`` failed logins within ``window_s`` the address waits
    ``base_wait_s``, doubling with each further failure (at most ``max_wait_s``); a successful login
    clears that address's record. Per user name, from every address together: no lockout (that would
    let anyone lock the real user out), only a short delay before each check once the name has seen
    ``attempts`` failures, growing to ``name_delay_s``; scrypt makes each guess cost as well."""

    attempts: int = 5
    window_s: float = 900.0
    base_wait_s: float = 30.0
    max_wait_s: float = 900.0
    name_delay_s: float = 2.0
    max_keys: int = 100_000  # addresses and names remembered; a flood of new ones forgets the oldest
    clock: Callable[[], float] = time.monotonic
    _fails: dict[str, list[float]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def _recent(self, key: str, now: float) -> list[float]:
        recent = [t for t in self._fails.get(key, []) if now - t < self.window_s]
        if recent:
            self._fails[key] = recent
        else:
            self._fails.pop(key, None)
        return recent

    def wait_s(self, client: str, name: str = "") -> int:
        """Seconds until ``client`` may try again (0: now). ``name`` never blocks: see delay_s."""
        now = self.clock()
        with self._lock:
            recent = self._recent(client, now)
        if len(recent) < self.attempts:
            return 0
        wait = min(self.max_wait_s, self.base_wait_s * 2 ** (len(recent) - self.attempts))
        left = recent[-1] + wait - now
        return math.ceil(left) if left > 0 else 0

    def delay_s(self, name: str) -> float:
        """How long to hold a login for ``name`` before checking it (0.0 while it is not under attack)."""
        now = self.clock()
        with self._lock:
            over = len(self._recent(f"name:{name}", now)) - self.attempts
        return 0.0 if over < 0 else min(self.name_delay_s, 0.1 * 2 ** min(over, 10))

    def failed(self, client: str, name: str = "") -> None:
        now = self.clock()
        with self._lock:
            if len(self._fails) >= self.max_keys:
                by_age = sorted(self._fails, key=lambda k: self._fails[k][-1])
                for key in by_age[: len(by_age) // 2]:
                    del self._fails[key]
            self._fails.setdefault(client, []).append(now)
            if name:
                self._fails.setdefault(f"name:{name}", []).append(now)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._fails.pop(client, None)


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
