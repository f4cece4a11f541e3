"""Recognise our own post among the platform's recent posts (reconciliation)."""
from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from bot.publishers.base import PublishError, RemotePost
from generator import GeneratorError

URLS = re.compile(r"(?i)\b(?:https?://|www\.)\S+")  # X rewrites every link in the text to a t.co one
TRAILING_LINKS = re.compile(r"(\s*\x00url\x00)+\s*$")  # X appends the media link after the text


def normalise(text: str) -> str:
    """Comparable form: entities unescaped, every URL one placeholder (ours as sent, X's as t.co),
    links at the very end dropped on both sides (X adds the media link there), whitespace collapsed,
    case folded."""
    body = TRAILING_LINKS.sub("", URLS.sub("\x00url\x00", html.unescape(text)))
    return " ".join(body.split()).casefold()


def expected_texts(text: str, prepared_text: Callable[[], str]) -> set[str]:
    """The candidate's text and, when it can be rebuilt, the platform-ready text actually sent."""
    texts = {normalise(text)}
    try:
        texts.add(normalise(prepared_text()))
    except (PublishError, GeneratorError, OSError, ImportError):  # the raw text still matches most posts
        pass
    return texts


def find_match(remote: Sequence[RemotePost], *, marker: str, texts: Iterable[str], since: datetime,
               taken: set[str]) -> RemotePost | None:
    """By marker where the platform keeps one; else the oldest unclaimed post with the same text
    created since ``since``."""
    for post in remote:
        if post.marker == marker:
            return post
    wanted = set(texts)
    candidates = [p for p in remote if p.marker is None and p.remote_id not in taken and p.created_at >= since
                  and normalise(p.text) in wanted]
    return min(candidates, key=lambda p: p.created_at) if candidates else None
