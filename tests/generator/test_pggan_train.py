from typing import Any

import numpy as np
import pytest

from generator import DataError

pytestmark = pytest.mark.slow
keras = pytest.importorskip("keras")

from generator.pggan import load_gan
from generator.pggan.bundle import read_bundle
from generator.pggan.model import PGGANConfig
from generator.pggan.train import Trainer, train

TINY = PGGANConfig(resolution=8, latent_dim=8, fmap_base=32, fmap_max=16, fmap_min=4)
SMALL_RUN: dict[str, Any] = {"resolution": 8, "latent_dim": 8, "fmap_base": 32, "fmap_max": 16, "batch_size": 8,
             "images_per_phase": 48, "checkpoint_every": 5, "progress": False}


@pytest.fixture(scope="module")
def image_dir(tmp_path_factory):
    from generator.pggan.demo_images import build_demo_images

    folder = tmp_path_factory.mktemp("images")
    build_demo_images(folder, count=16, size=16, seed=0)
    return folder


def _batch(level, n=8, seed=0):
    rng = np.random.default_rng(seed)
    size = 4 * 2**level
    reals = np.tanh(rng.normal(size=(n, size, size, 3))).astype(np.float32)
    return reals, rng.normal(size=(n, TINY.latent_dim)).astype(np.float32), rng.random((n, 1, 1, 1)).astype(np.float32)


def test_a_few_critic_steps_reduce_the_critic_loss():
    keras.utils.set_random_seed(0)
    trainer = Trainer(TINY, lr=1e-3, gp_weight=10.0, ema_beta=0.9)
    trainer.start_level(1)
    reals, z, mix = _batch(1)
    losses = [float(trainer.d_step(reals, z, mix, np.float32(1.0))[0]) for _ in range(15)]
    assert losses[-1] < losses[0] - 0.1


def test_a_few_generator_steps_reduce_the_generator_loss():
    keras.utils.set_random_seed(1)
    trainer = Trainer(TINY, lr=1e-3, gp_weight=10.0, ema_beta=0.9)
    trainer.start_level(1)
    _, z, _ = _batch(1, seed=1)
    losses = [float(trainer.g_step(z, np.float32(0.5))) for _ in range(15)]
    assert losses[-1] < losses[0]


def test_interrupted_training_resumes_to_the_same_weights(image_dir, tmp_path):
    straight = train(image_dir, tmp_path / "a", seed=3, **SMALL_RUN)
    first = train(image_dir, tmp_path / "b", seed=3, max_steps=7, **SMALL_RUN)  # stops mid fade-in
    assert first.steps == 7
    resumed = train(image_dir, tmp_path / "b", seed=3, **SMALL_RUN)
    assert resumed.resumed_from_step == 7 and resumed.steps == straight.steps == 18
    for a, b in zip(read_bundle(tmp_path / "a")[1], read_bundle(tmp_path / "b")[1]):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    gan = load_gan(tmp_path / "b")
    assert gan.resolution == 8 and len(gan.generate(2, seed=1)) == 2


def test_changed_settings_refuse_a_stale_checkpoint(image_dir, tmp_path):
    from generator import BundleError

    train(image_dir, tmp_path, seed=3, max_steps=2, **SMALL_RUN)
    with pytest.raises(BundleError, match="other settings"):
        train(image_dir, tmp_path, seed=4, max_steps=2, **SMALL_RUN)


def test_bad_image_folder_is_a_data_error_naming_it(tmp_path):
    with pytest.raises(DataError, match=str(tmp_path)):
        train(tmp_path, tmp_path / "out", **SMALL_RUN)


def test_demo_bundle_draws_reproducible_images():
    gan = load_gan()
    assert gan.domain == "abstract textures" and gan.resolution == 128
    (image, seed), = gan.generate(1)
    assert image.size == (128, 128) and image.mode == "RGB"
    assert np.array_equal(np.asarray(image), np.asarray(gan.generate_from_seed(seed)))
    pixels = np.asarray(image, dtype=np.float32)
    assert pixels.std() > 2.0  # not a flat colour
