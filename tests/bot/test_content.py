"""Content systems through the service: caption a photo in a tone (and its CLI errors)."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from bot.app import build_app
from bot.config import load_config


@pytest.fixture
def photo_files(tmp_path: Path) -> dict[str, Path]:
    from skimage import data

    out = {}
    for name in ("chelsea", "coffee", "rocket"):
        out[name] = tmp_path / f"{name}.jpg"
        Image.fromarray(getattr(data, name)()).save(out[name], quality=90)
    return out


def test_caption_bad_input_is_one_line_and_exit_2(tmp_path, write_config, run_cli):
    config = write_config()
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    result = run_cli("--config", str(config), "caption", str(bad), "--tone", "funny")
    assert result.code == 2 and f"{bad}: not an image" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    missing = run_cli("--config", str(config), "caption", str(tmp_path / "nope.jpg"))
    assert missing.code == 2
    img = tmp_path / "ok.png"
    Image.new("RGB", (64, 64)).save(img)
    zero = run_cli("--config", str(config), "caption", str(img), "-n", "0")
    assert zero.code == 2 and "-n must be between 1 and 20" in zero.err


@pytest.mark.slow
def test_captions_for_real_photos_differ_by_tone_and_all_go_to_review(tmp_path, write_config, photo_files):
    from generator.photo_topics import load_photo_topics
    from generator.textgen import load_writer

    app = build_app(load_config(write_config()))
    models = {"topics": load_photo_topics(), "writer": load_writer()}
    funny = app.caption([photo_files["chelsea"], photo_files["coffee"]], tone="funny", audience="general",
                        account="demo", n=4, seed=3, **models)
    assert [t["topic"] for t in funny.topics] == ["cats", "coffee"]
    assert funny.run.stored == 8 and len(funny.candidates) == 8
    statuses = [c.status for c in funny.candidates]
    assert statuses.count("pending") + statuses.count("duplicate") == 8 and statuses.count("pending") >= 6
    first = app.candidate(funny.candidates[0].id)
    assert first["generator"] == "photo" and first["tone"] == "funny"
    assert funny.candidates[0].params["topic"] == "cats" and funny.candidates[0].params["writer_seed"] > 0
    inspiring = app.caption([photo_files["rocket"]], tone="inspirational", audience="general", account="demo",
                            n=4, seed=3, **models)
    assert inspiring.topics[0]["topic"] == "space"
    funny_rocket = app.caption([photo_files["rocket"]], tone="funny", audience="general", account="demo", n=4,
                               seed=3, **models)
    a = {c.text for c in inspiring.candidates}
    b = {c.text for c in funny_rocket.candidates}
    assert a.isdisjoint(b), (a, b)
    app.close()


@pytest.mark.slow
def test_caption_cli_unknown_tone_names_the_known_ones(write_config, run_cli, photo_files):
    config = write_config()
    result = run_cli("--config", str(config), "caption", str(photo_files["coffee"]), "--tone", "grumpy")
    assert result.code == 2 and "--tone 'grumpy'" in result.err and "funny" in result.err
    ok = run_cli("--config", str(config), "caption", str(photo_files["coffee"]), "--tone", "informative", "-n", "2")
    assert ok.code == 0, ok.err
    assert "topic 'coffee'" in ok.out and "2 captions" in ok.out
