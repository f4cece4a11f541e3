"""Fakes for the platform edges only: X at the HTTP level (responses), instagrapi's Client at the
method level. Everything of ours runs for real."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import responses

from bot.secrets import Secret

X_API = "https://api.x.com"
TWEEPY_API = "https://api.twitter.com"  # tweepy 4.17's Client host
X_SENTINELS = {"api_key": "SENTINEL-ck-7f3a91", "api_secret": "SENTINEL-cs-0b44de",
               "access_token": "SENTINEL-at-5c2e18", "access_token_secret": "SENTINEL-as-9d7710"}


def x_credentials() -> dict[str, Secret]:
    return {k: Secret(v) for k, v in X_SENTINELS.items()}


def rate_headers(limit: int = 100, remaining: int = 99, reset: int = 1767620700) -> dict[str, str]:
    return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset)}


def x_upload_ok(rsps: responses.RequestsMock, media_id: str = "1880028106020515840") -> None:
    rsps.add(responses.POST, f"{X_API}/2/media/upload", status=200, headers=rate_headers(500, 499),
             json={"data": {"id": media_id, "media_key": f"3_{media_id}", "expires_after_secs": 86400}})
    rsps.add(responses.POST, f"{X_API}/2/media/metadata", status=200,
             json={"data": {"associated_metadata": {"alt_text": {"text": "x"}}}})


def x_tweet(rsps: responses.RequestsMock, *, status: int = 201, tweet_id: str = "1900000000000000001",
            text: str = "", headers: dict[str, str] | None = None, json: Any = None, body: Any = None) -> None:
    kwargs: dict[str, Any] = {"status": status, "headers": headers or rate_headers()}
    if body is not None:
        kwargs = {"body": body}
    else:
        kwargs["json"] = json if json is not None else {"data": {"id": tweet_id, "text": text}}
    rsps.add(responses.POST, f"{TWEEPY_API}/2/tweets", **kwargs)


def x_timeline(rsps: responses.RequestsMock, tweets: list[dict[str, Any]], user_id: str = "4242") -> None:
    rsps.add(responses.GET, f"{TWEEPY_API}/2/users/me", json={"data": {"id": user_id, "username": "memebot"}})
    rsps.add(responses.GET, f"{TWEEPY_API}/2/users/{user_id}/tweets", json={"data": tweets} if tweets else {},
             headers=rate_headers(900, 880))


def x_metrics(rsps: responses.RequestsMock, tweet_id: str, **counts: int) -> None:
    metrics = {"like_count": 3, "retweet_count": 1, "reply_count": 0, "quote_count": 0, "bookmark_count": 2,
               "impression_count": 120} | counts
    rsps.add(responses.GET, f"{TWEEPY_API}/2/tweets",
             json={"data": [{"id": tweet_id, "text": "t", "public_metrics": metrics}]})


@dataclass
class FakeMedia:
    """The fields of instagrapi.types.Media our publisher reads."""

    pk: str
    code: str
    taken_at: datetime
    caption_text: str
    like_count: int = 5
    comment_count: int = 1
    play_count: int | None = None
    view_count: int = 0
    like_and_view_counts_disabled: bool = False


@dataclass
class FakeInstagramClient:
    """Method-level stand-in for instagrapi.Client. ``fail`` maps a method name to the exception it
    raises; ``after_fail`` runs the real effect first (the request got through, the answer did not)."""

    medias: list[FakeMedia] = field(default_factory=list)
    fail: dict[str, Exception] = field(default_factory=dict)
    after_send: set[str] = field(default_factory=set)
    calls: list[str] = field(default_factory=list)
    settings: dict[str, Any] = field(default_factory=dict)
    delay_range: list[float] | None = None
    clock: Any = None
    user_id: int = 31337

    def _maybe_fail(self, name: str) -> None:
        self.calls.append(name)
        if name in self.fail and name not in self.after_send:
            raise self.fail[name]

    def set_proxy(self, proxy: str) -> None:
        self.calls.append("set_proxy")

    def load_settings(self, path) -> dict:
        import json

        self.calls.append("load_settings")
        with open(path) as fh:
            self.settings = json.load(fh)
        return self.settings

    def dump_settings(self, path) -> bool:
        import json

        self.calls.append("dump_settings")
        with open(path, "w") as fh:
            json.dump(self.settings | {"uuids": {"phone_id": "fake"}}, fh)
        return True

    def login(self, username: str, password: str) -> bool:
        self._maybe_fail("login")
        self.settings["authorization_data"] = {"ds_user_id": str(self.user_id)}
        return True

    def photo_upload(self, path, caption: str, extra_data: dict | None = None) -> FakeMedia:
        self._maybe_fail("photo_upload")
        assert path.read_bytes(), "photo_upload got an empty file"
        pk = str(3000000000 + len(self.medias))
        taken = self.clock() if self.clock else datetime.now(UTC)
        media = FakeMedia(pk=pk, code=f"C{pk[-5:]}", taken_at=taken, caption_text=caption)
        self.medias.append(media)
        if "photo_upload" in self.fail:
            raise self.fail["photo_upload"]
        return media

    def media_info(self, pk: str) -> FakeMedia:
        self._maybe_fail("media_info")
        return next(m for m in self.medias if m.pk == str(pk))

    def user_medias(self, user_id, amount: int = 0) -> list[FakeMedia]:
        self._maybe_fail("user_medias")
        return list(reversed(self.medias))[:amount or None]
