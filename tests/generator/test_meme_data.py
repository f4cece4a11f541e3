import json
from pathlib import Path

import pytest
from PIL import Image

from generator import DataError
from generator.meme.data import load_dataset, split_by_caption, split_by_template
from generator.meme.templates import DEMO_DATA_DIR, load_templates
from generator.meme.vocab import tokenize


def make_template(root: Path, slug: str, color=(200, 30, 30), toml: str | None = None) -> Path:
    folder = root / slug
    folder.mkdir(parents=True)
    Image.new("RGB", (32, 24), color).save(folder / "image.jpg")
    (folder / "template.toml").write_text(toml or f'name = "{slug.title()}"\nimage = "image.jpg"\n')
    return folder


def write_captions(root: Path, rows: list, raw: bytes = b"") -> None:
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    (root / "captions.jsonl").write_bytes(body + raw)


def small_dataset(root: Path, n_templates=3, per_template=10) -> Path:
    for i in range(n_templates):
        make_template(root, f"t{i}", color=(40 * i, 100, 200))
    write_captions(root, [{"template": f"t{i}", "text": f"when the t{i} does thing number {j}"}
                          for i in range(n_templates) for j in range(per_template)])
    return root


def test_shipped_demo_templates_load_sorted_with_boxes():
    templates = load_templates()
    slugs = [t.slug for t in templates]
    assert len(templates) >= 12 and slugs == sorted(slugs)
    assert all(t.image_path.is_file() for t in templates)
    assert sum(bool(t.boxes) for t in templates) >= 3
    cat = next(t for t in templates if t.slug == "cat")
    assert cat.name == "Judgemental Cat" and cat.boxes[0].w == pytest.approx(0.96)


def test_demo_data_set_is_small_original_and_complete():
    files = [p for p in DEMO_DATA_DIR.rglob("*") if p.is_file()]
    assert sum(p.stat().st_size for p in files) < 5 * 1024 * 1024
    for t in load_templates():
        with Image.open(t.image_path) as img:
            assert max(img.size) <= 512
    dataset = load_dataset(DEMO_DATA_DIR)
    assert dataset.skipped == {}
    per_template = {t.slug: 0 for t in dataset.templates}
    for row in dataset.captions:
        per_template[row.template] += 1
    assert min(per_template.values()) >= 40, per_template
    texts = [row.text for row in dataset.captions]
    assert len(set(texts)) == len(texts)


def test_bad_toml_is_a_data_error_naming_the_file(tmp_path):
    make_template(tmp_path, "broken", toml='name = "Broken\nimage = ')
    with pytest.raises(DataError, match=r"broken/template.toml"):
        load_templates(tmp_path)


def test_box_outside_the_image_is_rejected(tmp_path):
    make_template(tmp_path, "wide", toml='name = "W"\nimage = "image.jpg"\n[[boxes]]\nx = 0.5\ny = 0\nw = 0.8\nh = 0.2\n')
    with pytest.raises(DataError, match=r"wide/template.toml: boxes\[0\]"):
        load_templates(tmp_path)


def test_bad_rows_are_skipped_counted_and_named(tmp_path):
    small_dataset(tmp_path)
    make_template(tmp_path, "unreadable")
    (tmp_path / "unreadable" / "image.jpg").write_bytes(b"not a jpeg")
    rows = [{"template": "t0", "text": "  "}, {"template": "nope", "text": "who am i"},
            {"template": "unreadable", "text": "cannot see this"}]
    existing = (tmp_path / "captions.jsonl").read_bytes()
    write_captions(tmp_path, rows, raw=b'{"template": "t1", "text": "caf\xe9 au lait"}\nnot json\n')
    (tmp_path / "captions.jsonl").write_bytes(existing + (tmp_path / "captions.jsonl").read_bytes())
    dataset = load_dataset(tmp_path)
    assert dataset.skipped == {"unreadable image": 1, "empty caption": 1, "unknown template": 2,
                               "not UTF-8": 1, "not JSON": 1}
    assert len(dataset.captions) == 30
    assert dataset.skipped_examples[0].endswith("unreadable: unreadable image")
    assert any("captions.jsonl:31" in e and "empty" in e for e in dataset.skipped_examples)


def test_too_small_data_set_is_a_clear_error(tmp_path):
    small_dataset(tmp_path, n_templates=1, per_template=50)
    with pytest.raises(DataError, match="too little usable data.*1 templates"):
        load_dataset(tmp_path)


def test_missing_folder_is_a_data_error(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_dataset(tmp_path / "nowhere")


def test_validation_split_is_by_template(tmp_path):
    dataset = load_dataset(small_dataset(tmp_path, n_templates=5))
    train, val = split_by_template(dataset, val_fraction=0.4, seed=3)
    train_slugs = {c.template for c in train.captions}
    val_slugs = {c.template for c in val.captions}
    assert len(val_slugs) == 2 and not train_slugs & val_slugs
    assert len(train.captions) + len(val.captions) == len(dataset.captions)
    assert split_by_template(dataset, val_fraction=0.4, seed=3)[1].templates == val.templates


def test_data_hash_changes_with_the_captions(tmp_path):
    before = load_dataset(small_dataset(tmp_path)).data_hash
    with open(tmp_path / "captions.jsonl", "a") as fh:
        fh.write(json.dumps({"template": "t0", "text": "one more"}) + "\n")
    assert load_dataset(tmp_path).data_hash != before


def test_demo_captions_are_clean_words():
    blocked = {"damn", "hell", "crap", "stupid", "idiot", "kill", "hate"}
    for row in load_dataset(DEMO_DATA_DIR).captions:
        assert not blocked & set(tokenize(row.text)), row


def test_non_text_and_overlong_captions_are_told_apart(tmp_path):
    small_dataset(tmp_path)
    existing = (tmp_path / "captions.jsonl").read_text()
    rows = [{"template": "t0", "text": None}, {"template": "t0", "text": 42}, {"template": "t0", "text": ""},
            {"template": "t0", "text": "word " * 300}, {"template": "t0", "text": "Кот хочет есть"}]
    (tmp_path / "captions.jsonl").write_text(existing + "".join(json.dumps(r) + "\n" for r in rows) + "[1, 2]\n")
    dataset = load_dataset(tmp_path)
    assert dataset.skipped == {"non-text caption": 2, "empty caption": 1, "overlong caption": 1, "not an object": 1}
    n = len(existing.splitlines())
    examples = "\n".join(dataset.skipped_examples)
    assert f"captions.jsonl:{n + 1}: caption is null, not text" in examples
    assert f"captions.jsonl:{n + 2}: caption is int 42, not text" in examples
    assert f"captions.jsonl:{n + 4}: caption has 300 words (more than 40)" in examples
    assert dataset.captions[-1].text == "Кот хочет есть"


def test_caption_split_holds_out_captions_of_every_template(tmp_path):
    dataset = load_dataset(small_dataset(tmp_path, n_templates=3, per_template=20))
    train, val = split_by_caption(dataset, val_fraction=0.1, seed=1)
    assert {c.template for c in val.captions} == {c.template for c in dataset.captions}
    assert len(val.captions) == 6 and len(train.captions) == 54
    assert not {c.line for c in train.captions} & {c.line for c in val.captions}
