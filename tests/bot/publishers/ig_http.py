"""The real instagrapi 3.2.2 Client over HTTP-level fakes.

instagrapi's private session sends through its own curl adapter, so `responses` is pointed at that
adapter's ``send``; everything above it (instagrapi's request building, status mapping, challenge
handling, our publisher) runs for real. instagrapi sleeps between requests with ``time.sleep``;
``no_sleep`` records those sleeps instead of waiting.
"""
from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any
from unittest import mock

import responses

from bot.config.secrets import Secret
from bot.publishers.instagram import InstagramPublisher
from tests.bot.publishers.fakes import load

API = "https://i.instagram.com/api/v1"
CURL_SEND = "instagrapi.transports._CurlH2Adapter.send"
USER_ID = "31337"


@contextmanager
def instagram_http() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock(target=CURL_SEND, assert_all_requests_are_fired=False) as rsps:
        yield rsps


@contextmanager
def no_sleep() -> Iterator[list[float]]:
    slept: list[float] = []
    with mock.patch("time.sleep", slept.append):
        yield slept


def real_client() -> Any:
    from instagrapi import Client

    return Client(request_timeout=0)  # instagrapi's "request_timeout" is a sleep before each request


def write_session(path: Path) -> Path:
    """A session file as `dump_settings` writes it after a login: device, cookies, authorization."""
    cl = real_client()
    settings = cl.get_settings()
    settings["authorization_data"] = {"ds_user_id": USER_ID, "sessionid": f"{USER_ID}%3AsEsSiOn%3A1",
                                      "should_use_header_over_cookies": True}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings))
    path.chmod(0o600)
    return path


def publisher(tmp_path: Path, clock, *, session: bool = True, clients: list | None = None) -> InstagramPublisher:
    session_file = tmp_path / "ig" / "session.json"
    if session:
        write_session(session_file)

    def factory() -> Any:
        cl = real_client()
        if clients is not None:
            clients.append(cl)
        return cl

    return InstagramPublisher(account="igacct", username="memebot", password=Secret("SENTINEL-ig-pw"),
                              session_file=session_file, delay_range=(0.0, 0.0), clock=clock,
                              client_factory=factory, timeout=12.5)


def media_item(pk: str, caption: str, taken_at: datetime, **fields: Any) -> dict[str, Any]:
    item = load("instagram/media_item.json", CAPTION=caption)
    item |= {"pk": pk, "id": f"{pk}_{USER_ID}", "code": f"C{pk[-6:]}", "taken_at": int(taken_at.timestamp())}
    return item | fields


def session_ok(rsps: responses.RequestsMock) -> None:
    rsps.add(responses.GET, f"{API}/accounts/current_user/", json=load("instagram/current_user.json"))


def feed(rsps: responses.RequestsMock, items: list[dict[str, Any]] | None = None, *, status: int = 200,
         body: Any = None) -> None:
    answer = body if body is not None else (
        {"items": items or [], "num_results": len(items or []), "more_available": False, "status": "ok"}
        if status == 200 else load("instagram/server_error.json"))
    rsps.add(responses.GET, f"{API}/feed/user/{USER_ID}/", status=status, json=answer)


def upload_ok(rsps: responses.RequestsMock, item: dict[str, Any]) -> None:
    rsps.add(responses.POST, re.compile(r"https://i\.instagram\.com/rupload_igphoto/.+"),
             json=load("instagram/rupload_ok.json"))
    rsps.add(responses.POST, f"{API}/media/configure/", json={"media": item, "status": "ok"})


def error(rsps: responses.RequestsMock, method: str, path: str, fixture: str, status: int = 400) -> None:
    rsps.add(method, f"{API}/{path}", status=status, json=load(f"instagram/{fixture}.json"))


def calls(rsps: responses.RequestsMock, fragment: str) -> int:
    return sum(1 for c in rsps.calls if fragment in (c.request.url or ""))
