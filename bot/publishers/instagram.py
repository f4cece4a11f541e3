"""Instagram publisher over instagrapi (the private API). Gentle by design: one session per account
kept in a 0600 file and re-used before any fresh login, a human-like delay and a timeout on every
request, no automatic challenge answering, and any sign that Instagram wants a human pauses the
account with a message for the admin instead of retrying.

Reads never take a failure for "nothing there": the feed and media reads go to the private API
directly (instagrapi's ``user_medias`` turns an HTTP 500 into an empty list, and ``media_info``
answers from a cache and falls back to web requests), so a failed read raises.
"""
from __future__ import annotations

import functools
import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import pydantic
import requests
from instagrapi import exceptions as ig

from bot.config.secrets import Secret
from bot.config.timefmt import iso
from bot.publishers.base import (
    AuthError,
    ChallengeRequired,
    DuplicatePost,
    MetricsReading,
    PermanentPublishError,
    Published,
    PublishError,
    RateLimitLog,
    RemotePost,
    TransientPublishError,
)
from bot.publishers.history import HistoryItem, HistoryPage, download
from bot.publishers.ig_client import configure_client, feed_page, history_page, media_raw
from bot.publishers.ig_errors import CONNECTION_LEVEL, Fate, fate_of

if TYPE_CHECKING:
    from generator.platforms import PreparedPost

log = logging.getLogger(__name__)
T = TypeVar("T")

SHORT_PAUSE = timedelta(hours=1)  # "please wait a few minutes" / HTTP 429: come back later, automatically
DUPLICATE_WINDOW = timedelta(days=1)
SDK_ERRORS = (ig.ClientError, ig.ValidationError, requests.RequestException, pydantic.ValidationError)
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/webp": ".webp"}


def _default_client_factory() -> Any:
    from instagrapi import Client

    return Client()


def _caption_key(text: str) -> str:
    return " ".join(text.split()).casefold()


