"""Fast checks of the training loop's pieces (no TensorFlow): memory check, fingerprint, batching."""
import numpy as np
import pytest

from generator.meme.fit import Encoded, Settings, TrainError, epoch_batches
from generator.meme.model import ModelConfig
from generator.meme.progress import available_bytes, check_memory, training_bytes


def test_memory_check_refuses_with_the_figure_it_needs(tmp_path):
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemAvailable:     524288 kB\n")
    assert available_bytes(meminfo) == 512 * 2**20
    cfg = ModelConfig(vocab_size=7300, feature_dim=1280, maxlen=30)
    needed = training_bytes(cfg, 32, 20_000)
    with pytest.raises(TrainError, match=r"needs about 1\.\d GB, 0\.5 GB available"):
        check_memory(needed, meminfo)
    meminfo.write_text("MemAvailable:   8000000 kB\n")
    check_memory(needed, meminfo)
    check_memory(needed, tmp_path / "missing")  # no figure from the kernel: nothing to check against


def test_memory_estimate_grows_with_batch_and_vocabulary_not_with_data_times_vocabulary():
    cfg = ModelConfig(vocab_size=7300, feature_dim=1280, maxlen=30)
    small, big = training_bytes(cfg, 32, 2_000), training_bytes(cfg, 32, 200_000)
    assert big - small < 50 * 2**20  # 100x the captions costs only their ids
    assert training_bytes(cfg, 64, 2_000) > small
    assert training_bytes(cfg, 32, 20_000) < 3 * 2**30  # memefly's size fits the 3 GB target


def test_run_time_settings_never_change_the_fingerprint():
    base = Settings(batch_size=32, learning_rate=2e-3, seed=0, data_hash="abc", encoder="efficientnet_lite0")
    other = Settings(batch_size=32, learning_rate=2e-3, seed=0, data_hash="abc", encoder="efficientnet_lite0",
                     threads=2, patience=9, resume=False, checkpoint_every=7, max_seconds=60)
    assert base.fingerprint() == other.fingerprint() and "threads" not in base.fingerprint()
    assert Settings(batch_size=16, learning_rate=2e-3, seed=0, data_hash="abc",
                    encoder="efficientnet_lite0").fingerprint() != base.fingerprint()


def test_epoch_batches_cover_every_caption_once_in_similar_lengths():
    lengths = np.random.default_rng(0).integers(1, 30, size=1000)
    batches = epoch_batches(lengths, 16, np.random.default_rng([3, 1]), pool=8)
    flat = np.concatenate(batches)
    assert sorted(flat.tolist()) == list(range(1000))
    again = epoch_batches(lengths, 16, np.random.default_rng([3, 1]), pool=8)
    assert all((a == b).all() for a, b in zip(batches, again))  # a resumed epoch sees the same batches
    spread = np.mean([np.ptp(lengths[b]) for b in batches])
    assert spread < 0.5 * np.mean([np.ptp(lengths[b]) for b in np.array_split(np.arange(1000), 63)])


def test_batches_are_cut_to_their_longest_caption():
    targets = np.zeros((3, 12), np.int32)
    targets[0, :3], targets[1, :6], targets[2, :10] = 5, 6, 7
    data = Encoded(np.eye(2, dtype=np.float32), np.array([0, 1, 0]), targets.copy(), targets)
    (feats, inputs), y, w = data.batch(np.array([0, 1]))
    assert inputs.shape == (2, 8) and y.shape == (2, 8) and w.sum() == 9  # 6 rounded up to 8
    assert feats.tolist() == [[1, 0], [0, 1]]
    assert data.batch(np.array([2]))[1].shape == (1, 12)


def test_training_short_of_memory_is_one_line_and_exit_1_before_any_framework_loads(tmp_path, monkeypatch, capsys):
    import sys

    from bot.cli import main
    from generator.meme import progress
    from tests.generator.test_meme_data import small_dataset

    small_dataset(tmp_path / "data", n_templates=3, per_template=10)
    monkeypatch.setattr(progress, "available_bytes", lambda meminfo=None: 100 * 2**20)
    tf_loaded = "tensorflow" in sys.modules
    code = main(["train", "meme", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "b")])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1 and len(err) == 1
    assert err[0].startswith("memeloop: error: not enough memory to train: needs about ")
    assert "0.1 GB available" in err[0] and "Traceback" not in err[0]
    assert ("tensorflow" in sys.modules) == tf_loaded and not (tmp_path / "b").exists()
