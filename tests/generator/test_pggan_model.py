import json
import math

import numpy as np
import pytest

from generator import BundleError

keras = pytest.importorskip("keras")

from generator.pggan import load_gan
from generator.pggan.bundle import save_bundle
from generator.pggan.model import (
    Discriminator,
    EqualConv2D,
    Generator,
    MinibatchStddev,
    PGGANConfig,
    PixelNorm,
    downsample2x,
    upsample2x,
)

TINY = PGGANConfig(resolution=16, latent_dim=8, fmap_base=32, fmap_max=16, fmap_min=4)


@pytest.fixture(scope="module")
def nets():
    keras.utils.set_random_seed(0)
    g, d = Generator(TINY), Discriminator(TINY)
    g.build_all()
    d.build_all()
    return g, d


def test_pixel_norm_gives_unit_rms_per_pixel():
    x = np.random.default_rng(0).normal(size=(2, 3, 3, 5)).astype(np.float32) * 7
    y = np.asarray(PixelNorm()(x))
    np.testing.assert_allclose(np.sqrt((y**2).mean(axis=-1)), 1.0, rtol=1e-4)


def test_equalized_lr_stores_unit_weights_and_scales_at_run_time():
    keras.utils.set_random_seed(1)
    conv = EqualConv2D(64, kernel=3)
    x = np.random.default_rng(1).normal(size=(1, 6, 6, 32)).astype(np.float32)
    y = np.asarray(conv(x))
    w = np.asarray(conv.w)
    assert abs(w.std() - 1.0) < 0.05  # stored at unit scale, so Adam steps are equal-sized
    assert conv.scale == pytest.approx(math.sqrt(2) / math.sqrt(3 * 3 * 32))
    manual = np.asarray(keras.ops.conv(x, w * conv.scale, padding="same"))
    np.testing.assert_allclose(y, manual, rtol=1e-5, atol=1e-5)


def test_minibatch_stddev_appends_group_statistic():
    x = np.random.default_rng(2).normal(size=(4, 2, 2, 3)).astype(np.float32)
    y = np.asarray(MinibatchStddev(group=4)(x))
    assert y.shape == (4, 2, 2, 4)
    expected = np.sqrt(x.var(axis=0) + 1e-8).mean()
    np.testing.assert_allclose(y[..., 3], expected, rtol=1e-4)
    np.testing.assert_allclose(y[..., :3], x)


def test_generator_fade_in_blends_upsampled_old_output_with_new_block(nets):
    g, _ = nets
    z = np.random.default_rng(3).normal(size=(2, TINY.latent_dim)).astype(np.float32)
    old = np.asarray(upsample2x(g(z, level=1)))
    at0 = np.asarray(g(z, level=2, alpha=0.0))
    at1 = np.asarray(g(z, level=2, alpha=1.0))
    half = np.asarray(g(z, level=2, alpha=0.5))
    np.testing.assert_allclose(at0, old, atol=1e-5)
    np.testing.assert_allclose(half, (at0 + at1) / 2, atol=1e-5)
    assert at1.shape == (2, 16, 16, 3) and not np.allclose(at1, at0)


def test_discriminator_fade_in_starts_from_the_lower_resolution_critic(nets):
    _, d = nets
    x = np.random.default_rng(4).uniform(-1, 1, (4, 16, 16, 3)).astype(np.float32)
    np.testing.assert_allclose(np.asarray(d(x, level=2, alpha=0.0)), np.asarray(d(downsample2x(x), level=1)),
                               atol=1e-4)
    assert np.asarray(d(x, level=2, alpha=1.0)).shape == (4, 1)


@pytest.fixture(scope="module")
def tiny_bundle(nets, tmp_path_factory):
    g, _ = nets
    path = tmp_path_factory.mktemp("gan")
    save_bundle(path, TINY, [v.numpy() for v in g.weights], domain="test noise", meta={})
    return path


def test_bundle_round_trip_and_seeds_reproduce_exactly(tiny_bundle):
    gan = load_gan(tiny_bundle)
    assert (gan.resolution, gan.domain, len(gan.version)) == (16, "test noise", 12)
    first = gan.generate(20, seed=5)  # more than one fixed-size chunk
    again = gan.generate(20, seed=5)
    assert [s for _, s in first] == [s for _, s in again]
    for (a, sa), (b, _) in zip(first, again):
        assert a.size == (16, 16) and a.mode == "RGB"
        assert np.array_equal(np.asarray(a), np.asarray(b))
    image, seed = first[17]
    assert np.array_equal(np.asarray(gan.generate_from_seed(seed)), np.asarray(image))


def test_runs_without_a_seed_differ(tiny_bundle):
    gan = load_gan(tiny_bundle)
    a, b = gan.generate(3), gan.generate(3)
    assert {s for _, s in a}.isdisjoint({s for _, s in b})
    assert not np.array_equal(np.asarray(a[0][0]), np.asarray(b[0][0]))
    assert gan.generate(0) == []


def test_broken_bundles_are_bundle_errors(tiny_bundle, tmp_path):
    with pytest.raises(BundleError, match="does not exist"):
        load_gan(tmp_path / "missing")
    with pytest.raises(BundleError, match="has no config.json"):
        load_gan(tmp_path)
    (tmp_path / "config.json").write_text((tiny_bundle / "config.json").read_text())
    (tmp_path / "generator.npz").write_bytes((tiny_bundle / "generator.npz").read_bytes())
    doc = json.loads((tmp_path / "config.json").read_text())
    doc["shapes"][0] = [1, 2, 3]
    (tmp_path / "config.json").write_text(json.dumps(doc))
    with pytest.raises(BundleError, match="does not match the shapes"):
        load_gan(tmp_path)
