"""What the ranker learned, in sentences a reviewer understands.

"captions about "monday" do 1.8x baseline at 19:00 for demo (likely 1.2x-2.7x, from 14 posts)":
each effect is a multiplier on the account's typical engagement (the model works in log ratio to
the account's baseline), with a 90% interval from the posterior sd.
"""
from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from typing import Any

from feedback.ranking.features import LENGTH_BANDS
from feedback.ranking.model import Effect

Z90 = 1.645
_LENGTHS = {name: top for top, name in LENGTH_BANDS}


def _band(text: str) -> str:
    start = int(text.rstrip("h"))
    return f"{start:02d}:00-{start + 2:02d}:59"


def describe(name: str) -> str:
    """A feature name as the reviewer would say it."""
    if "@" in name:
        tpl, hour = name.split("@", 1)
        return f"{describe(tpl)} at {_band(hour.split('=', 1)[1])}"
    if "&" in name:
        tone, audience = name.split("&", 1)
        return f"{describe(tone)} for {audience.split('=', 1)[1]}"
    if name.startswith("bigram#"):
        return "one group of word pairs (hashed)"
    if name.startswith("hash:"):
        return "one group of rare features (hashed)"
    key, _, value = name.partition("=")
    phrases = {
        "word": lambda v: f'captions about "{v}"', "topic": lambda v: f"captions about {v.replace('/', ', ')}", "bigram": lambda v: f'captions saying "{v}"',
        "template": lambda v: f'the "{v}" template', "tone": lambda v: f"a {v} tone",
        "audience": lambda v: f"captions for {v}", "hour": lambda v: f"posts at {_band(v)}",
        "generator": lambda v: f"{v} posts", "hashtags": lambda v: f"{v} hashtags",
        "beam_rank": lambda v: f"beam #{int(v) + 1} of its image",
        "length": lambda v: f"{v.replace('_', ' ')} captions" + (
            f" (up to {_LENGTHS[v]} words)" if v in _LENGTHS else " (over 15 words)"),
        "account": lambda v: f"posts of {v}", "weekday": lambda v: f"posts on {v.capitalize()}",
    }
    if key in phrases and value:
        return phrases[key](value)
    return {"beam_score": "the caption model's confidence (beam score)",
            "fatigue_template": "repeating a template posted recently",
            "fatigue_words": "repeating words of recent captions"}.get(name, name)


def sentences(effects: Iterable[Effect], *, hour: int | None = None, account: str | None = None,
              top: int = 3) -> list[str]:
    """The strongest effects as sentences, with their uncertainty and evidence."""
    out = []
    for e in list(effects)[:top]:
        lo, mid, hi = (math.exp(e.contribution + k * Z90 * e.sd) for k in (-1, 0, 1))
        where = "" if hour is None or "hour=" in e.name else f" at {hour:02d}:00"
        who = f" for {account}" if account else ""
        verb = "does" if e.name.startswith(("template=", "beam_score", "fatigue")) and "@" not in e.name \
            else "do"
        evidence = f", from {e.evidence:.0f} posts" if e.evidence >= 1 else ", no evidence yet: prior"
        out.append(f"{describe(e.name)} {verb} {mid:.1f}x baseline{where}{who} "
                   f"(likely {lo:.1f}x-{hi:.1f}x{evidence})")
    return out


def stored_effects(explain: Mapping[str, Any]) -> list[Effect]:
    """The effects of a stored predicted_explain (``Score.as_dict``'s ``effects``: [name,
    contribution, sd, evidence]); entries of any other shape are skipped."""
    out = []
    for e in explain.get("effects") or []:
        if isinstance(e, list | tuple) and len(e) == 4 and all(isinstance(v, int | float) for v in e[1:]):
            out.append(Effect(str(e[0]), float(e[1]), float(e[2]), float(e[3])))
    return out


def stored_sentences(explain: Mapping[str, Any]) -> list[str]:
    """The sentences stored with a prediction; an older one without them is told from its effects."""
    stored = explain.get("sentences")
    if isinstance(stored, list) and stored:
        return [str(s) for s in stored]
    return sentences(stored_effects(explain))
