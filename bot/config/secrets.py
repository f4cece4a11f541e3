"""Secrets come from the environment or from the [secrets] file, never from config.toml.

The environment wins. Names: ``<credentials_env_prefix><KEY>`` (e.g. MEMELOOP_X_API_KEY); in the
secrets file, ``[accounts.<name>] api_key = "..."``. Every value read is registered with the log
redaction filter so it can never reach a log line.
"""
from __future__ import annotations

import logging
import os
import stat
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from bot.errors import ConfigError

if TYPE_CHECKING:
    from bot.config.model import AccountConfig, Config

log = logging.getLogger(__name__)

X_KEYS = ("api_key", "api_secret", "access_token", "access_token_secret")
INSTAGRAM_KEYS = ("password",)


@dataclass(frozen=True)
class Secret:
    """A string that does not print itself."""

    value: str = field(repr=False)

    def __str__(self) -> str:
        return "***"

    def reveal(self) -> str:
        return self.value


class RedactingFilter(logging.Filter):
    """Replaces every registered secret value in log messages with ***."""

    def __init__(self) -> None:
        super().__init__()
        self._values: set[str] = set()

    def register(self, value: str) -> None:
        if len(value) >= 4:
            self._values.add(value)

    def filter(self, record: logging.LogRecord) -> bool:
        if self._values:
            message = record.getMessage()
            redacted = message
            for value in self._values:
                redacted = redacted.replace(value, "***")
            if redacted != message:
                record.msg, record.args = redacted, None
        return True


REDACTOR = RedactingFilter()


def read_secrets_file(path: Path) -> Mapping[str, object]:
    try:
        mode = path.stat().st_mode
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"secrets.file {path} not found") from None
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"secrets.file {path}: cannot read: {exc}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        log.warning("event=secrets_file_mode path=%s hint=chmod_600", path)
    return data


def account_secrets(cfg: Config, account: AccountConfig, keys: tuple[str, ...],
                    environ: Mapping[str, str] | None = None) -> dict[str, Secret]:
    """The named secrets of one account, or a ConfigError saying where each can be set."""
    environ = os.environ if environ is None else environ
    section = account.x if account.platform == "x" else account.instagram
    prefix = section.credentials_env_prefix if section is not None else "MEMELOOP_"
    from_file: Mapping[str, object] = {}
    if cfg.secrets.file is not None:
        accounts = read_secrets_file(cfg.secrets.file).get("accounts", {})
        from_file = accounts.get(account.name, {}) if isinstance(accounts, dict) else {}
    found: dict[str, Secret] = {}
    missing = []
    for key in keys:
        env_name = f"{prefix}{key.upper()}"
        value = environ.get(env_name) or from_file.get(key)
        if not isinstance(value, str) or not value:
            missing.append(env_name)
            continue
        REDACTOR.register(value)
        found[key] = Secret(value)
    if missing:
        where = f" or [accounts.{account.name}] in {cfg.secrets.file}" if cfg.secrets.file else ""
        raise ConfigError(f"account {account.name!r}: missing secret(s) {', '.join(missing)} "
                          f"(set them in the environment{where})")
    return found
