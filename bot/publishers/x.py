"""X (Twitter) publisher: tweepy's v2 Client for posts and reads; media through the v2 upload
endpoint (tweepy 4.17 has none) signed with the same OAuth 1.0a user credentials.

Every HTTP call goes through `_call`, which records the rate-limit headers and maps tweepy's and
requests' exceptions to ours, reading X's problem JSON (``title``, ``type``, ``detail``, ``reason``,
``errors[]``) rather than tweepy's message, which carries only ``detail``. Nothing here sleeps on a
rate limit: `RateLimited.retry_at` carries the later of the 15-minute and the 24-hour reset and the
caller reschedules. Every request, tweepy's included, goes to ``api_base``.
"""
from __future__ import annotations

import functools
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, TypeVar

import requests
import tweepy
from requests_oauthlib import OAuth1

from bot.config.secrets import Secret
from bot.publishers.base import (
    AuthError,
    CreditsDepleted,
    DuplicatePost,
    MetricsReading,
    PermanentPublishError,
    Published,
    RateLimited,
    RateLimitLog,
    RateLimitReading,
    RemotePost,
    TransientPublishError,
)
from bot.publishers.history import HistoryItem, HistoryPage, download

if TYPE_CHECKING:
    from generator.platforms import PreparedPost

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=15)  # X's window, for a 429 without a reset header
AUTH_HINTS = ("not permitted", "oauth1-permissions", "client-not-enrolled", "unsupported-authentication",
              "client-forbidden", "not configured with the appropriate oauth1")
TWEEPY_HOST = "https://api.twitter.com"  # hard-coded in tweepy 4.17's Client.request
URL = re.compile(r"(?i)\b(?:https?://|www\.)\S+")
TWITTER_EPOCH_MS = 1288834974657  # snowflake ids carry their creation time
HISTORY_ENDPOINT = "GET /2/users/:id/tweets"
UNTIL = "until:"  # a cursor of our own: older than this tweet (a page cut short by ``limit``)


