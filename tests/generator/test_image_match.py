"""generator/image_match.py on real renders of the shipped templates and on pictures that are none."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image

from generator.annotate import render_meme
from generator.image_match import ImageMatcher
from generator.imageio import UnreadableImage, open_image
from generator.meme.templates import DEMO_DATA_DIR, load_templates


@pytest.fixture(scope="module")
def library():
    return {t.slug: t for t in load_templates(DEMO_DATA_DIR)}


@pytest.fixture(scope="module")
def matcher(library):
    return ImageMatcher.from_templates(list(library.values()))


def jpeg(image: Image.Image, *, width: int, quality: int) -> bytes:
    image = image.convert("RGB")
    image = image.resize((width, round(image.height * width / image.width)), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)
    return out.getvalue()


def meme(template, text: str) -> Image.Image:
    return render_meme(open_image(template.image_path), text, list(template.boxes))


@pytest.mark.parametrize("slug, text, width, quality", [
    ("cat", "when the vet says no more treats and you have to pretend you understand", 320, 40),
    ("rocket", "me launching my side project at 3am", 900, 85),
    ("clock", "it is five o clock somewhere and that somewhere is my inbox", 240, 60),
    ("astronaut", "wait it was always monday", 500, 50),
])
def test_a_captioned_resized_jpeg_meme_is_its_template(matcher, library, slug, text, width, quality):
    found = matcher.match_bytes(jpeg(meme(library[slug], text), width=width, quality=quality))
    assert found.slug == slug
    assert found.score >= matcher.settings.threshold and found.score - found.runner_up >= matcher.settings.margin


def test_a_square_crop_and_a_caption_across_the_middle_are_still_recognised(matcher, library):
    from generator.types import Box

    picture = render_meme(open_image(library["coffee"].image_path), "one more cup and i can see sounds",
                          [Box(0.02, 0.39, 0.96, 0.22)]).convert("RGB")
    side = min(picture.size)
    left = (picture.width - side) // 2
    square = picture.crop((left, 0, left + side, side))
    assert matcher.match_bytes(jpeg(square, width=400, quality=70)).slug == "coffee"


@pytest.mark.parametrize("name", ["retina", "immunohistochemistry", "colorwheel", "gravel", "text"])
def test_a_picture_that_is_no_template_gets_none_even_with_a_caption(matcher, name):
    import skimage.data

    array = np.asarray(getattr(skimage.data, name)())
    picture = Image.fromarray(array.astype(np.uint8)).convert("RGB")
    for image in (picture, render_meme(picture, "nobody: absolutely nobody: me at the fridge")):
        found = matcher.match_bytes(jpeg(image, width=480, quality=70))
        assert found.slug is None, (name, found)
        assert found.score < matcher.settings.threshold or found.score - found.runner_up < matcher.settings.margin


def test_bytes_that_are_no_picture_are_a_clear_error(matcher):
    with pytest.raises(UnreadableImage, match="post 7's picture"):
        matcher.match_bytes(b"<html>not found</html>", "post 7's picture")


def test_a_template_whose_picture_cannot_be_read_is_left_out(library, tmp_path, caplog):
    from dataclasses import replace

    broken = replace(library["cat"], slug="broken", image_path=tmp_path / "missing.jpg")
    matcher = ImageMatcher.from_templates([broken, library["rocket"]])
    assert matcher.slugs == ("rocket",) and "broken" in caplog.text
    found = matcher.match_bytes(jpeg(meme(library["rocket"], "liftoff at last"), width=300, quality=60))
    assert found.slug == "rocket" and found.runner_up == 0.0


def test_a_gif_whose_second_frame_is_cut_short_is_an_unreadable_image_not_a_traceback(tmp_path):
    # found by tests/bot/test_fuzz_inputs.py: Pillow raises IndexError while counting its frames
    data = (b"GIF89a\x01\x00\x01\x00\x81\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00"
            b"!\xf9\x04\x00\n\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x08\x04\x00\x01\x04\x04"
            b"\x00!\xf9\x04\x01\n\x00\x01\x00,\x00\x00\x00\x00\x01\x00\x01\x00")
    path = tmp_path / "cut.gif"
    path.write_bytes(data)
    with pytest.raises(UnreadableImage, match="cut.gif"):
        open_image(path)
