"""PreparedPost values for publisher tests.

generator.platforms (issue 5) is written in parallel; until it is on main these helpers stand in
for it with a frozen dataclass of the same fields, so publishers are only ever tested against the
attributes they may rely on. Once the real module imports, it is used.
"""
from __future__ import annotations

import io
import sys
import types
from dataclasses import dataclass

from PIL import Image


@dataclass(frozen=True)
class _StandInPreparedPost:
    platform: str
    media: bytes
    mime: str
    text: str
    alt_text: str
    width: int
    height: int
    changes: tuple[str, ...] = ()


def _stand_in_prepare(platform: str, image, text: str, **options) -> _StandInPreparedPost:
    buf = io.BytesIO()
    image.convert("RGB").save(buf, "JPEG", quality=90)
    return _StandInPreparedPost(platform=platform, media=buf.getvalue(), mime="image/jpeg", text=text,
                                alt_text=text, width=image.width, height=image.height, changes=())


def install_platforms_stand_in() -> None:
    """Make `from generator.platforms import PreparedPost, prepare` work when issue 5 is not merged."""
    try:
        import generator.platforms  # noqa: F401
    except ModuleNotFoundError as exc:
        if exc.name != "generator.platforms":
            raise
        module = types.ModuleType("generator.platforms")
        module.PreparedPost = _StandInPreparedPost
        module.prepare = _stand_in_prepare
        sys.modules["generator.platforms"] = module


def image_bytes(width: int = 64, height: int = 48, color=(200, 40, 40), fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, fmt)
    return buf.getvalue()


def prepared(text: str = "when the build is green #devlife", *, platform: str = "outbox"):
    install_platforms_stand_in()
    from generator.platforms import PreparedPost

    return PreparedPost(platform=platform, media=image_bytes(), mime="image/png", text=text,
                        alt_text=f"meme: {text}", width=64, height=48, changes=())
