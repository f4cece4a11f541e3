"""The Create page: caption my photo (upload), text -> meme, and a story thread from a template or an
uploaded image. Tone, audience and template are choices from the caption bundle and the template
library (never free text, never a path), checked here before the upload is kept and again by the
use case before any model loads. Each form calls one App method and queues candidates for the review
board; the result shows them with their images. An upload is kept under the media folder (the
candidates' params name it) and is removed again when the App refuses it. While a form works, the
page shows that it does and for how long (app.js)."""
from __future__ import annotations

import secrets
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.server import (
    MAX_TEXT,
    Problem,
    Web,
    form_value,
    guarded,
    int_value,
    render,
    service_errors,
    status_of,
)

MAX_UPLOAD = 8 * 1024 * 1024
UPLOAD_TYPES = (".png", ".jpg", ".jpeg", ".webp")
UPLOAD_PATHS = ("/create/caption", "/create/story")  # the only bodies allowed past 64 KiB (bot.web.limits)


def _choices(web: Web) -> tuple[Any, str | None]:
    """The tones, audiences and templates the forms offer (bot.service.content_checks.choices: the caption
    bundle's memeloop.json and the template library's folders; no model loads), or empty ones and
    the reason when the config points at something broken (the page still opens and says so)."""
    from bot.service.content_checks import Choices, choices

    errors: tuple[type[Exception], ...] = (*service_errors(), OSError)
    try:
        return choices(web.app.config), None
    except errors as exc:
        return Choices((), (), ()), str(exc)


def _page(request: Request, status: int = 200, **ctx: Any) -> Response:
    web: Web = request.app.state.web
    offered, broken = _choices(web)
    form = getattr(request.state, "form", None)
    values = {k: str(v)[:MAX_TEXT] for k, v in form.items() if isinstance(v, str) and k != "csrf"} if form else {}
    return render(request, "create.html", status, accounts=web.app.config.accounts, choices=offered,
                  broken=broken, values=values, **ctx)


async def _upload(request: Request, key: str, *, required: bool) -> Path | None:
    """The uploaded file saved under <media_dir>/uploads (a fresh name), or None when none was sent;
    ``request.state.upload_name`` keeps the name the user gave it, for messages."""
    web: Web = request.app.state.web
    item = request.state.form.get(key)
    if not isinstance(item, UploadFile) or not item.filename:
        if required:
            raise Problem(400, "choose a photo to upload. Nothing was changed")
        return None
    suffix = Path(item.filename).suffix.lower()
    if suffix not in UPLOAD_TYPES:
        raise Problem(400, f"the upload {item.filename[:80]!r} is not a {', '.join(UPLOAD_TYPES)} image. "
                           "Nothing was changed")
    data = await item.read()
    if not data:
        raise Problem(400, f"the upload {item.filename[:80]!r} is empty. Nothing was changed")
    folder = web.app.config.storage.media_dir / "uploads"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{secrets.token_hex(12)}{suffix}"
    try:
        path.write_bytes(data)
    except OSError as exc:  # a full disk: no empty file stays, and the message says where
        path.unlink(missing_ok=True)
        raise Problem(507, f"the upload could not be stored in storage.media_dir ({exc.strerror or exc}). "
                           "Nothing was changed") from None
    request.state.upload_name = Path(item.filename).name[:80]
    return path


async def _run(request: Request, key: str, check: Callable[[], None], call: Callable[..., Awaitable[Any]]
               ) -> Response:
    """Run one create action: every field checked first (before the upload is kept or a model loads),
    then the App call; the page again with the outcome (and its images), or the refusal as a message."""
    upload: Path | None = None
    try:
        check()
        upload = await _upload(request, "photo", required=key == "caption") if key != "make" else None
        result = await call(upload)
    except service_errors() as exc:
        status, message = status_of(exc)
        if upload is not None:  # refused: the file goes, and the message names the user's file, not ours
            upload.unlink(missing_ok=True)
            message = message.replace(str(upload), f"the upload {request.state.upload_name!r}")
        return _page(request, status, message=message, level="error", form=key)
    return _page(request, message=f"{len(result.candidates)} candidate(s) queued for review", level="ok",
                 form=key, result=result)


def _choice(request: Request, key: str) -> str | None:
    return form_value(request, key, limit=64) or None


def _check_voice(request: Request) -> None:
    from bot.service.content_checks import check_voice

    web: Web = request.app.state.web
    check_voice(web.app.config, tone=_choice(request, "tone"), audience=_choice(request, "audience"))
    _check_account(request)


def _check_account(request: Request) -> None:
    web: Web = request.app.state.web
    account = _choice(request, "account")
    if account is not None:
        web.app.config.account(account)  # ConfigError names it


def _count(request: Request) -> int:
    return int_value(request.state.form.get("n"), "n", default=3, lo=1, hi=20)


def _about(request: Request) -> str | None:
    """What the owner says the photo (or the story) is about, in their words; blank is none."""
    return form_value(request, "about", limit=200) or None


def _parts(request: Request) -> int:
    return int_value(request.state.form.get("parts"), "part count", default=3, lo=2, hi=6)


async def caption(request: Request) -> Response:
    from bot.service.content_checks import check_about

    web: Web = request.app.state.web

    def check() -> None:
        _count(request)
        _check_voice(request)
        check_about(_about(request))

    async def call(photo: Path | None) -> Any:
        assert photo is not None  # the caption form's photo is required: _upload raised otherwise
        return await web.call(web.app.caption, [photo], tone=_choice(request, "tone"),
                              audience=_choice(request, "audience"), account=_choice(request, "account"),
                              n=_count(request), about=_about(request))

    return await _run(request, "caption", check, call)


async def make(request: Request) -> Response:
    from bot.service.content_checks import check_template

    web: Web = request.app.state.web

    def check() -> None:
        form_value(request, "text", limit=MAX_TEXT, required=True, label="text")
        check_template(web.app.config, _choice(request, "template"))
        _check_account(request)

    async def call(_: Path | None) -> Any:
        text = form_value(request, "text", limit=MAX_TEXT, required=True, label="text")
        return await web.call(web.app.make, text, account=_choice(request, "account"),
                              template=_choice(request, "template"))

    return await _run(request, "make", check, call)


async def story(request: Request) -> Response:
    from bot.service.content_checks import check_template

    web: Web = request.app.state.web

    def check() -> None:
        _parts(request)
        check_template(web.app.config, _choice(request, "template"))
        _check_voice(request)
        form_value(request, "topic", limit=200)

    async def call(photo: Path | None) -> Any:
        template = _choice(request, "template") if photo is None else None
        if photo is None and template is None:
            raise Problem(400, "choose a template or upload an image for the story. Nothing was changed")
        return await web.call(web.app.story, str(photo) if photo is not None else None, template=template,
                              parts=_parts(request), tone=_choice(request, "tone"),
                              audience=_choice(request, "audience"), account=_choice(request, "account"),
                              topic=form_value(request, "topic", limit=200) or None)

    return await _run(request, "story", check, call)


@guarded
async def create_page(request: Request) -> Response:
    return _page(request)


ROUTES = [
    Route("/create", create_page),
    Route("/create/caption", guarded(caption, max_body=MAX_UPLOAD), methods=["POST"]),
    Route("/create/make", guarded(make), methods=["POST"]),
    Route("/create/story", guarded(story, max_body=MAX_UPLOAD), methods=["POST"]),
]
