"""Formatting for the templates, and the platform previews (what X and Instagram will receive)."""
from __future__ import annotations

import re
from datetime import datetime
from typing import Any

from jinja2 import pass_context
from jinja2.runtime import Context

from bot.config.timefmt import iso, zone_of

ERRORS_IN_WORDS = {
    "RateLimited": "the platform asked us to slow down; it is retried after the limit resets",
    "TransientPublishError": "the platform did not answer properly; it is retried",
    "PermanentPublishError": "the platform refused this post; it will not be retried unless you press retry",
    "AuthError": "the account's login was refused: the account is paused until you log in again and resume it",
    "DuplicatePost": "the platform says this was already posted",
}


@pass_context
def when(ctx: Context, value: datetime | None, account: str | None = None) -> str:
    """``{{ t|when(account) }}``: the one time format (bot.config.timefmt), in the account's time zone."""
    return iso(value, zone_of(ctx["request"].app.state.web.app.config, account))


def num(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:+.{digits}f}"


def plain_error(error_class: str | None, error: str | None) -> str:
    if not error_class and not error:
        return ""
    words = ERRORS_IN_WORDS.get(error_class or "", "")
    return f"{words} ({error})" if words and error else (words or error or "")


def x_preview(text: str, template: str | None, alt: str | None = None) -> dict[str, Any]:
    from generator.platforms import generate_alt_text
    from generator.xtext import X_MAX_WEIGHTED, x_weighted_length

    weighted = x_weighted_length(text)
    return {"weighted": weighted, "limit": X_MAX_WEIGHTED, "over": weighted > X_MAX_WEIGHTED,
            "alt": alt if alt is not None else generate_alt_text(text, template)}


def fediverse_preview(text: str) -> dict[str, Any]:
    """Length as Mastodon (stock server: 500, a URL is 23) and Bluesky (300 graphemes) count it."""
    from generator.platforms import BLUESKY_MAX_GRAPHEMES, MASTODON_MAX_CHARS, bluesky_length, mastodon_length

    md, bs = mastodon_length(text), bluesky_length(text)
    return {"mastodon": md, "mastodon_limit": MASTODON_MAX_CHARS, "mastodon_over": md > MASTODON_MAX_CHARS,
            "bluesky": bs, "bluesky_limit": BLUESKY_MAX_GRAPHEMES, "bluesky_over": bs > BLUESKY_MAX_GRAPHEMES}


def hashtags(text: str) -> int:
    return len(re.findall(r"(?<!\w)#\w+", text))


FILTERS = {"when": when, "num": num, "plain_error": plain_error}
