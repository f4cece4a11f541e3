import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from generator import BundleError, GeneratorError
from generator.meme import load_captioner
from generator.meme.bundle import bundle_version, load_bundle
from generator.meme.encoders import FeatureCache, get_encoder
from generator.meme.tiny import write_random_bundle

REPO = Path(__file__).resolve().parents[2]


class MeanColour:
    """A real (if dull) encoder: per-channel mean and spread of the pixels. Counts its calls."""

    name = "efficientnet_lite0"
    dim = 8

    def __init__(self):
        self.encoded = 0

    def encode_batch(self, images):
        self.encoded += len(images)
        out = []
        for img in images:
            a = np.asarray(img, dtype=np.float32) / 255.0
            out.append(np.concatenate([a.mean(axis=(0, 1)), a.std(axis=(0, 1)), [a.max(), a.min()]]))
        return np.asarray(out, dtype=np.float32)


def test_importing_the_package_loads_no_ml_framework():
    code = ("import sys, generator.meme, generator.meme.train, generator.meme.encoders, generator.meme.model; "
            "print([m for m in ('tensorflow', 'keras', 'torch') if m in sys.modules])")
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert out.stdout.strip() == "[]"


def test_missing_or_mismatched_bundle_is_a_bundle_error(tmp_path):
    with pytest.raises(BundleError, match="missing config.json, vocab.json, weights.npz"):
        load_captioner(tmp_path)
    bundle = write_random_bundle(tmp_path / "b")
    config = json.loads((bundle / "config.json").read_text())
    (bundle / "config.json").write_text(json.dumps(config | {"feature_dim": 99}))
    with pytest.raises(BundleError, match="do not match"):
        load_bundle(bundle)
    (bundle / "config.json").write_text(json.dumps(config | {"format": 42}))
    with pytest.raises(BundleError, match="unknown bundle format 42"):
        load_bundle(bundle)


def test_version_is_a_stable_content_hash(tmp_path):
    a = write_random_bundle(tmp_path / "a", seed=1)
    b = write_random_bundle(tmp_path / "b", seed=1)
    assert bundle_version(a) == bundle_version(b) == load_captioner(a).version
    assert len(bundle_version(a)) == 12
    c = write_random_bundle(tmp_path / "c", seed=2)
    assert bundle_version(c) != bundle_version(a)
    config = json.loads((b / "config.json").read_text())
    (b / "config.json").write_text(json.dumps(config | {"created": "2030-01-01T00:00:00+00:00"}))
    assert bundle_version(b) == bundle_version(a)  # re-saving the same model keeps its version
    (b / "config.json").write_text(json.dumps(config | {"encoder": "inception_v3"}))
    assert bundle_version(b) != bundle_version(a)


def test_encode_caches_features_by_image_content(tmp_path):
    encoder = MeanColour()
    cap = load_captioner(write_random_bundle(tmp_path / "b"), encoder=encoder)
    Image.new("RGB", (20, 10), (250, 10, 10)).save(tmp_path / "red.png")
    Image.new("RGB", (20, 10), (250, 10, 10)).save(tmp_path / "red-copy.png")
    first = cap.encode(tmp_path / "red.png")
    again = cap.encode_batch([str(tmp_path / "red-copy.png"), tmp_path / "red.png"])
    assert encoder.encoded == 1 and np.array_equal(again[0], first)
    captions = cap.beam_search(tmp_path / "red.png", k=3)
    assert [c.text for c in captions] == [c.text for c in cap.beam_search(first, k=3)]
    cap.encode(Image.new("RGB", (20, 10), (0, 0, 250)))
    assert encoder.encoded == 2


def test_encoder_mismatch_and_unknown_encoder_are_errors(tmp_path):
    bundle = write_random_bundle(tmp_path / "b", encoder="inception_v3")
    with pytest.raises(GeneratorError, match="trained with encoder 'inception_v3'"):
        load_captioner(bundle, encoder=MeanColour())
    with pytest.raises(GeneratorError, match="unknown encoder 'resnet'"):
        get_encoder("resnet")


def test_unreadable_image_is_a_data_error(tmp_path):
    from generator import DataError

    (tmp_path / "x.jpg").write_bytes(b"nope")
    with pytest.raises(DataError, match="x.jpg"):
        FeatureCache(MeanColour()).encode([tmp_path / "x.jpg"])
