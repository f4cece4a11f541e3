"""Slow: trains a tiny model for a few epochs, loads real encoders and the shipped demo bundle."""
import json
import shutil

import numpy as np
import pytest

from generator.meme import load_captioner
from generator.meme.bundle import BUNDLE_FILES, DEMO_BUNDLE_DIR
from generator.meme.step import DecoderWeights, FastStep
from generator.meme.templates import DEMO_DATA_DIR, load_templates
from generator.meme.train import train

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small_data(tmp_path_factory):
    """Four demo templates with 25 captions each."""
    root = tmp_path_factory.mktemp("data")
    keep = ("cat", "coffee", "moon", "rocket")
    for slug in keep:
        shutil.copytree(DEMO_DATA_DIR / slug, root / slug)
    rows = [json.loads(line) for line in (DEMO_DATA_DIR / "captions.jsonl").read_text().splitlines()]
    picked = [r for slug in keep for r in [r for r in rows if r["template"] == slug][:25]]
    (root / "captions.jsonl").write_text("".join(json.dumps(r) + "\n" for r in picked))
    return root


def test_training_lowers_the_loss_resumes_and_writes_a_loadable_bundle(small_data, tmp_path):
    logs = []
    report = train(small_data, tmp_path / "b", epochs=2, patience=0, batch_size=16, progress=logs.append)
    first = [e for e in logs if e.phase == "select"]
    assert [e.epoch for e in first] == [1, 2] and not report.resumed

    logs.clear()
    report = train(small_data, tmp_path / "b", epochs=4, patience=0, batch_size=16, progress=logs.append)
    select = [e for e in logs if e.phase == "select"]
    assert [e.epoch for e in select] == [3, 4] and report.resumed
    assert select[-1].train_loss < first[0].train_loss
    assert report.val_templates and report.unigram_ppl > 1 and np.isfinite(report.val_ppl)
    assert report.vocab_size > 10 and report.skipped_total == 0

    cap = load_captioner(tmp_path / "b")
    assert {p.name for p in cap.bundle_dir.iterdir()} >= {"model.keras", "vocab.json", "config.json", "weights.npz"}
    assert cap.config["metrics"]["val_ppl"] == pytest.approx(report.val_ppl, rel=1e-3)
    assert len({c.text for c in cap.beam_search(load_templates(small_data)[0].image_path, k=5)}) == 5


def test_exported_weights_reproduce_the_keras_model(small_data, tmp_path):
    import keras

    train(small_data, tmp_path / "b", epochs=1, patience=0, batch_size=16, progress=False)
    cap = load_captioner(tmp_path / "b")
    model = keras.models.load_model(tmp_path / "b" / "model.keras", compile=False)
    feats = cap.encode_batch([t.image_path for t in load_templates(small_data)])
    maxlen = cap.vocab.maxlen
    prefixes = [(1,), (1, 5, 6), (1, 7, 4, 9, 5)]
    tokens = np.zeros((len(prefixes), maxlen), np.int32)
    for i, p in enumerate(prefixes):
        tokens[i, maxlen - len(p):] = p
    want = model.predict([feats[: len(prefixes)], tokens], verbose=0)
    step = FastStep(DecoderWeights.load(cap.bundle_dir / "weights.npz"))
    for i, p in enumerate(prefixes):
        h = np.zeros((1, step.w.units), np.float32)
        context = step.image_context(feats[i: i + 1])
        for tok in p:
            logp, h = step(context, np.array([tok]), h)
        np.testing.assert_allclose(np.exp(logp[0]), want[i], atol=1e-5)


def test_shipped_demo_bundle_captions_its_templates():
    cap = load_captioner()
    assert cap.bundle_dir == DEMO_BUNDLE_DIR and cap.encoder_name == "efficientnet_lite0"
    assert cap.version == load_captioner().version
    shipped = sum((DEMO_BUNDLE_DIR / name).stat().st_size for name in BUNDLE_FILES)  # train_state/ is not shipped
    assert shipped < 20 * 1024 * 1024
    hits = 0
    subject = {"coffee": {"coffee", "cup", "espresso"}, "cat": {"cat", "food", "human", "box", "nap"},
               "moon": {"moon", "night", "sun", "face"}, "motorcycle": {"bike", "ride", "helmet"}}
    templates = {t.slug: t for t in load_templates()}
    for slug, words in subject.items():
        captions = cap.beam_search(templates[slug].image_path, k=5)
        assert len({c.text for c in captions}) == 5
        hits += any(words & set(c.tokens) for c in captions)
    assert hits >= 3


def test_inception_v3_encoder_builds_offline_with_random_weights():
    from PIL import Image

    from generator.meme.encoders import InceptionV3

    encoder = InceptionV3(weights=None)
    feats = encoder.encode_batch([Image.new("RGB", (64, 48), "red"), Image.new("RGB", (30, 30), "blue")])
    assert feats.shape == (2, 2048) and feats.dtype == np.float32
