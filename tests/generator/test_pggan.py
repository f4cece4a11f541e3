import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from generator import DataError
from generator.pggan.bundle import seeds_for
from generator.pggan.data import downscale, load_images, pyramid, real_batch
from generator.pggan.train import phase_at, schedule


def test_importing_the_package_does_not_import_tensorflow():
    code = "import sys, generator.pggan; assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True)


# -- data ---------------------------------------------------------------------------------------
def _write_images(folder, n, size=12):
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    for i in range(n):
        Image.fromarray(rng.integers(0, 255, (size, size + 4, 3), dtype=np.uint8)).save(folder / f"{i}.png")


def test_load_images_crops_resizes_and_scales(tmp_path):
    _write_images(tmp_path, 8)
    images = load_images(tmp_path, 8)
    assert images.shape == (8, 8, 8, 3) and images.dtype == np.float32
    assert images.min() >= -1.0 and images.max() <= 1.0


def test_missing_empty_and_small_folders_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        load_images(tmp_path / "nope", 8)
    with pytest.raises(DataError, match=r"holds 0 images"):
        load_images(tmp_path, 8)
    _write_images(tmp_path, 3)
    with pytest.raises(DataError, match=r"holds 3 images"):
        load_images(tmp_path, 8)


def test_unreadable_image_is_named(tmp_path):
    _write_images(tmp_path, 8)
    (tmp_path / "broken.jpg").write_bytes(b"not an image at all")
    with pytest.raises(DataError, match="broken.jpg cannot be read"):
        load_images(tmp_path, 8)


def test_pyramid_box_filters_each_level():
    images = np.random.default_rng(1).uniform(-1, 1, (2, 16, 16, 3)).astype(np.float32)
    levels = pyramid(images, 2)
    assert [lv.shape[1] for lv in levels] == [4, 8, 16]
    np.testing.assert_allclose(levels[0][0, 0, 0], images[0, :4, :4].mean(axis=(0, 1)), rtol=1e-5)


def test_real_batch_fades_like_the_generator():
    images = np.random.default_rng(2).uniform(-1, 1, (4, 8, 8, 3)).astype(np.float32)
    levels = pyramid(images, 1)
    blocky = real_batch(levels, 1, 0.0, np.random.default_rng(3), 4)
    np.testing.assert_allclose(blocky[:, ::2, ::2], blocky[:, 1::2, 1::2], atol=1e-6)
    sharp = real_batch(levels, 1, 1.0, np.random.default_rng(3), 4)
    np.testing.assert_allclose(downscale(sharp, 4), blocky[:, ::2, ::2], atol=1e-5)


# -- schedule and seeds -------------------------------------------------------------------------
def test_schedule_fades_in_then_stabilises_each_level():
    phases = schedule(2, images_per_phase=64, batch_size=16)
    assert [(p.level, p.fade) for p in phases] == [(0, False), (1, True), (1, False), (2, True), (2, False)]
    assert phase_at(phases, 0) == (0, phases[0], 1.0)
    assert phase_at(phases, 4)[2] == pytest.approx(0.25)  # first fade step of level 1
    assert phase_at(phases, 7)[2] == 1.0
    with pytest.raises(IndexError):
        phase_at(phases, 20)


def test_schedule_takes_one_image_count_per_level():
    from generator import BundleError

    phases = schedule(2, images_per_phase=[64, 32, 16], batch_size=16)
    assert [(p.level, p.steps) for p in phases] == [(0, 4), (1, 2), (1, 2), (2, 1), (2, 1)]
    assert schedule(2, [64, 64, 64], 16) == schedule(2, 64, 16)
    with pytest.raises(BundleError, match="lists 2 levels; resolution needs one number or 3"):
        schedule(2, [64, 32], 16)
    with pytest.raises(BundleError, match="must be positive"):
        schedule(2, [64, 0, 16], 16)


def test_train_pggan_command_refuses_a_bad_image_count_list(tmp_path):
    from click.testing import CliRunner

    from bot.cli.commands.train_pggan import command

    result = CliRunner().invoke(command, ["--images", str(tmp_path), "--out", str(tmp_path / "o"),
                                          "--images-per-phase", "100,lots"])
    assert result.exit_code == 2 and "'100,lots' is not a number or a comma-separated list" in result.output
    result = CliRunner().invoke(command, ["--images", str(tmp_path), "--out", str(tmp_path / "o"), "--resolution",
                                          "16", "--images-per-phase", "100,100"])
    assert result.exit_code == 2 and "lists 2 levels; resolution needs one number or 3" in result.output


def test_seeds_are_fresh_without_a_seed_and_reproducible_with_one():
    assert seeds_for(4, 123) == seeds_for(4, 123)
    assert seeds_for(4, 123) != seeds_for(4, 124)
    assert seeds_for(4, None) != seeds_for(4, None)
    assert all(0 <= s < 2**63 for s in seeds_for(50, None) + seeds_for(50, 9))


@pytest.mark.slow
def test_loading_the_gan_prints_no_tensorflow_start_up_lines():
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("TF_CPP_MIN_LOG_LEVEL", "ABSL_MIN_LOG_LEVEL")}
    done = subprocess.run([sys.executable, "-c", "from generator.pggan import load_gan; load_gan().generate(1, seed=0)"],
                          capture_output=True, text=True, env=env, check=True)
    assert done.stderr == ""


def test_the_posted_picture_drops_the_generators_dark_frame_and_keeps_its_size():
    from generator.pggan.bundle import present

    pixels = np.full((128, 128, 3), 200, np.uint8)
    pixels[:10], pixels[-10:], pixels[:, :10], pixels[:, -10:] = 40, 40, 40, 40  # a dark frame, as drawn
    out = np.asarray(present(Image.fromarray(pixels)))
    assert out.shape == (128, 128, 3)
    assert out[:3].mean() > 180 and out[:, :3].mean() > 180  # the frame is gone, not stretched
    assert present(Image.new("RGB", (12, 12))).size == (12, 12)  # too small to trim: as it was
