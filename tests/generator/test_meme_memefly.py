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
    assert report.skipped == {"bad box": 1, "empty caption": 1, "non-text caption": 1, "no template image": 1,
                              "no meme_name": 1}
    assert any("Nowhere Man" in e for e in report.skipped_examples)
    assert "memes.json entry 0 (Bad Luck Brian) caption 11: caption is null, not text" in report.skipped_examples
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


def test_bad_captions_are_named_by_file_entry_and_caption(tmp_path):
    Image.new("RGB", (50, 40), "white").save(tmp_path / "doge.jpg")
    texts = ["such meme", "   ", None, 42, "word " * 300, "very caption"]
    (tmp_path / "m.json").write_text(json.dumps([{"meme_name": "doge", "meme_text": texts}]))
    report = import_memefly(tmp_path / "m.json", tmp_path / "out")
    assert report.captions == 2
    assert report.skipped == {"empty caption": 1, "non-text caption": 2, "overlong caption": 1}
    examples = "\n".join(report.skipped_examples)
    assert "m.json entry 0 (doge) caption 3: caption is int 42, not text" in examples
    assert "caption 4: caption has 300 words (more than 40)" in examples


def test_failed_import_leaves_no_output_folder(tmp_path):
    (tmp_path / "m.json").write_text(json.dumps([{"meme_name": "ghost", "meme_text": ["boo"]}]))
    with pytest.raises(DataError, match="nothing importable.*no image for 'ghost'"):
        import_memefly(tmp_path / "m.json", tmp_path / "out")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["m.json"]  # neither out/ nor a partial folder


def test_import_refuses_a_non_empty_output_folder(tmp_path):
    path = _memefly_json(tmp_path)
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "keep.txt").write_text("mine")
    with pytest.raises(DataError, match="not empty"):
        import_memefly(path, tmp_path / "out")
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["keep.txt"]


def test_import_stores_boxes_in_reading_order(tmp_path):
    Image.new("RGB", (400, 400), "white").save(tmp_path / "philosoraptor.jpg")
    entries = [{"meme_name": "philosoraptor", "meme_text": ["if i do not always use the top line, does it exist"],
                "meme_bounding_box": ["left: 0px; top: 300px; width: 400px; height: 100px;",   # bottom first,
                                      "left: 200px; top: 0px; width: 200px; height: 100px;",   # as memefly does
                                      "left: 0px; top: 4px; width: 200px; height: 100px;"]}]
    (tmp_path / "m.json").write_text(json.dumps(entries))
    import_memefly(tmp_path / "m.json", tmp_path / "out")
    (template,) = load_templates(tmp_path / "out")
    assert [(b.x, b.y) for b in template.boxes] == [(0.0, 0.01), (0.5, 0.0), (0.0, 0.75)]


def test_import_drops_captions_about_sensitive_topics_and_says_why(tmp_path):
    Image.new("RGB", (100, 100), "white").save(tmp_path / "kid.jpg")
    texts = ["finally a day off", "Jesus take the wheel", "praying for a day off", "when the abortion debate starts",
             "a good goodbye", "never forget 9/11 lol", "my Godzilla impression"]
    (tmp_path / "m.json").write_text(json.dumps([{"meme_name": "kid", "meme_text": texts}]))
    report = import_memefly(tmp_path / "m.json", tmp_path / "out")
    assert report.captions == 3
    assert report.skipped == {"sensitive topic: religion": 2, "sensitive topic: abortion": 1,
                              "sensitive topic: tragedies and violence": 1}
    assert 'm.json entry 0 (kid) caption 1: caption \'Jesus take the wheel\' is about religion ("jesus")' \
        in report.skipped_examples
    kept = [json.loads(line)["text"] for line in (tmp_path / "out" / "captions.jsonl").read_text().splitlines()]
    assert kept == ["finally a day off", "a good goodbye", "my Godzilla impression"]