class _XSession(requests.Session):
    """tweepy passes no timeout and always calls its own host: a hung connection must not hold a
    lease forever, and ``[accounts.x] api_base`` must reach every call."""

    def __init__(self, timeout: float, api_base: str) -> None:
        super().__init__()
        self._timeout = timeout
        self._api_base = api_base

    def request(self, method: str, url: str, *args: Any,  # type: ignore[override]  # str urls only
                **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = self._timeout
        if url.startswith(TWEEPY_HOST + "/"):
            url = self._api_base + url[len(TWEEPY_HOST):]
        return super().request(method, url, *args, **kwargs)


def problem_of(response: Any) -> dict[str, Any]:
    """X's problem object of an error answer (empty when the answer is not JSON)."""
    try:
        body = response.json()
    except (ValueError, AttributeError):
        return {}
    return body if isinstance(body, dict) else {}


def problem_text(problem: Mapping[str, Any]) -> str:
    """Every hint X gives, in one line: title, type, reason, detail and each errors[] message."""
    parts = [str(problem.get(k)) for k in ("title", "type", "reason", "detail") if problem.get(k)]
    for error in problem.get("errors") or []:
        if isinstance(error, dict):
            parts.extend(str(error[k]) for k in ("message", "title", "type", "detail") if error.get(k))
    return " ".join(" | ".join(dict.fromkeys(parts)).split())


def snowflake_time(tweet_id: str) -> datetime | None:
    try:
        return datetime.fromtimestamp(((int(tweet_id) >> 22) + TWITTER_EPOCH_MS) / 1000, UTC)
    except ValueError:
        return None


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def _raise_for_status(response: requests.Response) -> requests.Response:
    """The raw media calls raise the same tweepy exceptions as the Client does."""
    status = response.status_code
    if status == 429:
        raise tweepy.TooManyRequests(response, reset_time=_int(response.headers.get("x-rate-limit-reset")))
    errors = {400: tweepy.BadRequest, 401: tweepy.Unauthorized, 403: tweepy.Forbidden, 404: tweepy.NotFound}
    if status in errors:
        raise errors[status](response)
    if status >= 500:
        raise tweepy.TwitterServerError(response)
    if not 200 <= status < 300:
        raise tweepy.HTTPException(response)
    return response


class XPublisher(RateLimitLog):
    platform = "x"
    threads = True  # reply chains (``reply_to``)

    def __init__(self, *, account: str, credentials: Mapping[str, Secret], api_base: str = "https://api.x.com",
                 handle: str | None = None, clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 timeout: float = 30.0, allow_urls: bool = False) -> None:
        super().__init__()
        self.account = account
        self.allow_urls = allow_urls
        self.api_base = api_base.rstrip("/")
        self.handle = (handle or "i").lstrip("@")
        self._clock = clock
        keys = [credentials[k].reveal() for k in ("api_key", "api_secret", "access_token", "access_token_secret")]
        self._client = tweepy.Client(consumer_key=keys[0], consumer_secret=keys[1], access_token=keys[2],
                                     access_token_secret=keys[3], return_type=requests.Response,
                                     wait_on_rate_limit=False)
        self._client.session = _XSession(timeout, self.api_base)
        self._oauth = OAuth1(keys[0], keys[1], keys[2], keys[3])
        self._user_id: str | None = None

    # -- the one place errors are mapped -------------------------------------------------------
    def _call(self, endpoint: str, fn: Callable[[], requests.Response], *, sends_post: bool = False) -> Any:
        """Run one request; return its JSON. ``sends_post``: the request itself creates the post, so
        a failure after it left us may mean it is on X anyway."""
        try:
            response = fn()
        except tweepy.HTTPException as exc:
            self._note(endpoint, exc.response)
            raise self._map_http(endpoint, exc, sends_post) from exc
        except requests.ConnectTimeout as exc:
            raise TransientPublishError(f"x {endpoint}: could not connect: {exc}", maybe_sent=False) from exc
        except (requests.Timeout, requests.ConnectionError, requests.exceptions.ChunkedEncodingError,
                requests.exceptions.ContentDecodingError) as exc:  # cut-off answers: the request got there
            raise TransientPublishError(f"x {endpoint}: no complete answer ({type(exc).__name__}); the request "
                                        f"may have reached X", maybe_sent=sends_post) from exc
        except requests.RequestException as exc:  # refused before sending (bad URL, bad arguments)
            raise TransientPublishError(f"x {endpoint}: request failed ({type(exc).__name__}: {exc})",
                                        maybe_sent=False) from exc
        self._note(endpoint, response)
        try:
            return response.json() if response.content else {}
        except ValueError as exc:
            raise TransientPublishError(f"x {endpoint}: answer is not JSON (HTTP {response.status_code})",
                                        maybe_sent=sends_post) from exc

    def _map_http(self, endpoint: str, exc: tweepy.HTTPException, sends_post: bool) -> Exception:
        problem = problem_of(exc.response)
        text = problem_text(problem) or " ".join(str(exc).split())
        lowered = text.lower()
        status = getattr(exc.response, "status_code", None)
        if isinstance(exc, tweepy.TooManyRequests):
            retry_at = self._retry_at(exc)
            return RateLimited(f"x {endpoint}: rate limited until {retry_at.isoformat()} ({text})", retry_at)
        if isinstance(exc, tweepy.Unauthorized):
            return AuthError(f"x account {self.account!r}: credentials rejected on {endpoint} ({text}); "
                             f"check the MEMELOOP_X_* secrets, then `memeloop accounts resume {self.account}`")
        if status == 402 or "creditsdepleted" in lowered.replace(" ", ""):
            return CreditsDepleted(f"x account {self.account!r}: no API credits left ({text}); top up the "
                                   f"developer account, then `memeloop accounts resume {self.account}`")
        if isinstance(exc, tweepy.Forbidden):
            if "duplicate" in lowered:
                return DuplicatePost(f"x {endpoint}: X refused the post as duplicate content")
            if any(hint in lowered for hint in AUTH_HINTS):
                return AuthError(f"x account {self.account!r}: the app may not call {endpoint} ({text}); check "
                                 f"its access level and read/write permission, then `memeloop accounts resume "
                                 f"{self.account}`")
            return PermanentPublishError(f"x {endpoint}: forbidden: {text}")
        if isinstance(exc, tweepy.TwitterServerError):
            return TransientPublishError(f"x {endpoint}: server error: {text}", maybe_sent=sends_post)
        return PermanentPublishError(f"x {endpoint}: refused: {text}")

    def _retry_at(self, exc: tweepy.TooManyRequests) -> datetime:
        """The 15-minute reset, or a 24-hour one (per user or per app) when that window is the one
        used up: retrying every 15 minutes into a spent daily quota only burns requests."""
        headers = getattr(exc.response, "headers", None) or {}
        resets = [r for r in (exc.reset_time, _int(headers.get("x-rate-limit-reset"))) if r]
        window_left = _int(headers.get("x-rate-limit-remaining"))
        for scope in ("user", "app"):
            day_reset = _int(headers.get(f"x-{scope}-limit-24hour-reset"))
            day_left = _int(headers.get(f"x-{scope}-limit-24hour-remaining"))
            if day_reset and (day_left == 0 or (day_left is None and window_left != 0)):
                resets.append(day_reset)
        return datetime.fromtimestamp(max(resets), UTC) if resets else self._clock() + DEFAULT_RATE_LIMIT_WAIT

    def _note(self, endpoint: str, response: Any) -> None:
        headers = getattr(response, "headers", None) or {}
        if "x-rate-limit-remaining" not in headers and "x-rate-limit-reset" not in headers:
            return
        reset = _int(headers.get("x-rate-limit-reset"))
        self.note_rate_limit(RateLimitReading(
            endpoint=endpoint, limit=_int(headers.get("x-rate-limit-limit")),
            remaining=_int(headers.get("x-rate-limit-remaining")),
            reset_at=datetime.fromtimestamp(reset, UTC) if reset is not None else None))

    # -- endpoints: build requests only --------------------------------------------------------
    def _upload(self, post: PreparedPost, notes: list[str]) -> str:
        url = f"{self.api_base}/2/media/upload"
        body = self._call("POST /2/media/upload", lambda: _raise_for_status(self._client.session.post(
            url, auth=self._oauth, data={"media_category": "tweet_image"},
            files={"media": ("media", post.media, post.mime)})))
        data = body.get("data") if isinstance(body.get("data"), dict) else {}
        media_id = data.get("id") or body.get("media_id_string") or body.get("media_id")  # v2, or v1.1 shape
        if not media_id:
            raise PermanentPublishError(f"x POST /2/media/upload: no media id in the answer: {str(body)[:200]}")
        if post.alt_text:
            self._set_alt_text(str(media_id), post.alt_text, notes)
        return str(media_id)

    def _set_alt_text(self, media_id: str, alt_text: str, notes: list[str]) -> None:
        """Alt text is optional: when X refuses it, post without it and say why."""
        try:
            self._call("POST /2/media/metadata", lambda: _raise_for_status(self._client.session.post(
                f"{self.api_base}/2/media/metadata", auth=self._oauth,
                json={"id": media_id, "metadata": {"alt_text": {"text": alt_text[:1000]}}})))
        except (PermanentPublishError, TransientPublishError) as exc:
            note = f"alt text dropped: {exc}"
            notes.append(note[:500])
            log.warning("event=x_alt_text_dropped account=%s media=%s error=%s", self.account, media_id, exc)

    def publish(self, post: PreparedPost, *, marker: str, meta: Mapping[str, Any] | None = None,
                reply_to: str | None = None) -> Published:
        """One tweet; ``reply_to``: the tweet it answers (a thread's previous part)."""
        if not self.allow_urls and URL.search(post.text):
            raise PermanentPublishError(f"x account {self.account!r}: the text contains a URL and "
                                        f"[accounts.x] allow_urls is false (posts with links cost more)")
        notes: list[str] = []
        media_ids = [self._upload(post, notes)] if post.media else None
        body = self._call("POST /2/tweets", lambda: self._client.create_tweet(
            text=post.text, media_ids=media_ids, in_reply_to_tweet_id=reply_to, user_auth=True), sends_post=True)
        tweet_id = str((body.get("data") or {}).get("id") or "")
        if not tweet_id:
            raise TransientPublishError(f"x POST /2/tweets: answer without an id: {str(body)[:200]}",
                                        maybe_sent=True)
        log.info("event=x_published account=%s marker=%s tweet=%s", self.account, marker, tweet_id)
        return Published(remote_id=tweet_id, url=f"https://x.com/{self.handle}/status/{tweet_id}",
                         published_at=self._clock(), notes=tuple(notes))

    def fetch_metrics(self, remote_ids: Sequence[str], *, now: datetime) -> list[MetricsReading]:
        readings = []
        ids = list(remote_ids)
        for start in range(0, len(ids), 100):
            body = self._call("GET /2/tweets", functools.partial(
                self._client.get_tweets, ids[start:start + 100], tweet_fields=["public_metrics"], user_auth=True))
            for tweet in body.get("data") or []:
                m = tweet.get("public_metrics") or {}
                readings.append(MetricsReading(
                    remote_id=str(tweet["id"]), likes=m.get("like_count"), reposts=m.get("retweet_count"),
                    replies=m.get("reply_count"), quotes=m.get("quote_count"),
                    bookmarks=m.get("bookmark_count"), impressions=m.get("impression_count"), raw=tweet))
        return readings

    def _me(self) -> str:
        if self._user_id is None:
            body = self._call("GET /2/users/me", lambda: self._client.get_me(user_auth=True))
            self._user_id = str(body["data"]["id"])
        return self._user_id

    def find_recent(self, *, since: datetime, limit: int) -> list[RemotePost]:
        user_id = self._me()
        body = self._call("GET /2/users/:id/tweets", lambda: self._client.get_users_tweets(
            user_id, user_auth=True, start_time=since, max_results=min(100, max(5, limit)),
            tweet_fields=["created_at"]))
        found = []
        for tweet in body.get("data") or []:
            created = _created_at(tweet)
            if created is None:
                log.warning("event=x_tweet_without_time account=%s tweet=%s", self.account, tweet.get("id"))
                continue
            found.append(RemotePost(remote_id=str(tweet["id"]), text=tweet.get("text", ""), created_at=created,
                                    url=f"https://x.com/{self.handle}/status/{tweet['id']}"))
        return found[:limit]

    history_endpoint = HISTORY_ENDPOINT

    def fetch_media(self, url: str) -> bytes:
        """The picture of one of the account's posts (``HistoryItem.media_url``), from the media host."""
        return download(url)

    def fetch_history(self, *, since: datetime | None, cursor: str | None, limit: int) -> HistoryPage:
        """One page of the account's own timeline (no retweets, no replies), newest first, with
        public_metrics. X pages by ``pagination_token``; a page cut short by ``limit`` continues
        with ``until_id`` (the oldest tweet handed back), so nothing between is skipped."""
        user_id = self._me()
        params: dict[str, Any] = {"user_auth": True, "max_results": min(100, max(5, limit)),
                                  "tweet_fields": ["created_at", "public_metrics", "attachments"],
                                  "expansions": ["attachments.media_keys"],
                                  "media_fields": ["type", "url", "preview_image_url"],
                                  "exclude": ["retweets", "replies"]}
        if cursor and cursor.startswith(UNTIL):
            params["until_id"] = cursor[len(UNTIL):]
        elif cursor:
            params["pagination_token"] = cursor
        if since is not None:
            params["start_time"] = since
        body = self._call(HISTORY_ENDPOINT, lambda: self._client.get_users_tweets(user_id, **params))
        items = []
        pictures = {str(m.get("media_key")): m.get("url") or m.get("preview_image_url")
                    for m in (body.get("includes") or {}).get("media") or []}
        for tweet in body.get("data") or []:
            created = _created_at(tweet)
            if created is None or (since is not None and created < since):
                continue
            m = tweet.get("public_metrics") or {}
            media = (tweet.get("attachments") or {}).get("media_keys") or []
            picture = next((pictures[str(k)] for k in media if pictures.get(str(k))), None)
            items.append(HistoryItem(remote_id=str(tweet["id"]), created_at=created, text=tweet.get("text", ""),
                                     likes=m.get("like_count"), reposts=m.get("retweet_count"),
                                     replies=m.get("reply_count"), quotes=m.get("quote_count"),
                                     impressions=m.get("impression_count"), media_count=len(media),
                                     url=f"https://x.com/{self.handle}/status/{tweet['id']}",
                                     media_url=str(picture) if picture else None))
        next_token = (body.get("meta") or {}).get("next_token")
        if len(items) > limit:
            return HistoryPage(tuple(items[:limit]), UNTIL + items[limit - 1].remote_id)
        return HistoryPage(tuple(items), str(next_token) if next_token else None)


def _created_at(tweet: Mapping[str, Any]) -> datetime | None:
    value = tweet.get("created_at")
    if value:
        try:
            return datetime.fromisoformat(str(value))
        except ValueError:
            pass
    return snowflake_time(str(tweet.get("id", "")))
