import json

import pytest
from PIL import Image

from generator import DataError
from generator.meme.data import load_dataset
from generator.meme.memefly import import_memefly, parse_css_box
from generator.meme.templates import load_templates


def test_css_box_becomes_fractions_clipped_to_the_image():
    box = parse_css_box("left: 4px; top: 420px; width: 480px; height: 144px;", 500, 500)
    assert (box.x, box.y, box.w) == pytest.approx((0.008, 0.84, 0.96))
    assert box.h == pytest.approx(80 / 500)  # clipped at the bottom edge
    with pytest.raises(DataError, match="needs left, top"):
        parse_css_box("left: 4px; width: 10px", 100, 100)


def _memefly_json(tmp_path):
    Image.new("RGB", (500, 400), "white").save(tmp_path / "1bip.jpg")
    Image.new("RGB", (200, 100), "gray").save(tmp_path / "success-kid.png")
    entries = [
        {"meme_id": 1, "meme_name": "Bad Luck Brian", "meme_url": "https://i.imgflip.com/1bip.jpg",
         "meme_bounding_box": ["left: 4px; top: 4px; width: 480px; height: 100px;", "left: nope"],
         "meme_text": ["plays tetris gets a circle"] * 10 + ["", None]},
        {"meme_id": 2, "meme_name": "success-kid", "meme_url": "", "meme_bounding_box": [],
         "meme_text": [f"finally {i} things went right" for i in range(10)]},
        {"meme_id": 3, "meme_name": "Nowhere Man", "meme_url": "https://x/none.jpg", "meme_text": ["hi"]},
        "not an object",
    ]
    path = tmp_path / "memes.json"
    path.write_text(json.dumps(entries))
    return path


def test_import_memefly_writes_a_loadable_data_set(tmp_path):
    report = import_memefly(_memefly_json(tmp_path), tmp_path / "out")
    assert (report.templates, report.captions) == (2, 20)
    assert report.skipped == {"bad box": 1, "empty caption": 2, "image not found": 1, "no meme_name": 1}
    assert any("Nowhere Man" in e for e in report.skipped_examples)
    templates = {t.slug: t for t in load_templates(tmp_path / "out")}
    assert set(templates) == {"bad-luck-brian", "success-kid"}
    brian = templates["bad-luck-brian"]
    assert brian.name == "Bad Luck Brian" and len(brian.boxes) == 1
    assert brian.boxes[0].y == pytest.approx(0.01)
    assert len(load_dataset(tmp_path / "out").captions) == 20


def test_import_of_unusable_json_is_a_data_error(tmp_path):
    (tmp_path / "x.json").write_text('{"meme_name": "a"}')
    with pytest.raises(DataError, match="expected a JSON list"):
        import_memefly(tmp_path / "x.json", tmp_path / "out")
    (tmp_path / "y.json").write_text("[{")
    with pytest.raises(DataError, match="y.json"):
        import_memefly(tmp_path / "y.json", tmp_path / "out")
