"""`memeloop accounts login`: the admin answers codes at the terminal; the session is saved 0600.
The real instagrapi Client over HTTP fakes for a saved session, an autospec of it for the 2FA path."""
from __future__ import annotations

import stat
from pathlib import Path
from unittest.mock import create_autospec

import pytest
from instagrapi import Client
from instagrapi import exceptions as ig

from bot.config.secrets import Secret
from bot.publishers.base import AuthError
from bot.publishers.ig_login import interactive_login
from tests.bot.publishers import ig_http


def test_saved_session_is_refreshed_and_saved_0600(tmp_path):
    session = ig_http.write_session(tmp_path / "ig.json")
    session.chmod(0o644)
    said: list[str] = []
    with ig_http.no_sleep(), ig_http.instagram_http() as rsps:
        ig_http.session_ok(rsps)
        interactive_login(username="memebot", password=Secret("pw"), session_file=session,
                          ask=lambda prompt: pytest.fail(f"asked {prompt!r}"), say=said.append,
                          client=ig_http.real_client(), timeout=5)
        assert ig_http.calls(rsps, "current_user") == 1
        assert vars(rsps.calls[0].request)["req_kwargs"]["timeout"] == 5  # responses records the call's kwargs
    assert stat.S_IMODE(session.stat().st_mode) == 0o600 and "session saved" in said[0]


def test_two_factor_code_is_asked_and_sent(tmp_path):
    client = create_autospec(Client, instance=True)
    client.login.side_effect = [ig.TwoFactorRequired("Two-factor authentication required"), True]
    client.dump_settings.side_effect = lambda path: Path(path).write_text("{}")
    asked: list[str] = []

    def ask(prompt: str) -> str:
        asked.append(prompt)
        return " 123456 "

    interactive_login(username="memebot", password=Secret("pw"), session_file=tmp_path / "s" / "ig.json",
                      ask=ask, say=lambda _: None, client=client)
    assert asked == ["Two-factor code for memebot: "]
    client.login.assert_called_with("memebot", "pw", relogin=True, verification_code="123456")
    assert stat.S_IMODE((tmp_path / "s" / "ig.json").stat().st_mode) == 0o600
    assert client.with_challenge_flow is not False  # a human is here: codes may be answered


def test_a_refused_password_is_one_clear_error(tmp_path):
    client = create_autospec(Client, instance=True)
    client.login.side_effect = ig.BadPassword("The password you entered is incorrect.")
    with pytest.raises(AuthError, match="MEMELOOP_IG_PASSWORD"):
        interactive_login(username="memebot", password=Secret("pw"), session_file=tmp_path / "ig.json",
                          ask=lambda _: "", say=lambda _: None, client=client)
    assert not (tmp_path / "ig.json").exists()


def test_the_click_command_has_help_with_an_example():
    from bot.cli.commands.accounts_login import login

    assert "Example: memeloop accounts login" in (login.help or "")
