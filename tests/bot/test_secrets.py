from __future__ import annotations

import logging

import pytest

from bot.config import ConfigError, parse_config
from bot.config.secrets import REDACTOR, X_KEYS, account_secrets

X_CONFIG = '[[accounts]]\nname = "main"\nplatform = "x"\n[accounts.x]\ncredentials_env_prefix = "T_X_"\n'


def test_secrets_from_environment_are_hidden_in_repr():
    cfg = parse_config(X_CONFIG)
    env = {f"T_X_{k.upper()}": f"value-of-{k}" for k in X_KEYS}
    found = account_secrets(cfg, cfg.account("main"), X_KEYS, environ=env)
    assert found["api_key"].reveal() == "value-of-api_key"
    assert "value-of" not in repr(found) and str(found["api_key"]) == "***"


def test_secrets_file_is_used_when_environment_lacks_them(tmp_path):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[accounts.main]\napi_key = "k1"\napi_secret = "s1"\n'
                       'access_token = "t1"\naccess_token_secret = "ts1"\n')
    secrets.chmod(0o600)
    cfg = parse_config(X_CONFIG + f'[secrets]\nfile = "{secrets}"\n')
    found = account_secrets(cfg, cfg.account("main"), X_KEYS, environ={"T_X_API_KEY": "from-env"})
    assert found["api_key"].reveal() == "from-env"
    assert found["access_token_secret"].reveal() == "ts1"


def test_missing_secret_names_the_variable():
    cfg = parse_config(X_CONFIG)
    with pytest.raises(ConfigError, match="missing secret\\(s\\) T_X_API_KEY, T_X_API_SECRET"):
        account_secrets(cfg, cfg.account("main"), X_KEYS, environ={})


def test_registered_secret_never_reaches_a_log_line(caplog):
    cfg = parse_config(X_CONFIG)
    env = {f"T_X_{k.upper()}": "SENTINEL-SECRET-4711" for k in X_KEYS}
    account_secrets(cfg, cfg.account("main"), X_KEYS, environ=env)
    logger = logging.getLogger("memeloop.test")
    caplog.handler.addFilter(REDACTOR)
    logger.warning("token=%s", "SENTINEL-SECRET-4711")
    assert "SENTINEL-SECRET-4711" not in caplog.text
    assert "token=***" in caplog.text
