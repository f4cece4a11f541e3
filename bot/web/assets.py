"""The stylesheets and scripts under content-hashed URLs: ``/static/app.css?v=<12 hex of its SHA-256>``.
A URL names one version of a file, so a browser keeps it for a year without asking again (immutable);
a changed file gets a new URL in every page (the templates call ``static(name)``). A request whose
``v`` is not the file's current hash (a page from before an upgrade, or none) is answered with
``no-cache``, so an old name never holds new content in a cache."""
from __future__ import annotations

import hashlib
import os
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

from starlette.responses import Response
from starlette.staticfiles import StaticFiles

STATIC = Path(__file__).parent / "static"
IMMUTABLE = "public, max-age=31536000, immutable"
REVALIDATE = "no-cache"


@lru_cache(maxsize=128)
def _digest(path: str, mtime_ns: int, size: int) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()[:12]


def version(path: Path) -> str:
    """The file's content hash (read again only when its size or modification time changed)."""
    st = path.stat()
    return _digest(str(path), st.st_mtime_ns, st.st_size)


def static_url(name: str, folder: Path = STATIC) -> str:
    """``{{ static("app.css") }}``: the URL of a file of the static folder, with its content hash."""
    return f"/static/{name}?v={version(folder / name)}"


class HashedStatic(StaticFiles):
    """StaticFiles whose answers carry the Cache-Control their URL earns (see the module's doc)."""

    def file_response(self, full_path: str | os.PathLike[str], stat_result: os.stat_result, scope: Any,
                      status_code: int = 200) -> Response:
        response = super().file_response(full_path, stat_result, scope, status_code)
        asked = parse_qs(scope.get("query_string", b"").decode("latin-1")).get("v", [""])[0]
        current = _digest(str(full_path), stat_result.st_mtime_ns, stat_result.st_size)
        response.headers["Cache-Control"] = IMMUTABLE if asked == current else REVALIDATE
        return response
