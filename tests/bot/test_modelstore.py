"""`memeloop models`: install / pull / verify / list over checkpoints the tests build (a 2-layer GPT-2,
a small Keras model). No test reaches a hub: pulls run with the download function replaced by one that
writes a same-architecture checkpoint, or fail offline (HF_HUB_OFFLINE=1 is set by tests/conftest.py)."""
from __future__ import annotations

import io
import json
import tarfile
import zipfile
from pathlib import Path

import pytest

from bot.config import load_config
from bot.core import modelstore
from bot.errors import ConfigError


def tiny_gpt2(folder: Path, *, layers: int = 2) -> Path:
    """A 2-layer GPT-2 (GPT2Config) with the demo writer's tokenizer, saved as transformers saves it."""
    from transformers import AutoTokenizer, GPT2Config, GPT2LMHeadModel

    from generator.textgen.writer import DEMO_BUNDLE

    tok = AutoTokenizer.from_pretrained(DEMO_BUNDLE)
    cfg = GPT2Config(vocab_size=len(tok), n_positions=96, n_embd=32, n_layer=layers, n_head=2,
                     bos_token_id=tok.eos_token_id, eos_token_id=tok.eos_token_id)
    GPT2LMHeadModel(cfg).save_pretrained(folder)
    tok.save_pretrained(folder)
    return folder


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory) -> Path:
    return tiny_gpt2(tmp_path_factory.mktemp("ckpt") / "tiny-gpt2")


@pytest.fixture
def cfg_path(write_config) -> Path:
    return write_config()


def test_install_list_verify_and_load_offline_by_id(checkpoint, cfg_path, run_cli):
    got = run_cli("--config", str(cfg_path), "models", "install", str(checkpoint), "--name", "mygpt2")
    assert got.code == 0, got.err
    root = cfg_path.parent
    manifest = json.loads((root / "models" / "mygpt2" / modelstore.MANIFEST).read_text())
    assert manifest["kind"] == "gpt2" and "model.safetensors" in manifest["files"]
    assert manifest["files"]["model.safetensors"] == modelstore._sha256(checkpoint / "model.safetensors")
    listed = json.loads(run_cli("--config", str(cfg_path), "models", "list", "--json").out)
    assert [(m["id"], m["kind"]) for m in listed] == [("mygpt2", "gpt2")]
    assert run_cli("--config", str(cfg_path), "models", "verify").out.strip() == "mygpt2: ok"
    # config names it by id; the writer loads it from the data folder with a word prompt
    cfg_path.write_text(cfg_path.read_text() + '\n[generator.post]\nwriter_model = "mygpt2"\n')
    config = load_config(cfg_path)
    path = modelstore.writer_path(config)
    assert path == root / "models" / "mygpt2"
    from generator.textgen import load_writer

    writer = load_writer(path, max_new_tokens=8)
    # saved as transformers saves it (model.safetensors + tokenizer.json): the torch-only decoder takes it
    assert writer.plain_prompt and writer._fast is not None and writer._fast.n_layer == 2
    captions = writer.write(2, tone="funny", audience="general", topic="cats", seed=1)
    assert len(captions) == 2 and all(isinstance(c, str) and c for c in captions)
    reference = load_writer(path, max_new_tokens=8, reference=True)  # transformers: same seed, same captions
    assert reference._fast is None and reference.model.config.n_layer == 2
    assert reference.write(2, tone="funny", audience="general", topic="cats", seed=1) == captions
    # tones are checked against the installed model before it loads (its memeloop.json, no checksums)
    from bot.errors import UsageError
    from bot.service.content_checks import check_voice, check_voice_early, writer_choices

    assert writer_choices(config) == (writer.tones, writer.audiences)
    assert not check_voice_early(str(cfg_path), tone="no-such-tone", audience=None)  # the full config decides
    with pytest.raises(UsageError, match="no-such-tone"):
        check_voice(config, tone="no-such-tone", audience=None)


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_archives_install_like_folders(checkpoint, tmp_path, kind):
    archive = tmp_path / f"ck.{kind}"
    if kind == "zip":
        with zipfile.ZipFile(archive, "w") as zf:
            for p in checkpoint.iterdir():
                zf.write(p, f"tiny/{p.name}")
    else:
        with tarfile.open(archive, "w:gz") as tf:
            tf.add(checkpoint, arcname="tiny")
    info = modelstore.install(tmp_path / "data", archive)
    assert info.id == "ck" and info.kind == "gpt2"
    assert info.files["model.safetensors"] == modelstore._sha256(checkpoint / "model.safetensors")
    assert modelstore.verify_model(info) == []


def test_archive_members_outside_the_folder_or_links_are_refused(tmp_path):
    evil = tmp_path / "evil.tar"
    with tarfile.open(evil, "w") as tf:
        data = b"{}"
        member = tarfile.TarInfo("../escape.json")
        member.size = len(data)
        tf.addfile(member, io.BytesIO(data))
    with pytest.raises(modelstore.ModelStoreError, match="outside the model folder"):
        modelstore.install(tmp_path / "data", evil)
    assert not (tmp_path / "escape.json").exists()
    linked = tmp_path / "link.tar"
    with tarfile.open(linked, "w") as tf:
        member = tarfile.TarInfo("config.json")
        member.type, member.linkname = tarfile.SYMTYPE, "/etc/passwd"
        tf.addfile(member)
    with pytest.raises(modelstore.ModelStoreError, match="link or device"):
        modelstore.install(tmp_path / "data", linked)


