"""The Notifications page (admins): the webhook outbox as `memeloop notify list` shows it (event,
webhook, state, attempts, next try, last error with secrets scrubbed), and a "Send test" button that
does what `memeloop notify test` does."""
from __future__ import annotations

import logging

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from bot.web.server import Problem, Web, actor, flash, form_value, guarded, query_state, render
from feedback.states import NOTIFICATION_STATES

log = logging.getLogger(__name__)
SHOWN = 100  # the newest rows; `memeloop notify list --limit` reaches further back


@guarded
async def notifications(request: Request) -> Response:
    web: Web = request.app.state.web
    state = query_state(request, NOTIFICATION_STATES, "notice")
    rows = await web.call(web.app.notices, limit=SHOWN, states=(state,) if state else None)
    cfg = web.app.config.notifications
    return render(request, "notifications.html", rows=rows, state=state, states=NOTIFICATION_STATES,
                  hooks=cfg.webhooks, formats={h.name: h.format for h in cfg.webhooks}, shown=SHOWN,
                  zone=web.app.config.scheduler.timezone, message=flash(request))


@guarded
async def send_test(request: Request) -> Response:
    """One test notice to every webhook (or the chosen one), now; what each answered, on the page."""
    web: Web = request.app.state.web
    name = form_value(request, "webhook", limit=40) or None
    if name is not None and name not in {h.name for h in web.app.config.notifications.webhooks}:
        raise Problem(400, f"no webhook named {name!r} in [[notifications.webhooks]]. Nothing was sent")
    results = await web.call(web.app.notify_test, name)
    log.info("event=web_notify_test user=%s webhooks=%d ok=%d", actor(request), len(results),
             sum(r.ok for r in results))
    request.state.session.flash = "test notice: " + "; ".join(
        f"{r.webhook}: {'ok' if r.ok else 'FAILED'} ({r.detail})" for r in results)
    return RedirectResponse("/notifications", status_code=303)


ROUTES = [
    Route("/notifications", notifications),
    Route("/notifications/test", send_test, methods=["POST"]),
]
