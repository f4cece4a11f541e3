"""Alt text that describes the image, per kind of candidate. Pure; no hashtags ever.

- photo (a user's own photo, ``caption``): only what its reading is sure of (``labels_of``): the
  coarse class it was read as ("A photo of a cat"), else what its top guesses share, else nothing
  but its main colours ("A photo, mostly orange and white"), never an unsure guess as fact;
- meme and text -> meme: the template and the words drawn on it;
- GAN post: an abstract generated image and its main colours;
- story: whatever its image is (a photo, a template, a GAN image).
The caption is not repeated for a photo or a GAN image: a screen reader reads the post's text too.
"""
from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

MAX_ALT = 1000
_HASHTAG = re.compile(r"(?<![\w&])#\w+")
# A small named palette: the name of the nearest one (in RGB) is the colour's name.
PALETTE: tuple[tuple[str, tuple[int, int, int]], ...] = (
    ("black", (0, 0, 0)), ("dark grey", (64, 64, 64)), ("grey", (128, 128, 128)), ("light grey", (192, 192, 192)),
    ("white", (255, 255, 255)), ("red", (200, 30, 30)), ("dark red", (120, 20, 20)), ("orange", (240, 140, 30)),
    ("brown", (120, 75, 40)), ("beige", (220, 200, 160)), ("yellow", (240, 220, 40)), ("olive", (120, 120, 40)),
    ("green", (40, 160, 60)), ("dark green", (20, 80, 40)), ("teal", (30, 130, 130)), ("light blue", (130, 190, 230)),
    ("blue", (40, 80, 200)), ("navy", (20, 30, 90)), ("purple", (120, 50, 150)), ("pink", (240, 150, 190)),
)


def labels_of(params: Any) -> tuple[str, ...] | None:
    """What the alt text may say a photo shows, from a candidate's params (photo and story: the
    reading generator.photo_topics stored); None when no photo was read.

    A stored reading (labels with class index and probability) gives at most one coarse class:
    the one its top guesses share (``common_ground``), else, when the reading was sure, the writer
    topic's class with the most probability among them ("a cat", not "laptop, tabby cat and
    Egyptian Mau"); an unsure reading with nothing in common gives ``()``: nothing is certain.
    Rows stored with bare class names keep their first three names."""
    labels = (params or {}).get("labels") or ()
    if not labels:
        return None
    if not all(isinstance(x, dict) and "index" in x and "prob" in x for x in labels):
        return tuple(str(x.get("name", x)) if isinstance(x, dict) else str(x) for x in labels)[:3]
    from generator.photo_topics import COARSE, Label, common_ground

    read = [Label(str(x.get("name", "")), int(x["index"]), float(x["prob"])) for x in labels]
    ground = common_ground(read)
    if ground is not None:
        return (ground[0],)
    if (params or {}).get("sure") is not True:
        return ()
    mass = {phrase: sum(lb.prob for lb in read if lb.index in members) for phrase, topic, members in COARSE
            if topic is not None}
    best = max(mass, key=mass.__getitem__)
    return (best,) if mass[best] > 0 else ()


def strip_hashtags(text: str) -> str:
    return " ".join(_HASHTAG.sub(" ", text).split())


def main_colours(image: Any, n: int = 3) -> list[str]:
    """Names of the ``n`` colours covering most of the image, most first."""
    import numpy as np

    pixels = np.asarray(image.convert("RGB").resize((32, 32)), dtype=np.int32).reshape(-1, 1, 3)
    palette = np.array([rgb for _, rgb in PALETTE], dtype=np.int32).reshape(1, -1, 3)
    nearest = ((pixels - palette) ** 2).sum(axis=2).argmin(axis=1)
    counts: dict[str, int] = {}
    for index in nearest.tolist():
        name = PALETTE[index][0]
        counts[name] = counts.get(name, 0) + 1
    ranked = sorted(counts, key=lambda k: -counts[k])
    return [c for c in ranked if counts[c] >= 0.08 * 1024][:n] or ranked[:1]


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rsplit(" ", 1)[0] + "…"


def _listed(names: Sequence[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + f" and {names[-1]}"


def describe(kind: str, text: str, *, template_name: str | None = None, labels: Sequence[str] | None = None,
             image: Any = None, gan: bool = False, limit: int = MAX_ALT) -> str:
    """Alt text for a candidate of ``kind`` (meme, textmeme, post, photo, story). ``gan``: the image
    is a GAN's (a post's always is; a story's may be). ``labels``: what a photo may be said to show
    (``labels_of``; ``()``: a photo of which nothing is certain, None: no photo was read). Without
    ``image`` the colours are left out."""
    words = strip_hashtags(text)
    if kind == "post" or gan:
        colours = f" in {_listed(main_colours(image))}" if image is not None else ""
        return _cut(f"An abstract generated image{colours}.", limit)
    if template_name and kind in ("meme", "textmeme", "story"):
        said = f' with the text "{_cut(words, limit - 80)}"' if kind != "story" and words else ""
        return _cut(f'Meme on the "{template_name}" template{said}.', limit)
    shown = [n for n in dict.fromkeys(strip_hashtags(str(x)) for x in (labels or ())[:3]) if n]
    if shown and kind in ("photo", "story"):
        # ImageNet names one thing twice ("missile" at 657 and 744): each name once
        return _cut(f"A photo of {_listed(shown)}.", limit)
    if labels is not None and kind in ("photo", "story"):  # read, but nothing certain: what any eye sees
        # shades of one colour are one colour here ("light grey, black and grey" says grey twice)
        hues = dict.fromkeys(c.removeprefix("light ").removeprefix("dark ") for c in main_colours(image)) \
            if image is not None else {}
        return _cut(f"A photo, mostly {_listed(list(hues))}." if hues else "A photo.", limit)
    if kind in ("meme", "textmeme"):
        return _cut(f'Meme image with the text "{words}".', limit)
    return _cut(f"An image posted with the words: {words}", limit) if words else "An image."
