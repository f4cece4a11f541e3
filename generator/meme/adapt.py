"""A generator that learns from winners: word biases from what the audience rewarded, kept as versions.

The ranker (feedback.ranking) learns, per content word, how much a caption carrying it adds to
engagement (the word's own weight plus its topic's, with their posterior sd). An adaptation keeps
those effects, and the generators follow their posterior means (``mean_bias``): the meme captioner
``captioner_bias`` (the means times ``BEAM_SCALE``, capped at ``CAP`` nats, added to a word's
log-prob at every decoding step: beam.DecodeRules.word_bias), the caption writer
generator/textgen/bias.py ``writer_bias``. So the captioner writes what did well more often and
what did badly less; its training is untouched, and an adaptation is a small JSON file that can be
rolled back. The file also keeps ``word_bias`` of the effects (an effect counts from ``z`` posterior
sds away from zero, times ``strength``, capped): an adaptation stored before the effects were kept
has only those offsets, and the generators follow them as stored.

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
MIN_TILT = 0.05  # a word whose offset would be smaller is left alone (the ranker's many near-zero words)
# the captioner's offset per unit of posterior mean effect (``captioner_bias``): its beam search keeps
# 30 beams under the trigram cost and then hands out 5 captions by their length-normalised score, so
# an offset moves what it hands out less than the same offset moves a sampler. bench/generator_learns.py,
# 1 seed, 150 posts: x1 liked share 0.587 vs 0.536 fixed, x2 0.662, the gates' pass rate held at x2 (0.324 vs 0.327)
BEAM_SCALE = 2.0


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
        """The stored bias over a vocabulary (word -> id) of ``size`` ids; None when no word of it is known."""
        return bias_vector(self.bias, index, size)


def bias_vector(bias: Mapping[str, float], index: Mapping[str, int], size: int) -> np.ndarray | None:
    """Per-word offsets over a vocabulary (word -> id) of ``size`` ids; None when no word of it is known."""
    out = np.zeros(size)
    hit = False
    for word, value in bias.items():
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


def mean_bias(adaptation: Adaptation, *, scale: float = 1.0, cap: float = CAP) -> dict[str, float]:
    """Per word, scale x strength x the posterior mean of the ranker's effect (``adaptation.effects``),
    capped at +-cap; words whose offset would be under ``MIN_TILT`` get none. An adaptation made before
    the effects were kept: its ``bias`` as stored. (strength: ``source["strength"]``, what `memeloop
    adapt --strength` was given; 1 when absent or unreadable.)

    Why the mean and not ``word_bias`` (effect less one sd): tilting what a generator writes by
    exp(expected effect) is what maximises expected engagement at a fixed distance (KL) from the
    generator as trained, and a word with little evidence has a mean near zero and so a tilt near
    zero. The ranker's sds after a few hundred posts are ~0.3 against effects of that size, so the
    margin left almost nothing to follow (bench/generator_learns.py)."""
    if not adaptation.effects:
        return dict(adaptation.bias)
    raw = adaptation.source.get("strength", 1.0) if adaptation.source else 1.0
    strength = float(raw) if isinstance(raw, (int, float)) and math.isfinite(raw) and raw >= 0 else 1.0
    out = {}
    for word, (effect, _sd) in adaptation.effects.items():
        value = max(-cap, min(cap, scale * strength * float(effect))) if math.isfinite(effect) else 0.0
        if abs(value) >= MIN_TILT:
            out[word] = round(value, 4)
    return out


def captioner_bias(adaptation: Adaptation, *, scale: float = BEAM_SCALE, cap: float = CAP) -> dict[str, float]:
    """The meme captioner's per-word log-prob offsets for ``adaptation`` (beam.DecodeRules.word_bias):
    ``mean_bias`` at ``scale`` (an adaptation without effects: its stored offsets, unscaled).

    How an offset acts in the captioner's sampled beam search: it is added to the word's log-prob at
    every step before the nucleus is cut and the Gumbel keys are drawn, so a word's odds of being
    drawn move by exp(offset) among the (beam, word) candidates of a step, and it stays in the beam's
    total, which ranks the beams of later steps and, length-normalised, the finished captions. Under
    the training captions' trigram cost a positive offset counts only where the word continues a
    training caption (DecodeRules.mask): a liked word never pays for a seam the meaning and coherence
    gates would refuse.
    """
    return mean_bias(adaptation, scale=scale, cap=cap)


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
