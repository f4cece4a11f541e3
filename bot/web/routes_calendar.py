"""The calendar: one account's posts on a week (a time grid) or a month, in the account's time zone,
with thumbnails. A scheduled post can be dragged to another slot (calendar.js posts the same form the
post page has: /posts/{id}/reschedule, the reschedule use case with the account's rules); an empty
slot links to a page that schedules an approved (or approves a pending) candidate there. Without
JavaScript every post links to its page, whose form moves it, and every empty slot is a link."""
from __future__ import annotations

import dataclasses
import io
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.config import AccountConfig
from bot.config.timefmt import to_wall
from bot.service.read_models import ScheduledPost
from bot.web.server import Problem, Web, actor, flash, form_value, guarded, int_value, render, wall_time

FIRST_DAY, LAST_DAY = date(1900, 1, 8), date(9000, 12, 1)
VIEWS = ("week", "month")
THUMB_PX = 96


@dataclass
class Cell:
    day: date
    slot: str  # local "YYYY-MM-DDTHH:MM" a post dropped or scheduled here gets ("" in a month: its own time)
    open: bool  # the future, within the account's allowed hours
    why: str = ""  # why it is closed
    posts: list[dict[str, Any]] = field(default_factory=list)
    in_month: bool = True


def account_of(web: Web, name: str | None) -> AccountConfig:
    accounts = web.app.config.accounts
    if not accounts:
        raise Problem(404, "no accounts are configured")
    if not name:
        return accounts[0]
    for a in accounts:
        if a.name == name:
            return a
    raise Problem(404, f"no account named {name[:64]!r} in the config")


def _start(raw: str | None, default: date) -> date:
    if not raw:
        return default
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise Problem(400, f"start {raw[:40]!r} is not a date (YYYY-MM-DD)") from None
    if not FIRST_DAY <= day <= LAST_DAY:  # the page steps a month either way: no overflow at the ends
        raise Problem(400, f"start {raw[:40]!r} is out of range ({FIRST_DAY}..{LAST_DAY})")
    return day


def slot_minute(account: AccountConfig, hour: int) -> int:
    """The minute of the account's posting slot in ``hour`` (its post_slots), else 0."""
    minutes = sorted(int(s[3:]) for s in account.post_slots if int(s[:2]) == hour)
    return minutes[0] if minutes else 0


def _closed(account: AccountConfig, local: datetime, now_local: datetime, end: datetime) -> str:
    if end <= now_local:
        return "in the past"
    if local.hour not in account.best_hours:
        return f"outside {account.name}'s allowed hours"
    return ""


