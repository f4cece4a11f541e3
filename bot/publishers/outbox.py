"""The offline publisher: each post becomes a media file plus one JSON record in <path>/posts/,
and <path>/index.html shows them as a gallery. A seeded audience model answers `fetch_metrics`, so
the demo and the learning loop have engagement to learn from without a network.

Crash safety: media and record are written under temporary names and renamed into place, record
last; a post exists exactly when its record does. The record file is named after the marker, so a
second publish of the same marker is refused as a duplicate and reconciliation finds the first.
"""
from __future__ import annotations

import hashlib
import html
import json
import logging
import math
import os
import random
import re
import secrets
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.publishers.base import (
    DuplicatePost,
    MetricsReading,
    PermanentPublishError,
    Published,
    RateLimitLog,
    RemotePost,
    TransientPublishError,
)
from bot.publishers.history import HistoryItem, HistoryPage

if TYPE_CHECKING:
    from generator.platforms import PreparedPost

log = logging.getLogger(__name__)

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}
HASHTAG = re.compile(r"(?<!\w)#\w+")


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")  # unique per writer
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class OutboxPublisher(RateLimitLog):
    platform = "outbox"
    threads = True  # reply chains (``reply_to``)

    def __init__(self, *, account: str, path: Path, latency_ms: int = 0, audience_seed: int | None = 7,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self.account = account
        self.path = Path(path)
        self.latency_ms = latency_ms
        self.audience_seed = audience_seed
        self._clock = clock
        self._sleep = sleep

    @property
    def posts_dir(self) -> Path:
        return self.path / "posts"

    def _record_path(self, marker: str) -> Path:
        if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", marker):
            raise PermanentPublishError(f"outbox {self.path}: marker {marker!r} is not a safe file name")
        return self.posts_dir / f"{marker}.json"

    def publish(self, post: PreparedPost, *, marker: str, meta: Mapping[str, Any] | None = None,
                reply_to: str | None = None) -> Published:
        record_path = self._record_path(marker)
        if record_path.exists():
            raise DuplicatePost(f"outbox {self.path}: marker {marker} was already published "
                                f"({record_path.name})")
        if self.latency_ms:
            self._sleep(self.latency_ms / 2000)  # half before the "send", half after: crashes land on both sides
        now = self._clock()
        meta = dict(meta or {})
        media_name = f"{marker}{EXTENSIONS.get(post.mime, '.bin')}"
        record: dict[str, Any] = {
            "post_id": meta.get("post_id"), "candidate_id": meta.get("candidate_id"),
            "account": self.account, "marker": marker, "remote_id": marker, "text": post.text,
            "alt_text": post.alt_text, "media": f"posts/{media_name}", "mime": post.mime,
            "width": post.width, "height": post.height, "template": meta.get("template"),
            "generator": meta.get("generator"), "published_at": now.isoformat(),
            "sha256": hashlib.sha256(post.media).hexdigest(),
        }
        if reply_to is not None:  # a thread's later part answers the part before it
            record["in_reply_to"] = reply_to
        if not post.media:
            record["media"] = None
        try:
            self.posts_dir.mkdir(parents=True, exist_ok=True)
            if post.media:
                _write_atomic(self.posts_dir / media_name, post.media)
            _write_atomic(record_path, json.dumps(record, indent=2, ensure_ascii=False).encode())
        except OSError as exc:
            raise TransientPublishError(f"outbox {self.path}: cannot write post {marker}: {exc}",
                                        maybe_sent=record_path.exists()) from exc
        try:
            self._write_index()
        except OSError as exc:  # the post is out (its record exists); the gallery catches up next time
            log.warning("event=outbox_index_failed path=%s error=%s", self.path, exc)
        if self.latency_ms:
            self._sleep(self.latency_ms / 2000)
        log.info("event=outbox_published account=%s marker=%s", self.account, marker)
        return Published(remote_id=marker, url=_url(self.path, record), published_at=now)

    def _records(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = []
        if not self.posts_dir.is_dir():
            return records
        for path in self.posts_dir.glob("*.json"):
            try:
                records.append(json.loads(path.read_text(encoding="utf-8")))
            except (OSError, ValueError) as exc:  # a record is only ever renamed in whole; say which
                log.warning("event=outbox_bad_record path=%s error=%s", path, exc)
        records.sort(key=lambda r: (r.get("published_at", ""), r.get("marker", "")), reverse=True)
        return records

    def _write_index(self) -> None:
        cards = "\n".join(
            '<figure>' + (f'<img src="{html.escape(r["media"])}" alt="{html.escape(r.get("alt_text") or "")}" '
                          'loading="lazy">' if r.get("media") else '') + f'<figcaption>{html.escape(r["text"])}<br><small>{html.escape(r["published_at"])}'
            f' · {html.escape(r["marker"])}</small></figcaption></figure>'
            for r in self._records())
        page = ("<!doctype html><meta charset=utf-8><title>memeloop outbox: "
                f"{html.escape(self.account)}</title><style>body{{font-family:sans-serif}}"
                "figure{display:inline-block;width:300px;vertical-align:top}img{width:100%}</style>"
                f"<h1>{html.escape(self.account)}</h1>\n{cards}\n")
        _write_atomic(self.path / "index.html", page.encode())

    def find_recent(self, *, since: datetime, limit: int) -> list[RemotePost]:
        # `limit` bounds what a paid API is asked for; a local folder costs nothing to read whole,
        # and cutting it would hide an older post of ours behind newer ones during reconciliation.
        del limit
        found = []
        for r in self._records():
            created = datetime.fromisoformat(r["published_at"])
            if created >= since:
                found.append(RemotePost(remote_id=r["remote_id"], text=r["text"], created_at=created,
                                        url=_url(self.path, r), marker=r["marker"]))
        return found

    def fetch_metrics(self, remote_ids: Sequence[str], *, now: datetime) -> list[MetricsReading]:
        readings = []
        for remote_id in remote_ids:
            try:
                path = self._record_path(remote_id)
                record = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError, PermanentPublishError):
                continue
            readings.append(simulated_engagement(record, now=now, seed=self.audience_seed))
        return readings

    def fetch_media(self, url: str) -> bytes:
        """A post's picture from this outbox's folder (``HistoryItem.media_url``: a file URI inside it)."""
        from urllib.parse import unquote, urlparse

        parsed = urlparse(url)
        path = Path(unquote(parsed.path)).resolve()
        if parsed.scheme != "file" or not path.is_relative_to(self.path.resolve()):
            raise PermanentPublishError(f"outbox {self.path}: {url!r} is not a file of this outbox")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise PermanentPublishError(f"outbox {self.path}: cannot read {path.name}: {exc}") from None

    def fetch_history(self, *, since: datetime | None, cursor: str | None, limit: int) -> HistoryPage:
        """The posts folder, newest first, with the simulated audience's counts as of now. The cursor
        is the (published_at, marker) of the last record handed back: the next page is older."""
        now = self._clock()
        records = self._records()  # newest first by (published_at, marker)
        if cursor:
            at, _, marker = cursor.partition("|")
            records = [r for r in records if (r.get("published_at", ""), r.get("marker", "")) < (at, marker)]
        items = []
        for r in records:
            created = datetime.fromisoformat(r["published_at"])
            if since is not None and created < since:
                break
            m = simulated_engagement(r, now=now, seed=self.audience_seed)
            items.append((r, HistoryItem(remote_id=r["remote_id"], created_at=created, text=r.get("text", ""),
                                         likes=m.likes, reposts=m.reposts, replies=m.replies, quotes=m.quotes,
                                         impressions=m.impressions, media_count=1 if r.get("media") else 0,
                                         url=_url(self.path, r),
                                         media_url=(self.path / r["media"]).as_uri() if r.get("media") else None)))
            if len(items) > limit:
                break
        if len(items) > limit:
            last = items[limit - 1][0]
            return HistoryPage(tuple(i for _, i in items[:limit]), f"{last['published_at']}|{last['marker']}")
        return HistoryPage(tuple(i for _, i in items), None)


def _url(root: Path, record: Mapping[str, Any]) -> str:
    """The post's media file, or its record for a text-only post (a thread's later part)."""
    return (root / (record["media"] or f"posts/{record['marker']}.json")).as_uri()


def audience_quality(record: Mapping[str, Any], seed: int) -> float:
    """How much the simulated audience likes a post: a fixed, learnable function of its features."""
    text = record.get("text", "")
    words = len(HASHTAG.sub("", text).split())
    tags = len(HASHTAG.findall(text))
    hour = datetime.fromisoformat(record["published_at"]).hour
    template = record.get("template") or record.get("generator") or "none"
    taste = random.Random(f"{seed}:template:{template}").uniform(0.6, 1.6)  # each audience has favourites
    length = math.exp(-((words - 9) / 7.0) ** 2)  # short punchy captions win, walls of text lose
    hashtags = (1.0, 1.25, 1.2, 0.9)[min(tags, 3)] * (0.85 ** max(0, tags - 3))
    timing = 0.6 + 0.6 * math.exp(-((hour - 19) / 3.5) ** 2)  # evening crowd
    return taste * (0.4 + length) * hashtags * timing


def simulated_engagement(record: Mapping[str, Any], *, now: datetime, seed: int | None) -> MetricsReading:
    """Deterministic counts for one outbox post at ``now``: grow with age, saturate after ~a day, and
    never decrease between polls. No seed = no audience (all unknown)."""
    marker = record["marker"]
    if seed is None:
        return MetricsReading(remote_id=marker, raw={"simulated": False})
    age_h = max(0.0, (now - datetime.fromisoformat(record["published_at"])).total_seconds() / 3600)
    growth = 1.0 - math.exp(-age_h / 6.0)
    rng = random.Random(f"{seed}:{marker}")
    luck = rng.lognormvariate(0.0, 0.35)
    impressions = int(400 * audience_quality(record, seed) * luck * growth)
    rates = {"likes": 0.08, "reposts": 0.015, "replies": 0.01, "quotes": 0.004, "bookmarks": 0.006}
    counts = {name: int(impressions * rate * rng.uniform(0.8, 1.2)) for name, rate in rates.items()}
    return MetricsReading(remote_id=marker, impressions=impressions, views=impressions,
                          comments=counts["replies"], raw={"simulated": True, "age_h": round(age_h, 3)},
                          **counts)
