"""Mastodon publisher (Mastodon.py over requests; also GoToSocial and other Mastodon-API servers).

Every HTTP call goes through `_call`, which records the rate-limit headers of the answer and maps
Mastodon.py's exceptions to ours. Mastodon.py is built with ``ratelimit_method="throw"`` (its
default sleeps up to 5 minutes and re-sends), a request timeout, a fixed API version (no version
probe per client) and our own session, which remembers the last answer's headers. A status is
created with ``Idempotency-Key`` = the post's marker, so a retried creation returns the first one.
The server's limits (``GET /api/v2/instance``) are read once per publisher, i.e. per account.
"""
from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from typing import TYPE_CHECKING, Any, TypeVar

import requests
from mastodon import Mastodon
from mastodon.errors import (
    MastodonAPIError,
    MastodonError,
    MastodonNetworkError,
    MastodonNotFoundError,
    MastodonRatelimitError,
    MastodonServerError,
    MastodonUnauthorizedError,
)

from bot.config.secrets import Secret
from bot.publishers.base import (
    AuthError,
    MetricsReading,
    PermanentPublishError,
    Published,
    RateLimited,
    RateLimitLog,
    RateLimitReading,
    RemotePost,
    TransientPublishError,
)
from bot.publishers.history import HistoryItem, HistoryPage
from generator.platforms import mastodon_length

if TYPE_CHECKING:
    from generator.platforms import PreparedPost

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)  # Mastodon's window, for a 429 without a reset header
API_VERSION = "4.3.0"  # the endpoints used here exist since 3.1.4; fixing it spares a version probe
PAGE = 40  # the most GET /api/v1/accounts/:id/statuses returns per page


