"""The media store's PNG writer: lossless, the profile kept, other modes through Pillow."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image, ImageCms

from bot.core.media import MediaStore, png_bytes


def _photo(mode: str) -> Image.Image:
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 256, (37, 53, 4), dtype=np.uint8)
    pixels[10:20] = pixels[10]  # flat rows, as sky or a caption band
    return Image.fromarray(pixels, "RGBA").convert(mode)


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L", "P", "1", "LA"])
def test_png_bytes_round_trip_pixel_for_pixel(mode):
    image = _photo(mode)
    back = Image.open(io.BytesIO(png_bytes(image)))
    back.load()
    assert back.format == "PNG" and back.mode == image.mode and back.size == image.size
    assert np.array_equal(np.asarray(back), np.asarray(image))


def test_png_bytes_keep_the_icc_profile_and_a_transparency_key():
    image = _photo("RGB")
    image.info["icc_profile"] = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    back = Image.open(io.BytesIO(png_bytes(image)))
    assert back.info["icc_profile"] == image.info["icc_profile"]
    keyed = _photo("RGB")
    keyed.info["transparency"] = (1, 2, 3)
    assert Image.open(io.BytesIO(png_bytes(keyed))).info["transparency"] == (1, 2, 3)


def test_png_bytes_of_a_one_pixel_image():
    back = Image.open(io.BytesIO(png_bytes(Image.new("RGB", (1, 1), (9, 8, 7)))))
    assert back.getpixel((0, 0)) == (9, 8, 7)


def test_stored_images_are_content_addressed_pngs(tmp_path):
    store = MediaStore.open(tmp_path / "media")
    first, again = store.put_image(_photo("RGB"), phash=False), store.put_image(_photo("RGB"), phash=False)
    assert first == again and first.path.endswith(".png") and first.phash is None
    assert Image.open(first.path).format == "PNG"
