"""Content requests are checked before any model loads (bot/content_checks.py), and the content
models load once per process, stay warm and are retired by the warm-worker limits
(bot/content_models.py)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from bot.app import build_app
from bot.config import load_config
from bot.core.content_models import ContentModels
from bot.errors import UsageError
from bot.service import content_checks


@pytest.fixture
def app(write_config):
    built = build_app(load_config(write_config()))
    yield built
    built.close()


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    path = tmp_path / "ok.png"
    Image.new("RGB", (64, 48), "orange").save(path)
    return path


def refused(call, needle: str) -> str:
    with pytest.raises(UsageError) as caught:
        call()
    assert needle in str(caught.value), str(caught.value)
    return str(caught.value)


def test_every_bad_argument_is_refused_before_a_model_loads(app, photo, tmp_path, monkeypatch):
    cases = [
        (lambda: app.caption([photo], tone="sarcastic", audience=None, account="demo"), "--tone 'sarcastic'"),
        (lambda: app.caption([photo], tone=None, audience="teens", account="demo"), "--audience 'teens'"),
        (lambda: app.caption([photo], tone="funny", audience=None, account="demo", n=21), "-n must be between"),
        (lambda: app.caption([photo], tone=None, audience=None, account="demo", topic="lattes"), "--topic 'lattes'"),
        (lambda: app.caption([photo], tone=None, audience=None, account="demo", about="  "), "--about is empty"),
        (lambda: app.caption([], tone="funny", audience=None, account="demo"), "at least one photo"),
        (lambda: app.caption([tmp_path / "gone.jpg"], tone=None, audience=None, account="demo"), "no such file"),
        (lambda: app.caption([tmp_path], tone=None, audience=None, account="demo"), "not a regular file"),
        (lambda: app.story(str(photo), parts=7, account="demo"), "--parts must be between 2 and 6"),
        (lambda: app.story(str(photo), parts=3, tone="grim", account="demo"), "--tone 'grim'"),
        (lambda: app.story(None, template="../../etc/passwd", account="demo"), "is not a template"),
        (lambda: app.story(None, template=str(photo), account="demo"), "is not a template"),
        (lambda: app.make("hello there", account="demo", template="nope"), "is not a template"),
    ]
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    cases.append((lambda: app.caption([empty], tone=None, audience=None, account="demo"), "the file is empty"))
    fifo = tmp_path / "pipe.jpg"
    os.mkfifo(fifo)
    cases.append((lambda: app.caption([fifo], tone=None, audience=None, account="demo"), "not a regular file"))
    text = tmp_path / "notes.jpg"
    text.write_text("not an image")
    cases.append((lambda: app.caption([text], tone=None, audience=None, account="demo"), "not an image"))
    for call, needle in cases:
        refused(call, needle)
    monkeypatch.setattr(content_checks, "MAX_PHOTO_BYTES", 100)
    monkeypatch.setattr(content_checks.check_photo_file, "__kwdefaults__", {"max_bytes": 100})
    refused(lambda: app.caption([photo], tone=None, audience=None, account="demo"), "the limit for a photo")
    assert app.content_models().loaded() == () and app.content_models().loads == 0


def test_choices_come_from_the_bundle_and_the_library_without_a_model(app):
    offered = content_checks.choices(app.config)
    assert offered.tones == ("funny", "informative", "inspirational")
    assert offered.audiences == ("general", "promotional")
    assert "cat" in offered.templates and "rocket" in offered.templates
    assert app.content_models().loads == 0


def test_a_broken_bundle_is_one_line(write_config, tmp_path):
    (tmp_path / "bundle").mkdir()
    config = load_config(write_config(
        '[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n[generator.post]\n'
        f'writer_bundle = "{tmp_path / "bundle"}"\n[[accounts]]\nname = "demo"\nplatform = "outbox"\n'))
    refused(lambda: content_checks.check_voice(config, tone="funny", audience=None), "memeloop.json")


def test_the_cli_refuses_a_bad_tone_before_the_database_or_a_framework(write_config, photo, tmp_path):
    config = write_config()
    existed = (tmp_path / "memeloop.db").exists()  # a fixture may have placed a migrated template copy
    code = ("import sys; from bot.cli import main; code = main(sys.argv[1:]); "
            "heavy = {'torch', 'transformers', 'tensorflow', 'sqlalchemy', 'pydantic'} & set(sys.modules); "
            "assert not heavy, heavy; sys.exit(code)")
    done = subprocess.run([sys.executable, "-c", code, "--config", str(config), "caption", str(photo),
                           "--tone", "sarcastic"], check=False, capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert done.stderr.strip().splitlines() == [
        "memeloop: error: --tone 'sarcastic' is not one the caption model knows (funny, informative, inspirational)"]
    assert (tmp_path / "memeloop.db").exists() == existed


def test_the_early_check_reads_the_configured_bundle_like_the_config_does(write_config, tmp_path):
    import json
    import shutil

    from generator.textgen.writer import DEMO_BUNDLE

    bundle = tmp_path / "bundles" / "mine"
    shutil.copytree(DEMO_BUNDLE, bundle)
    meta = json.loads((bundle / "memeloop.json").read_text())
    (bundle / "memeloop.json").write_text(json.dumps({**meta, "tones": ["dry"]}))
    path = write_config('[storage]\nurl = "sqlite:///memeloop.db"\n[generator.post]\nwriter_bundle = "bundles/mine"\n'
                        '[[accounts]]\nname = "demo"\nplatform = "outbox"\n')
    assert content_checks.check_voice_early(str(path), tone="dry", audience="general")
    refused(lambda: content_checks.check_voice_early(str(path), tone="funny", audience=None), "(dry)")
    refused(lambda: content_checks.check_voice(load_config(path), tone="funny", audience=None), "(dry)")
    broken = write_config("[generator\n", name="broken.toml")
    assert content_checks.check_voice_early(str(broken), tone="funny", audience=None) is False


def test_models_load_once_stay_warm_and_retire_by_the_worker_limits(app):
    models = ContentModels(app.config, max_runs=2, max_rss_mb=10_000, rss=lambda: 100.0)
    writer = models.writer()
    assert models.writer() is writer and models.loads == 1 and models.loaded() == ("writer",)
    assert models.served() is False
    assert models.served() is True and models.loaded() == ()  # the second run reaches max_runs
    assert models.writer() is not writer and models.loads == 2
    rss = {"mb": 100.0}
    big = ContentModels(app.config, max_runs=50, max_rss_mb=500, rss=lambda: rss["mb"])
    big.writer()
    assert big.served() is False
    rss["mb"] = 600.0
    assert big.served() is True and big.loaded() == ()


def test_the_app_keeps_one_set_of_models_for_its_requests(app, photo):
    first = app.caption([photo], tone="funny", audience="general", account="demo", n=2, seed=1)
    models = app.content_models()
    loads = models.loads
    assert set(models.loaded()) == {"topics", "writer"}
    again = app.caption([photo, photo], tone="informative", audience=None, account="demo", n=2, seed=2)
    # the test photo reads as nothing sure: a story needs its topic said (i24a)
    story = app.story(str(photo), parts=2, tone="funny", account="demo", seed=3, topic="nature")
    app.continue_thread(story.candidates[0].id, actor="test", steer="then it rained", seed=4)
    assert models.loads == loads and app.content_models() is models
    # the gates may send a run to another round (more drafts stored); what it queues is what was asked
    assert first.run.pending == 2 and again.run.pending == 4 and len(app.thread(story.candidates[0].id).parts) == 3
