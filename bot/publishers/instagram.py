"""Instagram publisher over instagrapi (the private API). Gentle by design: one session per account
kept in a 0600 file and re-used before any fresh login, a human-like delay between requests, and
any sign that Instagram wants a human (challenge, feedback_required, "please wait", logged out,
throttled) pauses the account with a message for the admin instead of retrying.
"""
from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from bot.publishers.base import (
    AuthError,
    ChallengeRequired,
    DuplicatePost,
    MetricsReading,
    PermanentPublishError,
    Published,
    RateLimitLog,
    RemotePost,
    TransientPublishError,
)
from bot.secrets import Secret

if TYPE_CHECKING:
    from generator.platforms import PreparedPost

log = logging.getLogger(__name__)
T = TypeVar("T")

SHORT_PAUSE = timedelta(hours=1)  # "please wait a few minutes" / HTTP 429: come back later, automatically
DUPLICATE_WINDOW = timedelta(days=1)


def _default_client_factory() -> Any:
    from instagrapi import Client

    return Client()


def _caption_key(text: str) -> str:
    return " ".join(text.split()).casefold()


class InstagramPublisher(RateLimitLog):
    platform = "instagram"

    def __init__(self, *, account: str, username: str, password: Secret, session_file: Path,
                 delay_range: tuple[float, float] = (1.0, 3.0), proxy: str | None = None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC),
                 client_factory: Callable[[], Any] = _default_client_factory) -> None:
        super().__init__()
        self.account = account
        self.username = username
        self._password = password
        self.session_file = Path(session_file)
        self.delay_range = delay_range
        self.proxy = proxy
        self._clock = clock
        self._factory = client_factory
        self._cl: Any = None

    # -- session -------------------------------------------------------------------------------
    def _client(self) -> Any:
        if self._cl is None:
            cl = self._factory()
            cl.delay_range = list(self.delay_range)
            if self.proxy:
                cl.set_proxy(self.proxy)
            if self.session_file.is_file():
                try:  # re-use device + cookies: a fresh login from a "new phone" is what gets flagged
                    cl.load_settings(self.session_file)
                except (OSError, ValueError) as exc:
                    log.warning("event=instagram_session_unreadable account=%s path=%s error=%s",
                                self.account, self.session_file, exc)
            self._call("login", lambda: cl.login(self.username, self._password.reveal()))
            self._save_session(cl)
            self._cl = cl
        return self._cl

    def _save_session(self, cl: Any) -> None:
        self.session_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.session_file.parent, prefix=".ig-session-")  # created 0600
        os.close(fd)
        try:
            cl.dump_settings(tmp)
            os.chmod(tmp, 0o600)
            os.replace(tmp, self.session_file)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)

    # -- the one place errors are mapped -------------------------------------------------------
    def _call(self, what: str, fn: Callable[[], T], *, sends_post: bool = False) -> T:
        from instagrapi import exceptions as ig

        try:
            return fn()
        except (ig.ChallengeError, ig.FeedbackRequired, ig.LoginRequired, ig.SentryBlock,
                ig.ProxyAddressIsBlocked, ig.AccountSuspended, ig.TwoFactorRequired) as exc:
            raise ChallengeRequired(self._human_needed(what, exc)) from exc
        except (ig.PleaseWaitFewMinutes, ig.ClientThrottledError, ig.RateLimitError) as exc:
            until = self._clock() + SHORT_PAUSE
            raise ChallengeRequired(
                f"instagram account {self.account!r}: Instagram asked us to slow down during {what} "
                f"({type(exc).__name__}); paused until {until:%Y-%m-%d %H:%M} UTC, nothing was retried",
                pause_until=until) from exc
        except (ig.BadPassword, ig.BadCredentials, ig.ClientUnauthorizedError) as exc:
            raise AuthError(f"instagram account {self.account!r}: login refused during {what} "
                            f"({type(exc).__name__}); check MEMELOOP_IG_PASSWORD, then "
                            f"`memeloop accounts resume {self.account}`") from exc
        except ig.PhotoConfigureError as exc:  # uploaded; the configure step may have gone through
            raise TransientPublishError(f"instagram {what}: configure failed: {exc}", maybe_sent=True) from exc
        except ig.PhotoNotUpload as exc:
            raise TransientPublishError(f"instagram {what}: upload failed: {exc}", maybe_sent=False) from exc
        except (ig.ClientRequestTimeout, ig.ClientConnectionError, ig.ClientIncompleteReadError,
                ig.ClientJSONDecodeError) as exc:
            raise TransientPublishError(f"instagram {what}: no clear answer ({type(exc).__name__}); the "
                                        f"request may have reached Instagram", maybe_sent=sends_post) from exc
        except (ig.ClientBadRequestError, ig.MediaError, ig.ClientNotFoundError) as exc:
            raise PermanentPublishError(f"instagram {what}: refused: {exc}") from exc
        except ig.ClientError as exc:
            raise TransientPublishError(f"instagram {what}: {type(exc).__name__}: {exc}",
                                        maybe_sent=sends_post) from exc

    def _human_needed(self, what: str, exc: Exception) -> str:
        detail = getattr(exc, "feedback_message", None) or getattr(exc, "message", "") or type(exc).__name__
        return (f"instagram account {self.account!r} needs a human ({type(exc).__name__} during {what}: "
                f"{str(detail)[:200]}). Open the Instagram app as {self.username}, clear the prompt, then "
                f"run `memeloop accounts resume {self.account}`; nothing will be retried until then")

    # -- endpoints -----------------------------------------------------------------------------
    def publish(self, post: PreparedPost, *, marker: str, meta: Mapping[str, Any] | None = None) -> Published:
        cl = self._client()
        since = self._clock() - DUPLICATE_WINDOW
        if any(_caption_key(p.text) == _caption_key(post.text) for p in self.find_recent(since=since, limit=12)):
            raise DuplicatePost(f"instagram account {self.account!r}: a post with this caption is already "
                                f"on the profile")
        with tempfile.TemporaryDirectory(prefix="memeloop-ig-") as tmp:
            path = Path(tmp) / f"{marker}.jpg"
            path.write_bytes(post.media)
            extra = {"custom_accessibility_caption": post.alt_text} if post.alt_text else {}
            media = self._call("photo_upload", lambda: cl.photo_upload(path, caption=post.text, extra_data=extra),
                               sends_post=True)
        log.info("event=instagram_published account=%s marker=%s media=%s", self.account, marker, media.pk)
        taken = getattr(media, "taken_at", None)
        return Published(remote_id=str(media.pk), url=f"https://www.instagram.com/p/{media.code}/",
                         published_at=taken.astimezone(UTC) if taken else self._clock())

    def fetch_metrics(self, remote_ids: Sequence[str], *, now: datetime) -> list[MetricsReading]:
        cl = self._client()
        readings = []
        for remote_id in remote_ids:
            media = self._call("media_info", lambda rid=remote_id: cl.media_info(rid))
            likes = media.like_count
            hidden = likes is None or likes < 0 or getattr(media, "like_and_view_counts_disabled", False)
            views = getattr(media, "play_count", None) or getattr(media, "view_count", None) or None
            readings.append(MetricsReading(
                remote_id=str(remote_id), likes=None if hidden else likes,
                comments=getattr(media, "comment_count", None), views=views,
                raw={"like_count": likes, "comment_count": getattr(media, "comment_count", None),
                     "play_count": getattr(media, "play_count", None), "code": getattr(media, "code", None)}))
        return readings

    def find_recent(self, *, since: datetime, limit: int) -> list[RemotePost]:
        cl = self._client()
        medias = self._call("user_medias", lambda: cl.user_medias(cl.user_id, amount=limit))
        found = []
        for media in medias:
            created = media.taken_at.astimezone(UTC)
            if created >= since:
                found.append(RemotePost(remote_id=str(media.pk), text=media.caption_text or "", created_at=created,
                                        url=f"https://www.instagram.com/p/{media.code}/"))
        found.sort(key=lambda p: p.created_at, reverse=True)
        return found[:limit]
