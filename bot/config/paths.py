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


def _validation_key(path: str | Path | None) -> str | None:
    """What a validation of this config depends on: its resolved path, its text and the validating
    code (the mtimes of bot/config/*.py), hashed; None when the file cannot be read."""
    import hashlib

    cfg_path = find_config_path(path)
    try:
        h = hashlib.sha256(str(cfg_path.resolve()).encode() + b"\0" + cfg_path.read_bytes())
    except OSError:
        return None
    here = Path(__file__).parent
    for name in ("model.py", "checks.py", "values.py"):
        try:
            h.update(str((here / name).stat().st_mtime_ns).encode())
        except OSError:
            h.update(b"-")
    return h.hexdigest()


def _validation_mark(key: str) -> Path:
    cache = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache) / "memeloop" / "valid-configs" / key


def known_valid(path: str | Path | None) -> bool:
    """True when this exact config text (at this path, with this code) passed validation before: the
    read-only fast path may then skip pydantic and still never accept an invalid config."""
    key = _validation_key(path)
    return key is not None and _validation_mark(key).is_file()


def remember_valid(path: str | Path | None) -> None:
    key = _validation_key(path)
    if key is None:
        return
    mark = _validation_mark(key)
    try:
        mark.parent.mkdir(parents=True, exist_ok=True)
        mark.touch()
    except OSError:  # no cache (read-only home): every run validates, which is only slower
        pass


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


def writer_bundle(path: str | Path | None) -> tuple[bool, Path | None]:
    """``[generator.post] writer_bundle`` of the config file, resolved like bot.config does (None: the
    shipped demo bundle), read with tomllib alone so a content command can check a tone before the
    full config (pydantic, SQLAlchemy) loads. (False, None) when the file cannot be read that simply:
    the caller then loads the full config, which explains."""
    import tomllib

    cfg_path = find_config_path(path)
    try:
        data = tomllib.loads(cfg_path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False, None
    generator = data.get("generator", {})
    post = generator.get("post", {}) if isinstance(generator, dict) else None
    if not isinstance(post, dict):
        return False, None
    if post.get("writer_model"):  # an installed model (bot.core.modelstore): the full config resolves it
        return False, None
    bundle = post.get("writer_bundle")
    if bundle is None or bundle in ("", "."):
        return True, None
    if not isinstance(bundle, str):
        return False, None
    folder = Path(bundle).expanduser()
    return True, folder if folder.is_absolute() else cfg_path.parent / folder
