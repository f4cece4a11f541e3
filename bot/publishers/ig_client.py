"""How memeloop sets up and reads through instagrapi's Client, kept apart from the error mapping.

instagrapi passes no timeout to its requests sessions and answers challenges on its own (a made-up
birthday, or a code read with ``input()`` that blocks a daemon forever); both are switched off
here. The two reads bypass helpers that hide failures (see bot.publishers.instagram).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

import requests
from instagrapi import exceptions as ig

SESSIONS = ("private", "public", "graphql")  # every requests session a Client talks through


class UnattendedChallenge(ig.ChallengeRequired):
    """Raised instead of asking for a code or a new password when nobody is at the terminal."""


def _refuse_code(username: str, choice: Any = None) -> str:
    raise UnattendedChallenge(f"Instagram asked {username} for a security code ({choice}); "
                              "not answered by the service")


def _refuse_password(username: str) -> str:
    raise UnattendedChallenge(f"Instagram asked {username} to change the password; not answered by the service")


def with_timeout(session: requests.Session, timeout: float) -> None:
    """Give every request of ``session`` a timeout unless the caller chose one."""
    send: Callable[..., requests.Response] = session.request

    def request(method: str, url: str, **kwargs: Any) -> requests.Response:
        if kwargs.get("timeout") is None:
            kwargs["timeout"] = timeout
        return send(method, url, **kwargs)

    session.request = request  # type: ignore[method-assign,assignment]  # same call, with a default


def configure_client(cl: Any, *, delay_range: tuple[float, float], proxy: str | None, timeout: float,
                     attended: bool = False) -> None:
    """Human-like delays, a timeout on every session, the account's proxy, and (unless a human
    is ``attended`` at a terminal) no automatic challenge resolution."""
    cl.delay_range = list(delay_range)
    if proxy:
        cl.set_proxy(proxy)
    for name in SESSIONS:
        session = getattr(cl, name, None)
        if isinstance(session, requests.Session):
            with_timeout(session, timeout)
    if not attended:
        cl.with_challenge_flow = False
        cl.handle_exception = None
        cl.challenge_code_handler = _refuse_code
        cl.change_password_handler = _refuse_password


def feed_page(cl: Any, *, amount: int) -> list[dict[str, Any]]:
    """The newest ``amount`` posts of the logged-in account, raw. Raises on any failure; an answer
    without ``items`` is a failed read too, never "no posts"."""
    body = cl.private_request(f"feed/user/{cl.user_id}/", params={"count": amount, "rank_token": cl.rank_token,
                                                                  "ranked_content": "true"})
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ig.ClientStatusFail(f"feed answer without items: {str(body)[:120]}")
    return [item for item in items if isinstance(item, dict) and item.get("pk")]


def media_raw(cl: Any, media_pk: str) -> dict[str, Any]:
    """One post's current counters straight from the private API (instagrapi's ``media_info``
    caches, fills a missing like_count with 0 and falls back to web requests)."""
    pk = str(media_pk).split("_")[0]
    try:
        body = cl.private_request(f"media/{pk}/info/")
    except ig.ClientNotFoundError as exc:
        raise ig.MediaNotFound(str(exc), media_pk=pk) from exc
    items = body.get("items") if isinstance(body, dict) else None
    if not items:
        raise ig.MediaNotFound(f"media {pk}: answer without items", media_pk=pk)
    return items[0]


def history_page(cl: Any, *, amount: int, max_id: str | None) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the logged-in account's own posts, newest first, raw, and the ``next_max_id``
    of the page after it (None: no older posts). instagrapi's ``user_medias_paginated_v1`` is the
    same request, but turns any failure but a PrivateError into an empty last page."""
    params: dict[str, Any] = {"count": amount, "rank_token": cl.rank_token, "ranked_content": "true"}
    if max_id:
        params["max_id"] = max_id
    body = cl.private_request(f"feed/user/{cl.user_id}/", params=params)
    items = body.get("items") if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ig.ClientStatusFail(f"feed answer without items: {str(body)[:120]}")
    more = body.get("more_available", True) and body.get("next_max_id")
    return [item for item in items if isinstance(item, dict) and item.get("pk")], (str(more) if more else None)