class InstagramPublisher(RateLimitLog):
    platform = "instagram"
    threads = False  # no reply chains: a thread is one numbered caption

    def __init__(self, *, account: str, username: str, password: Secret, session_file: Path,
                 delay_range: tuple[float, float] = (1.0, 3.0), proxy: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), timeout: float = 30.0,
                 client_factory: Callable[[], Any] = _default_client_factory) -> None:
        super().__init__()
        self.account = account
        self.username = username
        self._password = password
        self.session_file = Path(session_file)
        self.delay_range = delay_range
        self.proxy = proxy
        self.timeout = timeout
        self._clock = clock
        self._factory = client_factory
        self._cl: Any = None
        self._latched: tuple[PublishError, float | None] | None = None

    # -- session -------------------------------------------------------------------------------
    def _session_mtime(self) -> float | None:
        try:
            return self.session_file.stat().st_mtime_ns
        except OSError:
            return None

    def reset(self) -> None:
        """Forget a pause remembered in this process (call when the admin resumes the account)."""
        self._latched, self._cl = None, None

    def _latch(self, exc: PublishError) -> PublishError:
        """Remember a "needs a human" outcome: until the session file changes (`memeloop accounts
        login`) or `reset()`, every call fails at once without talking to Instagram."""
        self._latched, self._cl = (exc, self._session_mtime()), None
        return exc

    def _client(self) -> Any:
        if self._latched is not None:
            exc, mtime = self._latched
            if mtime == self._session_mtime():
                raise exc
            self._latched = None  # a fresh session was saved by the admin: try again, once
        if self._cl is None:
            cl = self._factory()
            configure_client(cl, delay_range=self.delay_range, proxy=self.proxy, timeout=self.timeout)
            had_session = self._load_session(cl)
            self._login(cl, had_session)
            self._save_session(cl)
            self._cl = cl
        return self._cl

    def _load_session(self, cl: Any) -> bool:
        if not self.session_file.is_file():
            return False
        try:  # re-use device + cookies: a fresh login from a "new phone" is what gets flagged
            cl.load_settings(self.session_file)
        except (OSError, ValueError) as exc:
            log.warning("event=instagram_session_unreadable account=%s path=%s error=%s",
                        self.account, self.session_file, exc)
            return False
        return bool(cl.user_id)

    def _login(self, cl: Any, had_session: bool) -> None:
        """A saved session is checked with one request; only when Instagram rejects it does
        instagrapi send the password, once. A password login that fails for any reason but a
        broken connection pauses the account: never loop on the password."""
        try:
            cl.login(self.username, self._password.reveal())
        except SDK_ERRORS as exc:
            mapped = self._map("login", exc, sends_post=False)
            password_sent = not had_session or getattr(cl, "relogin_attempt", 0) > 0
            if _needs_admin(mapped):
                raise self._latch(mapped) from exc
            if password_sent and type(exc).__name__ not in CONNECTION_LEVEL and not isinstance(
                    mapped, ChallengeRequired):
                raise self._latch(ChallengeRequired(
                    f"instagram account {self.account!r}: the password login failed ({type(exc).__name__}: "
                    f"{str(exc)[:160]}); it will not be tried again. Run `memeloop accounts login "
                    f"{self.account}` at a terminal, then `memeloop accounts resume {self.account}`")) from exc
            raise mapped from exc

    def _save_session(self, cl: Any) -> None:
        save_session_file(cl, self.session_file)

    # -- the one place errors are mapped -------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T], *, sends_post: bool = False) -> T:
        try:
            return fn()
        except SDK_ERRORS as exc:
            mapped = self._map(what, exc, sends_post=sends_post)
            if _needs_admin(mapped):
                raise self._latch(mapped) from exc
            raise mapped from exc

    def _map(self, what: str, exc: BaseException, *, sends_post: bool) -> PublishError:
        if isinstance(exc, pydantic.ValidationError):  # an answer instagrapi could not read
            return TransientPublishError(f"instagram {what}: unreadable answer ({exc.error_count()} field "
                                         f"error(s)); the request may have reached Instagram", maybe_sent=sends_post)
        if isinstance(exc, requests.RequestException):  # raw requests instagrapi makes (photo rupload)
            sent = sends_post and not isinstance(exc, requests.ConnectTimeout)
            return TransientPublishError(f"instagram {what}: no answer ({type(exc).__name__})", maybe_sent=sent)
        name, fate = fate_of(exc) or (type(exc).__name__, Fate.UNCLEAR)
        detail = " ".join(str(getattr(exc, "message", "") or exc).split())[:200]
        if fate is Fate.HUMAN:
            return ChallengeRequired(self._human_needed(what, name, exc))
        if fate is Fate.SLOW_DOWN:
            until = self._clock() + SHORT_PAUSE
            return ChallengeRequired(
                f"instagram account {self.account!r}: Instagram asked us to slow down during {what} ({name}); "
                f"paused until {iso(until)}, nothing was retried", pause_until=until)
        if fate is Fate.AUTH:
            return AuthError(f"instagram account {self.account!r}: login refused during {what} ({name}); check "
                             f"MEMELOOP_IG_PASSWORD, then `memeloop accounts resume {self.account}`")
        if fate is Fate.CONFIGURED:
            return TransientPublishError(f"instagram {what}: configure failed ({name}: {detail})", maybe_sent=True)
        if fate is Fate.NOT_SENT:
            return TransientPublishError(f"instagram {what}: upload failed ({name}: {detail})", maybe_sent=False)
        if fate in (Fate.REFUSED, Fate.GONE):
            return PermanentPublishError(f"instagram {what}: refused ({name}: {detail})")
        return TransientPublishError(f"instagram {what}: no clear answer ({name}: {detail})", maybe_sent=sends_post)

    def _human_needed(self, what: str, name: str, exc: BaseException) -> str:
        detail = getattr(exc, "feedback_message", None) or getattr(exc, "message", "") or name
        return (f"instagram account {self.account!r} needs a human ({name} during {what}: "
                f"{' '.join(str(detail).split())[:200]}). Nothing was answered or retried. Run `memeloop accounts "
                f"login {self.account}` at a terminal (it handles codes), or clear the prompt in the Instagram "
                f"app as {self.username}; then run `memeloop accounts resume {self.account}`")

    # -- endpoints -----------------------------------------------------------------------------
    def publish(self, post: PreparedPost, *, marker: str, meta: Mapping[str, Any] | None = None) -> Published:
        cl = self._client()
        since = self._clock() - DUPLICATE_WINDOW
        if any(_caption_key(p.text) == _caption_key(post.text) for p in self.find_recent(since=since, limit=12)):
            raise DuplicatePost(f"instagram account {self.account!r}: a post with this caption is already "
                                f"on the profile")
        with tempfile.TemporaryDirectory(prefix="memeloop-ig-") as tmp:
            path = Path(tmp) / f"{marker}{EXTENSIONS.get(post.mime, '.jpg')}"
            path.write_bytes(post.media)
            extra = {"custom_accessibility_caption": post.alt_text} if post.alt_text else {}
            media = self._call("photo_upload", lambda: cl.photo_upload(path, caption=post.text, extra_data=extra),
                               sends_post=True)
        log.info("event=instagram_published account=%s marker=%s media=%s", self.account, marker, media.pk)
        taken = getattr(media, "taken_at", None)
        return Published(remote_id=str(media.pk), url=f"https://www.instagram.com/p/{media.code}/",
                         published_at=taken.astimezone(UTC) if taken else self._clock())

    def fetch_metrics(self, remote_ids: Sequence[str], *, now: datetime) -> list[MetricsReading]:
        """Fresh per-item reads (no cache); a deleted post is left out, the others are still read."""
        cl = self._client()
        readings = []
        for remote_id in remote_ids:
            try:
                item = self._call("media_info", functools.partial(media_raw, cl, remote_id))
            except PermanentPublishError as exc:  # deleted / unavailable: this item only
                log.info("event=instagram_media_gone account=%s media=%s reason=%s", self.account, remote_id, exc)
                continue
            readings.append(_reading(str(remote_id), item))
        return readings

    def find_recent(self, *, since: datetime, limit: int) -> list[RemotePost]:
        cl = self._client()
        items = self._call("feed", lambda: feed_page(cl, amount=max(1, min(limit, 50))))
        found = []
        for item in items:
            taken = item.get("taken_at")
            created = datetime.fromtimestamp(int(taken), UTC) if taken else self._clock()
            if created >= since:
                found.append(RemotePost(remote_id=str(item["pk"]), text=(item.get("caption") or {}).get("text") or "",
                                        created_at=created, url=f"https://www.instagram.com/p/{item.get('code')}/"))
        found.sort(key=lambda p: p.created_at, reverse=True)
        return found[:limit]

    def fetch_media(self, url: str) -> bytes:
        """The picture of one of the account's posts (``HistoryItem.media_url``), from the media host."""
        return download(url)

    def fetch_history(self, *, since: datetime | None, cursor: str | None, limit: int) -> HistoryPage:
        """One page of the account's own posts, newest first, with like and comment counts (a
        hidden like count, -1 or ``like_and_view_counts_disabled``, is None). A page cut short by
        ``limit`` continues after the last item handed back (the feed's ``max_id`` is an item id)."""
        cl = self._client()
        raw, next_max_id = self._call("feed history", lambda: history_page(cl, amount=max(1, min(limit, 50)),
                                                                           max_id=cursor))
        items: list[HistoryItem] = []
        for item in raw:
            taken = item.get("taken_at")
            if not taken:
                continue
            created = datetime.fromtimestamp(int(taken), UTC)
            if since is not None and created < since:
                if item.get("timeline_pinned_user_ids"):
                    continue  # a pinned post sits on top whatever its age
                return HistoryPage(tuple(items[:limit]), None)  # newest first: the rest is older still
            reading = _reading(str(item["pk"]), item)
            items.append(HistoryItem(remote_id=str(item["pk"]), created_at=created,
                                     text=(item.get("caption") or {}).get("text") or "", likes=reading.likes,
                                     replies=reading.comments, impressions=reading.views,
                                     media_count=int(item.get("carousel_media_count") or 1),
                                     url=f"https://www.instagram.com/p/{item.get('code')}/",
                                     media_url=_picture_url(item)))
        if len(items) > limit:
            last = raw[[str(r.get("pk")) for r in raw].index(items[limit - 1].remote_id)]
            return HistoryPage(tuple(items[:limit]), str(last.get("id") or last["pk"]))
        return HistoryPage(tuple(items), next_max_id)


