"""Photo captions: what the classifier reads a labelled photo set as, and what the caption is for.

The set (bench/data/photo_topics.toml): scikit-image's photos and the project's template photos
that scikit-image does not ship, each labelled with the writer topic a person would write it up as
("none" when no topic the demo writer knows fits: the right caption is then a neutral one) and the
words an owner would give as --about. EfficientNet-Lite0 (generator.photo_topics) reads each photo;
the topic a caption is written for is compared with the label:
- topic accuracy without a hint (a "none" photo is right when it gets the neutral topic),
- the unsure rate (the reading is weak or names no writer topic: neutral or the hint is used),
- the wrong-and-sure rate (a confident wrong topic: the failure that put coffee on the astronaut),
- topic accuracy with the owner's --about words.

Last line: `photos=.. topic_accuracy=.. unsure_rate=.. wrong_sure_rate=.. labelled_topic_recall=..
with_about_accuracy=.. seconds=..`.
"""
from __future__ import annotations

import argparse
import json
import sys
import time
import tomllib
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from generator.photo_topics import NEUTRAL, choose_topic, load_photo_topics
from generator.textgen.writer import DEMO_BUNDLE, META_FILE

LABELS = Path(__file__).resolve().parent / "data" / "photo_topics.toml"


def read_photo(ref: str):
    from PIL import Image

    if ref.startswith("skimage:"):
        from skimage import data

        pixels = getattr(data, ref.split(":", 1)[1])()
        if pixels.dtype == bool:
            pixels = pixels.astype(np.uint8) * 255
        return Image.fromarray(pixels).convert("RGB")
    with Image.open(ROOT / ref) as img:
        return img.convert("RGB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--labels", type=Path, default=LABELS)
    args = parser.parse_args()
    rows = tomllib.loads(args.labels.read_text(encoding="utf-8"))["photos"]
    known = tuple(json.loads((DEMO_BUNDLE / META_FILE).read_text())["topics"])
    t0 = time.perf_counter()
    topics = load_photo_topics()
    readings = topics.topics([read_photo(r["photo"]) for r in rows], known=known)
    seconds = time.perf_counter() - t0
    right = unsure = wrong_sure = hinted_right = recalled = labelled = 0
    for row, found in zip(rows, readings):
        expected = NEUTRAL if row["topic"] == "none" else row["topic"]
        chosen = choose_topic(found, known)
        hinted = choose_topic(found, known, about=row["about"])
        right += chosen.topic == expected
        unsure += not found.sure
        wrong_sure += found.sure and found.topic != expected
        hinted_right += hinted.topic == expected
        if expected != NEUTRAL:
            labelled += 1
            recalled += chosen.topic == expected
        mark = "ok " if chosen.topic == expected else "MISS"
        print(f"{mark} {row['photo']:<48} label {row['topic']:<8} {found.reading()}; "
              f"with --about: {hinted.topic}")
    n = len(rows)
    print(f"{n} photos: topic accuracy {right / n:.3f}, unsure {unsure / n:.3f}, wrong and sure "
          f"{wrong_sure / n:.3f}; photos with a writer topic found {recalled}/{labelled}; with the owner's "
          f"--about words {hinted_right / n:.3f}")
    print(f"photos={n} topic_accuracy={right / n:.3f} unsure_rate={unsure / n:.3f} "
          f"wrong_sure_rate={wrong_sure / n:.3f} labelled_topic_recall={recalled / max(labelled, 1):.3f} "
          f"with_about_accuracy={hinted_right / n:.3f} seconds={seconds:.1f}")


if __name__ == "__main__":
    main()
