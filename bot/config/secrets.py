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
MASTODON_KEYS = ("access_token",)
BLUESKY_KEYS = ("app_password",)


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

    def values(self) -> set[str]:
        return set(self._values)

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
    section = {"x": account.x, "instagram": account.instagram, "mastodon": account.mastodon,
               "bluesky": account.bluesky}.get(account.platform)
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


@dataclass(frozen=True)
class WebhookSecrets:
    url: Secret | None  # from the environment or the secrets file (None: the config's url, if any)
    secret: Secret | None  # the HMAC signing key of a generic JSON webhook


def webhook_secrets(cfg: Config, name: str, environ: Mapping[str, str] | None = None) -> WebhookSecrets:
    """A webhook's URL and signing key: $MEMELOOP_WEBHOOK_<NAME>_URL / _SECRET, else ``[webhooks.<name>]``
    url / secret in the secrets file. Values read are registered with the log redaction filter."""
    environ = os.environ if environ is None else environ
    env = name.upper().replace("-", "_")
    from_file: Mapping[str, object] = {}
    if cfg.secrets.file is not None:
        hooks = read_secrets_file(cfg.secrets.file).get("webhooks", {})
        from_file = hooks.get(name, {}) if isinstance(hooks, dict) else {}
    found: dict[str, Secret | None] = {}
    for key in ("url", "secret"):
        value = environ.get(f"MEMELOOP_WEBHOOK_{env}_{key.upper()}") or from_file.get(key)
        if isinstance(value, str) and value:
            REDACTOR.register(value)
            found[key] = Secret(value)
        else:
            found[key] = None
    return WebhookSecrets(url=found["url"], secret=found["secret"])


def known_secret_values(cfg: Config, environ: Mapping[str, str] | None = None) -> set[str]:
    """Every secret value this config can reach (account credentials, webhook URLs and keys, the database
    password), whether or not this process has used it yet: what a notice must never carry."""
    environ = os.environ if environ is None else environ
    prefixes = {"MEMELOOP_WEBHOOK_", "MEMELOOP_DB_PASSWORD"}
    for account in cfg.accounts:
        section = {"x": account.x, "instagram": account.instagram, "mastodon": account.mastodon,
                   "bluesky": account.bluesky}.get(account.platform)
        if section is not None:
            prefixes.add(section.credentials_env_prefix)
    values = {v for k, v in environ.items() if any(k.startswith(p) for p in prefixes)}
    if cfg.secrets.file is not None:
        try:
            stack: list[object] = [read_secrets_file(cfg.secrets.file)]
        except ConfigError:
            stack = []
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                stack.extend(item.values())
            elif isinstance(item, str):
                values.add(item)
    from urllib.parse import unquote, urlsplit

    try:
        in_url = urlsplit(cfg.storage.url).password  # a password written into storage.url itself
    except ValueError:
        in_url = None
    if in_url:
        values |= {in_url, unquote(in_url)}
    values |= REDACTOR.values()
    return {v for v in values if len(v) >= 4}


def redact(text: str, values: set[str]) -> str:
    """``text`` with every one of ``values`` replaced by *** (longest first, so a secret inside another is
    not left half shown)."""
    for value in sorted(values, key=len, reverse=True):
        text = text.replace(value, "***")
    return text
