"""Bluesky publisher (the atproto SDK over httpx): handle + app password, one session kept.

The session is exported to ``session_file`` (mode 0600) whenever it is created or refreshed and
imported on start: ``createSession`` runs only when there is no usable session (Bluesky allows 30
a 5 minutes and 300 a day per handle). The SDK refreshes a token that is about to expire by its
clock, but not when the server says so: `_call` refreshes once on a 400 ExpiredToken/InvalidToken
(write endpoints) or a 401 (read endpoints) and repeats the request, which the server had refused.

Every request goes through `_call`, which maps the SDK's exceptions (and the raw httpx errors it
lets through, such as a cut connection) to ours; a 502 or a cut connection after ``createRecord``
means the post may be out. Text facets (links, mentions resolved to DIDs, hashtags) are built with
the SDK's TextBuilder, which counts UTF-8 byte offsets.
"""
from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import httpx
from atproto import Client, Request, models
from atproto.exceptions import (
    AtProtocolError,
    BadRequestError,
    InvokeTimeoutError,
    LoginRequiredError,
    ModelError,
    NetworkError,
    RateLimitExceededError,
    RequestErrorBase,
    UnauthorizedError,
)
from atproto_client.utils import TextBuilder

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

if TYPE_CHECKING:
    from generator.platforms import PreparedPost

log = logging.getLogger(__name__)
T = TypeVar("T")

DEFAULT_RATE_LIMIT_WAIT = timedelta(minutes=5)
TOKEN_ERRORS = ("ExpiredToken", "InvalidToken")
# links, @handle.domain mentions and #hashtags, as the Bluesky app detects them (simplified)
TOKENS = re.compile(r"(?P<url>https?://[^\s]+[^\s.,;:!?)\]\"'])|(?<![\w@])@(?P<handle>[A-Za-z0-9][A-Za-z0-9.-]*\.[A-Za-z]"
                    r"[A-Za-z0-9-]*)|(?<![\w#&])#(?P<tag>[^\s#.,;:!?)\]\"']*[^\d\s#.,;:!?)\]\"'][^\s#.,;:!?)\]\"']*)")
PAGE = 100  # getAuthorFeed's largest page


def _detail(exc: AtProtocolError) -> str:
    response = getattr(exc, "response", None)
    content = getattr(response, "content", None)
    error = getattr(content, "error", None)
    message = getattr(content, "message", None)
    status = getattr(response, "status_code", None)
    parts = [str(p) for p in (f"HTTP {status}" if status else None, error, message) if p]
    return " | ".join(parts) or type(exc).__name__


def _error_name(exc: AtProtocolError) -> str | None:
    content = getattr(getattr(exc, "response", None), "content", None)
    return getattr(content, "error", None)


def _status(exc: AtProtocolError) -> int | None:
    return getattr(getattr(exc, "response", None), "status_code", None)


def _time(value: Any) -> datetime | None:
    if not value:
        return None
    try:
        parsed = datetime.fromisoformat(str(value))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def post_url(uri: str, handle: str) -> str:
    """at://did/app.bsky.feed.post/rkey -> https://bsky.app/profile/handle/post/rkey"""
    return f"https://bsky.app/profile/{handle}/post/{uri.rsplit('/', 1)[-1]}"


