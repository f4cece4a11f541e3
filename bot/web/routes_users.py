"""The Users page (admins): who may use the web admin, with which role; add, change role, remove."""
from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.service.web_users import MIN_PASSWORD, Role
from bot.web.server import Problem, Web, actor, flash, form_value, guarded, render

log = logging.getLogger(__name__)


@guarded
async def users_page(request: Request) -> Response:
    web: Web = request.app.state.web
    return render(request, "users.html", rows=await web.call(web.app.web_users), roles=[r.value for r in Role],
                  message=flash(request), min_password=MIN_PASSWORD)


def _role(request: Request) -> str:
    raw = form_value(request, "role", limit=16, required=True, label="role")
    if raw not in {r.value for r in Role}:
        raise Problem(400, f"role {raw!r}: use one of {', '.join(r.value for r in Role)}. Nothing was changed")
    return raw


@guarded
async def add(request: Request) -> Response:
    web: Web = request.app.state.web
    name = form_value(request, "name", limit=64, required=True, label="name")
    password = str(request.state.form.get("password") or "")
    if len(password) > 1024:
        raise Problem(400, "the password is longer than 1024 characters. Nothing was changed")
    role = _role(request)
    await web.call(web.app.add_web_user, name, password, role=role)
    log.warning("event=web_user_added user=%s role=%s actor=%s", name, role, actor(request))
    request.state.session.flash = f"added {name} as {role}"
    return RedirectResponse("/users", status_code=303)


@guarded
async def change_role(request: Request) -> Response:
    web: Web = request.app.state.web
    name, role = request.path_params["name"], _role(request)
    old = await web.call(web.app.set_web_role, name, role, actor=actor(request))
    request.state.session.flash = f"{name} is {role} now (was {old.value})"
    return RedirectResponse("/users", status_code=303)


@guarded
async def remove(request: Request) -> Response:
    web: Web = request.app.state.web
    name = request.path_params["name"]
    await web.call(web.app.remove_web_user, name, actor=actor(request))
    request.state.session.flash = f"removed {name}; their sessions ended"
    return RedirectResponse("/users", status_code=303)


ROUTES = [
    Route("/users", users_page),
    Route("/users", add, methods=["POST"]),
    Route("/users/{name}/role", change_role, methods=["POST"]),
    Route("/users/{name}/remove", remove, methods=["POST"]),
]
