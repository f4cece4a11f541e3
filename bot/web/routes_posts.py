"""Schedule, posts, accounts and the engagement dashboard."""
from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.config.timefmt import iso, to_wall, zone_of
from bot.core.kinds import content_kind
from bot.service import web_queries
from bot.service.read_models import HourCell, RankerEffect, Reading, as_row
from bot.web import charts, views
from bot.web.server import (
    MAX_REASON,
    Problem,
    Web,
    account_zone,
    actor,
    flash,
    form_value,
    guarded,
    int_value,
    query_state,
    render,
    same_site_path,
    wall_time,
    wants_fragment,
)
from feedback.states import POST_STATES

DATASETS = ("time", *web_queries.DASHBOARD_DIMENSIONS, "top", "bottom", "approval", "ranker", "imported",
            "hours")


@guarded
async def post_page(request: Request) -> Response:
    web: Web = request.app.state.web
    post = await web.call(web.app.post_detail,
                          int_value(request.path_params["id"], "post id"))
    thread = None
    if content_kind(post.generator).thread:
        from bot.web.routes_threads import thread_context
        from generator.story import split_parts

        thread = thread_context(split_parts(post.text), cid=post.candidate_id, platform=post.platform,
                                alt=post.alt, hashtag_cap=post.hashtag_cap, status=post.status,
                                version=post.version, post_state=post.state)
    rows = post.snapshots
    key = "engagement" if any(r.engagement is not None for r in rows) else "likes"
    chart = charts.metrics_chart(rows, title=f"post {post.id}: {key} over time", key=key) if rows else None
    back = _calendar_back(request.query_params.get("back"))
    return render(request, "post.html", p=post, x=views.x_preview(post.text, post.template, post.alt),
                  move=request.query_params.get("move") == "1", back=back,
                  at=to_wall(post.scheduled_at, account_zone(web, post.account)),
                  fedi=views.fediverse_preview(post.text), thread=thread,
                  chart=chart, chart_key=key, counts=_shown_counts(rows),
                  hashtags=views.hashtags(post.text), message=flash(request))


def _shown_counts(rows: list[Reading]) -> list[str]:
    """The counters this post's platform reported at least once (the table shows only those)."""
    from feedback.polling import COUNT_FIELDS

    return [name for name in COUNT_FIELDS if any(getattr(r, name) is not None for r in rows)]


@guarded
async def instagram_preview(request: Request) -> Response:
    """The image as Instagram will receive it: padded into 4:5..1.91:1 and scaled, as JPEG."""
    web: Web = request.app.state.web
    post = await web.call(web.app.post_detail, int_value(request.path_params["id"], "post id"))
    path = post.image_path
    if not path or not Path(path).is_file():
        raise Problem(404, f"post {post.id} has no image file")
    prepared = await web.call(_prepare_instagram, path, post.text, post.hashtag_cap)
    return Response(prepared.media, media_type=prepared.mime)


def _prepare_instagram(path: str, text: str, cap: int):
    from PIL import Image

    from generator.platforms import prepare

    with Image.open(path) as img:
        return prepare("instagram", img.convert("RGB"), text, hashtag_cap=cap)


def _calendar_back(raw: str | None) -> str:
    """Where a move started from the calendar returns: a calendar URL of this site, else nowhere."""
    target = same_site_path((raw or "")[:500], "")
    return target if target == "/schedule" or target.startswith("/schedule?") else ""


async def _post_action(request: Request, label: str, do, *, back: str = "") -> Response:
    web: Web = request.app.state.web
    post_id = int_value(request.path_params["id"], "post id")
    result = await do(web, post_id)
    message = f"{label}: post {post_id} is {result.post_state or 'gone'}" + (
        f", at {iso(result.scheduled_at, zone_of(web.app.config, result.account))}" if result.scheduled_at and result.post_state == "scheduled" else "")
    if wants_fragment(request):
        return render(request, "_message.html", message=message, level="ok")
    request.state.session.flash = message
    return RedirectResponse(back or f"/posts/{post_id}", status_code=303)


@guarded
async def cancel(request: Request) -> Response:
    reason = form_value(request, "reason", limit=MAX_REASON, label="reason") or None
    return await _post_action(request, "cancelled", lambda web, pid: web.call(
        web.app.cancel, pid, actor=actor(request), reason=reason))


@guarded
async def retry(request: Request) -> Response:
    return await _post_action(request, "retry", lambda web, pid: web.call(web.app.retry, pid, actor=actor(request)))


@guarded
async def reschedule(request: Request) -> Response:
    """Move a scheduled post (the post page's form, or a drop on the calendar): a time in the post's
    account's zone (the calendar names it in ``tz``, which must be one of the accounts' zones); it must
    keep the account's rules. The form refuses a past time here; the calendar leaves that to the rules,
    whose refusal names the slot."""
    web: Web = request.app.state.web
    raw = form_value(request, "at", limit=40, required=True, label="new time")
    zone = form_value(request, "tz", limit=64)
    if zone and zone not in {a.timezone for a in web.app.config.accounts} | {"UTC"}:
        raise Problem(400, f"time zone {zone[:64]!r} is not one of the accounts' time zones. Nothing was changed")
    if zone:
        at = wall_time(raw, zone, what="new time")
    else:
        post = await web.call(web.app.post_detail, int_value(request.path_params["id"], "post id"))
        at = wall_time(raw, account_zone(web, post.account), what="new time", now=web.app.clock())
    return await _post_action(request, "rescheduled", lambda web, pid: web.call(
        web.app.reschedule, pid, actor=actor(request), at=at, within_rules=True),
        back=_calendar_back(form_value(request, "back", limit=500)))


