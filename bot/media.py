"""The one media store: every image the service keeps (generated, hand-added, re-rendered) lives
under ``storage.media_dir`` at a content-addressed path ``<sha[:2]>/<sha>.<ext>``, written
atomically. Identical images share one file; nothing is ever overwritten."""
from __future__ import annotations

import hashlib
import io
import os
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
        """Store ``image`` as PNG; the perceptual hash only when asked (memes never use it). Fast zlib
        level: a rendered meme is a photo, where level 6 costs several times level 1's time for a
        file a few percent smaller."""
        buf = io.BytesIO()
        image.save(buf, format="PNG", optimize=False, compress_level=1)
        return self._put(buf.getvalue(), "png", _phash(image) if phash else None)

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
            target.parent.mkdir(parents=True, exist_ok=True)
            tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
            tmp.write_bytes(data)
            tmp.replace(target)
        return Media(str(target), sha, phash)


def _phash(image: Image) -> str:
    import imagehash

    return str(imagehash.phash(image))
