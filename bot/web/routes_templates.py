"""The Templates page: the meme templates the generators use, the user's own library (upload with
boxes, keywords and a description; remove), and a preview of any template with sample text drawn by
the renderer the generators use. Every change goes through bot.service.templates, as the CLI does."""
from __future__ import annotations

import logging
import secrets
import tempfile
from pathlib import Path
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bot.web.server import Problem, Web, actor, form_value, guarded, render, service_errors, status_of

log = logging.getLogger(__name__)
MAX_UPLOAD = 20 * 1024 * 1024
UPLOAD_PATH = "/templates/add"  # the one body of this page allowed past 64 KiB (bot.web.limits)
SAMPLE = "when the template is yours and the text fits"


def _entries(web: Web) -> tuple[list[Any], str | None]:
    from bot.service.templates import list_templates

    errors: tuple[type[Exception], ...] = (*service_errors(), OSError)
    try:
        return list_templates(web.app.config), None
    except errors as exc:
        return [], f"the template folders cannot be read: {exc}"


def _page(request: Request, status: int = 200, **ctx: Any) -> Response:
    web: Web = request.app.state.web
    entries, problem = _entries(web)
    sample = str(request.query_params.get("text") or SAMPLE)[:200]
    ctx.setdefault("message", problem)
    ctx.setdefault("level", "error" if problem else "ok")
    return render(request, "templates.html", status, entries=entries, sample=sample,
                  preview=request.query_params.get("preview"), **ctx)


def _entry(request: Request) -> Any:
    web: Web = request.app.state.web
    slug = request.path_params["slug"]
    entries, _ = _entries(web)
    for entry in entries:
        if entry.slug == slug:
            return entry
    raise Problem(404, f"no template {slug[:64]!r}")


@guarded
async def templates_page(request: Request) -> Response:
    return _page(request)


@guarded
async def template_image(request: Request) -> Response:
    entry = _entry(request)
    media = {".png": "image/png", ".gif": "image/gif", ".webp": "image/webp", ".bmp": "image/bmp"}
    return Response(entry.image.read_bytes(), media_type=media.get(entry.image.suffix.lower(), "image/jpeg"))


@guarded
async def template_preview(request: Request) -> Response:
    """PNG of the template with ``text`` drawn in its boxes (the generators' renderer)."""
    from bot.service.templates import preview

    web: Web = request.app.state.web
    entry = _entry(request)
    text = " ".join(str(request.query_params.get("text") or SAMPLE).split())[:200] or SAMPLE
    png = await web.call(preview, entry.image, entry.boxes, text)
    return Response(png, media_type="image/png")


async def _saved_upload(request: Request) -> tuple[Path, str]:
    item = request.state.form.get("image")
    if not isinstance(item, UploadFile) or not item.filename:
        raise Problem(400, "choose an image to upload. Nothing was changed")
    data = await item.read()
    if not data:
        raise Problem(400, f"the upload {item.filename[:80]!r} is empty. Nothing was changed")
    folder = Path(tempfile.mkdtemp(prefix="memeloop-template-"))
    path = folder / f"{secrets.token_hex(8)}{Path(item.filename).suffix.lower()[:8]}"
    path.write_bytes(data)
    return path, Path(item.filename).name[:80]


async def add(request: Request) -> Response:
    from bot.service.templates import add_template

    web: Web = request.app.state.web
    name = form_value(request, "name", limit=64, required=True, label="name")
    boxes = form_value(request, "boxes", limit=64) or "top,bottom"
    keywords = form_value(request, "keywords", limit=400)
    description = form_value(request, "description", limit=300)
    sample = form_value(request, "text", limit=200) or SAMPLE
    upload, shown = await _saved_upload(request)
    try:
        entry = await web.call(add_template, web.app.config, upload, name=name, boxes=boxes,
                               keywords=[keywords] if keywords else [], description=description)
    except service_errors() as exc:
        status, message = status_of(exc)
        return _page(request, status, message=message.replace(str(upload), f"the upload {shown!r}"), level="error")
    finally:
        upload.unlink(missing_ok=True)
        upload.parent.rmdir()
    log.info("event=web_template_added slug=%s user=%s", entry.slug, actor(request))
    return _page(request, message=f"added template {entry.slug}", level="ok", added=entry.slug, added_text=sample)


async def remove(request: Request) -> Response:
    web: Web = request.app.state.web
    slug = request.path_params["slug"][:64]
    try:
        await web.call(web.app.remove_template, slug)
    except service_errors() as exc:
        status, message = status_of(exc)
        return _page(request, status, message=message, level="error")
    log.info("event=web_template_removed slug=%s user=%s", slug, actor(request))
    return _page(request, message=f"removed template {slug}; candidates made on it stay readable", level="ok")


ROUTES = [
    Route("/templates", templates_page),
    Route(UPLOAD_PATH, guarded(add, max_body=MAX_UPLOAD), methods=["POST"]),
    Route("/templates/{slug}/image", template_image),
    Route("/templates/{slug}/preview.png", template_preview),
    Route("/templates/{slug}/remove", guarded(remove), methods=["POST"]),
]
