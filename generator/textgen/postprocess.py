"""Caption clean-up: hashtag rules, banned words, length caps. Pure functions over strings.

`clean_caption` is idempotent: cleaning a cleaned caption changes nothing.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

from generator.safety import BlockList

HASHTAG_LIMIT = 30  # Instagram's hard limit; config may ask for fewer, never more
HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")
# Whole control tokens, and ones the sampler cut off ("<topic=nature" at the end, "<|endof"), with a
# hashtag sign left dangling before them.
_CONTROL_TOKEN = re.compile(r"#?\s*(?:<\|?\s*endoftext\s*\|?>?|<\|?endof\w*|<\s*(?:tone|audience|topic)\s*=[^<>\n]*>?)")
_CONTROL_CHARS = re.compile(r"[\x00-\x09\x0b-\x1f\x7f\u200b-\u200f\u2028\u2029\ufeff]")


def extract_hashtags(text: str) -> list[str]:
    """Hashtags in order of appearance, with '#', as written (duplicates kept)."""
    return [f"#{m.group(1)}" for m in HASHTAG.finditer(text)]


def _normalise(text: str) -> str:
    text = _CONTROL_TOKEN.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    text = _CONTROL_CHARS.sub(" ", text)
    lines = [" ".join(line.split()) for line in text.split("\n")]
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).strip()


def _split_hashtags(text: str) -> tuple[str, list[str]]:
    """Body without hashtags, and the hashtags; repeats until removing one exposes no new one."""
    tags: list[str] = []
    while True:
        found = [m.group(1) for m in HASHTAG.finditer(text)]
        if not found:
            return _normalise(text), tags
        tags.extend(found)
        text = HASHTAG.sub(" ", text)


def _remove_banned(text: str, blocklist: BlockList | None) -> str:
    while blocklist is not None:
        spans = blocklist.matches(text)
        if spans:
            for span in reversed(spans):
                text = text[: span.start] + " " + text[span.end:]
        else:
            # a term hidden in a hashtag compound (#sun_darn, #SunDarn, sun#_darn) is only seen by
            # the detector's compound pass: drop the whole token it sits in
            cleaned = re.sub(r"\S+", lambda m: "" if blocklist.find(m.group(0)) else m.group(0), text)
            if cleaned == text:
                break
            text = cleaned
        text = _normalise(text)
    return text


def _dedupe(tags: Iterable[str], cap: int, blocklist: BlockList | None) -> list[str]:
    seen: set[str] = set()
    kept: list[str] = []
    for tag in tags:
        key = tag.casefold()
        if key in seen or (blocklist is not None and blocklist.find(f"#{tag}")):
            continue
        seen.add(key)
        kept.append(tag)
    return kept[:cap]


def _trim(body: str, limit: int) -> str:
    """Cut `body` to at most `limit` characters at a word boundary (hard cut for one giant word)."""
    if len(body) <= limit:
        return body
    if limit <= 0:
        return ""
    cut = body[: limit + 1]
    space = max(cut.rfind(" "), cut.rfind("\n"))
    return (body[:space] if space > 0 else body[:limit]).rstrip()


def clean_caption(text: str, *, hashtag_cap: int = 5, max_chars: int = 2200,
                  banned_words: Iterable[str] = ()) -> str:
    """One clean caption: control tokens and control characters gone, whitespace tidied, banned words
    removed (also from hashtags), hashtags de-duplicated case-insensitively, capped at
    min(hashtag_cap, 30) and moved last, all within `max_chars` (the body is cut at a word boundary)."""
    if hashtag_cap < 0 or max_chars < 0:
        raise ValueError(f"hashtag_cap={hashtag_cap} and max_chars={max_chars} must be >= 0")
    blocklist = _compiled(tuple(banned_words))
    body, tags = _settle(_normalise(text), blocklist)
    kept = _dedupe(tags, min(hashtag_cap, HASHTAG_LIMIT), blocklist)
    tag_line = " ".join(f"#{t}" for t in kept)
    while tag_line and len(tag_line) > max_chars:
        kept.pop()
        tag_line = " ".join(f"#{t}" for t in kept)
    room = max_chars - len(tag_line) - 2 if tag_line else max_chars
    # A hard cut can leave a banned prefix; removing it can expose a hashtag: those are dropped.
    body = _settle(_trim(body, room), blocklist)[0]
    return f"{body}\n\n{tag_line}" if body and tag_line else body or tag_line


@lru_cache(maxsize=16)
def _compiled(words: tuple[str, ...]) -> BlockList | None:
    return BlockList(words) if words else None


def _settle(body: str, blocklist: BlockList | None) -> tuple[str, list[str]]:
    """Remove hashtags and banned words until neither removal exposes anything new."""
    tags: list[str] = []
    for _ in range(20):
        body, found = _split_hashtags(body)
        tags += found
        cleaned = _remove_banned(body, blocklist)
        if cleaned == body:
            break
        body = cleaned
    return body, tags
