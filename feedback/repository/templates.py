"""Templates: rows mirror the template folders a generator used (slug is the key)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from feedback.models import Template


def ensure_template(session: Session, *, slug: str, name: str, image_path: str, image_sha256: str,
                    boxes: Sequence[dict[str, Any]], now: datetime) -> int:
    """Insert the template or refresh its file/boxes; returns its id."""
    row = session.scalar(select(Template).where(Template.slug == slug))
    if row is None:
        row = Template(slug=slug, name=name, image_path=image_path, image_sha256=image_sha256,
                       boxes=list(boxes), created_at=now)
        session.add(row)
    else:
        row.name, row.image_path, row.image_sha256, row.boxes = name, image_path, image_sha256, list(boxes)
    session.flush()
    return row.id
