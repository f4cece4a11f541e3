"""Alt text that describes the image, per kind of candidate. Pure; no hashtags ever.

- photo (a user's own photo, ``caption``): only what its reading is sure of (``labels_of``): the
  coarse class it was read as ("A photo of a cat"), else what its top guesses share, else nothing
  but its main colours ("A photo in orange and white"), never an unsure guess as fact;
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
# Colours are named in CIELCh (CIELAB as lightness, chroma, hue angle): a pixel is a grey only when its
# chroma is really low, and its hue angle names it otherwise (nearest-RGB naming called muted greens,
# pinks and an orange suit "grey"). Hue bands, in degrees: (upper bound, name).
GREY_CHROMA = 10.0
_HUES: tuple[tuple[float, str], ...] = (
    (42, "red"), (75, "orange"), (105, "yellow"), (165, "green"), (225, "teal"), (310, "blue"),
    (345, "purple"), (361, "red"))
# a pixel counts by its area times this much per unit of chroma: a strong colour on a grey backdrop is named
SALIENCE = (0.4, 1 / 30)


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


def _colour_name(lightness: float, chroma: float, hue: float) -> str:
    if chroma < GREY_CHROMA:
        return "black" if lightness < 20 else "dark grey" if lightness < 40 else "grey" if lightness < 65 \
            else "light grey" if lightness < 88 else "white"
    name = next(n for bound, n in _HUES if hue < bound)
    if name == "blue" and hue >= 300 and lightness >= 50:  # CIELAB bends blue towards purple: a light
        name = "purple"  # colour at pure blue's hue angle (medium purple, 147 112 219) looks purple
    if 60 <= hue < 115 and lightness >= 70 and chroma < 35:  # cream and beige lie across the yellow-green edge
        return "beige"
    if name == "orange" and chroma < 35:  # a dull orange is a tan or brown (a tabby's coat, camel)
        return "brown"
    if name == "red" and _pink(lightness, chroma, hue):
        return "pink"
    if name == "purple" and lightness >= 68:  # lilac, mauve; a light purple on the red side is a pink
        return "pink" if hue >= 330 else "light purple"
    shades = {"red": (30, "dark red"), "orange": (50, "brown"), "yellow": (55, "olive"),
              "green": (30, "dark green"), "blue": (28, "navy"), "purple": (25, "dark purple")}
    if name in shades and lightness < shades[name][0]:
        return shades[name][1]
    if name == "blue" and lightness >= 70:
        return "light blue"
    return name


def _pink(lightness: float, chroma: float, hue: float) -> bool:
    """A red that reads as pink: a light one (pink, light pink), a muted one (dusty rose, old rose), or a
    red leaning to purple that is not dark (hot pink, blush, pale violet red); crimson, brick and
    tomato lean to orange and stay red."""
    bluish = hue >= 345 or hue < 15
    return lightness >= 68 or (lightness >= 45 and chroma < 35) or (lightness >= 50 and bluish)


def colour_family(name: str) -> str:
    """The colour a shade belongs to, for a sentence that should say each colour once: light grey and
    dark grey are grey, navy is blue ("A photo in navy and blue" says blue twice)."""
    plain = name.removeprefix("light ").removeprefix("dark ")
    return {"navy": "blue"}.get(plain, plain)


def main_colours(image: Any, n: int = 3) -> list[str]:
    """Names of the ``n`` most salient colours of the image, most first: each colour counts by its area
    times its chroma (SALIENCE), so greys rank by area only against each other and an orange suit on a
    grey wall is named first; a colour needs a fifth of the area, or some area (2%) and some salience (8%)."""
    import numpy as np
    from PIL import Image
    from skimage.color import rgb2lab

    pixels = np.asarray(image.convert("RGB").resize((32, 32), Image.Resampling.BOX), dtype=np.float64) / 255.0
    lab = rgb2lab(pixels).reshape(-1, 3)
    chroma = np.hypot(lab[:, 1], lab[:, 2])
    hue = np.degrees(np.arctan2(lab[:, 2], lab[:, 1])) % 360
    weight = SALIENCE[0] + SALIENCE[1] * chroma
    area: dict[str, int] = {}
    salience: dict[str, float] = {}
    for lightness, c, h, w in zip(lab[:, 0].tolist(), chroma.tolist(), hue.tolist(), weight.tolist()):
        name = _colour_name(lightness, c, h)
        area[name] = area.get(name, 0) + 1
        salience[name] = salience.get(name, 0.0) + w
    total = sum(salience.values())
    ranked = sorted(salience, key=lambda k: -salience[k])
    named = [c for c in ranked if area[c] >= 0.2 * len(lab) or (area[c] >= 0.02 * len(lab) and salience[c] >= 0.08 * total)]
    return named[:n] or ranked[:1]


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
        hues = dict.fromkeys(colour_family(c) for c in main_colours(image)) \
            if image is not None else {}
        return _cut(f"A photo in {_listed(list(hues))}." if hues else "A photo.", limit)
    if kind in ("meme", "textmeme"):
        return _cut(f'Meme image with the text "{words}".', limit)
    return _cut(f"An image posted with the words: {words}", limit) if words else "An image."
