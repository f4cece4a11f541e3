"""The config room: the model and its loading (model.py), pure checks (checks.py), value types
(values.py), secrets (secrets.py) and where the file is (paths.py).

`from bot.config import Config, load_config, ...` reaches the model. It is loaded on first use, not
when the package is imported, so the admin CLI can read `bot.config.paths` without paying for
pydantic (`memeloop queue list` starts fast).
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from bot.errors import ConfigError as ConfigError

if TYPE_CHECKING:
    from bot.config.model import *


def __getattr__(name: str) -> Any:
    if name.startswith("__"):
        raise AttributeError(name)
    model = importlib.import_module("bot.config.model")
    try:
        return getattr(model, name)
    except AttributeError:
        raise AttributeError(f"module 'bot.config' has no attribute {name!r}") from None
