"""Web admin users: scrypt-hashed passwords, added and checked in their own transactions. Sessions,
CSRF and the login rate limit are the web room's (bot/web/auth.py). Nothing here is logged."""
from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from typing import TYPE_CHECKING

from bot.errors import UsageError

if TYPE_CHECKING:
    from bot.core.deps import Deps

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


def add_user(deps: Deps, name: str, password: str, *, replace: bool = False) -> None:
    from feedback.repository import users

    if not NAME.fullmatch(name):
        raise UsageError(f"user name {name!r}: use 1-64 letters, digits or . _ @ -")
    if len(password) < MIN_PASSWORD:
        raise UsageError(f"the password is too short (at least {MIN_PASSWORD} characters)")
    with deps.tx() as session:
        users.add_user(session, name, hash_password(password), now=deps.clock(), replace=replace)


def check_login(deps: Deps, name: str, password: str) -> bool:
    from feedback.repository import users

    with deps.tx() as session:
        stored = users.password_hash(session, name) if NAME.fullmatch(name) else None
        ok = verify_password(password, stored or _DUMMY) and stored is not None
        if ok:
            users.mark_login(session, name, now=deps.clock())
    return ok
