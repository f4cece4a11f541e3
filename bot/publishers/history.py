"""A page of an account's own past posts, as a publisher reads them for `accounts import-history`.

Publishers that can read their account's history implement
``fetch_history(*, since: datetime | None, cursor: str | None, limit: int) -> HistoryPage``:
newest first, at most ``limit`` items, ``cursor`` from the previous page (None = start at the
newest), ``since`` = stop at posts older than this. Counters the network does not report are None.
``media_url`` is where the post's (first) picture can be read, for recognising the template it was
made on; such publishers also implement ``fetch_media(url: str) -> bytes`` (``download`` here for
the networks, the outbox reads its own folder).
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from bot.publishers.errors import PermanentPublishError, TransientPublishError

log = logging.getLogger(__name__)

MAX_MEDIA_BYTES = 20 * 1024 * 1024  # a posted picture; anything bigger is not one
MEDIA_TIMEOUT_S = 20


@dataclass(frozen=True)
class HistoryItem:
    remote_id: str
    created_at: datetime  # aware (UTC)
    text: str
    likes: int | None = None
    reposts: int | None = None
    replies: int | None = None
    quotes: int | None = None
    impressions: int | None = None
    media_count: int = 0
    url: str | None = None
    media_url: str | None = None  # the (first) picture or video thumbnail, when the network says where


@dataclass(frozen=True)
class HistoryPage:
    items: tuple[HistoryItem, ...]
    next_cursor: str | None  # None: there are no older posts


def download(url: str, *, max_bytes: int = MAX_MEDIA_BYTES, timeout_s: float = MEDIA_TIMEOUT_S) -> bytes:
    """The bytes at an https ``url`` (a post's picture on the network's media host). An answer that
    is not 200, a timeout or a dropped connection is a TransientPublishError; a non-https address or a
    body over ``max_bytes`` a PermanentPublishError. Nothing is sent but the GET."""
    import requests

    if not url.startswith("https://"):
        raise PermanentPublishError(f"media {url!r}: only https addresses are read")
    try:
        with requests.get(url, timeout=timeout_s, stream=True) as answer:
            if answer.status_code != 200:
                raise TransientPublishError(f"media {url}: HTTP {answer.status_code}", maybe_sent=False)
            body = bytearray()
            for chunk in answer.iter_content(64 * 1024):
                body += chunk
                if len(body) > max_bytes:
                    raise PermanentPublishError(f"media {url}: larger than {max_bytes} bytes")
            return bytes(body)
    except requests.RequestException as exc:
        raise TransientPublishError(f"media {url}: {type(exc).__name__}", maybe_sent=False) from None
