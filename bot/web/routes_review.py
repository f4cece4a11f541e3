"""The review board: pending candidates as cards; approve / reject / edit in place; sibling swap."""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

from starlette.requests import Request
from starlette.responses import FileResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.config.timefmt import iso, zone_of
from bot.service import web_queries
from bot.service.review import BULK_MAX
from bot.web.server import (
    MAX_REASON,
    MAX_TEXT,
    Problem,
    Web,
    account_zone,
    actor,
    back_to,
    form_value,
    guarded,
    int_value,
    render,
    same_site_path,
    service_errors,
    status_of,
    wall_time,
    wants_fragment,
)
from feedback.states import CANDIDATE_STATUSES

IMAGE_TYPES = {".png": "image/png", ".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".webp": "image/webp"}


def _filter(request: Request) -> web_queries.BoardFilter:
    q = request.query_params
    status = q.get("status") or "pending"
    if status not in CANDIDATE_STATUSES:
        raise Problem(400, f"unknown status {status[:40]!r} (use one of: {', '.join(CANDIDATE_STATUSES)})")
    return web_queries.BoardFilter(statuses=(status,), account=q.get("account") or None,
                                   generator=q.get("generator") or None, template=q.get("template") or None)


@guarded
async def board(request: Request) -> Response:
    web: Web = request.app.state.web
    flt = _filter(request)
    page_no = int_value(request.query_params.get("page"), "page", default=1, lo=1, hi=100_000)
    limit = web_queries.BOARD_PAGE
    page = await web.call(web.app.board, flt, limit=limit, offset=(page_no - 1) * limit)
    pages = max(1, -(-page.total // limit))
    return render(request, "board.html", page=page, flt=flt, page_no=page_no, pages=pages,
                  statuses=CANDIDATE_STATUSES, query=_query_without_page(request),
                  slots=await _slots(web, {c.account for c in page.cards if c.status == "pending"}))


async def _slots(web: Web, accounts: set[str | None]) -> dict[str | None, list[datetime]]:
    """Free posting slots per account on the page (a card without an account: the only account's)."""
    configured = {a.name: a for a in web.app.config.accounts}
    if None in accounts and len(configured) == 1:
        accounts = (accounts - {None}) | {next(iter(configured))}
    out: dict[str | None, list[datetime]] = {}
    for name in accounts:
        if name in configured and name in web.app.account_ids:
            out[name] = await web.call(web.app.free_slots, name)
    if len(configured) == 1:
        out[None] = out.get(next(iter(configured)), [])
    return out


def _query_without_page(request: Request) -> str:
    from urllib.parse import urlencode

    return urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "page" and v])


@guarded
async def card(request: Request) -> Response:
    web: Web = request.app.state.web
    candidate_id = int_value(request.path_params["id"], "candidate id")
    found = await web.call(web.app.card, candidate_id)
    # a sibling link followed without JavaScript (or a shared link) gets a whole page around the card
    name = "_card.html" if wants_fragment(request) else "card_page.html"
    slots = None if name == "_card.html" else await _slots(web, {found.account} if found.status == "pending" else set())
    return render(request, name, c=found, accounts=web.app.config.accounts, slots=slots)


@guarded
async def image(request: Request) -> Response:
    web: Web = request.app.state.web
    candidate_id = int_value(request.path_params["id"], "candidate id")
    path = await web.call(web.app.image_path, candidate_id)
    if not path or Path(path).suffix.lower() not in IMAGE_TYPES or not Path(path).is_file():
        raise Problem(404, f"candidate {candidate_id} has no image file")
    return FileResponse(path, media_type=IMAGE_TYPES[Path(path).suffix.lower()])


async def _act(request: Request, do) -> Response:
    """Run one review action; answer with the card as it is now, plus the outcome or the refusal."""
    web: Web = request.app.state.web
    candidate_id = int_value(request.path_params["id"], "candidate id")
    status, message, level = 200, "", "ok"
    try:
        version = int_value(request.state.form.get("version"), "version", lo=1)
        message = await do(web, candidate_id, version)
    except service_errors() as exc:
        status, message = status_of(exc)
        level = "error"
    if not wants_fragment(request):
        if status != 200:
            return render(request, "error.html", status, status_code=status, message=message, level=level)
        return RedirectResponse(back_to(request), status_code=303)
    try:
        fresh = await web.call(web.app.card, candidate_id)
    except service_errors() as exc:
        return render(request, "_message.html", status_of(exc)[0], message=message or str(exc), level="error")
    return render(request, "_card.html", status, c=fresh, message=message, level=level,
                  accounts=web.app.config.accounts)


@guarded
async def approve(request: Request) -> Response:
    async def do(web: Web, candidate_id: int, version: int) -> str:
        raw = form_value(request, "at", limit=40) or form_value(request, "slot", limit=40)
        account = form_value(request, "account", limit=64) or None
        at: datetime | Literal["best"] | None = "best" if raw == "best" else None
        if raw and raw != "best":  # typed in the zone of the account it will post on (the card says which)
            owner = account or (await web.call(web.app.card, candidate_id)).account
            at = wall_time(raw, account_zone(web, owner), now=web.app.clock())
        result = await web.call(web.app.approve, candidate_id, actor=actor(request), at=at, account=account,
                                expected_version=version)
        when = iso(result.scheduled_at, zone_of(web.app.config, result.account))
        return f"approved: post {result.post_id} is scheduled for {when}"

    return await _act(request, do)


@guarded
async def reject(request: Request) -> Response:
    async def do(web: Web, candidate_id: int, version: int) -> str:
        reason = form_value(request, "reason", limit=MAX_REASON, label="reason") or "rejected in the web admin"
        result = await web.call(web.app.reject, candidate_id, actor=actor(request), reason=reason,
                                expected_version=version)
        return "rejected" + (f"; its post {result.post_id} was cancelled" if result.post_id else "")

    return await _act(request, do)


@guarded
async def edit(request: Request) -> Response:
    async def do(web: Web, candidate_id: int, version: int) -> str:
        text = form_value(request, "text", limit=MAX_TEXT, required=True, label="text")
        result = await web.call(web.app.edit, candidate_id, actor=actor(request), text=text,
                                expected_version=version)
        return "edited" + (" and re-rendered" if result.image_path else "") + f"; now {result.after}"

    return await _act(request, do)


def _selected(request: Request) -> list[tuple[int, int | None]]:
    """The cards ticked on the board: "id:version" each (the version the reviewer saw)."""
    out: dict[int, int | None] = {}
    for raw in request.state.form.getlist("ids"):
        cid, _, version = str(raw).partition(":")
        out[int_value(cid, "candidate id", lo=1, hi=2**63 - 1)] = int_value(version, "version", lo=1)
    if not out:
        raise Problem(400, "no candidates selected: tick the cards to approve or reject first. Nothing was changed")
    if len(out) > BULK_MAX:
        raise Problem(400, f"{len(out)} candidates selected; one bulk action takes at most {BULK_MAX}. "
                           "Nothing was changed")
    return list(out.items())


@guarded
async def bulk(request: Request) -> Response:
    """Several cards at once: the first POST shows what will happen and asks once; the confirmed POST
    runs each through the same approve / reject use case and reports every candidate's outcome."""
    web: Web = request.app.state.web
    raw = form_value(request, "action", limit=10)
    if raw not in ("approve", "reject"):
        raise Problem(400, f"unknown bulk action {raw[:20]!r} (approve or reject). Nothing was changed")
    action: Literal["approve", "reject"] = "approve" if raw == "approve" else "reject"
    items = _selected(request)
    reason = form_value(request, "reason", limit=MAX_REASON, label="reason") or (
        "rejected in the web admin" if action == "reject" else "")
    if form_value(request, "confirm", limit=10) != "yes":
        cards: list[dict[str, object]] = []
        for cid, version in items:
            try:
                found = await web.call(web.app.card, cid)
                cards.append({"id": cid, "seen_version": version, "account": found.account, "status": found.status,
                              "version": found.version, "text": found.text})
            except service_errors() as exc:
                cards.append({"id": cid, "seen_version": version, "problem": status_of(exc)[1]})
        return render(request, "bulk.html", action=action, cards=cards, reason=reason, outcomes=None,
                      back=back_to(request))
    outcomes = await web.call(web.app.bulk_review, action, items, actor=actor(request), reason=reason or None)
    rows = []
    for o in outcomes:
        at = o.result.scheduled_at if o.result is not None and o.result.post_state == "scheduled" else None
        when = f" at {iso(at, zone_of(web.app.config, o.result.account if o.result else None))}" if at else ""
        rows.append({"id": o.candidate_id, "ok": o.ok, "message": o.message + when})
    done = sum(o.ok for o in outcomes)
    return render(request, "bulk.html", 200 if done else 409, action=action, cards=None, outcomes=rows, done=done,
                  back=same_site_path(form_value(request, "back", limit=500), "/board"))


ROUTES = [
    Route("/board", board),
    Route("/board/bulk", bulk, methods=["POST"]),
    Route("/board/card/{id}", card),
    Route("/media/candidate/{id}", image),
    Route("/board/{id}/approve", approve, methods=["POST"]),
    Route("/board/{id}/reject", reject, methods=["POST"]),
    Route("/board/{id}/edit", edit, methods=["POST"]),
]
