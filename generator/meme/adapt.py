"""A generator that learns from winners: word biases from what the audience rewarded, kept as versions.

The ranker (feedback.ranking) learns, per content word, how much a caption carrying it adds to
engagement (the word's own weight plus its topic's, with their posterior sd). ``word_bias`` turns
those effects into a log-prob offset per word, only where the evidence is clear: an effect counts
from ``z`` posterior sds away from zero, times ``strength``, capped at ``cap`` nats. Decoding
adds the offset at every step (beam.DecodeRules.word_bias), so the captioner writes what did well
more often and what did badly less; its training is untouched, and an adaptation is a small JSON
file that can be rolled back. The file also keeps the effects themselves: the caption writer, which
samples, follows their posterior means (generator/textgen/bias.py ``writer_bias``).

``AdaptationStore`` keeps every adaptation of one generator in a folder (``0001.json``, ...) with
``current`` naming the active one (absent or empty: none); ``save`` makes a new one current and
keeps the previous, ``rollback`` goes back one. Pure files: no network, no database.
"""
from __future__ import annotations

import json
import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from generator import DataError, GeneratorError

STRENGTH, Z, CAP = 1.0, 1.0, 2.0
FORMAT = 1


@dataclass(frozen=True)
class Adaptation:
    """Per word, the log-prob offset decoding adds (positive: write it more often)."""

    bias: Mapping[str, float]
    created: str = ""
    source: Mapping[str, object] = field(default_factory=dict)  # what it was learned from (for people)
    version: int = 0  # its number in the store (0: not stored)
    # the ranker's per-word (effect, posterior sd) the bias was made from: a sampling generator (the
    # caption writer, generator/textgen/bias.py) follows their posterior means instead
    effects: Mapping[str, tuple[float, float]] = field(default_factory=dict)

    def vector(self, index: Mapping[str, int], size: int) -> np.ndarray | None:
        """The bias over a vocabulary (word -> id) of ``size`` ids; None when no word of it is known."""
        out = np.zeros(size)
        hit = False
        for word, value in self.bias.items():
            i = index.get(word)
            if i is not None and 0 <= i < size:
                out[i], hit = float(value), True
        return out if hit else None


def word_bias(effects: Mapping[str, tuple[float, float]], *, strength: float = STRENGTH, z: float = Z,
              cap: float = CAP) -> dict[str, float]:
    """Per word (effect, posterior sd) -> its offset: strength x (|effect| - z sd), signed, capped;
    words whose effect is within z sds of zero get none."""
    if strength < 0 or z < 0 or cap <= 0:
        raise GeneratorError(f"need strength >= 0, z >= 0, cap > 0 (got {strength}, {z}, {cap})")
    out = {}
    for word, (effect, sd) in effects.items():
        if not (math.isfinite(effect) and math.isfinite(sd)):
            continue
        clear = abs(effect) - z * max(sd, 0.0)
        if clear > 0 and strength > 0:
            out[word] = round(math.copysign(min(cap, strength * clear), effect), 4)
    return dict(sorted(out.items()))


class AdaptationStore:
    """The adaptations of one generator, numbered, with the current one named in ``current``."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)

    def versions(self) -> list[int]:
        if not self.folder.is_dir():
            return []
        return sorted(int(p.stem) for p in self.folder.glob("[0-9][0-9][0-9][0-9].json") if p.stem.isdigit())

    def _pointer(self) -> Path:
        return self.folder / "current"

    def current_version(self) -> int:
        try:
            text = self._pointer().read_text().strip()
        except FileNotFoundError:
            return 0
        if not text:
            return 0
        if not text.isdigit():
            raise DataError(f"{self._pointer()}: expected an adaptation number, got {text[:40]!r}")
        return int(text)

    def load(self, version: int) -> Adaptation:
        path = self.folder / f"{version:04d}.json"
        try:
            data = json.loads(path.read_text())
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT}")
            bias = {str(w): float(v) for w, v in data["bias"].items()}
            effects = {str(w): (float(e), float(sd)) for w, (e, sd) in (data.get("effects") or {}).items()}
        except FileNotFoundError as e:
            raise DataError(f"{path}: adaptation {version} is missing") from e
        except (ValueError, KeyError, TypeError, AttributeError) as e:
            raise DataError(f"{path}: not a readable adaptation ({e})") from e
        return Adaptation(bias, str(data.get("created", "")), dict(data.get("source") or {}), version, effects)

    def current(self) -> Adaptation | None:
        version = self.current_version()
        return self.load(version) if version else None

    def save(self, adaptation: Adaptation) -> Adaptation:
        """Store ``adaptation`` as the next version and make it current (the previous ones stay)."""
        self.folder.mkdir(parents=True, exist_ok=True)
        version = max(self.versions(), default=0) + 1
        body = {"format": FORMAT, "created": adaptation.created, "source": dict(adaptation.source),
                "bias": dict(adaptation.bias)}
        effects = {w: (round(float(e), 4), round(float(sd), 4)) for w, (e, sd) in sorted(adaptation.effects.items())}
        if effects:
            body["effects"] = {w: list(v) for w, v in effects.items()}
        _write_atomic(self.folder / f"{version:04d}.json", json.dumps(body, indent=1, sort_keys=True) + "\n")
        _write_atomic(self._pointer(), f"{version}\n")
        return Adaptation(adaptation.bias, adaptation.created, adaptation.source, version, effects)

    def rollback(self) -> Adaptation | None:
        """Make the version before the current one current (None: back to the model as trained)."""
        version = self.current_version()
        if not version:
            raise GeneratorError(f"{self.folder}: no adaptation is active, nothing to roll back")
        earlier = [v for v in self.versions() if v < version]
        _write_atomic(self._pointer(), f"{earlier[-1]}\n" if earlier else "\n")
        return self.load(earlier[-1]) if earlier else None


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
