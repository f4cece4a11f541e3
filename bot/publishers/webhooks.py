"""Webhook notices: the bodies (generic signed JSON, Slack, Discord) and the one HTTP call.

A notice is plain data (``Notice``); ``body_for`` turns it into what a receiver of the webhook's format
reads, ``send`` POSTs it once and says how it went (``Delivery``): delivered, worth retrying (with the
receiver's Retry-After if it gave one), or refused for good. Retrying is the caller's business (the
outbox in bot/service/notify.py). Nothing here logs or returns the URL: a Slack or Discord URL is a
token.

Generic JSON is signed like Stripe's and GitHub's webhooks: ``X-Memeloop-Timestamp`` (Unix seconds)
and ``X-Memeloop-Signature: sha256=<hex HMAC-SHA256 of "<timestamp>." + body>`` with the webhook's
secret. A receiver checks both with ``verify_signature`` (or the same four lines in its language) and
refuses a timestamp older than a few minutes, so a captured request cannot be replayed later.
"""
from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any

SIGNATURE_HEADER = "X-Memeloop-Signature"
TIMESTAMP_HEADER = "X-Memeloop-Timestamp"
EVENT_HEADER = "X-Memeloop-Event"
DELIVERY_HEADER = "X-Memeloop-Delivery"
REPLAY_TOLERANCE_S = 300
USER_AGENT = "memeloop-webhook/1"
SLACK_SECTION_MAX = 3000  # Slack: a section block's text
DISCORD_CONTENT_MAX = 2000  # Discord: a message's content
DISCORD_TITLE_MAX = 256  # an embed's title
DISCORD_DESCRIPTION_MAX = 4096  # an embed's description
COLORS = {"review_waiting": 0x3B82F6, "post_failed": 0xDC2626, "post_unconfirmed": 0xD97706,
          "account_paused": 0xD97706, "daemon_down": 0xDC2626, "test": 0x16A34A}


@dataclass(frozen=True)
class Notice:
    """One thing to tell: what happened (event), its stable key, a title and a few lines of text."""

    event: str
    key: str
    title: str
    text: str
    occurred_at: datetime
    account: str | None = None
    url: str | None = None  # a link into the web admin; a path ("/posts/12") until delivery adds base_url
    data: dict[str, Any] = field(default_factory=dict)


class DeliveryOutcome(StrEnum):
    DELIVERED = "delivered"
    RETRY = "retry"  # the receiver or the network failed for now (5xx, 429, 408, timeout, refused)
    REFUSED = "refused"  # the receiver said no for good (another 4xx): retrying would not help


@dataclass(frozen=True)
class Delivery:
    outcome: DeliveryOutcome
    status: int | None  # the HTTP status, None when no answer came
    detail: str  # in words, without the URL
    retry_after_s: float | None = None


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _slack_escape(text: str) -> str:
    # Slack reads &, < and > as markup (<!channel> pings everyone): a caption must stay text
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def json_body(notice: Notice, delivery_id: str) -> dict[str, Any]:
    return {"event": notice.event, "key": notice.key, "delivery": delivery_id,
            "occurred_at": notice.occurred_at.isoformat(), "title": notice.title, "text": notice.text,
            "account": notice.account, "url": notice.url, "data": notice.data}


def slack_body(notice: Notice) -> dict[str, Any]:
    """An incoming-webhook message: ``text`` (the fallback shown in notifications) and one mrkdwn section."""
    title, text = _slack_escape(notice.title), _slack_escape(notice.text)
    link = f"\n<{notice.url}|Open in memeloop>" if notice.url else ""
    section = _cut(f"*{title}*\n{text}", SLACK_SECTION_MAX - len(link)) + link
    return {"text": _cut(f"{title}: {text}", SLACK_SECTION_MAX),
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": section}}]}


def discord_body(notice: Notice) -> dict[str, Any]:
    """An execute-webhook body: ``content`` and one embed; mentions parsed from nothing (a caption that
    says @everyone pings nobody)."""
    embed: dict[str, Any] = {"title": _cut(notice.title, DISCORD_TITLE_MAX),
                             "description": _cut(notice.text, DISCORD_DESCRIPTION_MAX),
                             "timestamp": notice.occurred_at.isoformat(), "color": COLORS.get(notice.event, 0)}
    if notice.url:
        embed["url"] = notice.url
    return {"content": _cut(notice.title, DISCORD_CONTENT_MAX), "embeds": [embed],
            "allowed_mentions": {"parse": []}}


def body_for(fmt: str, notice: Notice, delivery_id: str) -> bytes:
    if fmt == "slack":
        payload = slack_body(notice)
    elif fmt == "discord":
        payload = discord_body(notice)
    else:
        payload = json_body(notice, delivery_id)
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode("utf-8"), f"{timestamp}.".encode("ascii") + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify_signature(secret: str, body: bytes, timestamp: str, sent: str, *, now_s: float,
                     tolerance_s: float = REPLAY_TOLERANCE_S) -> bool:
    """What a receiver does: the timestamp is recent (no replay) and the signature is ours."""
    try:
        ts = int(timestamp)
    except ValueError:
        return False
    if abs(now_s - ts) > tolerance_s:
        return False
    return hmac.compare_digest(signature(secret, ts, body), sent)


def headers_for(fmt: str, notice: Notice, delivery_id: str, body: bytes, *, secret: str | None,
                now_s: float) -> dict[str, str]:
    headers = {"Content-Type": "application/json", "User-Agent": USER_AGENT}
    if fmt == "json":
        ts = int(now_s)
        headers |= {EVENT_HEADER: notice.event, DELIVERY_HEADER: delivery_id, TIMESTAMP_HEADER: str(ts)}
        if secret:
            headers[SIGNATURE_HEADER] = signature(secret, ts, body)
    return headers


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None  # an HTTP date: the backoff decides


def send(url: str, body: bytes, headers: dict[str, str], *, timeout_s: float) -> Delivery:
    """POST once, no redirects followed (a redirect would resend the body to another host)."""
    import requests

    try:
        response = requests.post(url, data=body, headers=headers, timeout=timeout_s, allow_redirects=False)
    except requests.Timeout:
        return Delivery(DeliveryOutcome.RETRY, None, f"no answer within {timeout_s:g} s")
    except requests.RequestException as exc:  # the message names the URL: say only what kind of failure
        return Delivery(DeliveryOutcome.RETRY, None, f"could not connect ({type(exc).__name__})")
    status = response.status_code
    response.close()
    if 200 <= status < 300:
        return Delivery(DeliveryOutcome.DELIVERED, status, f"HTTP {status}")
    if status in (408, 429) or status >= 500:
        return Delivery(DeliveryOutcome.RETRY, status, f"HTTP {status}",
                        _retry_after(response.headers.get("Retry-After")))
    return Delivery(DeliveryOutcome.REFUSED, status, f"HTTP {status}: the receiver refused it")
