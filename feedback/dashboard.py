"""Dashboard helpers: which breakdowns exist, and small terminal charts (pure functions)."""
from __future__ import annotations

from collections.abc import Sequence

# Breakdown name -> the column of the v_engagement_by_* view (and the view's suffix).
DIMENSIONS = {
    "generator": "generator",
    "template": "template",
    "beam-rank": "beam_rank",
    "tone": "tone",
    "audience": "audience",
    "hour": "hour",
    "account": "account",
}
APPROVAL_GROUPS = ("generator", "account", "day", "model_version")
SPARKS = "▁▂▃▄▅▆▇█"
BLOCKS = " ▏▎▍▌▋▊▉█"


def sparkline(values: Sequence[float | None]) -> str:
    """One character per value scaled between the smallest and largest; a gap for unknown values."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    out = []
    for v in values:
        if v is None:
            out.append(" ")
        else:
            level = 0 if span == 0 else round((v - low) / span * (len(SPARKS) - 1))
            out.append(SPARKS[level])
    return "".join(out)


def bar(value: float | None, top: float, width: int = 20) -> str:
    """A horizontal bar of ``value`` relative to ``top`` in eighths of a character."""
    if value is None or top <= 0 or value <= 0:
        return ""
    eighths = round(min(value / top, 1.0) * width * 8)
    full, part = divmod(eighths, 8)
    return "█" * full + (BLOCKS[part] if part else "")


def rate(part: float | None, whole: float | None) -> float | None:
    if not whole:
        return None
    return (part or 0) / whole
