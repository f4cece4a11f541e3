"""The Create page: caption my photo (upload), text -> meme, and a story thread from a template or an
uploaded image. Each form calls one App method with actor = the logged-in user and queues candidates
for the review board; an upload is kept under the media folder (the candidates' params name it) and is
removed again when the App refuses it."""
from __future__ import annotations

import secrets
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


def _templates(web: Web) -> list[str]:
    from bot.service.templates import all_templates

    errors: tuple[type[Exception], ...] = (*service_errors(), OSError)
    try:
        return [t.slug for t in all_templates(web.app.config)]
    except errors:  # a broken template folder must not take the page down; the story form reports it
        return []


def _page(request: Request, status: int = 200, **ctx: Any) -> Response:
    web: Web = request.app.state.web
    return render(request, "create.html", status, accounts=web.app.config.accounts, templates=_templates(web),
                  **ctx)


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


async def _run(request: Request, key: str, call) -> Response:
    """Run one create action; the page again with the outcome, or the refusal as a message."""
    upload: Path | None = None
    try:
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


async def caption(request: Request) -> Response:
    web: Web = request.app.state.web

    async def call(photo: Path | None) -> Any:
        n = int_value(request.state.form.get("n"), "n", default=3, lo=1, hi=20)
        return await web.call(web.app.caption, [photo], tone=_choice(request, "tone"),
                              audience=_choice(request, "audience"), account=_choice(request, "account"), n=n)

    return await _run(request, "caption", call)


async def make(request: Request) -> Response:
    web: Web = request.app.state.web

    async def call(_: Path | None) -> Any:
        text = form_value(request, "text", limit=MAX_TEXT, required=True, label="text")
        return await web.call(web.app.make, text, account=_choice(request, "account"))

    return await _run(request, "make", call)


async def story(request: Request) -> Response:
    web: Web = request.app.state.web

    async def call(photo: Path | None) -> Any:
        parts = int_value(request.state.form.get("parts"), "part count", default=3, lo=2, hi=6)
        # a template comes from the library only (never a path); an upload is the only way to bring a file
        image = str(photo) if photo is not None else form_value(request, "template", limit=64)
        if not image:
            raise Problem(400, "choose a template or upload an image for the story. Nothing was changed")
        return await web.call(web.app.story, image, parts=parts, tone=_choice(request, "tone"),
                              audience=_choice(request, "audience"), account=_choice(request, "account"),
                              from_library=photo is None)

    return await _run(request, "story", call)


@guarded
async def create_page(request: Request) -> Response:
    return _page(request)


ROUTES = [
    Route("/create", create_page),
    Route("/create/caption", guarded(caption, max_body=MAX_UPLOAD), methods=["POST"]),
    Route("/create/make", guarded(make), methods=["POST"]),
    Route("/create/story", guarded(story, max_body=MAX_UPLOAD), methods=["POST"]),
]
