"""PreparedPost values for publisher tests (publishers rely on its attributes only)."""
from __future__ import annotations

import io

from PIL import Image

from generator.platforms import PreparedPost


def image_bytes(width: int = 64, height: int = 48, color=(200, 40, 40), fmt: str = "PNG") -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (width, height), color).save(buf, fmt)
    return buf.getvalue()


def prepared(text: str = "when the build is green #devlife", *, platform: str = "outbox") -> PreparedPost:
    return PreparedPost(platform=platform, media=image_bytes(), mime="image/png", text=text,
                        alt_text=f"meme: {text}", width=64, height=48, changes=())
