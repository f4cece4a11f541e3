"""Review links: editors make and revoke them (/links); their holders open /r/<token> without an
account, see the preview and approve or reject once with a comment (bot/service/review_links.py).
A used, revoked, expired or unknown link answers 410 and says which."""
from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.config.timefmt import iso, zone_of
from bot.service.review_links import KINDS, LinkGone
from bot.web.routes_review import IMAGE_TYPES
from bot.web.server import (
    MAX_REASON,
    Problem,
    Web,
    actor,
    cross_site,
    error_page,
    flash,
    form_value,
    guarded,
    int_value,
    render,
    service_errors,
    status_of,
)

log = logging.getLogger(__name__)
NOINDEX = {"X-Robots-Tag": "noindex, nofollow"}


async def _links_page(request: Request, *, status: int = 200, new_url: str | None = None, **ctx: Any) -> Response:
    web: Web = request.app.state.web
    rows = await web.call(web.app.review_links)
    now = web.wall()
    return render(request, "links.html", status, rows=[(r, r.state(now)) for r in rows], kinds=KINDS,
                  new_url=new_url, message=ctx.pop("message", None) or flash(request), **ctx)


@guarded
async def links_page(request: Request) -> Response:
    q = request.query_params
    kind = q.get("kind") if q.get("kind") in KINDS else "candidate"
    return await _links_page(request, kind=kind, target=q.get("target", "")[:12])


@guarded
async def create(request: Request) -> Response:
    web: Web = request.app.state.web
    kind = form_value(request, "kind", limit=16, required=True, label="kind")
    if kind not in KINDS:
        raise Problem(400, f"kind {kind!r}: use one of {', '.join(KINDS)}. Nothing was changed")
    target = int_value(request.state.form.get("target"), f"{kind} id", lo=1)
    label = form_value(request, "label", limit=48, required=True, label="label")
    days = int_value(request.state.form.get("days"), "days", default=7, lo=1, hi=90)
    made = await web.call(web.app.create_review_link, kind, target, label=label, actor=actor(request),
                          now=web.wall(), ttl=timedelta(days=days))
    url = f"{str(request.base_url).rstrip('/')}/r/{made.token}"  # shown this once; only its hash is kept
    return await _links_page(request, status=201, new_url=url, kind=kind, target=str(target),
                             message=f"link {made.link.id} for {kind} {target} ({label}) made; it expires "
                                     f"{iso(made.link.expires_at, web.app.config.scheduler.timezone)}. "
                                     "Copy it now: it is shown once")


@guarded
async def revoke(request: Request) -> Response:
    web: Web = request.app.state.web
    link_id = int_value(request.path_params["id"], "link id", lo=1)
    await web.call(web.app.revoke_review_link, link_id, actor=actor(request), now=web.wall())
    request.state.session.flash = f"link {link_id} revoked: it opens nothing now"
    return RedirectResponse("/links", status_code=303)


# -- the holder's side: no account, the token is the permission ------------------------------------------

def gone(request: Request, exc: LinkGone) -> HTMLResponse:
    response = render(request, "link_gone.html", 410 if exc.state != "unknown" else 404, message=str(exc),
                      state=exc.state)
    response.headers.update(NOINDEX)
    return response


async def _preview(web: Web, link) -> dict[str, Any]:
    if link.kind == "post":
        assert link.post_id is not None
        post = await web.call(web.app.post_detail, link.post_id)
        card = await web.call(web.app.card, link.candidate_id)
        return {"post": post, "c": card, "parts": None}
    card = await web.call(web.app.card, link.candidate_id)
    parts = (await web.call(web.app.thread, link.candidate_id)).parts if link.kind == "thread" else None
    return {"post": None, "c": card, "parts": parts}


async def link_page(request: Request, *, status: int = 200, message: str = "", level: str = "ok") -> Response:
    web: Web = request.app.state.web
    token = request.path_params["token"]
    try:
        link = await web.call(web.app.open_review_link, token, now=web.wall())
        preview = await _preview(web, link)
    except LinkGone as exc:
        return gone(request, exc)
    except service_errors() as exc:
        return error_page(request, *status_of(exc))
    response = render(request, "link.html", status, link=link, token=token, message=message, level=level,
                      max_reason=MAX_REASON, **preview)
    response.headers.update(NOINDEX)
    return response


async def link_decide(request: Request) -> Response:
    web: Web = request.app.state.web
    token = request.path_params["token"]
    if cross_site(request):
        return error_page(request, 403, "a form from another site was refused. Nothing was changed")
    try:
        form = await request.form(max_files=0)
        decision = str(form.get("decision") or "")
        comment = str(form.get("comment") or "").strip()
        if len(comment) > MAX_REASON:
            return await link_page(request, status=400, level="error", message=(
                f"the comment is {len(comment)} characters long; the limit is {MAX_REASON}. Nothing was changed"))
        version = int_value(str(form.get("version") or ""), "version", default=0, lo=0) or None
        result = await web.call(web.app.decide_review_link, token, decision, comment=comment or None,
                                now=web.wall(), expected_version=version)
    except LinkGone as exc:
        return gone(request, exc)
    except service_errors() as exc:
        status, message = status_of(exc)
        return await link_page(request, status=status, message=message, level="error")
    finally:
        await request.close()
    done = "Approved" if decision == "approve" else "Rejected"
    detail = (f"; it is scheduled for {iso(result.scheduled_at, zone_of(web.app.config, result.account))}"
              if decision == "approve" and result.post_state == "scheduled" and result.scheduled_at else "")
    response = render(request, "link_done.html", message=f"{done}{detail}. Thank you: the team has your decision"
                                                          + (" and your comment." if comment else "."))
    response.headers.update(NOINDEX)
    return response


async def link_image(request: Request) -> Response:
    web: Web = request.app.state.web
    try:
        link = await web.call(web.app.open_review_link, request.path_params["token"], now=web.wall())
        path = await web.call(web.app.image_path, link.candidate_id)
    except LinkGone as exc:
        return gone(request, exc)
    except service_errors() as exc:
        return error_page(request, *status_of(exc))
    if not path or Path(path).suffix.lower() not in IMAGE_TYPES or not Path(path).is_file():
        return error_page(request, 404, "this link's post has no image file")
    return FileResponse(path, media_type=IMAGE_TYPES[Path(path).suffix.lower()], headers=NOINDEX)


ROUTES = [
    Route("/links", links_page),
    Route("/links", create, methods=["POST"]),
    Route("/links/{id}/revoke", revoke, methods=["POST"]),
    Route("/r/{token}", link_page),
    Route("/r/{token}", link_decide, methods=["POST"]),
    Route("/r/{token}/image", link_image),
]