@guarded
async def posts(request: Request) -> Response:
    web: Web = request.app.state.web
    state = query_state(request, POST_STATES, "post")
    rows = await web.call(web.app.posts, states=(state,) if state else None,
                          account=request.query_params.get("account") or None, limit=200)
    return render(request, "posts.html", rows=rows, state=state, states=POST_STATES)


@guarded
async def accounts(request: Request) -> Response:
    web: Web = request.app.state.web
    return render(request, "accounts.html", rows=await web.call(web.app.accounts),
                  message=flash(request))


@guarded
async def resume(request: Request) -> Response:
    web: Web = request.app.state.web
    name = request.path_params["name"]
    if name not in {a.name for a in web.app.config.accounts}:
        raise Problem(404, f"no account named {name[:64]!r} in the config")
    reason = await web.call(web.app.resume_account, name, actor=actor(request))
    request.state.session.flash = f"resumed {name}" + (f" (it was paused: {reason})" if reason
                                                        else " (it was not paused)")
    return RedirectResponse("/accounts", status_code=303)


_FORMULA = ("=", "+", "-", "@", "\t", "\r")


def _cell(value: object) -> object:
    """A caption that starts like a formula stays text in a spreadsheet."""
    return f"'{value}" if isinstance(value, str) and value.startswith(_FORMULA) else value


async def _datasets(web: Web, account: str | None) -> dict[str, list[Any]]:
    """The dashboard's data, recomputed only when the database has changed since the last view: the
    stats rows (mappings) by name, "ranker" (RankerEffect) and "hours" (HourCell)."""
    signature = await web.call(web.app.dashboard_signature)
    cached = web.dashboard_cache.get(account)
    if cached is not None and cached[0] == signature:
        data = cached[1]
    else:
        data = await web.call(web.app.dashboard, account=account)
        if len(web.dashboard_cache) > 32:
            web.dashboard_cache.clear()
        web.dashboard_cache[account] = (signature, data)
    hours_of = account or (web.app.config.accounts[0].name if web.app.config.accounts else None)
    hours: list[HourCell] = await web.call(web.app.hours, hours_of) if hours_of else []
    ranker: list[RankerEffect] = await web.call(web.app.ranker_effects)
    return {**data, "ranker": ranker, "hours": hours}


@guarded
async def dashboard(request: Request) -> Response:
    web: Web = request.app.state.web
    account = request.query_params.get("account") or None
    data = await _datasets(web, account)
    rows_by = {d: [(str(r.get(d) if r.get(d) is not None else "(none)"), r.get("mean_engagement"))
                   for r in data[d]] for d in web_queries.DASHBOARD_DIMENSIONS}
    svg = {"time": charts.line_chart([(r["day"], r["mean_engagement"]) for r in data["time"]],
                                     title="mean engagement per publishing day"),
           **{d: charts.bar_chart(rows, title=f"mean engagement by {d}") for d, rows in rows_by.items()},
           "approval": charts.bar_chart([(r["generator"], r["approval_rate"]) for r in data["approval"]],
                                        title="approval rate by generator", value_label="share approved"),
           "ranker": charts.bar_chart([(r.feature, r.weight) for r in data["ranker"]],
                                      title="the ranker's strongest effects", value_label="mean effect on the score"),
           "hours": charts.heatmap(data["hours"], title="engagement x baseline by weekday and hour")}
    return render(request, "dashboard.html", data=data, svg=svg, account=account or "",
                  accounts=web.app.config.accounts, dimensions=web_queries.DASHBOARD_DIMENSIONS)


@guarded
async def download(request: Request) -> Response:
    web: Web = request.app.state.web
    name, fmt = request.path_params["name"], request.path_params["fmt"]
    if name not in DATASETS or fmt not in ("csv", "json"):
        raise Problem(404, f"no dataset {name[:40]!r}.{fmt[:8]} (datasets: {', '.join(DATASETS)}; csv or json)")
    rows = [as_row(r) for r in (await _datasets(web, request.query_params.get("account") or None))[name]]
    headers = {"Content-Disposition": f'attachment; filename="memeloop-{name}.{fmt}"'}
    if fmt == "json":
        return Response(json.dumps(rows, default=str, indent=1), media_type="application/json", headers=headers)
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows({k: _cell(v) for k, v in row.items()} for row in rows)
    return Response(buf.getvalue(), media_type="text/csv", headers=headers)


ROUTES = [
    Route("/posts", posts),
    Route("/posts/{id}", post_page),
    Route("/posts/{id}/instagram.jpg", instagram_preview),
    Route("/posts/{id}/cancel", cancel, methods=["POST"]),
    Route("/posts/{id}/retry", retry, methods=["POST"]),
    Route("/posts/{id}/reschedule", reschedule, methods=["POST"]),
    Route("/accounts", accounts),
    Route("/accounts/{name}/resume", resume, methods=["POST"]),
    Route("/dashboard", dashboard),
    Route("/dashboard/{name}.{fmt}", download),
]
