"""Who may use which page: one table of (method, route path) -> the least role it needs (None: no
login, e.g. the login form and review links, whose token is the permission). ``create_web`` stamps
each route with its entry; ``guarded`` refuses a user whose role is below it. A route missing from
the table needs an admin (closed by default) and tests/bot/test_web_roles.py names it."""
from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from bot.service.web_users import Role

SCOPE_KEY = "memeloop.role"
V, E, A = Role.VIEWER, Role.EDITOR, Role.ADMIN

ACCESS: dict[tuple[str, str], Role | None] = {
    ("GET", "/"): None,
    ("GET", "/login"): None,
    ("POST", "/login"): None,
    ("POST", "/logout"): V,
    ("POST", "/logout/everywhere"): V,
    # the review board
    ("GET", "/board"): V,
    ("GET", "/board/card/{id}"): V,
    ("GET", "/media/candidate/{id}"): V,
    ("POST", "/board/{id}/approve"): E,
    ("POST", "/board/{id}/reject"): E,
    ("POST", "/board/{id}/edit"): E,
    ("POST", "/board/bulk"): E,
    # schedule, posts, accounts, dashboard
    ("GET", "/schedule"): V,
    ("GET", "/posts"): V,
    ("GET", "/posts/{id}"): V,
    ("GET", "/posts/{id}/instagram.jpg"): V,
    ("POST", "/posts/{id}/cancel"): E,
    ("POST", "/posts/{id}/retry"): E,
    ("POST", "/posts/{id}/reschedule"): E,  # also the calendar's drop
    ("GET", "/schedule/slot"): E,
    ("POST", "/schedule/slot"): E,
    ("GET", "/media/candidate/{id}/thumb"): V,
    ("GET", "/accounts"): V,
    ("POST", "/accounts/{name}/resume"): A,
    ("GET", "/dashboard"): V,
    ("GET", "/dashboard/{name}.{fmt}"): V,
    # making content and the template library
    ("GET", "/create"): E,
    ("POST", "/create/caption"): E,
    ("POST", "/create/make"): E,
    ("POST", "/create/story"): E,
    ("GET", "/templates"): V,
    ("POST", "/templates/add"): E,
    ("GET", "/templates/{slug}/image"): V,
    ("GET", "/templates/{slug}/preview.png"): V,
    ("POST", "/templates/{slug}/remove"): E,
    # a story thread's page: viewers see its parts, editors change them
    ("GET", "/threads/{id}"): V,
    ("POST", "/threads/{id}/parts/{n}"): E,
    ("POST", "/threads/{id}/continue"): E,
    # review links: editors make and revoke them; their holders need no account
    ("GET", "/links"): E,
    ("POST", "/links"): E,
    ("POST", "/links/{id}/revoke"): E,
    ("GET", "/r/{token}"): None,
    ("POST", "/r/{token}"): None,
    ("GET", "/r/{token}/image"): None,
    # the notification outbox and its test button
    ("GET", "/notifications"): A,
    ("POST", "/notifications/test"): A,
    # users
    ("GET", "/users"): A,
    ("POST", "/users"): A,
    ("POST", "/users/{name}/role"): A,
    ("POST", "/users/{name}/remove"): A,
}


def methods_of(route: Route) -> list[str]:
    return sorted(m for m in (route.methods or {"GET"}) if m != "HEAD")


def needed(method: str, path: str) -> Role | None:
    return ACCESS.get((method, path), Role.ADMIN)


def stamp(routes: list[BaseRoute]) -> list[BaseRoute]:
    """Each Route's endpoint wrapped so its request carries the role the table asks for."""
    out: list[BaseRoute] = []
    for route in routes:
        if isinstance(route, Route):
            rule = {m: needed(m, route.path) for m in methods_of(route)}
            route = Route(route.path, _stamped(route.endpoint, rule), methods=list(route.methods or ()) or None,
                          name=route.name)
        out.append(route)
    return out


def _stamped(endpoint: Callable[[Request], Awaitable[Response]], rule: dict[str, Role | None]
             ) -> Callable[[Request], Awaitable[Response]]:
    async def stamped(request: Request) -> Response:
        method = "GET" if request.method == "HEAD" else request.method
        request.scope[SCOPE_KEY] = rule.get(method, Role.ADMIN)
        return await endpoint(request)

    stamped.__name__ = getattr(endpoint, "__name__", "endpoint")
    return stamped


def needed_here(request: Request) -> Any:
    """The role this request needs; a missing stamp (a route built past create_web) needs an admin."""
    return request.scope.get(SCOPE_KEY, Role.ADMIN)
