"""An HTTP-level fake of a Bluesky PDS for the atproto SDK (httpx): an httpx.MockTransport whose
answers follow the AT Protocol lexicons (com.atproto.server.createSession/refreshSession,
com.atproto.repo.uploadBlob/createRecord, app.bsky.feed.getPosts/getAuthorFeed,
com.atproto.identity.resolveHandle) and the XRPC error shape ``{"error", "message"}``. The SDK,
httpx's client and everything of ours run for real; only the socket is replaced."""
from __future__ import annotations

import base64
import json
import time
from collections import defaultdict, deque
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx

from bot.config.secrets import Secret
from bot.publishers.bluesky import BlueskyPublisher

SERVICE = "https://pds.example"
HANDLE = "memebot.bsky.social"
DID = "did:plc:ewvi7nxzyoun6zhxrhs64oiz"
PASSWORD = "SENTINEL-app-pw-6d1f"
CID = "bafyreie5737gdxlw5i64vzichcalba3z2v5n6icifvx5xytvske7mr3hpm"
BLOB_CID = "bafkreibabalobzn6cd366ukcsjycp4yymjymgfxcv6xczmlgpemzkz3cfa"
Answer = httpx.Response | Callable[[httpx.Request], httpx.Response] | Exception


def jwt(exp: float, scope: str = "com.atproto.access") -> str:
    def part(obj: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()

    return f"{part({'alg': 'ES256K', 'typ': 'at+jwt'})}.{part({'scope': scope, 'sub': DID, 'exp': int(exp), 'iat': int(time.time())})}.c2ln"


def session_answer(n: int = 1) -> dict[str, Any]:
    return {"accessJwt": jwt(time.time() + 7200) + f"a{n}", "refreshJwt": jwt(time.time() + 86400 * 60,
            "com.atproto.refresh") + f"r{n}", "handle": HANDLE, "did": DID, "active": True}


def error(status: int, name: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.Response(status, json={"error": name, "message": message}, headers=headers)


def rate_headers(limit: int = 5000, remaining: int = 4999, reset: int = 1767618000) -> dict[str, str]:
    return {"ratelimit-limit": str(limit), "ratelimit-remaining": str(remaining), "ratelimit-reset": str(reset),
            "ratelimit-policy": f"{limit};w=3600"}


def post_view(uri: str, text: str, created_at: datetime, *, likes: int = 4, reposts: int = 1, replies: int = 0,
              quotes: int = 0, reply: dict[str, Any] | None = None) -> dict[str, Any]:
    record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text,
                              "createdAt": created_at.isoformat().replace("+00:00", "Z"), "langs": ["en"]}
    if reply:
        record["reply"] = reply
    return {"uri": uri, "cid": CID, "author": {"did": DID, "handle": HANDLE, "displayName": "memebot"},
            "record": record, "likeCount": likes, "repostCount": reposts, "replyCount": replies, "quoteCount": quotes,
            "indexedAt": created_at.isoformat().replace("+00:00", "Z"), "labels": []}


def uri(rkey: str) -> str:
    return f"at://{DID}/app.bsky.feed.post/{rkey}"


class FakePDS:
    """Queued answers per XRPC method; a method with an empty queue answers its default."""

    def __init__(self) -> None:
        self.queues: dict[str, deque[Answer]] = defaultdict(deque)
        self.requests: list[httpx.Request] = []
        self.posts: list[dict[str, Any]] = []  # what getAuthorFeed lists, newest first
        self.sessions = 0

    def add(self, method: str, answer: Answer) -> None:
        self.queues[method].append(answer)

    def calls(self, method: str) -> list[httpx.Request]:
        return [r for r in self.requests if r.url.path == f"/xrpc/{method}"]

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        method = request.url.path.removeprefix("/xrpc/")
        if self.queues[method]:
            answer = self.queues[method].popleft()
            if isinstance(answer, Exception):
                raise answer
            return answer(request) if callable(answer) else answer
        return self.default(method, request)

    def default(self, method: str, request: httpx.Request) -> httpx.Response:
        if method in ("com.atproto.server.createSession", "com.atproto.server.refreshSession"):
            self.sessions += 1
            return httpx.Response(200, json=session_answer(self.sessions))
        if method == "com.atproto.repo.uploadBlob":
            return httpx.Response(200, headers=rate_headers(), json={"blob": {
                "$type": "blob", "ref": {"$link": BLOB_CID}, "mimeType": request.headers.get("content-type"),
                "size": len(request.content)}})
        if method == "com.atproto.repo.createRecord":
            body = json.loads(request.content)
            rkey = f"3lbd{len(self.posts):09d}"
            self.posts.insert(0, post_view(uri(rkey), body["record"]["text"], datetime.now(UTC),
                                           reply=body["record"].get("reply")))
            return httpx.Response(200, headers=rate_headers(5000, 4997), json={
                "uri": uri(rkey), "cid": CID, "commit": {"cid": CID, "rev": "3lbd2ovy7vk2a"},
                "validationStatus": "valid"})
        if method == "app.bsky.feed.getPosts":
            wanted = request.url.params.get_list("uris")
            return httpx.Response(200, json={"posts": [p for p in self.posts if p["uri"] in wanted]})
        if method == "app.bsky.feed.getAuthorFeed":
            return httpx.Response(200, json={"feed": [{"post": p} for p in self.posts]})
        if method == "com.atproto.identity.resolveHandle":
            handle = request.url.params.get("handle")
            if handle == "alice.bsky.social":
                return httpx.Response(200, json={"did": "did:plc:alice0000000000000000000"})
            return error(400, "InvalidRequest", "Unable to resolve handle")
        return error(501, "MethodNotImplemented", f"{method} not in the fake")


def publisher(pds: FakePDS, tmp_path: Path, clock: Callable[[], datetime], **kwargs: Any) -> BlueskyPublisher:
    return BlueskyPublisher(account="bsky", handle=HANDLE, app_password=Secret(PASSWORD),
                            session_file=tmp_path / "bsky" / "session.txt", service_url=SERVICE, clock=clock,
                            transport=pds.transport(), **kwargs)
