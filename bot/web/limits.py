"""What a public web port needs so a hostile client cannot stop the service: a header timeout and a
keep-alive idle timeout (a half-open connection is dropped), a cap on open connections below the
process's file limit (the daemon's database, log and platform calls keep their file descriptors),
and request bodies limited while they stream, before anything parses them, chunked or not, with a
deadline for the whole body.

At the cap, a new connection first evicts the oldest one that has not sent a complete request (a
half-open or idle keep-alive connection); only when every slot carries a request in progress is the
newcomer closed. So a flood of half-open connections costs a real user nothing but a reconnect.
"""
from __future__ import annotations

import asyncio
import logging
import resource
import time
from dataclasses import dataclass
from typing import Any

import h11
from starlette.exceptions import HTTPException
from starlette.responses import PlainTextResponse
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

BACKLOG = 16  # asyncio accepts up to this many sockets per wake-up, and a few wake-ups pass before a
# protocol can close one: so about 4x this many may be open beyond the cap for a moment
RESERVED_FDS = 64  # database connections, logs, platform calls, generate children, imports
BODY_LIMIT = 64 * 1024


@dataclass(frozen=True)
class Limits:
    header_timeout_s: float = 10.0  # from connect (or the end of the last response) to a complete request head
    idle_timeout_s: float = 5.0  # a keep-alive connection with nothing to do
    body_timeout_s: float = 60.0  # the whole request body, from the first read
    max_connections: int | None = None  # None: from the process's file limit (connection_cap)


def file_limit() -> int:
    soft, _hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return soft if soft != resource.RLIM_INFINITY else 1 << 20


def connection_cap(soft_limit: int | None = None) -> int:
    """Open web connections allowed: the file limit minus what asyncio may accept in one go and what
    the daemon's own work needs."""
    soft = file_limit() if soft_limit is None else soft_limit
    return max(4, min(4096, soft - 4 * BACKLOG - RESERVED_FDS - soft // 8))


class ConnectionTable:
    """The open connections of one server, oldest first."""

    def __init__(self, cap: int) -> None:
        self.cap = cap
        self.open: dict[Any, float] = {}
        self.evicted = 0
        self.refused = 0
        self._last_warning = 0.0

    def admit(self, proto: GuardedH11Protocol) -> bool:
        if len(self.open) >= self.cap:
            victim = next((p for p in self.open if p.waiting_for_request()), None)
            if victim is None:
                self.refused += 1
                self._warn()
                return False
            self.evicted += 1
            self._warn()
            victim.drop()
        self.open[proto] = time.monotonic()
        return True

    def _warn(self) -> None:
        now = time.monotonic()
        if now - self._last_warning >= 10:  # one line per 10 s, whatever the flood
            self._last_warning = now
            log.warning("event=web_connection_cap cap=%d open=%d evicted_idle=%d refused=%d", self.cap,
                        len(self.open), self.evicted, self.refused)


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with a connection cap and a timeout for the request head."""

    table: ConnectionTable
    limits: Limits

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._head_timer: asyncio.TimerHandle | None = None
        if not self.table.admit(self):
            transport.abort()
            return
        self._arm_head_timer()

    def connection_lost(self, exc: Exception | None) -> None:
        self.table.open.pop(self, None)
        self._cancel_head_timer()
        super().connection_lost(exc)

    def handle_events(self) -> None:
        super().handle_events()
        if self.conn.their_state is not h11.IDLE:  # a complete request head arrived
            self._cancel_head_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()  # starts uvicorn's keep-alive (idle) timer
        self._arm_head_timer()

    def waiting_for_request(self) -> bool:
        return self.conn.their_state is h11.IDLE and (self.cycle is None or self.cycle.response_complete)

    def drop(self) -> None:
        self.table.open.pop(self, None)
        self._cancel_head_timer()
        self.transport.abort()

    def _arm_head_timer(self) -> None:
        self._cancel_head_timer()
        self._head_timer = self.loop.call_later(self.limits.header_timeout_s, self._head_timeout)

    def _cancel_head_timer(self) -> None:
        timer = getattr(self, "_head_timer", None)
        if timer is not None:
            timer.cancel()
            self._head_timer = None

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.waiting_for_request() and not self.transport.is_closing():
            self.drop()


def protocol_class(limits: Limits) -> tuple[type[GuardedH11Protocol], ConnectionTable]:
    """A protocol class bound to one server's connection table."""
    table = ConnectionTable(limits.max_connections or connection_cap())
    cls = type("MemeloopH11Protocol", (GuardedH11Protocol,), {"table": table, "limits": limits})
    return cls, table


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the request is larger than {limit // 1024} KiB. Nothing was changed")


class BodyTooSlow(HTTPException):
    def __init__(self, seconds: float) -> None:
        super().__init__(408, f"the request body did not arrive within {seconds:g} s. Nothing was changed")


class BodyLimit:
    """ASGI middleware: every request body is counted as it streams (Content-Length or chunked) and
    stops at the route's limit (``limits_by_path``, else ``default``) or at ``timeout_s``; an answer
    given before the whole body was read closes the connection, so the rest is never read."""

    def __init__(self, app: Any, *, default: int = BODY_LIMIT, limits_by_path: dict[str, int] | None = None,
                 timeout_s: float = Limits.body_timeout_s) -> None:
        self.app, self.default, self.by_path, self.timeout_s = app, default, dict(limits_by_path or {}), timeout_s

    async def __call__(self, scope: dict, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.by_path.get(scope.get("path", ""), self.default)
        state: dict[str, Any] = {"seen": 0, "deadline": None, "refused": False, "done": False}
        headers = dict(scope.get("headers") or [])
        declared = headers.get(b"content-length")
        has_body = declared not in (None, b"0") or b"transfer-encoding" in headers

        if declared is not None and (not declared.isdigit() or int(declared) > limit):
            # refused before anything (session, CSRF, parser) looks at it
            response = PlainTextResponse(BodyTooLarge(limit).detail, 413, headers={"connection": "close"})
            await response(scope, receive, send)
            return

        async def limited() -> dict:
            if state["done"]:  # the body is in; later reads only wait for a disconnect
                return await receive()
            if state["deadline"] is None:
                state["deadline"] = time.monotonic() + self.timeout_s
            try:
                message = await asyncio.wait_for(receive(), max(0.0, state["deadline"] - time.monotonic()))
            except TimeoutError:
                state["refused"] = True
                raise BodyTooSlow(self.timeout_s) from None
            if message["type"] == "http.request":
                state["seen"] += len(message.get("body", b""))
                if state["seen"] > limit:
                    state["refused"] = True
                    raise BodyTooLarge(limit)
                state["done"] = not message.get("more_body", False)
            return message

        async def closing(message: dict) -> None:
            if message["type"] == "http.response.start" and (state["refused"] or has_body and not state["done"]):
                # an answer before the whole body was read: the rest is never read, the connection ends
                message["headers"] = [*message.get("headers", []), (b"connection", b"close")]
            await send(message)

        await self.app(scope, limited, closing)
