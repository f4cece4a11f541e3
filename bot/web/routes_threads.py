"""A story thread's page: each part as every platform receives it, and per-part edit, continue and
steer through the story use cases (bot/service/story.py, as `memeloop thread ...`). The post page
of a thread shows the same section (templates/_thread.html)."""
from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web import views
from bot.web.server import MAX_TEXT, Web, actor, back_to, flash, form_value, guarded, int_value, render

EDITABLE = ("pending", "approved", "filtered", "duplicate")  # the lifecycle decides; the page offers it here
OPEN_POSTS = (None, "scheduled", "failed", "cancelled")


def thread_context(parts: list[str], *, cid: int, platform: str, alt: str | None, hashtag_cap: int, status: str,
                   version: int, post_state: str | None = None) -> dict[str, Any]:
    """What templates/_thread.html shows: the previews, and whether (and how far) it may be changed."""
    from generator.story import MAX_PARTS

    return {"preview": views.thread_preview(parts, platform=platform, alt=alt, hashtag_cap=hashtag_cap),
            "cid": cid, "version": version, "raw": parts,
            "editable": status in EDITABLE and post_state in OPEN_POSTS, "room": MAX_PARTS - len(parts)}


def _account(web: Web, name: str | None):
    accounts = web.app.config.accounts
    named = [a for a in accounts if a.name == name]
    return named[0] if named else (accounts[0] if len(accounts) == 1 else None)


@guarded
async def thread_page(request: Request) -> Response:
    web: Web = request.app.state.web
    cid = int_value(request.path_params["id"], "candidate id")
    thread = await web.call(web.app.thread, cid)
    detail = await web.call(web.app.candidate, cid)
    card = await web.call(web.app.card, cid)
    account = _account(web, thread.account)
    posts = detail.posts
    live = next((p for p in posts if p.state != "cancelled"), None)
    ctx = thread_context(list(thread.parts), cid=cid, platform=account.platform if account else "x", alt=card.alt,
                         hashtag_cap=account.hashtag_cap if account else 5, status=card.status,
                         version=card.version, post_state=live.state if live else None)
    return render(request, "thread.html", c=card, t=ctx, posts=posts, account=account, message=flash(request))


async def _thread_action(request: Request, do) -> Response:
    web: Web = request.app.state.web
    cid = int_value(request.path_params["id"], "candidate id")
    version = int_value(request.state.form.get("version"), "version", lo=1)
    message = await do(web, cid, version)
    request.state.session.flash = message
    return RedirectResponse(back_to(request, f"/threads/{cid}"), status_code=303)


@guarded
async def edit_part(request: Request) -> Response:
    position = int_value(request.path_params["n"], "part", lo=1, hi=99)

    async def do(web: Web, cid: int, version: int) -> str:
        text = form_value(request, "text", limit=MAX_TEXT, required=True, label=f"text of part {position}")
        await web.call(web.app.edit_thread_part, cid, position, text, actor=actor(request), expected_version=version)
        return f"part {position} saved"

    return await _thread_action(request, do)


@guarded
async def continue_thread(request: Request) -> Response:
    async def do(web: Web, cid: int, version: int) -> str:
        from generator.story import MAX_PARTS

        parts = int_value(request.state.form.get("parts"), "parts", default=1, lo=1, hi=MAX_PARTS)
        steer = form_value(request, "steer", limit=400, label="steering sentence") or None
        _, thread = await web.call(web.app.continue_thread, cid, actor=actor(request), parts=parts, steer=steer,
                                   expected_version=version)
        return (f"continued with {parts} part{'s' if parts != 1 else ''}" + (f", steered: {steer}" if steer else "")
                + f"; the thread has {len(thread.parts)} parts now")

    return await _thread_action(request, do)


ROUTES = [
    Route("/threads/{id}", thread_page),
    Route("/threads/{id}/parts/{n}", edit_part, methods=["POST"]),
    Route("/threads/{id}/continue", continue_thread, methods=["POST"]),
]
