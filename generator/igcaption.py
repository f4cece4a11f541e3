"""Instagram caption rules: hashtag cap and de-duplication, mention cap, 2,200-character limit."""
from __future__ import annotations

import re
from dataclasses import dataclass

from generator import PreflightError
from generator.xtext import trim_to_weight

IG_MAX_CAPTION = 2200
IG_MAX_HASHTAG_CAP = 30
IG_MAX_MENTIONS = 20

HASHTAG = re.compile(r"(?<![\w#&])#(\w+)")
MENTION = re.compile(r"(?<![\w@])@([A-Za-z0-9._]{1,30})")
TRAILING_TAGS = re.compile(r"(?:\s*#\w+)+\s*$")


@dataclass(frozen=True)
class CaptionResult:
    text: str
    changes: tuple[str, ...]


def caption_length(text: str) -> int:
    """Characters as UTF-16 code units: an emoji counts 2, the conservative reading of the limit."""
    return len(text.encode("utf-16-le")) // 2


def prepare_caption(caption: str, *, hashtag_cap: int, max_mentions: int) -> CaptionResult:
    """Apply Instagram's caption limits; see generator/RENDERING.md for each rule."""
    if not 0 <= hashtag_cap <= IG_MAX_HASHTAG_CAP:
        raise PreflightError(f"instagram: hashtag_cap={hashtag_cap} must be within 0..{IG_MAX_HASHTAG_CAP}")
    if not 0 <= max_mentions <= IG_MAX_MENTIONS:
        raise PreflightError(f"instagram: max_mentions={max_mentions} must be within 0..{IG_MAX_MENTIONS}")
    changes: list[str] = []
    caption = caption.strip()
    tail = TRAILING_TAGS.search(caption)
    body = caption[: tail.start()].rstrip() if tail else caption
    block = HASHTAG.findall(tail.group()) if tail else []

    seen: set[str] = set()
    body = HASHTAG.sub(lambda m: _keep_inline(m, seen, hashtag_cap), body)
    tags = []
    for tag in block:
        if tag.casefold() not in seen and len(seen) < hashtag_cap:
            seen.add(tag.casefold())
            tags.append(f"#{tag}")
    total_tags = len(HASHTAG.findall(caption))
    if len(seen) < total_tags:
        changes.append(f"hashtags: kept {len(seen)} of {total_tags} (duplicates removed, cap {hashtag_cap})")

    mentions = MENTION.findall(body)
    if len(mentions) > max_mentions:
        body = _cap_mentions(body, max_mentions)
        changes.append(f"mentions: kept {max_mentions} of {len(mentions)} (@ removed from the rest)")

    tag_line = " ".join(tags)
    while tags and caption_length(tag_line) > IG_MAX_CAPTION:
        tags.pop()
        tag_line = " ".join(tags)
    suffix = f"\n\n{tag_line}" if tag_line and body else tag_line
    budget = IG_MAX_CAPTION - caption_length(suffix)
    trimmed = trim_to_weight(body, budget, caption_length) if body else ""
    if trimmed != body:
        changes.append(f"caption: trimmed at a word boundary to {IG_MAX_CAPTION} characters")
    return CaptionResult(trimmed + suffix, tuple(changes))


def _keep_inline(match: re.Match[str], seen: set[str], cap: int) -> str:
    """Inline tags stay in the sentence; past the cap or repeated they lose their '#'."""
    key = match.group(1).casefold()
    if key not in seen and len(seen) < cap:
        seen.add(key)
        return match.group()
    return match.group(1)


def _cap_mentions(body: str, cap: int) -> str:
    count = 0

    def keep(match: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return match.group() if count <= cap else match.group(1)

    return MENTION.sub(keep, body)
