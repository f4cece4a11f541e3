"""The user's own meme templates: `memeloop templates add | list | remove`, the library in the data
folder, the generators using it, candidates that stay readable after a removal, and the web page."""
from __future__ import annotations

import io
import json
import os
import tomllib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from bot.app import build_app
from bot.config import load_config
from bot.service.templates import all_templates, auto_boxes, library_dir
from generator.meme.templates import DEMO_DATA_DIR, template_folders
from tests.bot.web_helpers import found, make_site

SHIPPED = len(template_folders(DEMO_DATA_DIR))


def photo(path: Path, size=(320, 240), *, busy_middle: bool = False) -> Path:
    """A picture; with busy_middle, noisy in the middle band and flat elsewhere."""
    rng = np.random.default_rng(0)
    pixels = np.full((size[1], size[0], 3), 200, dtype=np.uint8)
    if busy_middle:
        h = size[1]
        pixels[h // 5: 4 * h // 5] = rng.integers(0, 255, (4 * h // 5 - h // 5, size[0], 3), dtype=np.uint8)
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture
def cfg(write_config) -> Path:
    return write_config()


def test_add_list_remove_round_trip(cfg, tmp_path, run_cli):
    image = photo(tmp_path / "office.png")
    got = run_cli("--config", str(cfg), "templates", "add", str(image), "--name", "Office Dog", "--boxes",
                  "bottom,top", "--keywords", "work,dog", "--keywords", "Monday", "--description",
                  "a dog at a desk, for work jokes")
    assert got.code == 0, got.err
    folder = cfg.parent / "templates" / "office-dog"
    data = tomllib.loads((folder / "template.toml").read_text())
    assert data["name"] == "Office Dog" and data["image"] == "image.png"
    assert data["keywords"] == ["work", "dog", "monday"] and data["description"] == "a dog at a desk, for work jokes"
    assert [b["y"] for b in data["boxes"]] == [0.02, 0.76]  # reading order whatever order they were named in
    assert (folder / "image.png").read_bytes() == image.read_bytes()
    listed = json.loads(run_cli("--config", str(cfg), "templates", "list", "--json").out)
    mine = [t for t in listed if t["slug"] == "office-dog"]
    assert mine and mine[0]["source"] == "library" and mine[0]["keywords"] == ["work", "dog", "monday"]
    assert {t["source"] for t in listed} == {"configured", "library"} and len(listed) == SHIPPED + 1
    assert "office-dog" in {t.slug for t in all_templates(load_config(cfg))}
    got = run_cli("--config", str(cfg), "templates", "remove", "office-dog")
    assert got.code == 0 and not folder.exists()
    got = run_cli("--config", str(cfg), "templates", "remove", "cat")
    assert got.code == 2 and "not in the template library" in got.err


def test_bad_images_and_names_are_one_line_errors(cfg, tmp_path, run_cli):
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    (tmp_path / "notes.png").write_text("not an image")
    tiny = photo(tmp_path / "tiny.png", size=(40, 40))
    frames = [Image.new("RGB", (100, 100), c) for c in ("red", "blue")]
    frames[0].save(tmp_path / "anim.gif", save_all=True, append_images=frames[1:])
    (tmp_path / "empty.png").write_bytes(b"")
    good = photo(tmp_path / "good.png")
    cases = [(fifo, [], "not a regular file"), (tmp_path, [], "not a regular file"),
             (tmp_path / "nope.png", [], "no such file"), (tmp_path / "notes.png", [], "not an image"),
             (tiny, [], "at least 64 pixels"), (tmp_path / "anim.gif", [], "animated"),
             (tmp_path / "empty.png", [], "empty"), (good, ["--boxes", "left"], "use 'auto' or a comma list"),
             (good, ["--boxes", "top,top"], "named twice")]
    for path, extra, words in cases:
        got = run_cli("--config", str(cfg), "templates", "add", str(path), "--name", "x", *extra)
        assert got.code == 2 and words in got.err and len(got.err.strip().splitlines()) == 1, (path, got.err)
    got = run_cli("--config", str(cfg), "templates", "add", str(good), "--name", "Cat")
    assert got.code == 2 and "template 'cat' already exists" in got.err  # never shadows a shipped one
    got = run_cli("--config", str(cfg), "templates", "add", str(good), "--name", "!!!")
    assert got.code == 2 and "needs letters or digits" in got.err
    assert not library_dir(load_config(cfg)).exists() or not any(library_dir(load_config(cfg)).iterdir())


def test_auto_boxes_avoid_the_busy_part_of_the_picture(tmp_path):
    image = Image.open(photo(tmp_path / "busy.png", busy_middle=True))
    boxes = auto_boxes(image)
    assert [round(b[1], 2) for b in boxes] == [0.01, 0.81]  # the flat first and last fifths, top first
    flat = auto_boxes(Image.new("RGB", (200, 200), "white"))
    assert len(flat) == 2 and flat[0][1] < flat[1][1]


def test_make_uses_a_library_template_and_its_candidates_survive_removal(cfg, tmp_path, clock):
    app = build_app(load_config(cfg), clock=clock)
    try:
        from bot.service.templates import add_template, remove_and_keep_candidates

        add_template(app.config, photo(tmp_path / "dog.png"), name="dog desk", keywords=["work"])
        made = app.make("when the standup is at 9 and so am i", account="demo", template="dog-desk", seed=1)
        cand = app.candidate(made.candidates[0].id)
        assert made.template.slug == "dog-desk" and cand.template == "dog-desk"
        remove_and_keep_candidates(app.deps, "dog-desk")
        assert not (library_dir(app.config) / "dog-desk").exists()
        cand = app.candidate(made.candidates[0].id)
        assert cand.image_path and Path(cand.image_path).is_file()  # still readable: the rendering is in the media store
        edited = app.edit(made.candidates[0].id, actor="ann", text="when the standup moved to 8")
        assert edited.image_path and Path(edited.image_path).is_file()  # re-rendered from the kept picture
        assert str(app.config.storage.media_dir) in str(app.candidate(made.candidates[0].id).image_path)
    finally:
        app.close()


# --- web admin ------------------------------------------------------------------------------------------

@pytest.fixture
def site(write_config, tmp_path, clock):
    s = make_site(write_config, tmp_path, clock, ("seeded one",))
    yield s
    s.app.close()


def png_bytes(size=(200, 150)) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, "teal").save(out, "PNG")
    return out.getvalue()