class _Session(requests.Session):
    """Remembers the last answer (its rate-limit headers) and never waits without a timeout."""

    def __init__(self, timeout: float) -> None:
        super().__init__()
        self._timeout = timeout
        self.last: requests.Response | None = None

    def request(self, method: str, url: str, *args: Any,  # type: ignore[override]  # str urls only
                **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        self.last = None
        response = super().request(method, url, *args, **kwargs)
        self.last = response
        return response


class _Text(HTMLParser):
    """Mastodon returns a status's text as HTML: paragraphs, <br>, links split in spans."""

    def __init__(self) -> None:
        super().__init__()
        self.parts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "br":
            self.parts.append("\n")
        elif tag == "p" and self.parts:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def html_to_text(content: str) -> str:
    parser = _Text()
    parser.feed(content or "")
    parser.close()
    return "".join(parser.parts).strip()


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _time(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=UTC)
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


class MastodonPublisher(RateLimitLog):
    platform = "mastodon"
    threads = True  # reply chains (``reply_to``)

    def __init__(self, *, account: str, instance_url: str, access_token: Secret,
                 visibility: str = "public", spoiler_text: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), timeout: float = 30.0,
                 media_wait: float = 60.0, sleep: Callable[[float], None] = time.sleep) -> None:
        super().__init__()
        self.account = account
        self.instance_url = instance_url.rstrip("/")
        self.visibility = visibility
        self.spoiler_text = spoiler_text or None
        self.media_wait = media_wait
        self._clock = clock
        self._sleep = sleep
        self._session = _Session(timeout)
        self._client = Mastodon(access_token=access_token.reveal(), api_base_url=self.instance_url,
                                ratelimit_method="throw", request_timeout=timeout, mastodon_version=API_VERSION,
                                version_check_mode="none", session=self._session)
        # Mastodon.py 2.3 parses mastodon_version only when version checks are on; without this it
        # takes the server for 1.0.0 and uploads to the retired /api/v1/media.
        self._client.mastodon_major, self._client.mastodon_minor, self._client.mastodon_patch = (
            int(p) for p in API_VERSION.split("."))
        self._account_id: str | None = None
        self._instance: dict[str, Any] | None = None

    # -- the one place errors are mapped -------------------------------------------------------
    def _call(self, endpoint: str, fn: Callable[[], T], *, sends_post: bool = False) -> T:
        """Run one request. ``sends_post``: the request itself creates the post, so a failure after
        it left us may mean it is on the server anyway."""
        try:
            result = fn()
        except MastodonRatelimitError as exc:
            self._note(endpoint)
            retry_at = self._retry_at()
            raise RateLimited(f"mastodon {endpoint}: rate limited until {retry_at.isoformat()}", retry_at) from exc
        except MastodonUnauthorizedError as exc:
            self._note(endpoint)
            raise AuthError(f"mastodon account {self.account!r}: access token rejected on {endpoint} "
                            f"({_detail(exc)}); check the MEMELOOP_MASTODON_* secrets, then "
                            f"`memeloop accounts resume {self.account}`") from exc
        except MastodonServerError as exc:
            self._note(endpoint)
            raise TransientPublishError(f"mastodon {endpoint}: server error ({_detail(exc)})",
                                        maybe_sent=sends_post) from exc
        except MastodonNotFoundError:
            self._note(endpoint)
            raise  # the caller decides (a deleted post is left out of the metrics)
        except MastodonAPIError as exc:
            self._note(endpoint)
            status = _status(exc)
            if status == 403:
                raise AuthError(f"mastodon account {self.account!r}: not allowed to call {endpoint} "
                                f"({_detail(exc)}); check the token's scopes (read, write) and the account, "
                                f"then `memeloop accounts resume {self.account}`") from exc
            if status is None:  # an answer that is not JSON: it came back, but from what?
                raise TransientPublishError(f"mastodon {endpoint}: unreadable answer ({_detail(exc)})",
                                            maybe_sent=sends_post) from exc
            raise PermanentPublishError(f"mastodon {endpoint}: refused (HTTP {status}): {_detail(exc)}") from exc
        except MastodonNetworkError as exc:
            cause = exc.__context__
            if isinstance(cause, requests.ConnectTimeout) or (
                    isinstance(cause, requests.ConnectionError) and "refused" in str(cause).lower()):
                raise TransientPublishError(f"mastodon {endpoint}: could not connect ({type(cause).__name__})",
                                            maybe_sent=False) from exc
            raise TransientPublishError(f"mastodon {endpoint}: no complete answer "
                                        f"({type(cause).__name__ if cause else 'network error'}); the request "
                                        f"may have reached the server", maybe_sent=sends_post) from exc
        except MastodonError as exc:  # illegal arguments, I/O: refused before sending
            raise PermanentPublishError(f"mastodon {endpoint}: {type(exc).__name__}: {exc}") from exc
        self._note(endpoint)
        return result

    def _retry_at(self) -> datetime:
        response = self._session.last
        reset = _time(response.headers.get("X-RateLimit-Reset")) if response is not None else None
        if reset is None and self._client.ratelimit_reset:
            reset = datetime.fromtimestamp(float(self._client.ratelimit_reset), UTC)
        now = self._clock()
        return reset if reset is not None and reset > now else now + DEFAULT_RATE_LIMIT_WAIT

    def _note(self, endpoint: str) -> None:
        response = self._session.last
        if response is None:
            return
        headers = response.headers
        if "X-RateLimit-Remaining" not in headers and "X-RateLimit-Reset" not in headers:
            return
        self.note_rate_limit(RateLimitReading(
            endpoint=endpoint, limit=_int(headers.get("X-RateLimit-Limit")),
            remaining=_int(headers.get("X-RateLimit-Remaining")), reset_at=_time(headers.get("X-RateLimit-Reset"))))

    # -- limits ----------------------------------------------------------------------------------
    def limits(self) -> dict[str, Any]:
        """``configuration`` of GET /api/v2/instance (read once per publisher = per account)."""
        if self._instance is None:
            body = self._call("GET /api/v2/instance", self._client.instance_v2)
            config = (body or {}).get("configuration") or {}
            self._instance = dict(config) if isinstance(config, Mapping) else {}
        return self._instance

    def _check_limits(self, post: PreparedPost) -> None:
        config = self.limits()
        statuses = config.get("statuses") or {}
        media = config.get("media_attachments") or {}
        max_chars = _int(statuses.get("max_characters"))
        if max_chars is not None and mastodon_length(post.text) > max_chars:
            raise PermanentPublishError(f"mastodon account {self.account!r}: the text is "
                                        f"{mastodon_length(post.text)} characters; {self.instance_url} "
                                        f"allows {max_chars}")
        max_bytes = _int(media.get("image_size_limit"))
        if post.media and max_bytes is not None and len(post.media) > max_bytes:
            raise PermanentPublishError(f"mastodon account {self.account!r}: the image is {len(post.media)} "
                                        f"bytes; {self.instance_url} allows {max_bytes}")
        max_pixels = _int(media.get("image_matrix_limit"))
        if post.media and max_pixels is not None and post.width * post.height > max_pixels:
            raise PermanentPublishError(f"mastodon account {self.account!r}: the image has "
                                        f"{post.width * post.height} pixels; {self.instance_url} allows {max_pixels}")
        types = media.get("supported_mime_types")
        if post.media and types and post.mime not in types:
            raise PermanentPublishError(f"mastodon account {self.account!r}: {self.instance_url} does not take "
                                        f"{post.mime} images")

    # -- publishing ------------------------------------------------------------------------------
    def _upload(self, post: PreparedPost) -> str:
        media = self._call("POST /api/v2/media", lambda: self._client.media_post(
            post.media, mime_type=post.mime, description=post.alt_text or None,
            file_name="meme." + post.mime.rsplit("/", 1)[-1]))
        media_id = str(media.get("id") or "")
        if not media_id:
            raise PermanentPublishError(f"mastodon POST /api/v2/media: no media id in the answer: {str(media)[:200]}")
        deadline = time.monotonic() + self.media_wait
        delay = 1.0
        while not media.get("url"):  # 202: still processing; the status would be refused (422)
            if time.monotonic() >= deadline:
                raise TransientPublishError(f"mastodon account {self.account!r}: media {media_id} still processing "
                                            f"after {self.media_wait:g} s; nothing was posted", maybe_sent=False)
            self._sleep(delay)
            delay = min(delay * 2, 8.0)
            media = self._call("GET /api/v1/media/:id", lambda: self._client.media(media_id))
        return media_id

    def publish(self, post: PreparedPost, *, marker: str, meta: Mapping[str, Any] | None = None,
                reply_to: str | None = None) -> Published:
        """One status; ``reply_to``: the status it answers (a thread's previous part)."""
        self._check_limits(post)
        media_ids = [self._upload(post)] if post.media else None
        status = self._call("POST /api/v1/statuses", lambda: self._client.status_post(
            post.text, in_reply_to_id=reply_to, media_ids=media_ids, visibility=self.visibility,
            spoiler_text=self.spoiler_text, idempotency_key=marker), sends_post=True)
        status_id = str(status.get("id") or "")
        if not status_id:
            raise TransientPublishError(f"mastodon POST /api/v1/statuses: answer without an id: {str(status)[:200]}",
                                        maybe_sent=True)
        log.info("event=mastodon_published account=%s marker=%s status=%s", self.account, marker, status_id)
        return Published(remote_id=status_id, url=status.get("url") or status.get("uri"),
                         published_at=_time(status.get("created_at")) or self._clock())

    # -- reading ---------------------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: Sequence[str], *, now: datetime) -> list[MetricsReading]:
        readings = []
        for remote_id in remote_ids:
            try:
                status = self._call("GET /api/v1/statuses/:id", functools.partial(self._client.status, remote_id))
            except MastodonNotFoundError:  # deleted (or no longer visible): left out
                log.info("event=mastodon_status_gone account=%s status=%s", self.account, remote_id)
                continue
            readings.append(MetricsReading(
                remote_id=str(status["id"]), likes=_int(status.get("favourites_count")),
                reposts=_int(status.get("reblogs_count")), replies=_int(status.get("replies_count")),
                raw=_plain(status)))
        return readings

    def _me(self) -> str:
        if self._account_id is None:
            me = self._call("GET /api/v1/accounts/verify_credentials", self._client.account_verify_credentials)
            self._account_id = str(me["id"])
        return self._account_id

    def _statuses(self, *, max_id: str | None, limit: int) -> list[Any]:
        account_id = self._me()
        try:
            page = self._call("GET /api/v1/accounts/:id/statuses", lambda: self._client.account_statuses(
                account_id, max_id=max_id, limit=min(PAGE, max(1, limit)), exclude_reblogs=True))
        except MastodonNotFoundError as exc:
            raise PermanentPublishError(f"mastodon account {self.account!r}: own account {account_id} not "
                                        f"found") from exc
        return list(page or [])

    def find_recent(self, *, since: datetime, limit: int) -> list[RemotePost]:
        found: list[RemotePost] = []
        max_id: str | None = None
        while len(found) < limit:
            page = self._statuses(max_id=max_id, limit=limit - len(found))
            for status in page:
                created = _time(status.get("created_at"))
                if created is None or created < since:
                    return found
                found.append(RemotePost(remote_id=str(status["id"]), text=html_to_text(status.get("content", "")),
                                        created_at=created, url=status.get("url")))
            if len(page) < min(PAGE, limit):
                break
            max_id = str(page[-1]["id"])
        return found[:limit]

    def fetch_history(self, *, since: datetime | None, cursor: str | None, limit: int) -> HistoryPage:
        """Newest first; ``cursor`` is the id of the oldest status of the previous page (max_id)."""
        want = min(PAGE, max(1, limit))
        page = self._statuses(max_id=cursor, limit=want)
        items: list[HistoryItem] = []
        for status in page:
            created = _time(status.get("created_at"))
            if created is None:
                continue
            if since is not None and created < since:
                return HistoryPage(items=tuple(items), next_cursor=None)
            items.append(HistoryItem(
                remote_id=str(status["id"]), created_at=created.astimezone(UTC),
                text=html_to_text(status.get("content", "")), likes=_int(status.get("favourites_count")),
                reposts=_int(status.get("reblogs_count")), replies=_int(status.get("replies_count")),
                media_count=len(status.get("media_attachments") or []), url=status.get("url")))
        next_cursor = str(page[-1]["id"]) if len(page) >= want and page else None
        return HistoryPage(items=tuple(items), next_cursor=next_cursor)


def _status(exc: MastodonAPIError) -> int | None:
    return exc.args[1] if len(exc.args) > 1 and isinstance(exc.args[1], int) else None


def _detail(exc: MastodonError) -> str:
    """The server's error text (args: message, status, reason, error), never the token."""
    args = [str(a) for a in exc.args if a not in (None, "")]
    return " | ".join(" ".join(a.split()) for a in args)[:300]


def _plain(value: Any) -> Any:
    """Mastodon.py's attribute dicts and datetimes as plain JSON values."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        return value.isoformat()
    return value