class BlueskyPublisher(RateLimitLog):
    platform = "bluesky"
    threads = True  # reply chains (``reply_to``)

    def __init__(self, *, account: str, handle: str, app_password: Secret, session_file: Path,
                 service_url: str = "https://bsky.social", clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 timeout: float = 30.0, transport: httpx.BaseTransport | None = None) -> None:
        super().__init__()
        self.account = account
        self.handle = handle.lstrip("@")
        self.session_file = Path(session_file)
        self._password = app_password
        self._clock = clock
        self._headers: httpx.Headers | None = None
        kwargs: dict[str, Any] = {"timeout": timeout, "event_hooks": {"response": [self._remember]}}
        if transport is not None:  # tests: an HTTP-level fake of the PDS
            kwargs["transport"] = transport
        self._client = Client(base_url=service_url.rstrip("/") + "/xrpc", request=Request(**kwargs))
        self._client.on_session_change(self._save_session)
        self._did: str | None = None

    # -- session ---------------------------------------------------------------------------------
    def _remember(self, response: httpx.Response) -> None:
        self._headers = response.headers

    def _save_session(self, _event: Any, session: Any) -> None:
        """Write the session string 0600 (atomic: a crash never leaves half a file)."""
        self.session_file.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.session_file.with_name(self.session_file.name + ".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(session.encode())
        os.chmod(tmp, 0o600)
        os.replace(tmp, self.session_file)

    def _login(self) -> None:
        try:
            self._client.login(self.handle, self._password.reveal(), fetch_bsky_profile=False)
        except (UnauthorizedError, BadRequestError) as exc:
            raise AuthError(f"bluesky account {self.account!r}: login refused ({_detail(exc)}); check the "
                            f"handle and MEMELOOP_BLUESKY_APP_PASSWORD, then `memeloop accounts resume "
                            f"{self.account}`") from exc
        log.info("event=bluesky_login account=%s", self.account)

    def _session(self) -> str:
        """The account's DID, from the saved session, else one login."""
        if self._did is None:
            def start() -> None:
                saved = self._read_session()
                if saved is not None:
                    try:
                        self._client.login(session_string=saved, fetch_bsky_profile=False)
                    except (LoginRequiredError, ValueError, UnauthorizedError, BadRequestError) as exc:
                        log.warning("event=bluesky_session_unusable account=%s error=%s", self.account,
                                    type(exc).__name__)
                        self._login()
                else:
                    self._login()
            self._call("com.atproto.server.createSession", start, refresh=False)
            session = self._client._session
            if session is None:
                raise AuthError(f"bluesky account {self.account!r}: no session after login")
            self._did = session.did
        return self._did

    def _read_session(self) -> str | None:
        try:
            text = self.session_file.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("event=bluesky_session_unreadable account=%s error=%s", self.account, exc)
            return None
        return text or None

    def _refresh(self) -> None:
        """After the server refused the token: refresh, else (refresh token dead too) log in again."""
        try:
            self._client._refresh_and_set_session()
        except (BadRequestError, UnauthorizedError, LoginRequiredError) as exc:
            log.info("event=bluesky_refresh_failed account=%s error=%s", self.account,
                     _error_name(exc) if isinstance(exc, RequestErrorBase) else type(exc).__name__)
            self._login()

    # -- the one place errors are mapped -------------------------------------------------------
    def _call(self, endpoint: str, fn: Callable[[], T], *, sends_post: bool = False, refresh: bool = True) -> T:
        """Run one request (refreshing the session once when the server says the token expired)."""
        for attempt in (1, 2):
            self._headers = None
            try:
                result = fn()
            except (UnauthorizedError, BadRequestError) as exc:
                self._note(endpoint)
                token_refused = isinstance(exc, UnauthorizedError) or _error_name(exc) in TOKEN_ERRORS
                if refresh and attempt == 1 and token_refused:
                    self._call("com.atproto.server.refreshSession", self._refresh, refresh=False)
                    continue  # the server refused the request: nothing was created, send it again
                if token_refused:
                    raise AuthError(f"bluesky account {self.account!r}: session refused on {endpoint} "
                                    f"({_detail(exc)}); check the app password, then `memeloop accounts resume "
                                    f"{self.account}`") from exc
                raise PermanentPublishError(f"bluesky {endpoint}: refused: {_detail(exc)}") from exc
            except RateLimitExceededError as exc:
                self._note(endpoint)
                now = self._clock()
                reset = exc.reset_at
                retry_at = reset if reset is not None and reset > now else now + DEFAULT_RATE_LIMIT_WAIT
                raise RateLimited(f"bluesky {endpoint}: rate limited until {retry_at.isoformat()}", retry_at) from exc
            except LoginRequiredError as exc:
                raise AuthError(f"bluesky account {self.account!r}: not logged in on {endpoint}; "
                                f"`memeloop accounts resume {self.account}` after checking the app password") from exc
            except (NetworkError, InvokeTimeoutError) as exc:  # 409/413/502 answers, or no answer at all
                self._note(endpoint)
                status = _status(exc)
                cause = exc.__cause__
                if status == 413:
                    raise PermanentPublishError(f"bluesky {endpoint}: too large: {_detail(exc)}") from exc
                if status is None and isinstance(cause, httpx.ConnectError | httpx.ConnectTimeout):
                    raise TransientPublishError(f"bluesky {endpoint}: could not connect ({type(cause).__name__})",
                                                maybe_sent=False) from exc
                raise TransientPublishError(
                    f"bluesky {endpoint}: {_detail(exc) if status else 'no complete answer'}"
                    f"{'' if status else f' ({type(cause).__name__})'}; the request may have reached Bluesky",
                    maybe_sent=sends_post and status != 409) from exc
            except RequestErrorBase as exc:  # other HTTP errors: 5xx, 404, ...
                self._note(endpoint)
                status = _status(exc)
                if status is not None and status >= 500:
                    raise TransientPublishError(f"bluesky {endpoint}: server error ({_detail(exc)})",
                                                maybe_sent=sends_post) from exc
                raise PermanentPublishError(f"bluesky {endpoint}: refused: {_detail(exc)}") from exc
            except ModelError as exc:  # an answer, but not the documented shape
                raise TransientPublishError(f"bluesky {endpoint}: unexpected answer ({exc})",
                                            maybe_sent=sends_post) from exc
            except httpx.HTTPError as exc:  # the SDK lets a cut connection through as it is
                raise TransientPublishError(f"bluesky {endpoint}: no complete answer ({type(exc).__name__}); the "
                                            f"request may have reached Bluesky", maybe_sent=sends_post) from exc
            self._note(endpoint)
            return result
        raise AssertionError("unreachable")

    def _note(self, endpoint: str) -> None:
        headers = self._headers
        if headers is None or ("ratelimit-remaining" not in headers and "ratelimit-reset" not in headers):
            return
        reset = _int(headers.get("ratelimit-reset"))
        self.note_rate_limit(RateLimitReading(
            endpoint=endpoint, limit=_int(headers.get("ratelimit-limit")),
            remaining=_int(headers.get("ratelimit-remaining")),
            reset_at=datetime.fromtimestamp(reset, UTC) if reset is not None else None))

    # -- publishing ------------------------------------------------------------------------------
    def _rich_text(self, text: str) -> TextBuilder:
        builder = TextBuilder()
        at = 0
        for match in TOKENS.finditer(text):
            if match.start() > at:
                builder.text(text[at:match.start()])
            token = match.group(0)
            if match.group("url"):
                builder.link(token, match.group("url"))
            elif match.group("tag"):
                builder.tag(token, match.group("tag"))
            else:
                did = self._resolve(match.group("handle"))
                builder.mention(token, did) if did else builder.text(token)
            at = match.end()
        if at < len(text):
            builder.text(text[at:])
        return builder

    def _resolve(self, handle: str) -> str | None:
        try:
            answer = self._call("com.atproto.identity.resolveHandle", lambda: self._client.resolve_handle(handle))
        except PermanentPublishError:  # no such handle: plain text, as the app does
            return None
        return str(answer.did)

    def _reply_ref(self, parent_uri: str) -> models.AppBskyFeedPost.ReplyRef:
        answer = self._call("app.bsky.feed.getPosts", lambda: self._client.get_posts([parent_uri]))
        if not answer.posts:
            raise PermanentPublishError(f"bluesky account {self.account!r}: the post to answer {parent_uri} "
                                        f"is gone")
        parent = answer.posts[0]
        parent_ref = models.ComAtprotoRepoStrongRef.Main(uri=parent.uri, cid=parent.cid)
        reply = getattr(parent.record, "reply", None)
        root_ref = models.ComAtprotoRepoStrongRef.Main(uri=reply.root.uri, cid=reply.root.cid) if reply else parent_ref
        return models.AppBskyFeedPost.ReplyRef(root=root_ref, parent=parent_ref)

    def publish(self, post: PreparedPost, *, marker: str, meta: Mapping[str, Any] | None = None,
                reply_to: str | None = None) -> Published:
        """One post; ``reply_to``: the at:// URI of the post it answers (a thread's previous part)."""
        did = self._session()
        embed = None
        if post.media:
            blob = self._call("com.atproto.repo.uploadBlob", lambda: self._client.com.atproto.repo.upload_blob(
                post.media, headers={"Content-Type": post.mime}))
            embed = models.AppBskyEmbedImages.Main(images=[models.AppBskyEmbedImages.Image(
                alt=post.alt_text or "", image=blob.blob,
                aspect_ratio=models.AppBskyEmbedDefs.AspectRatio(width=post.width, height=post.height))])
        text = self._rich_text(post.text)
        reply = self._reply_ref(reply_to) if reply_to else None
        created = self._call("com.atproto.repo.createRecord", lambda: self._client.send_post(
            text, profile_identify=did, reply_to=reply, embed=embed), sends_post=True)
        log.info("event=bluesky_published account=%s marker=%s uri=%s", self.account, marker, created.uri)
        return Published(remote_id=created.uri, url=post_url(created.uri, self.handle), published_at=self._clock())

    # -- reading ---------------------------------------------------------------------------------
    def fetch_metrics(self, remote_ids: Sequence[str], *, now: datetime) -> list[MetricsReading]:
        self._session()
        readings = []
        ids = list(remote_ids)
        for start in range(0, len(ids), 25):
            chunk = ids[start:start + 25]
            answer = self._call("app.bsky.feed.getPosts", functools.partial(self._client.get_posts, chunk))
            for p in answer.posts:  # deleted posts are simply not in the answer
                readings.append(MetricsReading(
                    remote_id=p.uri, likes=p.like_count, reposts=p.repost_count, replies=p.reply_count,
                    quotes=p.quote_count, raw=p.model_dump(mode="json", by_alias=True)))
        return readings

    def _feed(self, *, cursor: str | None, limit: int) -> tuple[list[Any], str | None]:
        did = self._session()
        answer = self._call("app.bsky.feed.getAuthorFeed", lambda: self._client.get_author_feed(
            did, cursor=cursor, filter="posts_with_replies", limit=min(PAGE, max(1, limit))))
        own = [item.post for item in answer.feed if item.reason is None and item.post.author.did == did]
        return own, answer.cursor

    def find_recent(self, *, since: datetime, limit: int) -> list[RemotePost]:
        found: list[RemotePost] = []
        cursor: str | None = None
        while len(found) < limit:
            posts, cursor = self._feed(cursor=cursor, limit=limit - len(found))
            for p in posts:
                created = _time(getattr(p.record, "created_at", None)) or _time(p.indexed_at)
                if created is None or created < since:
                    return found
                found.append(RemotePost(remote_id=p.uri, text=getattr(p.record, "text", ""), created_at=created,
                                        url=post_url(p.uri, self.handle)))
            if not cursor or not posts:
                break
        return found[:limit]

    def fetch_history(self, *, since: datetime | None, cursor: str | None, limit: int) -> HistoryPage:
        posts, next_cursor = self._feed(cursor=cursor, limit=limit)
        items: list[HistoryItem] = []
        for p in posts:
            created = _time(getattr(p.record, "created_at", None)) or _time(p.indexed_at)
            if created is None:
                continue
            if since is not None and created < since:
                return HistoryPage(items=tuple(items), next_cursor=None)
            embed = getattr(p, "embed", None)
            items.append(HistoryItem(
                remote_id=p.uri, created_at=created.astimezone(UTC), text=getattr(p.record, "text", ""),
                likes=p.like_count, reposts=p.repost_count, replies=p.reply_count, quotes=p.quote_count,
                media_count=len(getattr(embed, "images", None) or []), url=post_url(p.uri, self.handle)))
        return HistoryPage(items=tuple(items), next_cursor=next_cursor)