def add_form(site, *, csrf: str | None = None, data: bytes | None = None, name: str = "Teal Thing"):
    body = {"csrf": site.csrf() if csrf is None else csrf, "name": name, "boxes": "top,bottom",
            "keywords": "teal, calm", "description": "a calm colour", "text": "sample top and bottom"}
    return site.client.post("/templates/add", data=body, files={"image": ("mine.png", data or png_bytes(),
                                                                          "image/png")}, follow_redirects=False)


def test_templates_page_upload_preview_and_remove(site):
    page = site.client.get("/templates")
    assert page.status_code == 200 and 'href="/templates"' in page.text and f"Templates ({SHIPPED})" in page.text
    assert add_form(site, csrf="forged").status_code == 403
    assert not (library_dir(site.app.config) / "teal-thing").exists()
    got = add_form(site)
    assert got.status_code == 200 and "added template teal-thing" in got.text
    assert 'src="/templates/teal-thing/preview.png?text=sample%20top%20and%20bottom"' in got.text
    folder = library_dir(site.app.config) / "teal-thing"
    assert tomllib.loads((folder / "template.toml").read_text())["keywords"] == ["teal", "calm"]
    preview = site.client.get("/templates/teal-thing/preview.png", params={"text": "hello world"})
    assert preview.status_code == 200 and preview.headers["content-type"] == "image/png"
    drawn = np.asarray(Image.open(io.BytesIO(preview.content)).convert("RGB"), dtype=int)
    plain = np.asarray(Image.new("RGB", (200, 150), "teal"), dtype=int)
    assert (np.abs(drawn - plain).sum(axis=2) > 60).mean() > 0.01  # the text is drawn on the picture
    assert site.client.get("/templates/teal-thing/image").content == png_bytes()
    assert site.client.get("/templates/nope/image").status_code == 404
    assert "/templates/teal-thing/remove" in site.client.get("/templates").text
    assert site.client.post("/templates/teal-thing/remove", data={"csrf": "forged"}).status_code == 403
    got = site.client.post("/templates/teal-thing/remove", data={"csrf": site.csrf()})
    assert got.status_code == 200 and "removed template teal-thing" in got.text and not folder.exists()
    got = site.client.post("/templates/cat/remove", data={"csrf": site.csrf()})
    assert got.status_code == 400 and "not in the template library" in got.text


def test_a_library_template_is_offered_by_create_and_passes_the_checks(site):
    from bot.service.content_checks import check_template, template_slugs

    assert add_form(site).status_code == 200
    slugs = template_slugs(site.app.config)
    assert slugs[-1] == "teal-thing" and len(slugs) == SHIPPED + 1
    check_template(site.app.config, "teal-thing")  # `make --template` / the story form accept it
    page = site.client.get("/create")
    assert page.status_code == 200 and '<option value="teal-thing"' in page.text


def test_a_bad_upload_is_a_message_naming_the_users_file(site):
    got = add_form(site, data=b"not an image at all")
    assert got.status_code == 400
    message = found(r'class="message error"[^>]*>([^<]*)<', got.text)
    assert "mine.png" in message and "memeloop-template-" not in message
    got = add_form(site, name="")
    assert got.status_code == 400 and "the name is empty" in got.text
