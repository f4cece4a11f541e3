"""ASGI middleware of the web admin: security headers on every response, and a Host check (a
loopback server answers no other name: no DNS rebinding)."""
from __future__ import annotations

from typing import Any

HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                               "frame-ancestors 'none'; form-action 'self'; base-uri 'none'",
    "X-Frame-Options": "DENY", "X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}


class SecurityHeaders:
    """CSP (no inline script, no framing) and friends on every response."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: dict) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], *((k.lower().encode(), v.encode())
                                                            for k, v in HEADERS.items()
                                                            if k.lower().encode() not in names)]
            await send(message)

        await self.app(scope, receive, with_headers)


class HostCheck:
    """Answers only requests whose Host header names one of ``allowed`` (None: any)."""

    def __init__(self, app: Any, *, allowed: tuple[str, ...] | None) -> None:
        self.app, self.allowed = app, {h.lower() for h in allowed} if allowed else None

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and self.allowed is not None:
            host = dict(scope.get("headers") or []).get(b"host", b"").decode("latin-1").lower()
            name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
            if name not in self.allowed:
                from starlette.responses import PlainTextResponse

                response = PlainTextResponse(f"this server does not answer for host {host[:100]!r}", 421)
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
