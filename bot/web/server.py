"""The web admin's ASGI application: plumbing shared by every page (templates, sessions, the login
and CSRF guard, error pages) and the assembly (``create_web``). Pages live in the routes_*.py modules
(logging in and out: routes_login.py), middleware in middleware.py; every page calls only the
service object (bot.app.App), with actor = the logged-in user."""
from __future__ import annotations

import functools
import hmac
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, ParamSpec, TypeVar
from urllib.parse import quote, urlsplit

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from bot.web import access
from bot.web.assets import STATIC, HashedStatic, static_url
from bot.web.auth import LoginLimiter, OneTimeToken, Sessions, WebSession, csrf_of
from bot.web.limits import BodyLimit, BodyTooLarge, BodyTooSlow, Limits
from bot.web.middleware import HostCheck, SecurityHeaders

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)
P = ParamSpec("P")
T = TypeVar("T")
HERE = Path(__file__).parent
COOKIE = "memeloop_session"
MAX_BODY = 64 * 1024
MAX_TEXT = 1000
MAX_REASON = 500
Handler = Callable[[Request], Awaitable[Response]]


class Problem(Exception):
    """Bad input or a refused action: shown as a message on the page with this HTTP status."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _utcnow() -> datetime:
    from feedback.clock import utcnow

    return utcnow()


@functools.lru_cache(maxsize=1)
def environment() -> Environment:
    """One environment per process (templates compiled once; rendering is thread-safe)."""
    env = Environment(loader=FileSystemLoader(HERE / "templates"), autoescape=select_autoescape(default=True),
                      trim_blocks=True, lstrip_blocks=True)
    from bot.web import views

    env.filters.update(views.FILTERS)
    env.globals["static"] = static_url
    return env


@dataclass
class Web:
    app: App
    sessions: Sessions = field(default_factory=Sessions)
    limiter: LoginLimiter = field(default_factory=LoginLimiter)
    token: OneTimeToken = field(default_factory=OneTimeToken)
    env: Environment = field(default_factory=lambda: environment())
    # account -> (dashboard_signature, datasets): the dashboard is recomputed when the data changed
    dashboard_cache: dict[str | None, tuple[tuple, dict]] = field(default_factory=dict)
    secure_cookies: bool = False  # served beyond loopback (behind TLS): the cookie never travels in clear
    wall: Callable[[], datetime] = field(default_factory=lambda: _utcnow)  # sessions' and links' clock

    async def session(self, request: Request) -> WebSession | None:
        """The logged-in session the request's cookie names (from the database), or None."""
        token = request.cookies.get(COOKIE) or ""
        live = await self.call(self.app.web_session, token, now=self.wall()) if token else None
        if live is None:
            return None
        return WebSession(csrf=csrf_of(token), seen=0.0, user=live.user, flash=live.flash, role=live.role,
                          key=live.id)

    async def call(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        """An App method off the event loop (the service is synchronous)."""
        return await run_in_threadpool(fn, *args, **kwargs)


def status_of(exc: Exception) -> tuple[int, str]:
    """HTTP status and a one-line message for a service error."""
    from bot.errors import ErrorKind, classify

    if isinstance(exc, Problem):
        return exc.status, str(exc)
    kind = classify(exc)
    if kind is None or kind is ErrorKind.FAILED:
        return 502, f"the operation failed: {exc}"
    return kind.http_status, str(exc)


def service_errors() -> tuple[type[Exception], ...]:
    from bot import errors

    return Problem, *errors.service_errors()


def flash(request: Request) -> str:
    """The outcome of the action that redirected here (kept in the session, shown once)."""
    session = request.state.session
    message, session.flash = session.flash, None
    return message or ""


def query_state(request: Request, states: tuple[str, ...] | list[str], noun: str) -> str:
    """The page's ``state`` filter: one of ``states``, or "" for all; anything else is a 400."""
    state = request.query_params.get("state") or ""
    if state and state not in states:
        raise Problem(400, f"unknown {noun} state {state[:40]!r} (use one of: {', '.join(states)})")
    return state


def render(request: Request, name: str, status: int = 200, **ctx: Any) -> HTMLResponse:
    web: Web = request.app.state.web
    session = getattr(request.state, "session", None)
    body = web.env.get_template(name).render(
        request=request, user=session.user if session else None, csrf=session.csrf if session else "",
        role=session.role.value if session and session.role else None, path=request.url.path, **ctx)
    return HTMLResponse(body, status_code=status)


def wants_fragment(request: Request) -> bool:
    return request.headers.get("x-fragment") == "1"


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    name = "_message.html" if wants_fragment(request) else "error.html"
    return render(request, name, status, status_code=status, message=message, level="error")


def actor(request: Request) -> str:
    return request.state.session.user


def form_value(request: Request, key: str, *, limit: int, required: bool = False, label: str | None = None
               ) -> str:
    """A form field, stripped, within ``limit`` characters (else a 400 naming the field)."""
    value = str(request.state.form.get(key) or "").strip()
    what = label or key
    if len(value) > limit:
        raise Problem(400, f"the {what} is {len(value)} characters long; the limit is {limit}. Nothing was changed")
    if required and not value:
        raise Problem(400, f"the {what} is empty. Nothing was changed")
    return value


def wall_time(raw: str, tz: str, *, what: str = "time", now: datetime | None = None) -> datetime:
    """A date-and-time field read in zone ``tz`` (bot.config.timefmt.from_wall: a time inside a
    daylight-saving gap is refused, a repeated one is its first occurrence) as aware UTC; a bad one,
    or with ``now`` one already past, is a 400."""
    from bot.config.timefmt import WallTimeError, from_wall, iso

    try:
        at = from_wall(raw, tz)
    except WallTimeError as exc:
        raise Problem(400, f"{what}: {exc}. Nothing was changed") from None
    if now is not None and at < now:
        raise Problem(400, f"{what} {iso(at, tz)} is in the past (now {iso(now, tz)}). Nothing was changed")
    return at


def account_zone(web: Web, account: str | None) -> str:
    """The zone a time typed for ``account`` is read in (bot.config.timefmt.typed_zone)."""
    from bot.config.timefmt import typed_zone

    return typed_zone(web.app.config, account)


def int_value(raw: str | None, what: str, *, default: int | None = None, lo: int = 0, hi: int = 10**9) -> int:
    if raw in (None, "") and default is not None:
        return default
    try:
        value = int(str(raw))
    except ValueError:
        raise Problem(400, f"{what} {raw!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise Problem(400, f"{what} {value} is out of range ({lo}..{hi})")
    return value


def guarded(fn: Handler, *, max_body: int = MAX_BODY) -> Handler:
    """Logged-in users whose role is at least the route's (bot/web/access.py) only; a POST also needs
    the session's CSRF token (form field or header) and is at most ``max_body`` bytes (uploads pass a
    larger limit). A flash message the page set is stored with the session."""

    async def endpoint(request: Request) -> Response:
        web: Web = request.app.state.web
        session = await web.session(request)
        if session is None or session.user is None or session.role is None:
            if request.method == "GET" and not wants_fragment(request):
                return RedirectResponse(f"/login?next={quote(request.url.path)}", status_code=303)
            return error_page(request, 403, "log in first (your session is missing or has expired)")
        request.state.session = session
        needed = access.needed_here(request)
        if needed is None or not session.role.allows(needed):
            log.warning("event=web_role_refused user=%s role=%s path=%s", session.user, session.role,
                        request.url.path)
            return error_page(request, 403, f"your role ({session.role.value}) may not do this; it needs "
                                            f"{needed.value if needed else 'a route rule'}. Nothing was changed")
        flash = session.flash
        try:
            return await _checked(fn, request, session, max_body)
        finally:
            if session.flash != flash and session.key is not None:
                await web.call(web.app.set_web_flash, session.key, session.flash)

    endpoint.__name__ = fn.__name__
    return endpoint


async def _checked(fn: Handler, request: Request, session: WebSession, max_body: int) -> Response:
    if request.method == "POST":
        if cross_site(request):
            log.warning("event=web_cross_site_rejected user=%s path=%s", session.user, request.url.path)
            return error_page(request, 403, "a form from another site was refused. Nothing was changed")
        if int(request.headers.get("content-length") or 0) > max_body:
            return error_page(request, 413, f"the request is larger than {max_body // 1024} KiB. "
                                            "Nothing was changed")
        request.state.form = await request.form(max_part_size=max_body)  # BodyLimit caps the stream
        sent = str(request.state.form.get("csrf") or request.headers.get("x-csrf-token") or "")
        if not hmac.compare_digest(sent.encode(), session.csrf.encode()):
            log.warning("event=web_csrf_rejected user=%s path=%s", session.user, request.url.path)
            return error_page(request, 403, "the form's security token is wrong or out of date: reload the "
                                            "page and try again. Nothing was changed")
    try:
        return await fn(request)
    except service_errors() as exc:
        return error_page(request, *status_of(exc))
    finally:
        await request.close()  # an upload's spooled temp file goes now, not at a garbage collection


def set_session_cookie(response: Response, sid: str, *, secure: bool = False) -> None:
    response.set_cookie(COOKIE, sid, httponly=True, samesite="strict", path="/", secure=secure)


def cross_site(request: Request) -> bool:
    """A POST whose Origin names another site than the Host it was sent to (or an opaque "null")."""
    origin = request.headers.get("origin")
    if origin is None:
        return False  # older clients send none; the CSRF token and SameSite=Strict still hold
    return origin == "null" or urlsplit(origin).netloc.lower() != request.headers.get("host", "").lower()


def back_to(request: Request, default: str = "/board") -> str:
    """Where a form without JavaScript returns: the page it came from when that is on this site."""
    referer = urlsplit(request.headers.get("referer") or "")
    if referer.netloc and referer.netloc.lower() != request.headers.get("host", "").lower():
        return default
    target = referer.path + (f"?{referer.query}" if referer.query else "")
    return same_site_path(target, default)


def same_site_path(target: str | None, default: str = "/board") -> str:
    """Only local paths after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


async def home(request: Request) -> Response:
    return RedirectResponse("/board", status_code=303)


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    if isinstance(exc, BodyTooLarge | BodyTooSlow):
        return error_page(request, status, exc.detail)
    message = {404: "there is no such page", 405: "that page does not take this kind of request"}.get(
        status, "something went wrong on the server; the log has the details")
    return error_page(request, status, message)


async def server_error(request: Request, exc: Exception) -> Response:
    log.exception("event=web_error path=%s", request.url.path)
    return error_page(request, 500, "something went wrong on the server; the log has the details")


def create_web(app: App, *, token: OneTimeToken | None = None, limiter: LoginLimiter | None = None,
               limits: Limits | None = None, allowed_hosts: tuple[str, ...] | None = None,
               secure_cookies: bool = False, wall: Callable[[], datetime] | None = None) -> Starlette:
    """The ASGI app serving the web admin for ``app``. ``allowed_hosts``: the only Host names it
    answers (a loopback server refuses others: no DNS rebinding); ``secure_cookies`` beyond loopback."""
    from bot.web import (
        routes_calendar,
        routes_create,
        routes_links,
        routes_login,
        routes_notify,
        routes_posts,
        routes_review,
        routes_templates,
        routes_threads,
        routes_users,
    )

    routes = [Route("/", home), *routes_login.ROUTES, *routes_review.ROUTES,
              *routes_calendar.ROUTES, *routes_posts.ROUTES, *routes_create.ROUTES, *routes_templates.ROUTES,
              *routes_threads.ROUTES, *routes_links.ROUTES, *routes_users.ROUTES,
              *routes_notify.ROUTES,
              Mount("/static", HashedStatic(directory=STATIC), name="static")]
    web = Starlette(routes=access.stamp(routes), exception_handlers={HTTPException: http_error, Exception: server_error},
                    middleware=[Middleware(SecurityHeaders), Middleware(HostCheck, allowed=allowed_hosts), Middleware(
                        BodyLimit, default=MAX_BODY, timeout_s=(limits or Limits()).body_timeout_s,
                        limits_by_path={**{path: routes_create.MAX_UPLOAD + MAX_BODY
                                           for path in routes_create.UPLOAD_PATHS},
                                        routes_templates.UPLOAD_PATH: routes_templates.MAX_UPLOAD + MAX_BODY})])
    web.state.web = Web(app=app, token=token or OneTimeToken(), limiter=limiter or LoginLimiter(),
                        secure_cookies=secure_cookies, wall=wall or _utcnow)
    return web
