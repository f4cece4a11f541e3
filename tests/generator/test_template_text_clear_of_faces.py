"""The shipped templates keep meme text off the face they show (issue 23 audit: "MY FACE" in a huge
font over the astronaut's eyes). Faces are measured once by eye on the 512 px image: no detector."""
from __future__ import annotations

from pathlib import Path

import pytest

from generator.annotate import layout_text
from generator.meme.templates import load_template

DEMO = Path(__file__).resolve().parents[2] / "generator" / "meme" / "demo_data"
# the astronaut's eyes are about 0.19 of the image down, her forehead about 0.15
EYES = {"astronaut": 0.17}


@pytest.mark.parametrize("text", ["my face", "when a customer asks", "me trying to explain the mission patch to houston"])
def test_the_top_text_stays_above_the_eyes(text):
    for slug, eyes in EYES.items():
        template = load_template(DEMO / slug)
        top = min(template.boxes, key=lambda b: b.y)
        layout = layout_text(text, top.to_pixels(512, 512))
        assert layout.lines and max(line.bbox[3] for line in layout.lines) <= eyes * 512, (slug, text, layout)
