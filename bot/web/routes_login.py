"""Logging in and out of the web admin: the login form (password or the one-time token printed at
start), throttled per address and slowed per name; logout here or everywhere."""
from __future__ import annotations

import asyncio
import hmac
import logging
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.auth import TOKEN_ACTOR
from bot.web.server import (
    COOKIE,
    Web,
    actor,
    cross_site,
    error_page,
    guarded,
    render,
    same_site_path,
    set_session_cookie,
)

log = logging.getLogger(__name__)


async def login_page(request: Request) -> Response:
    web: Web = request.app.state.web
    if await web.session(request) is not None:
        return RedirectResponse(same_site_path(request.query_params.get("next")), status_code=303)
    sid = request.cookies.get(COOKIE)
    session = web.sessions.get(sid)
    token = request.query_params.get("token", "")[:200]
    if token and web.token.use(token):  # the link printed at start: logs in once, then is worthless
        return await _logged_in(web, request, TOKEN_ACTOR, "/board")
    if session is None:
        sid, session = web.sessions.new()
    request.state.session = session
    response = render(request, "login.html", 401 if token else 200, next=same_site_path(
        request.query_params.get("next")), error="that one-time token is wrong or was used" if token else None)
    set_session_cookie(response, sid or "", secure=web.secure_cookies)
    return response


async def _logged_in(web: Web, request: Request, user: str, target: str) -> Response:
    web.sessions.drop(request.cookies.get(COOKIE))  # a fresh id after login: no session fixation
    sid = await web.call(web.app.start_web_session, user, now=web.wall())
    log.info("event=web_login user=%s", user)
    response = RedirectResponse(same_site_path(target), status_code=303)
    set_session_cookie(response, sid, secure=web.secure_cookies)
    return response


async def login(request: Request) -> Response:
    web: Web = request.app.state.web
    session = web.sessions.get(request.cookies.get(COOKIE))
    if session is None:
        return error_page(request, 403, "your login form is out of date: reload the page")
    request.state.session = session
    if cross_site(request):
        return error_page(request, 403, "a login form from another site was refused")
    try:
        return await _check_login(web, request, session)
    finally:
        await request.close()


async def _check_login(web: Web, request: Request, session: Any) -> Response:
    form = await request.form(max_files=0)
    if not hmac.compare_digest(str(form.get("csrf") or "").encode(), session.csrf.encode()):
        return error_page(request, 403, "the form's security token is wrong or out of date: reload the page")
    name, password = str(form.get("name") or "")[:64], str(form.get("password") or "")[:1024]
    client = f"ip:{request.client.host if request.client else '-'}"
    wait = web.limiter.wait_s(client)
    if wait:
        log.warning("event=web_login_throttled client=%s", client)
        return render(request, "login.html", 429, error=f"too many failed logins: try again in {wait} s",
                      next=form.get("next"))
    delay = web.limiter.delay_s(name) if name else 0.0
    if delay:  # a name under attack from many addresses: slower, never locked
        await asyncio.sleep(delay)
    token = str(form.get("token") or "")
    user = TOKEN_ACTOR if token and web.token.use(token) else None
    if user is None and name and password and await web.call(web.app.check_web_login, name, password):
        user = name
    if user is None:
        web.limiter.failed(client, name)
        log.warning("event=web_login_failed client=%s", client)
        return render(request, "login.html", 401, error="wrong name, password or token", next=form.get("next"))
    web.limiter.succeeded(client)
    return await _logged_in(web, request, user, str(form.get("next") or ""))


@guarded
async def logout(request: Request) -> Response:
    web: Web = request.app.state.web
    await web.call(web.app.end_web_session, request.cookies.get(COOKIE) or "")
    request.state.session.key = None  # gone: nothing to store after this
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


@guarded
async def logout_everywhere(request: Request) -> Response:
    """End every session of this user: other browsers, other devices, and this one."""
    web: Web = request.app.state.web
    await web.call(web.app.end_web_sessions_of, actor(request))
    request.state.session.key = None
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


ROUTES = [
    Route("/login", login_page),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/logout/everywhere", logout_everywhere, methods=["POST"]),
]
