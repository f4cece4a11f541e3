"""The service's own error classes (the feedback, generator and publisher packages have theirs).

The CLI turns each into one line: UsageError exits 2 (the input was wrong), everything else 1."""
from __future__ import annotations


class ConfigError(Exception):
    """A configuration problem; the message names the file and key (bot.config raises it)."""


class UsageError(Exception):
    """The caller gave something the service cannot take (empty text, unreadable image, bad time)."""
