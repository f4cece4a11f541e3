"""The one media store: every image the service keeps (generated, hand-added, re-rendered) lives
under ``storage.media_dir`` at a content-addressed path ``<sha[:2]>/<sha>.<ext>``, written
atomically. Identical images share one file; nothing is ever overwritten."""
from __future__ import annotations

import hashlib
import io
import os
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from bot.config import ConfigError
from bot.errors import UsageError

if TYPE_CHECKING:
    from PIL.Image import Image


@dataclass(frozen=True)
class Media:
    path: str
    sha256: str
    phash: str | None


class MediaError(UsageError):
    """An image given to the store cannot be read or kept; the message names the file."""


class MediaStore:
    def __init__(self, root: Path) -> None:
        self.root = root

    @classmethod
    def open(cls, root: Path, *, key: str = "storage.media_dir") -> MediaStore:
        """The store at ``root`` (created if missing); an unusable folder is a config error."""
        try:
            root.mkdir(parents=True, exist_ok=True)
            if not os.access(root, os.W_OK | os.X_OK):
                raise PermissionError("not writable")
        except (OSError, PermissionError) as exc:
            raise ConfigError(f"{key}: {root} is not a usable folder ({exc.strerror or exc})") from None
        return cls(root)

    def folder(self, name: str) -> Path:
        """A working folder under the store (contact sheets and the like)."""
        path = self.root / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def put_image(self, image: Image, *, phash: bool = True) -> Media:
        """Store ``image`` as PNG (``png_bytes``); the perceptual hash only when asked (memes never
        use it)."""
        return self._put(png_bytes(image), "png", _phash(image) if phash else None)

    def put_file(self, source: Path) -> Media:
        """Keep a user's image file byte for byte (its format decides the extension), unless its EXIF
        orientation says it is stored turned: then the upright image is kept, so every platform
        shows it the right way up. Animated, oversized and unsupported images are refused."""
        from generator import GeneratorError
        from generator.imageio import still_file_bytes

        try:
            data, ext, image = still_file_bytes(source)
        except GeneratorError as exc:
            raise MediaError(str(exc)) from None
        except OSError as exc:
            raise MediaError(f"{source}: cannot read ({exc.strerror or exc})") from None
        return self._put(data, ext, _phash(image))

    def _put(self, data: bytes, ext: str, phash: str | None) -> Media:
        sha = hashlib.sha256(data).hexdigest()
        target = self.root / sha[:2] / f"{sha}.{ext}"
        if not target.exists():
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            try:
                target.parent.mkdir(parents=True, exist_ok=True)
                tmp.write_bytes(data)
                tmp.replace(target)
            except OSError as exc:  # a full disk, a quota: no half-written file stays behind
                tmp.unlink(missing_ok=True)
                raise MediaError(f"storage.media_dir: cannot write {target} ({exc.strerror or exc})") from None
        return Media(str(target), sha, phash)


PNG_LEVEL = 1  # a rendered meme is a photo: level 6 costs several times level 1's time for a few % less


def png_bytes(image: Image) -> bytes:
    """The PNG file of ``image``, lossless. 8-bit RGB/RGBA (every rendered meme and GAN image) is
    written here: one "Up" filter for every row and one zlib stream at ``PNG_LEVEL``; Pillow's
    encoder tries five filters per row, which doubles the time for a file of the same size. Its ICC
    profile is kept as Pillow keeps it. Other modes, and images with a transparency key, go
    through Pillow."""
    if image.mode not in ("RGB", "RGBA") or "transparency" in image.info or not image.width or not image.height:
        buf = io.BytesIO()
        image.save(buf, format="PNG", optimize=False, compress_level=PNG_LEVEL)
        return buf.getvalue()
    import numpy as np

    pixels = np.asarray(image, dtype=np.uint8).reshape(image.height, -1)
    rows = np.empty((pixels.shape[0], pixels.shape[1] + 1), dtype=np.uint8)
    rows[:, 0] = 2  # filter type Up: each byte minus the byte above it (modulo 256)
    rows[0, 1:] = pixels[0]
    np.subtract(pixels[1:], pixels[:-1], out=rows[1:, 1:])
    parts = [b"\x89PNG\r\n\x1a\n",
             _chunk(b"IHDR", struct.pack(">IIBBBBB", image.width, image.height, 8, 6 if image.mode == "RGBA" else 2,
                                         0, 0, 0))]
    if icc := image.info.get("icc_profile"):
        parts.append(_chunk(b"iCCP", b"ICC Profile\0\0" + zlib.compress(icc)))
    parts += [_chunk(b"IDAT", zlib.compress(rows.data, PNG_LEVEL)), _chunk(b"IEND", b"")]
    return b"".join(parts)


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _phash(image: Image) -> str:
    import imagehash

    return str(imagehash.phash(image))
