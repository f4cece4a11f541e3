"""Recognising the template of a posted picture (generator/image_match.py): how often, how wrongly.

Positives: every shipped template (generator/meme/demo_data) rendered by the real renderer
(generator.annotate.render_meme) with a random caption of the caption corpus, in the template's own
boxes (70%), in the default top/bottom bands (15%) or in one band across the middle (15%: a caption
where the template does not expect it); then 30% centre-cropped to a square (Instagram), resized to
a random width of 160-1080 px and saved as JPEG at a random quality of 35-90.
Negatives: scikit-image pictures that are not templates (the library's own are left out), as they
are and as random crops (a third to the whole of each side), half of them with a caption drawn on
them the same way, resized and JPEG-saved the same way.

Last line: `recognised=<r> wrong=<r> missed=<r> false_assigned=<r> positives=<n> negatives=<n>`
(recognised + wrong + missed = 1 over positives; false_assigned over negatives).
"""
from __future__ import annotations

import argparse
import io
import json
import sys
import time
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from generator.annotate import render_meme
from generator.image_match import DEFAULT_BANDS, ImageMatch, ImageMatcher, ImageMatchSettings
from generator.imageio import open_image
from generator.meme.templates import DEMO_DATA_DIR, load_templates
from generator.types import Box, Template

# scikit-image's bundled pictures that are none of the shipped templates (those are astronaut,
# brick, camera, chelsea, clock, coffee, coins, hubble_deep_field, grass, horse, moon,
# stereo_motorcycle, page, rocket)
OTHER_PICTURES = ("colorwheel", "gravel", "immunohistochemistry", "logo", "microaneurysms", "retina", "text",
                  "cell", "shepp_logan_phantom", "binary_blobs", "checkerboard")
MIDDLE = (Box(0.02, 0.39, 0.96, 0.22),)


@dataclass(frozen=True)
class Rates:
    recognised: float
    wrong: float
    missed: float
    false_assigned: float
    positives: int
    negatives: int

    def line(self) -> str:
        return (f"recognised={self.recognised:.3f} wrong={self.wrong:.3f} missed={self.missed:.3f} "
                f"false_assigned={self.false_assigned:.3f} positives={self.positives} negatives={self.negatives}")


def _captions() -> list[str]:
    lines = (DEMO_DATA_DIR / "captions.jsonl").read_text(encoding="utf-8").splitlines()
    return [json.loads(line)["text"] for line in lines if line.strip()]


def _posted(image: Image.Image, rng: np.random.Generator, *, square: bool) -> Image.Image:
    """What a platform hands back: maybe a square crop, another size, a JPEG."""
    image = image.convert("RGB")
    if square:
        side = min(image.size)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        image = image.crop((left, top, left + side, top + side))
    width = int(rng.integers(160, 1081))
    image = image.resize((width, max(1, round(image.height * width / image.width))), Image.Resampling.LANCZOS)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", quality=int(rng.integers(35, 91)))
    return Image.open(io.BytesIO(buffer.getvalue()))


def _captioned(image: Image.Image, boxes: tuple[Box, ...], captions: list[str], rng: np.random.Generator
               ) -> Image.Image:
    roll = rng.random()
    chosen = boxes if roll < 0.7 and boxes else (DEFAULT_BANDS if roll < 0.85 else MIDDLE)
    return render_meme(image, captions[int(rng.integers(len(captions)))], list(chosen))


def template_render(template: Template, captions: list[str], rng: np.random.Generator) -> Image.Image:
    """One meme made on ``template`` as an account would have posted it."""
    image = open_image(template.image_path, animated="first_frame")
    return _posted(_captioned(image, tuple(template.boxes), captions, rng), rng, square=rng.random() < 0.3)


def other_pictures() -> list[Image.Image]:
    import skimage.data

    out = []
    for name in OTHER_PICTURES:
        array = np.asarray(getattr(skimage.data, name)())
        if array.dtype == bool:
            array = array.astype(np.uint8) * 255
        out.append(Image.fromarray(array.astype(np.uint8)).convert("RGB"))
    return out


def other_render(pictures: list[Image.Image], captions: list[str], rng: np.random.Generator) -> Image.Image:
    """A post on a picture that is no template: whole or a crop of it, captioned half the time."""
    image = pictures[int(rng.integers(len(pictures)))]
    if rng.random() < 0.7:
        w, h = image.size
        cw, ch = int(w * rng.uniform(0.33, 1.0)), int(h * rng.uniform(0.33, 1.0))
        left, top = int(rng.integers(0, w - cw + 1)), int(rng.integers(0, h - ch + 1))
        image = image.crop((left, top, left + cw, top + ch))
    if rng.random() < 0.5:
        image = _captioned(image, (), captions, rng)
    return _posted(image, rng, square=False)


def samples(matcher: ImageMatcher, templates: list[Template], *, per_template: int, negatives: int,
            seed: int = 0) -> list[tuple[str | None, ImageMatch]]:
    """(true template or None, what the matcher says) of rendered positives and negatives."""
    rng = np.random.default_rng(seed)
    captions, pictures = _captions(), other_pictures()
    out = [(t.slug, matcher.match(template_render(t, captions, rng))) for t in templates for _ in range(per_template)]
    return out + [(None, matcher.match(other_render(pictures, captions, rng))) for _ in range(negatives)]


def rates(found: list[tuple[str | None, ImageMatch]], settings: ImageMatchSettings) -> Rates:
    """The rates ``settings``' threshold and margin give on matched samples."""
    def said(m: ImageMatch) -> str | None:
        return m.best if m.score >= settings.threshold and m.score - m.runner_up >= settings.margin else None

    pos = [(truth, said(m)) for truth, m in found if truth is not None]
    neg = [said(m) for truth, m in found if truth is None]
    n = max(1, len(pos))
    return Rates(sum(g == t for t, g in pos) / n, sum(g is not None and g != t for t, g in pos) / n,
                 sum(g is None for _, g in pos) / n, sum(g is not None for g in neg) / max(1, len(neg)),
                 len(pos), len(neg))


def measure(matcher: ImageMatcher, templates: list[Template], *, per_template: int, negatives: int,
            seed: int = 0) -> Rates:
    return rates(samples(matcher, templates, per_template=per_template, negatives=negatives, seed=seed),
                 matcher.settings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--per-template", type=int, default=30)
    parser.add_argument("--negatives", type=int, default=400)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--sweep", action="store_true", help="also print the rates of other thresholds and margins")
    args = parser.parse_args()
    templates = load_templates(DEMO_DATA_DIR)
    started = time.perf_counter()
    matcher = ImageMatcher.from_templates(templates)
    found = samples(matcher, templates, per_template=args.per_template, negatives=args.negatives, seed=args.seed)
    ms = (time.perf_counter() - started) * 1000 / len(found)
    if args.sweep:
        for threshold in (0.5, 0.6, 0.7, 0.75, 0.8, 0.85, 0.9):
            for margin in (0.0, 0.05, 0.1):
                got = rates(found, replace(matcher.settings, threshold=threshold, margin=margin))
                print(f"threshold={threshold} margin={margin} {got.line()}")
    print(f"{len(templates)} templates; {ms:.1f} ms per picture (render + match); threshold="
          f"{matcher.settings.threshold} margin={matcher.settings.margin}")
    print(rates(found, matcher.settings).line())


if __name__ == "__main__":
    main()
