"""Who may use the web admin: users with scrypt-hashed passwords, a one-time start token, server-side
sessions with a CSRF token each, and a login rate limit. Nothing here is ever rendered or logged."""
from __future__ import annotations

import hashlib
import hmac
import math
import re
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.app import App

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD = 8
TOKEN_ACTOR = "web-token"


def hash_password(password: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, dklen=32, **SCRYPT)
    return f"scrypt${SCRYPT['n']}${SCRYPT['r']}${SCRYPT['p']}${salt.hex()}${digest.hex()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        kind, n, r, p, salt, digest = stored.split("$")
        if kind != "scrypt":
            return False
        got = hashlib.scrypt(password.encode(), salt=bytes.fromhex(salt), n=int(n), r=int(r), p=int(p),
                             dklen=len(digest) // 2)
    except ValueError:
        return False
    return hmac.compare_digest(got.hex(), digest)


# A hash to check against when the user does not exist, so a wrong name costs what a wrong password does.
_DUMMY = hash_password(secrets.token_hex(8))


def add_user(app: App, name: str, password: str, *, replace: bool = False) -> None:
    from feedback.repository import users

    if not NAME.fullmatch(name):
        raise UsageError(f"user name {name!r}: use 1-64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short (at least {MIN_PASSWORD} characters)")
    with app.tx() as session:
        users.add_user(session, name, hash_password(password), now=app.clock(), replace=replace)


def check_login(app: App, name: str, password: str) -> bool:
    from feedback.repository import users

    with app.tx() as session:
        stored = users.password_hash(session, name) if NAME.fullmatch(name) else None
        ok = verify_password(password, stored or _DUMMY) and stored is not None
        if ok:
            users.mark_login(session, name, now=app.clock())
    return ok


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
