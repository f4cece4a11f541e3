"""Where the config file is (kept free of pydantic so the admin CLI starts fast)."""
from __future__ import annotations

import os
from pathlib import Path

CONFIG_ENV = "MEMELOOP_CONFIG"
DEFAULT_CONFIG_NAME = "config.toml"


def find_config_path(path: str | Path | None) -> Path:
    """The explicit path, else $MEMELOOP_CONFIG, else ./config.toml."""
    chosen = path or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG_NAME
    return Path(chosen).expanduser()


def storage_url(path: str | Path | None) -> str | None:
    """Only ``[storage] url`` of the config file, resolved like bot.config does, read with tomllib alone
    (None when the file cannot be read that simply: the caller then loads the full config, which
    explains). For read-only listings that need nothing else."""
    import tomllib

    cfg_path = find_config_path(path)
    try:
        data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return None
    storage = data.get("storage", {})
    url = storage.get("url", "sqlite:///memeloop.db") if isinstance(storage, dict) else None
    if not isinstance(url, str):
        return None
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url.startswith("sqlite:////"):
        rest = url[len(prefix):]
        if rest and rest != ":memory:" and not rest.startswith("file:"):
            return prefix + str((cfg_path.resolve().parent / rest).resolve())
    return url
