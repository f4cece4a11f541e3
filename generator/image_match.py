"""Image -> meme template: which template of the library a posted picture was made on, or none.

An account's own past posts (``memeloop accounts import-history``) come with their picture but not
with the template it was made on. A meme is its template's picture with a caption drawn on top,
then resized and re-encoded by whoever posted it and by the platform; a photo that is not a meme
should get no template at all. So a picture is compared with each template by the correlation of
small grey thumbnails (``SIDE`` x ``SIDE``, each standardised):

- over the pixels outside the template's text boxes (the default top and bottom bands for a
  template without boxes), where memeloop and most people draw the caption;
- robustly: the ``trim`` share of pixels that differ most after standardising is left out, so a
  caption drawn elsewhere, a watermark or a sticker does not sink the match;
- against the template as it is and centre-cropped to the picture's aspect (a square crop for
  Instagram), whichever fits better.

A template is assigned when its score reaches ``threshold`` and beats the runner-up by ``margin``.
Both were set on bench/image_match.py (renders of every shipped template with random captions,
sizes, crops and JPEG qualities; scikit-image photos that are not templates), which prints the
recognition rate and the false-assignment rate it gives. Pure: PIL and NumPy, no I/O but decoding
the bytes it is handed.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from PIL import Image

from generator.types import Box, Template

log = logging.getLogger(__name__)

SIDE = 32
DEFAULT_BANDS = (Box(0.02, 0.02, 0.96, 0.22), Box(0.02, 0.76, 0.96, 0.22))  # generator.annotate's default boxes


@dataclass(frozen=True)
class ImageMatchSettings:
    side: int = SIDE
    trim: float = 0.15  # share of the kept pixels that differ most, left out
    mix: float = 0.5  # weight of the thumbnails' correlation; the rest is their detail's
    threshold: float = 0.60  # score a template needs to be assigned
    margin: float = 0.05  # and by how much it must beat the next template
    crop_tolerance: float = 0.08  # aspects closer than this (relative) are compared uncropped only


@dataclass(frozen=True)
class ImageMatch:
    """The best template (None: no template reached the threshold), its score and the runner-up's."""

    slug: str | None
    score: float
    best: str | None
    runner_up: float


@dataclass(frozen=True)
class _Signature:
    slug: str
    aspect: float  # width / height
    image: Image.Image  # greyscale, full size (crops are cut from it)
    boxes: tuple[Box, ...]


def _grey(image: Image.Image) -> Image.Image:
    if image.mode in ("RGBA", "LA", "PA", "P"):
        image = image.convert("RGBA")
        flat = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(flat, image)
    return image.convert("L")


def _thumb(image: Image.Image, side: int) -> np.ndarray:
    return np.asarray(image.resize((side, side), Image.Resampling.BOX), dtype=np.float32)


def _centre_crop(image: Image.Image, aspect: float) -> Image.Image:
    w, h = image.size
    if w / h > aspect:  # too wide: cut the sides
        cw = max(1, round(h * aspect))
        left = (w - cw) // 2
        return image.crop((left, 0, left + cw, h))
    ch = max(1, round(w / aspect))
    top = (h - ch) // 2
    return image.crop((0, top, w, top + ch))


def _mask(boxes: Sequence[Box], side: int, crop: tuple[float, float, float, float] = (0, 0, 1, 1)) -> np.ndarray:
    """True where no caption is expected; ``crop`` = (x, y, w, h) of the template the thumbnail shows."""
    keep = np.ones((side, side), dtype=bool)
    cx, cy, cw, ch = crop
    for b in boxes or DEFAULT_BANDS:
        x0, x1 = (b.x - cx) / cw, (b.x + b.w - cx) / cw
        y0, y1 = (b.y - cy) / ch, (b.y + b.h - cy) / ch
        c0, c1 = max(0, int(np.floor(x0 * side))), min(side, int(np.ceil(x1 * side)))
        r0, r1 = max(0, int(np.floor(y0 * side))), min(side, int(np.ceil(y1 * side)))
        if c1 > c0 and r1 > r0:
            keep[r0:r1, c0:c1] = False
    return keep


def _standard(values: np.ndarray) -> np.ndarray:
    sd = float(values.std())
    return (values - values.mean()) / sd if sd > 1e-6 else values * 0.0


