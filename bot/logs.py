"""Logging is configured once, here, by the CLI; every handler carries the secret redactor."""
from __future__ import annotations

import logging
from pathlib import Path

from bot.secrets import REDACTOR

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging(verbosity: int = 0, level: str | None = None, file: Path | None = None) -> None:
    root = logging.getLogger()
    chosen = level or ("DEBUG" if verbosity >= 2 else "INFO" if verbosity == 1 else "WARNING")
    root.setLevel(chosen)
    for handler in list(root.handlers):
        if getattr(handler, "_memeloop", False):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = [logging.StreamHandler()]
    if file is not None:
        file.parent.mkdir(parents=True, exist_ok=True)
        handlers.append(logging.FileHandler(file, encoding="utf-8"))
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(REDACTOR)
        handler._memeloop = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    # oauthlib logs OAuth keys and tokens at DEBUG; the redactor would catch them, but never emit them
    for noisy in ("urllib3", "PIL", "apscheduler.executors", "h5py", "tensorflow", "absl", "oauthlib",
                  "requests_oauthlib"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
