"""Time is passed in, never read deep inside logic; this is the one place the real clock lives."""
from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    return datetime.now(UTC)