def _picture_url(item: Mapping[str, Any]) -> str | None:
    """The first picture of a feed item: its image (a video's cover), or a carousel's first one; of
    the sizes offered the smallest at least 320 px wide (enough to recognise a template)."""
    for media in (item, *(item.get("carousel_media") or [])[:1]):
        candidates = [c for c in (media.get("image_versions2") or {}).get("candidates") or [] if c.get("url")]
        if candidates:
            wide = [c for c in candidates if int(c.get("width") or 0) >= 320]
            return str(min(wide, key=lambda c: int(c["width"]))["url"] if wide else candidates[0]["url"])
        if media.get("thumbnail_url"):
            return str(media["thumbnail_url"])
    return None


def _needs_admin(exc: PublishError) -> bool:
    """Paused until the admin acts (not a timed "slow down" pause)."""
    return isinstance(exc, AuthError) or isinstance(exc, ChallengeRequired) and exc.pause_until is None


def _count(item: Mapping[str, Any], *keys: str) -> int | None:
    for key in keys:
        value = item.get(key)
        if isinstance(value, int) and value >= 0:
            return value
    return None  # missing, hidden (-1) or not a number: unknown, never 0


def _reading(remote_id: str, item: Mapping[str, Any]) -> MetricsReading:
    hidden = bool(item.get("like_and_view_counts_disabled"))
    likes = None if hidden else _count(item, "like_count")
    raw = {k: item.get(k) for k in ("like_count", "comment_count", "play_count", "view_count", "code",
                                    "like_and_view_counts_disabled") if k in item}
    return MetricsReading(remote_id=remote_id, likes=likes, comments=_count(item, "comment_count"),
                          views=None if hidden else _count(item, "play_count", "view_count"), raw=raw)


def save_session_file(cl: Any, session_file: Path) -> None:
    """Write the client's settings to ``session_file`` atomically, readable by its owner only (folders
    it creates too: 0700 whatever the umask)."""
    missing = [p for p in (session_file.parent, *session_file.parent.parents) if not p.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=0o700, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is filtered by the umask; this is not
    fd, tmp = tempfile.mkstemp(dir=session_file.parent, prefix=".ig-session-")  # created 0600
    os.close(fd)
    try:
        cl.dump_settings(tmp)
        os.chmod(tmp, 0o600)
        os.replace(tmp, session_file)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