def shown(posts: list[ScheduledPost], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The calendar's view of each post: its fields, its local time and its "HH:MM"."""
    out = []
    for p in posts:
        local = p.scheduled_at.astimezone(tz)
        out.append({**dataclasses.asdict(p), "local": local, "time": local.strftime("%H:%M")})
    return out


def week_grid(account: AccountConfig, scheduled: list[ScheduledPost], *, monday: date, now: datetime
              ) -> tuple[list[date], list[int], dict[tuple[date, int], Cell]]:
    """Seven days x the hours that matter (allowed hours, posting slots, and any hour holding a post)."""
    tz = ZoneInfo(account.timezone)
    days = [monday + timedelta(days=i) for i in range(7)]
    posts = shown(scheduled, tz)
    hours_used = {*account.best_hours, *(int(s[:2]) for s in account.post_slots),
                  *(p["local"].hour for p in posts)} or set(range(24))
    hours = list(range(min(hours_used), max(hours_used) + 1))
    now_local = now.astimezone(tz)
    cells: dict[tuple[date, int], Cell] = {}
    for d in days:
        for h in hours:
            local = datetime.combine(d, time(h, slot_minute(account, h)), tzinfo=tz)
            why = _closed(account, local, now_local, datetime.combine(d, time(h), tzinfo=tz) + timedelta(hours=1))
            cells[(d, h)] = Cell(d, local.strftime("%Y-%m-%dT%H:%M"), not why, why)
    for p in posts:
        cells[(p["local"].date(), p["local"].hour)].posts.append(p)
    return days, hours, cells


def month_grid(account: AccountConfig, scheduled: list[ScheduledPost], *, first: date, now: datetime
               ) -> list[list[Cell]]:
    """Whole weeks (Monday first) from the one holding the 1st to the one holding the month's last day."""
    tz = ZoneInfo(account.timezone)
    start = first - timedelta(days=first.weekday())
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    end = following + timedelta(days=(7 - following.weekday()) % 7)
    today = now.astimezone(tz).date()
    cells = {}
    for i in range((end - start).days):
        d = start + timedelta(days=i)
        cells[d] = Cell(d, "", d >= today, "" if d >= today else "in the past", in_month=d.month == first.month)
    for p in shown(scheduled, tz):
        if p["local"].date() in cells:
            cells[p["local"].date()].posts.append(p)
    ordered = list(cells.values())
    return [ordered[i:i + 7] for i in range(0, len(ordered), 7)]


def first_open_slot(account: AccountConfig, day: date, now: datetime) -> str:
    """The day's first posting slot still ahead (local "YYYY-MM-DDTHH:MM"), else its first allowed hour."""
    tz = ZoneInfo(account.timezone)
    times = sorted((int(s[:2]), int(s[3:])) for s in account.post_slots) + [(h, 0) for h in sorted(account.best_hours)]
    for h, m in times:
        local = datetime.combine(day, time(h, m), tzinfo=tz)
        if local > now and h in account.best_hours:
            return local.strftime("%Y-%m-%dT%H:%M")
    return datetime.combine(day, time(min(account.best_hours, default=9)), tzinfo=tz).strftime("%Y-%m-%dT%H:%M")


@guarded
async def schedule(request: Request) -> Response:
    web: Web = request.app.state.web
    q = request.query_params
    account = account_of(web, q.get("account"))
    tz, now = ZoneInfo(account.timezone), web.app.clock()
    view = q.get("view") or "week"
    if view not in VIEWS:
        raise Problem(400, f"view {view[:20]!r} is not one of: {', '.join(VIEWS)}")
    day = _start(q.get("start"), now.astimezone(tz).date())
    if view == "week":
        first = day - timedelta(days=day.weekday())
        span, prev, nxt = timedelta(days=7), first - timedelta(days=7), first + timedelta(days=7)
    else:
        first = day.replace(day=1)
        prev = (first - timedelta(days=1)).replace(day=1)
        nxt = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
        first, span = first - timedelta(days=first.weekday()), timedelta(days=42)
    begin = datetime.combine(first, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(first + span, time(), tzinfo=tz).astimezone(UTC)
    posts = await web.call(web.app.schedule, start=begin, end=end, account=account.name)
    ctx: dict[str, Any] = {"view": view, "account": account, "accounts": web.app.config.accounts, "start": day,
                           "prev": prev, "next": nxt, "today": now.astimezone(tz).date(), "count": len(posts),
                           "message": flash(request)}
    if view == "week":
        ctx["days"], ctx["hours"], ctx["cells"] = week_grid(account, posts, monday=first, now=now)
        ctx["label"] = f"week of {first:%a %d %b %Y}"
    else:
        ctx["weeks"] = month_grid(account, posts, first=day.replace(day=1), now=now)
        ctx["label"] = f"{day:%B %Y}"
        ctx["first_slot"] = {c.day: first_open_slot(account, c.day, now) for w in ctx["weeks"] for c in w if c.open}
    return render(request, "schedule.html", **ctx)


@guarded
async def slot_page(request: Request) -> Response:
    """Schedule a candidate at an empty slot: approved ones not yet on the account, then pending ones."""
    web: Web = request.app.state.web
    account = account_of(web, request.query_params.get("account"))
    raw = request.query_params.get("at") or ""
    at = wall_time(raw, account.timezone) if raw else None
    choices = await web.call(web.app.slot_candidates, account.name)
    local = to_wall(at, account.timezone)
    return render(request, "schedule_slot.html", account=account, at=local, choices=choices,
                  back=_calendar_url(account.name, at.astimezone(ZoneInfo(account.timezone)).date() if at else None))


@guarded
async def schedule_slot(request: Request) -> Response:
    web: Web = request.app.state.web
    account = account_of(web, form_value(request, "account", limit=64, required=True, label="account"))
    tz = ZoneInfo(account.timezone)
    at = wall_time(form_value(request, "at", limit=40, required=True, label="time"), account.timezone)
    picked = form_value(request, "candidate", limit=40, required=True, label="candidate")
    cid_raw, _, version_raw = picked.partition(":")
    candidate_id = int_value(cid_raw, "candidate id")
    version = int_value(version_raw, "version", lo=1) if version_raw else None
    result = await web.call(web.app.approve, candidate_id, actor=actor(request), at=at, account=account.name,
                            expected_version=version, within_rules=True)
    local = (result.scheduled_at or at).astimezone(tz)
    request.state.session.flash = (f"candidate {candidate_id} is scheduled: post {result.post_id} at "
                                   f"{local:%Y-%m-%d %H:%M} ({account.timezone})")
    return RedirectResponse(_calendar_url(account.name, local.date()), status_code=303)


def _calendar_url(account: str, day: date | None) -> str:
    return "/schedule?" + urlencode({"account": account, **({"start": day.isoformat()} if day else {})})


@guarded
async def thumbnail(request: Request) -> Response:
    """A small JPEG of a candidate's image for the calendar (the URL carries the version: cacheable)."""
    web: Web = request.app.state.web
    candidate_id = int_value(request.path_params["id"], "candidate id")
    path = await web.call(web.app.image_path, candidate_id)
    if not path or not Path(path).is_file():
        raise Problem(404, f"candidate {candidate_id} has no image file")
    data = await web.call(_thumb, path)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, max-age=86400"})


def _thumb(path: str) -> bytes:
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.draft("RGB", (THUMB_PX * 2, THUMB_PX * 2))
            small = img.convert("RGB")
            small.thumbnail((THUMB_PX, THUMB_PX))
    except OSError as exc:
        raise Problem(404, f"the image cannot be read: {exc}") from None
    buf = io.BytesIO()
    small.save(buf, "JPEG", quality=80)
    return buf.getvalue()


ROUTES = [
    Route("/schedule", schedule),
    Route("/schedule/slot", slot_page),
    Route("/schedule/slot", schedule_slot, methods=["POST"]),
    Route("/media/candidate/{id}/thumb", thumbnail),
]
