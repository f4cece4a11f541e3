"""Interactive Instagram login for the admin at a terminal (`memeloop accounts login NAME`): the
one place a challenge or two-factor code is ever answered, by a person. The session is saved 0600
where the publisher looks for it, which also lifts a pause the running service remembers."""
from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from instagrapi import exceptions as ig

from bot.config.secrets import Secret
from bot.publishers.base import AuthError, ChallengeRequired
from bot.publishers.ig_client import configure_client
from bot.publishers.instagram import save_session_file


def interactive_login(*, username: str, password: Secret, session_file: Path, ask: Callable[[str], str],
                      say: Callable[[str], None], client: Any, proxy: str | None = None,
                      timeout: float = 30.0) -> None:
    """Log in (re-using the saved device), answering 2FA / challenge prompts through ``ask``."""
    configure_client(client, delay_range=(1.0, 3.0), proxy=proxy, timeout=timeout, attended=True)
    client.challenge_code_handler = lambda user, choice=None: ask(f"Code Instagram sent to {user} ({choice}): ")
    client.change_password_handler = _no_password_change
    if session_file.is_file():
        client.load_settings(session_file)
    try:
        try:
            client.login(username, password.reveal())
        except ig.TwoFactorRequired:
            code = ask(f"Two-factor code for {username}: ").strip()
            client.login(username, password.reveal(), relogin=True, verification_code=code)
    except (ig.BadPassword, ig.BadCredentials) as exc:
        raise AuthError(f"instagram login for {username} refused ({type(exc).__name__}); check "
                        f"MEMELOOP_IG_PASSWORD") from exc
    except ig.ClientError as exc:
        raise ChallengeRequired(f"instagram login for {username} did not finish ({type(exc).__name__}: "
                                f"{' '.join(str(exc).split())[:200]}); clear the prompt in the Instagram app, "
                                f"then try again") from exc
    save_session_file(client, session_file)
    say(f"logged in as {username}; session saved to {session_file} (0600)")


def _no_password_change(username: str) -> str:
    raise ig.ChallengeRequired(f"Instagram wants a new password for {username}; change it in the app first")


