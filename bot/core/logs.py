"""Logging is configured once, here, by the CLI; every handler carries the secret redactor."""
from __future__ import annotations

import logging
from pathlib import Path

from bot.config.secrets import REDACTOR

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


class OurStreamHandler(logging.StreamHandler):
    """A handler memeloop installed (and may replace); foreign handlers are left alone."""


class OurFileHandler(logging.FileHandler):
    """A file handler memeloop installed."""


OURS = (OurStreamHandler, OurFileHandler)


def configure_logging(verbosity: int = 0, level: str | None = None, file: Path | None = None) -> None:
    root = logging.getLogger()
    chosen = level or ("DEBUG" if verbosity >= 2 else "INFO" if verbosity == 1 else "WARNING")
    root.setLevel(chosen)
    for handler in list(root.handlers):
        if isinstance(handler, OURS):
            root.removeHandler(handler)
    handlers: list[logging.Handler] = [OurStreamHandler()]
    if file is not None:
        try:
            file.parent.mkdir(parents=True, exist_ok=True)
            handlers.append(OurFileHandler(file, encoding="utf-8"))
        except OSError as exc:
            from bot.config import ConfigError

            raise ConfigError(f"logging.file: cannot write {file} ({exc.strerror or exc})") from None
    for handler in handlers:
        handler.setFormatter(logging.Formatter(FORMAT))
        handler.addFilter(REDACTOR)
        root.addHandler(handler)
    # oauthlib logs OAuth keys and tokens at DEBUG; the redactor would catch them, but never emit them
    for noisy in ("urllib3", "PIL", "apscheduler.executors", "h5py", "tensorflow", "absl", "oauthlib",
                  "requests_oauthlib"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
