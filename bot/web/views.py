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


@pass_context
def zone(ctx: Context, account: str | None) -> str:
    """``{{ account|zone }}``: the zone a time typed for ``account`` is read in (bot.web.server.account_zone);
    no account and several zones to choose from: says so (the account picker names each one's zone)."""
    from bot.web.server import account_zone

    web = ctx["request"].app.state.web
    if account is None and len({a.timezone for a in web.app.config.accounts}) > 1:
        return "the chosen account's time zone"
    return account_zone(web, account)


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


FILTERS = {"when": when, "zone": zone, "num": num, "plain_error": plain_error}



def thread_preview(parts: list[str], *, platform: str, alt: str | None, hashtag_cap: int) -> dict[str, Any]:
    """What each platform receives of a story thread, part by part. X, Mastodon and Bluesky get a reply
    chain: each part numbered "(i/n)" and counted as that platform counts (X's weighted length,
    Mastodon's characters, Bluesky's graphemes), the image and its alt text on the first part only;
    X trims a part to 280 at a word boundary, Mastodon and Bluesky trim the first part and refuse a
    later one that is too long. Instagram gets one caption holding every numbered part. ``text`` of a
    part is what the account's platform receives (X's for the outbox). Whether a platform chains is its
    publisher's ``threads`` capability; the texts are bot.core.kinds.platform_texts, as publishing sends them."""
    from bot.core.kinds import Kind, content_kind, platform_texts
    from bot.publishers.factory import platform_takes_threads
    from generator.igcaption import IG_MAX_CAPTION, caption_length
    from generator.platforms import BLUESKY_MAX_GRAPHEMES, MASTODON_MAX_CHARS, bluesky_length, mastodon_length
    from generator.story import join_parts, thread_texts
    from generator.xtext import X_MAX_WEIGHTED, normalise_for_x, x_weighted_length

    story, text = content_kind(Kind.STORY), join_parts(parts)

    counting = (("x", "X", X_MAX_WEIGHTED, x_weighted_length, "weighted"),
                ("mastodon", "Mastodon", MASTODON_MAX_CHARS, mastodon_length, "characters"),
                ("bluesky", "Bluesky", BLUESKY_MAX_GRAPHEMES, bluesky_length, "graphemes"))
    numbered = thread_texts(parts, "instagram")  # numbered, nothing trimmed
    sent = {name: platform_texts(story, text, name, threads=True) for name, *_ in counting}
    shown = platform if platform in sent else "x"
    rows = []
    for i, raw in enumerate(numbered):
        counts = []
        for name, label, limit, measure, unit in sorted(counting, key=lambda c: c[0] != platform):
            count = measure(sent[name][i])
            before = measure(normalise_for_x(raw) if name == "x" else raw)
            counts.append({"platform": name, "name": label, "count": count, "limit": limit, "unit": unit,
                           "over": count > limit, "trimmed_from": before if before > count else None,
                           "ours": name == platform})
        rows.append({"n": i + 1, "of": len(parts), "text": sent[shown][i], "counts": counts,
                     "media": alt if i == 0 else None})
    caption = platform_texts(story, text, "instagram", threads=False)[0]
    length = caption_length(caption)
    return {"platform": platform, "chains": platform_takes_threads(platform), "parts": rows,
            "instagram": {"caption": caption, "count": length, "limit": IG_MAX_CAPTION, "over": length > IG_MAX_CAPTION,
                          "hashtags": hashtags(caption), "cap": hashtag_cap, "media": alt,
                          "ours": platform == "instagram"}}
