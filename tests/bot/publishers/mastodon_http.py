"""HTTP-level fakes (responses) of a Mastodon server, with answer shapes from the Mastodon API docs
(docs.joinmastodon.org: entities Status, MediaAttachment, Instance (v2), Account, Error; rate-limit
headers from /api/guidelines#rate-limit). Mastodon.py and requests run for real."""
from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import responses

from bot.config.secrets import Secret
from bot.publishers.mastodon import MastodonPublisher

INSTANCE = "https://social.example"
TOKEN = "SENTINEL-md-token-4e1c2b"
ACCOUNT_ID = "109302"


def publisher(clock, **kwargs: Any) -> MastodonPublisher:
    kwargs.setdefault("sleep", lambda _s: None)
    return MastodonPublisher(account="mdacct", instance_url=INSTANCE, access_token=Secret(TOKEN), clock=clock,
                             **kwargs)


def rate_headers(limit: int = 300, remaining: int = 299, reset: datetime | None = None) -> dict[str, str]:
    reset = reset or datetime(2026, 1, 5, 12, 5, tzinfo=UTC)
    return {"X-RateLimit-Limit": str(limit), "X-RateLimit-Remaining": str(remaining),
            "X-RateLimit-Reset": reset.isoformat().replace("+00:00", "Z")}


def instance(rsps: responses.RequestsMock, *, max_characters: int = 500, image_size_limit: int = 16777216,
             max_media: int = 4) -> None:
    rsps.add(responses.GET, f"{INSTANCE}/api/v2/instance/", headers=rate_headers(), json={
        "domain": "social.example", "title": "Example", "version": "4.3.2", "source_url": "https://github.com/mastodon/mastodon",
        "description": "", "usage": {"users": {"active_month": 12}},
        "configuration": {
            "urls": {"streaming": "wss://social.example"},
            "accounts": {"max_featured_tags": 10},
            "statuses": {"max_characters": max_characters, "max_media_attachments": max_media,
                         "characters_reserved_per_url": 23},
            "media_attachments": {"supported_mime_types": ["image/jpeg", "image/png", "image/gif", "image/webp"],
                                  "image_size_limit": image_size_limit, "image_matrix_limit": 33177600,
                                  "video_size_limit": 103809024},
        },
        "registrations": {"enabled": False, "approval_required": False, "message": None},
        "contact": {"email": "admin@social.example", "account": None}, "rules": []})


def media(media_id: str = "22348641", *, processed: bool = True, description: str = "") -> dict[str, Any]:
    url = f"https://files.social.example/media_attachments/files/{media_id}/original/meme.png" if processed else None
    return {"id": media_id, "type": "image", "url": url, "preview_url": url, "remote_url": None,
            "text_url": None, "meta": {"original": {"width": 64, "height": 48, "size": "64x48", "aspect": 1.33}},
            "description": description, "blurhash": "UFBWY:8_0Jxv4mx]t8t64.%M-:IUWGWAt6M}"}


def upload(rsps: responses.RequestsMock, *, processed: bool = True, media_id: str = "22348641") -> None:
    rsps.add(responses.POST, f"{INSTANCE}/api/v2/media", status=200 if processed else 202,
             headers=rate_headers(30, 29), json=media(media_id, processed=processed))


def status(status_id: str, text: str, created_at: datetime, *, favourites: int = 3, reblogs: int = 1,
           replies: int = 0, in_reply_to_id: str | None = None) -> dict[str, Any]:
    words = []
    for word in text.split():
        if word.startswith("#"):
            tag = word[1:]
            words.append(f'<a href="{INSTANCE}/tags/{tag}" class="mention hashtag" rel="tag">#<span>{tag}</span></a>')
        else:
            words.append(word.replace("&", "&amp;").replace("<", "&lt;"))
    return {
        "id": status_id, "created_at": created_at.isoformat().replace("+00:00", "Z"),
        "in_reply_to_id": in_reply_to_id, "in_reply_to_account_id": ACCOUNT_ID if in_reply_to_id else None,
        "sensitive": False, "spoiler_text": "", "visibility": "public", "language": "en",
        "uri": f"{INSTANCE}/users/memebot/statuses/{status_id}", "url": f"{INSTANCE}/@memebot/{status_id}",
        "replies_count": replies, "reblogs_count": reblogs, "favourites_count": favourites,
        "edited_at": None, "favourited": False, "reblogged": False, "muted": False, "bookmarked": False,
        "content": f"<p>{' '.join(words)}</p>", "filtered": [], "reblog": None,
        "account": {"id": ACCOUNT_ID, "username": "memebot", "acct": "memebot", "display_name": "memebot",
                    "url": f"{INSTANCE}/@memebot"},
        "media_attachments": [media()], "mentions": [], "tags": [], "emojis": [], "card": None, "poll": None}


def create(rsps: responses.RequestsMock, *, status_id: str = "113000000000000001", text: str = "",
           created_at: datetime | None = None, code: int = 200, headers: dict[str, str] | None = None,
           json: Any = None, body: Any = None) -> None:
    if body is not None:
        rsps.add(responses.POST, f"{INSTANCE}/api/v1/statuses", body=body)
        return
    if json is None:
        json = status(status_id, text, created_at or datetime(2026, 1, 5, 12, 0, 1, tzinfo=UTC))
    rsps.add(responses.POST, f"{INSTANCE}/api/v1/statuses", status=code, headers=headers or rate_headers(),
             json=json)


def me(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, f"{INSTANCE}/api/v1/accounts/verify_credentials", headers=rate_headers(), json={
        "id": ACCOUNT_ID, "username": "memebot", "acct": "memebot", "display_name": "memebot",
        "url": f"{INSTANCE}/@memebot", "created_at": "2025-03-01T00:00:00.000Z", "statuses_count": 4})


def timeline(rsps: responses.RequestsMock, statuses: list[dict[str, Any]], *, link: str | None = None) -> None:
    headers = rate_headers()
    if link:
        headers["Link"] = link
    rsps.add(responses.GET, f"{INSTANCE}/api/v1/accounts/{ACCOUNT_ID}/statuses", headers=headers, json=statuses)


def get_status(rsps: responses.RequestsMock, body: dict[str, Any]) -> None:
    rsps.add(responses.GET, f"{INSTANCE}/api/v1/statuses/{body['id']}", headers=rate_headers(), json=body)


def gone(rsps: responses.RequestsMock, status_id: str) -> None:
    rsps.add(responses.GET, f"{INSTANCE}/api/v1/statuses/{status_id}", status=404,
             json={"error": "Record not found"})


def error(message: str) -> dict[str, str]:
    return {"error": message}