def _detail(thumb: np.ndarray) -> np.ndarray:
    """The thumbnail less its 3x3 local mean: edges and texture, without the broad light."""
    padded = np.pad(thumb, 1, mode="edge")
    h, w = thumb.shape
    local = sum(padded[r:r + h, c:c + w] for r in range(3) for c in range(3)) / 9.0
    return thumb - local


def _corr(q: np.ndarray, t: np.ndarray) -> float:
    q, t = q - q.mean(), t - t.mean()
    denom = float(np.sqrt((q @ q) * (t @ t)))
    return float(q @ t / denom) if denom > 1e-9 else 0.0


def _score(query: np.ndarray, template: np.ndarray, keep: np.ndarray, trim: float, mix: float) -> float:
    """Correlation of the kept pixels (the ``trim`` share that differ most left out), of the
    thumbnails and of their detail, mixed ``mix`` : 1 - ``mix``."""
    if keep.sum() < 16:
        keep = np.ones_like(keep)
    q, t = _standard(query[keep]), _standard(template[keep])
    if not q.any() or not t.any():
        return 0.0
    residual = np.abs(q - t)
    kept = residual <= np.quantile(residual, 1.0 - trim)
    detail = _corr(_detail(query)[keep][kept], _detail(template)[keep][kept])
    return mix * _corr(q[kept], t[kept]) + (1.0 - mix) * detail


class ImageMatcher:
    """The templates' thumbnails, ready to compare pictures with. Build with ``from_templates``."""

    def __init__(self, signatures: Sequence[_Signature], settings: ImageMatchSettings = ImageMatchSettings()) -> None:
        self._signatures = tuple(signatures)
        self.settings = settings
        side = settings.side
        self._full = [(_thumb(s.image, side), _mask(s.boxes, side)) for s in self._signatures]

    @classmethod
    def from_templates(cls, templates: Sequence[Template], settings: ImageMatchSettings = ImageMatchSettings()
                       ) -> ImageMatcher:
        """Thumbnails of each template's picture (read from its folder: the one file access here). A
        template whose picture cannot be read is left out, with a warning: it cannot be recognised."""
        from generator import DataError
        from generator.imageio import open_image

        signatures = []
        for t in templates:
            try:
                grey = _grey(open_image(t.image_path, animated="first_frame"))
            except (DataError, OSError) as exc:  # unreadable, or the file is gone
                log.warning("event=template_picture_unread slug=%s error=%s", t.slug, exc)
                continue
            signatures.append(_Signature(t.slug, grey.width / grey.height, grey, tuple(t.boxes)))
        return cls(signatures, settings)

    @property
    def slugs(self) -> tuple[str, ...]:
        return tuple(s.slug for s in self._signatures)

    def scores(self, image: Image.Image) -> list[tuple[str, float]]:
        """Each template's score for ``image``, best first."""
        grey = _grey(image)
        side, trim, mix = self.settings.side, self.settings.trim, self.settings.mix
        query = _thumb(grey, side)
        aspect = grey.width / grey.height
        out = []
        for sig, (full, keep) in zip(self._signatures, self._full):
            best = _score(query, full, keep, trim, mix)
            if abs(aspect / sig.aspect - 1.0) > self.settings.crop_tolerance:
                crop = _centre_crop(sig.image, aspect)
                w, h = sig.image.size
                frame = ((w - crop.width) / 2 / w, (h - crop.height) / 2 / h, crop.width / w, crop.height / h)
                best = max(best, _score(query, _thumb(crop, side), _mask(sig.boxes, side, frame), trim, mix))
            out.append((sig.slug, best))
        return sorted(out, key=lambda p: -p[1])

    def match(self, image: Image.Image) -> ImageMatch:
        ranked = self.scores(image)
        if not ranked:
            return ImageMatch(None, 0.0, None, 0.0)
        (slug, score), runner = ranked[0], (ranked[1][1] if len(ranked) > 1 else 0.0)
        ok = score >= self.settings.threshold and score - runner >= self.settings.margin
        return ImageMatch(slug if ok else None, score, slug, runner)

    def match_bytes(self, data: bytes, where: str = "image") -> ImageMatch:
        """``match`` of an encoded picture (UnreadableImage etc. from generator.imageio if it is none)."""
        from generator.imageio import open_image_bytes

        return self.match(open_image_bytes(data, where))
