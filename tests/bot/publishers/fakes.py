"""Fakes for the X edge only, at the HTTP level (responses) with answers recorded from X's
documented shapes (fixtures/x). tweepy, requests and everything of ours run for real. Instagram's
HTTP fakes live in ig_http.py."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import responses

from bot.config.secrets import Secret

X_API = "https://api.x.com"
TWEEPY_API = X_API  # tweepy's own host is rewritten to api_base for every call
FIXTURES = Path(__file__).parent / "fixtures"
X_SENTINELS = {"api_key": "SENTINEL-ck-7f3a91", "api_secret": "SENTINEL-cs-0b44de",
               "access_token": "SENTINEL-at-5c2e18", "access_token_secret": "SENTINEL-as-9d7710"}


def load(name: str, **replace: str) -> dict[str, Any]:
    """A recorded answer without its ``_source`` note; ``replace`` fills placeholders (TEXT, CAPTION)."""
    text = (FIXTURES / name).read_text(encoding="utf-8")
    for key, value in replace.items():
        text = text.replace(f'"{key}"', json.dumps(value))
    body = json.loads(text)
    body.pop("_source", None)
    return body


def x_credentials() -> dict[str, Secret]:
    return {k: Secret(v) for k, v in X_SENTINELS.items()}


def rate_headers(limit: int = 100, remaining: int = 99, reset: int = 1767620700) -> dict[str, str]:
    return {"x-rate-limit-limit": str(limit), "x-rate-limit-remaining": str(remaining),
            "x-rate-limit-reset": str(reset)}


def x_upload_ok(rsps: responses.RequestsMock, media_id: str = "1880028106020515840") -> None:
    body = load("x/media_upload_v2.json")
    body["data"] |= {"id": media_id, "media_key": f"3_{media_id}"}
    rsps.add(responses.POST, f"{X_API}/2/media/upload", status=200, headers=rate_headers(500, 499), json=body)
    rsps.add(responses.POST, f"{X_API}/2/media/metadata", status=200,
             json={"data": {"associated_metadata": {"alt_text": {"text": "x"}}}})


def x_tweet(rsps: responses.RequestsMock, *, status: int = 201, tweet_id: str = "1900000000000000001",
            text: str = "", headers: dict[str, str] | None = None, json: Any = None, body: Any = None) -> None:
    kwargs: dict[str, Any] = {"status": status, "headers": headers or rate_headers()}
    if body is not None:
        kwargs = {"body": body}
    else:
        if json is None:
            json = load("x/tweet_created.json", TEXT=text)
            json["data"] |= {"id": tweet_id, "edit_history_tweet_ids": [tweet_id]}
        kwargs["json"] = json
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