def test_bad_sources_are_one_line_usage_errors(checkpoint, tmp_path, cfg_path, run_cli):
    other = tmp_path / "bert"
    other.mkdir()
    (other / "config.json").write_text(json.dumps({"model_type": "bert"}))
    (tmp_path / "notes.txt").write_text("hello")
    cases = [(tmp_path / "missing", "no such file"), (other, "not the GPT-2 family"),
             (tmp_path / "notes.txt", "neither a transformers GPT-2")]
    for source, words in cases:
        got = run_cli("--config", str(cfg_path), "models", "install", str(source))
        assert got.code == 2 and words in got.err and len(got.err.strip().splitlines()) == 1, got.err
    got = run_cli("--config", str(cfg_path), "models", "install", str(checkpoint), "--name", "Bad Id")
    assert got.code == 2 and "model id" in got.err
    assert run_cli("--config", str(cfg_path), "models", "install", str(checkpoint), "--name", "a").code == 0
    got = run_cli("--config", str(cfg_path), "models", "install", str(checkpoint), "--name", "a")
    assert got.code == 2 and "--force" in got.err


def test_configured_model_missing_or_damaged_exits_2_naming_id_and_path(checkpoint, cfg_path, run_cli, tmp_path):
    photo = Path(__file__).resolve().parents[2] / "generator" / "meme" / "demo_data" / "cat" / "image.jpg"
    cfg_path.write_text(cfg_path.read_text() + '\n[generator.post]\nwriter_model = "gpt2"\n')
    got = run_cli("--config", str(cfg_path), "caption", str(photo), "-n", "1")
    folder = cfg_path.parent / "models" / "gpt2"
    assert got.code == 2 and "'gpt2'" in got.err and str(folder) in got.err and "models pull gpt2" in got.err
    assert len(got.err.strip().splitlines()) == 1
    modelstore.install(cfg_path.parent, checkpoint, model_id="gpt2")
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:-8] + b"xxxxxxxx")
    got = run_cli("--config", str(cfg_path), "caption", str(photo), "-n", "1")
    assert got.code == 2 and "'gpt2'" in got.err and str(weights) in got.err and "checksum" in got.err
    got = run_cli("--config", str(cfg_path), "models", "verify")
    assert got.code == 1 and "does not match its checksum" in got.out
    with pytest.raises(ConfigError, match="is a gpt2 model, not keras"):
        modelstore.resolve(cfg_path.parent, "gpt2", "keras")


def test_pull_without_network_fails_in_one_line(cfg_path, run_cli, monkeypatch):
    # the real download function, offline (HF_HUB_OFFLINE=1): transformers raises, we say it in one line
    got = run_cli("--config", str(cfg_path), "models", "pull", "distilgpt2")
    assert got.code == 1 and "cannot pull 'distilgpt2'" in got.err and len(got.err.strip().splitlines()) == 1
    assert not (cfg_path.parent / "models" / "distilgpt2").exists()

    def offline(into: Path) -> None:
        raise OSError("We couldn't connect to 'https://huggingface.co' to load the files, and couldn't find "
                      "them in the cached files.\nCheck your internet connection")

    monkeypatch.setitem(modelstore.DOWNLOADERS, "gpt2", offline)
    got = run_cli("--config", str(cfg_path), "models", "pull", "gpt2")
    assert got.code == 1 and "no network" in got.err and "couldn't connect" in got.err
    assert len(got.err.strip().splitlines()) == 1
    got = run_cli("--config", str(cfg_path), "models", "pull", "bert")
    assert got.code == 2 and "no pullable model 'bert'" in got.err


def test_pull_installs_what_the_download_wrote_once(cfg_path, monkeypatch):
    calls = []

    def download(into: Path) -> None:  # what _download_transformers saves, at a 2-layer size
        calls.append(into)
        tiny_gpt2(into)

    monkeypatch.setitem(modelstore.DOWNLOADERS, "gpt2", download)
    root = cfg_path.parent
    info = modelstore.pull(root, "gpt2")
    assert info.source == "pull gpt2" and info.kind == "gpt2" and modelstore.verify_model(info) == []
    assert json.loads((info.path / "memeloop.json").read_text())["prompt"] == "plain"
    assert modelstore.pull(root, "gpt2").path == info.path and len(calls) == 1  # once; later loads are local
    assert modelstore.resolve(root, "gpt2", "gpt2").path == info.path


@pytest.mark.slow
def test_keras_models_install_pull_and_feed_the_encoder_setting(cfg_path, tmp_path, monkeypatch):
    import keras

    model = keras.Sequential([keras.Input((8,)), keras.layers.Dense(4)])
    model.save(tmp_path / "small.keras")
    info = modelstore.install(cfg_path.parent, tmp_path / "small.keras")
    assert info.id == "small" and info.kind == "keras" and info.file().name == "small.keras"
    loaded = keras.saving.load_model(modelstore.resolve(cfg_path.parent, "small", "keras").file())
    assert loaded.output_shape == (None, 4)

    def download(into: Path) -> None:  # what _download_keras_inception writes: a .weights.h5 file
        model.save_weights(into / "inception_v3_notop.weights.h5")

    monkeypatch.setitem(modelstore.DOWNLOADERS, "inceptionv3", download)
    pulled = modelstore.pull(cfg_path.parent, "inceptionv3")
    assert pulled.kind == "keras" and pulled.file().name == "inception_v3_notop.weights.h5"
    cfg_path.write_text(cfg_path.read_text() + '\n[generator.meme]\nencoder_model = "inceptionv3"\n')
    assert modelstore.encoder_weights(load_config(cfg_path)) == pulled.file()
