"""Slow: trains a tiny model for a few epochs, loads real encoders and the shipped demo bundle."""
import json
import shutil

import numpy as np
import pytest

from generator.meme import load_captioner
from generator.meme.bundle import BUNDLE_FILES, DEMO_BUNDLE_DIR
from generator.meme.fit import EpochLog, StepLog
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


def _epochs(logs, phase="select"):
    return [e for e in logs if isinstance(e, EpochLog) and e.phase == phase]


def test_training_lowers_the_loss_resumes_and_writes_a_loadable_bundle(small_data, tmp_path):
    logs: list[EpochLog | StepLog] = []
    report = train(small_data, tmp_path / "b", epochs=2, patience=0, batch_size=16, progress=logs.append)
    first = _epochs(logs)
    assert [e.epoch for e in first] == [1, 2] and not report.resumed
    steps = [e for e in logs if isinstance(e, StepLog)]
    assert steps[0].step == 1 and steps[0].epoch == 1 and logs[0] is steps[0]  # progress from the first batch

    logs.clear()  # more epochs and another thread count: carries on, never restarts
    report = train(small_data, tmp_path / "b", epochs=4, patience=0, batch_size=16, progress=logs.append, threads=2)
    select = _epochs(logs)
    assert [e.epoch for e in select] == [3, 4] and report.resumed
    assert select[-1].train_loss < first[0].train_loss
    assert report.val_templates and report.unigram_ppl > 1 and np.isfinite(report.val_ppl)
    assert np.isfinite(report.template_ppl) and report.template_unigram_ppl > 1
    assert report.vocab_size > 10 and report.skipped_total == 0
    assert report.train_seconds > report.seconds * 0.5  # both runs' training time is counted

    cap = load_captioner(tmp_path / "b")
    assert {p.name for p in cap.bundle_dir.iterdir()} >= {"model.keras", "vocab.json", "config.json", "weights.npz"}
    assert cap.config["metrics"]["val_ppl"] == pytest.approx(report.val_ppl, rel=1e-3)
    assert len({c.text for c in cap.beam_search(load_templates(small_data)[0].image_path, k=5)}) == 5


def test_an_interrupted_epoch_resumes_from_its_last_checkpoint(small_data, tmp_path):
    class Crash(Exception):
        pass

    def crash_at_step_3(entry):
        if isinstance(entry, StepLog) and entry.step == 3:
            raise Crash

    with pytest.raises(Crash):
        train(small_data, tmp_path / "b", epochs=1, patience=0, batch_size=8, checkpoint_every=2,
              progress=crash_at_step_3, refit=False)
    logs: list[EpochLog | StepLog] = []
    report = train(small_data, tmp_path / "b", epochs=1, patience=0, batch_size=8, checkpoint_every=2,
                   progress=logs.append, refit=False)
    steps = [e.step for e in logs if isinstance(e, StepLog)]
    assert steps[0] == 3 and report.resumed and report.epochs_run == 1


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
        # the demo model mostly writes its corpus lines; near copies of them are never handed out,
        # so an image may get fewer than k captions
        assert captions and len({c.text for c in captions}) == len(captions)
        assert cap.novelty is not None
        assert not any(cap.novelty.is_copy(c.text) for c in captions)
        hits += any(words & set(c.tokens) for c in captions)
    assert hits >= 3


def test_inception_v3_encoder_builds_offline_with_random_weights():
    from PIL import Image

    from generator.meme.encoders import InceptionV3

    encoder = InceptionV3(weights=None)
    feats = encoder.encode_batch([Image.new("RGB", (64, 48), "red"), Image.new("RGB", (30, 30), "blue")])
    assert feats.shape == (2, 2048) and feats.dtype == np.float32


def test_caption_quality_bench_quick_mode_prints_its_figures():
    import subprocess
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[2] / "bench" / "caption_quality.py"
    out = subprocess.run([sys.executable, str(bench), "--quick"], capture_output=True, text=True, timeout=600,
                         check=True).stdout
    figures = dict(pair.split("=") for pair in out.strip().splitlines()[-1].split())
    assert {"peak_rss_mb", "ppl", "unigram_ppl", "template_ppl", "distinct2", "copies"} <= set(figures)
    assert 0 < float(figures["peak_rss_mb"]) < 3000 and 0 <= float(figures["copies"]) <= 1
