"""Web admin users: scrypt-hashed passwords and roles, and their logged-in sessions in the database
(only the SHA-256 of a session's token is stored, so a copy of the database logs nobody in). Each
use case owns its transaction. CSRF, the login form and the rate limit are the web room's
(bot/web/auth.py). No password or token is ever logged."""
from __future__ import annotations

import hashlib
import hmac
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import TYPE_CHECKING

from bot.errors import UsageError
from feedback import Conflict

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.core.deps import Deps
    from feedback.repository.users import UserRow

SCRYPT = {"n": 2**14, "r": 8, "p": 1}
NAME = re.compile(r"[A-Za-z0-9_.@-]{1,64}")
MIN_PASSWORD = 8
TOKEN_ACTOR = "web-token"
SESSION_IDLE = timedelta(hours=12)  # a session unused this long is gone
SESSION_MAX = timedelta(days=14)  # and every session ends this long after its login
TOUCH_EVERY = timedelta(minutes=5)  # how stale seen_at may get before a request writes it (fewer writes)
log = logging.getLogger(__name__)


class Role(StrEnum):
    """What a web user may do; each role may do everything the ones before it may."""

    VIEWER = "viewer"  # read only
    EDITOR = "editor"  # review, edit, schedule, create, review links
    ADMIN = "admin"  # everything: users and accounts too

    @property
    def rank(self) -> int:
        return list(Role).index(self)

    def allows(self, needed: Role) -> bool:
        return self.rank >= needed.rank

    @classmethod
    def parse(cls, raw: str) -> Role:
        try:
            return cls(raw)
        except ValueError:
            raise UsageError(f"role {raw[:40]!r}: use one of {', '.join(r.value for r in cls)}") from None


@dataclass(frozen=True)
class LiveSession:
    """A logged-in session as a request sees it: who, their role now, the stored flash message."""

    id: int
    user: str
    role: Role
    flash: str | None


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


def _name(name: str) -> str:
    if not NAME.fullmatch(name):
        raise UsageError(f"user name {name[:80]!r}: use 1-64 letters, digits or . _ @ -")
    if name == TOKEN_ACTOR:
        raise UsageError(f"user name {name!r} is reserved for the one-time login token")
    return name


def add_user(deps: Deps, name: str, password: str, *, replace: bool = False, role: Role | str = Role.ADMIN) -> None:
    """A new user with ``role``; ``replace``: a new password for an existing one (role kept), which also
    logs them out everywhere."""
    from feedback.repository import users

    _name(name)
    role = Role.parse(str(role))
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short (at least {MIN_PASSWORD} characters)")
    with deps.tx() as session:
        users.add_user(session, name, hash_password(password), now=deps.clock(), replace=replace, role=role.value)
        if replace:
            users.drop_sessions_of(session, name)


def list_users(deps: Deps) -> list[UserRow]:
    """Every web user with their role, last login and live sessions."""
    from feedback.repository import users

    with deps.tx() as session:
        return users.list_users(session)


def _keep_an_admin(session: Session, name: str, change: str) -> None:
    from feedback.repository import users

    if users.role_of(session, name) == Role.ADMIN and users.count_role(session, Role.ADMIN) == 1:
        raise Conflict(f"{name} is the only admin; {change} would leave nobody to manage users "
                       "(make another admin first)")


def remove_user(deps: Deps, name: str) -> None:
    """Remove a user and end their sessions; the last admin stays."""
    from feedback.repository import users

    with deps.tx() as session:
        _keep_an_admin(session, name, "removing them")
        users.remove_user(session, name)


def set_role(deps: Deps, name: str, role: Role | str) -> Role:
    """Give ``name`` a new role (at their next request); returns the old one. The last admin stays."""
    from feedback.repository import users

    new = Role.parse(str(role))
    with deps.tx() as session:
        if new is not Role.ADMIN:
            _keep_an_admin(session, name, f"making them {new.value}")
        return Role(users.set_role(session, name, new.value))


# -- sessions -----------------------------------------------------------------------------------------

def token_hash(token: str) -> str:
    """What is stored for a session or link token (random, 32 bytes: a plain SHA-256 is enough)."""
    return hashlib.sha256(token.encode()).hexdigest()


def start_session(deps: Deps, user: str, *, now: datetime) -> str:
    """A new session for ``user`` (TOKEN_ACTOR: the one-time token's operator); returns its token."""
    from feedback import NotFound
    from feedback.repository import users

    token = secrets.token_urlsafe(32)
    with deps.tx() as session:
        user_id = None
        if user != TOKEN_ACTOR:
            user_id = users.mark_login(session, user, now=now)
            if user_id is None:
                raise NotFound(f"there is no web user named {user!r}")
        users.add_session(session, token_hash(token), user_id=user_id, now=now, expires_at=now + SESSION_MAX)
        users.prune_sessions(session, now=now, idle_before=now - SESSION_IDLE)  # ended ones nobody came back to
    return token


def live_session(deps: Deps, token: str, *, now: datetime) -> LiveSession | None:
    """The session this token opens (None: unknown, expired, idle too long or its user removed)."""
    from feedback.repository import users

    if not token or len(token) > 200:
        return None
    with deps.tx() as session:
        row = users.live_session(session, token_hash(token), now=now, idle_before=now - SESSION_IDLE)
        if row is None:
            return None
        if now - row.seen_at > TOUCH_EVERY:
            users.touch_session(session, row.id, now=now)
    return LiveSession(row.id, row.user or TOKEN_ACTOR, Role(row.role or Role.ADMIN), row.flash)


def set_flash(deps: Deps, session_id: int, flash: str | None) -> None:
    from feedback.repository import users

    with deps.tx() as session:
        users.set_flash(session, session_id, flash)


def end_session(deps: Deps, token: str) -> None:
    from feedback.repository import users

    with deps.tx() as session:
        users.drop_session(session, token_hash(token))


def end_sessions_of(deps: Deps, user: str) -> int:
    """Log ``user`` out everywhere; returns how many sessions ended."""
    from feedback.repository import users

    with deps.tx() as session:
        n = users.drop_sessions_of(session, None if user == TOKEN_ACTOR else user)
    log.info("event=web_logout_everywhere user=%s sessions=%s", user, n)
    return n


def prune_sessions(deps: Deps, *, now: datetime) -> int:
    from feedback.repository import users

    with deps.tx() as session:
        return users.prune_sessions(session, now=now, idle_before=now - SESSION_IDLE)


def check_login(deps: Deps, name: str, password: str) -> bool:
    from feedback.repository import users

    with deps.tx() as session:
        stored = users.password_hash(session, name) if NAME.fullmatch(name) else None
        return verify_password(password, stored or _DUMMY) and stored is not None
