"""`memeloop train gpt2 --captions / --from-account`: fine-tune the writer on the user's captions,
with progress from the first batch, resumable checkpoints, and the result installed as a model id.
Starts from the shipped demo writer, or from an installed 2-layer GPT-2 (same architecture as gpt2)."""
from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

import pytest

from bot.app import build_app
from bot.config import load_config
from bot.core import modelstore
from bot.service.voice import account_captions, choose_base, train_voice
from generator import DataError
from generator.textgen.finetune import Settings, Step, examples_from_texts, read_caption_lines
from generator.textgen.writer import DEMO_BUNDLE
from tests.bot.test_modelstore import tiny_gpt2
from tests.feedback import feedback_rows as rows

pytestmark = pytest.mark.slow

CAPTIONS = [
    "monday again, but the espresso machine believes in us",
    "our cat reviewed the new sofa: five stars, zero permission asked",
    "deploy on friday? the rocket says no",
    "sunset walk, phone on silent, brain on airplane mode",
    "the moon called, it wants its nap schedule back",
    "new beans just landed and the shop smells like a hug",
    "plants watered, emails ignored, balance restored",
    "if the clock says 3pm the coffee says round two",
    "weekend plan: tea, trees, and zero notifications",
    "space is big, my to-do list is bigger",
]
SMALL = Settings(epochs=2, batch_size=4, max_tokens=48, lr=1e-3, seed=3, checkpoint_every=2)


def weights(folder: Path) -> dict:
    from safetensors.numpy import load_file

    return load_file(folder / "model.safetensors")


def test_fine_tunes_the_demo_writer_and_installs_it_as_an_id(tmp_path):
    seen: list[Step] = []
    result = train_voice(tmp_path, CAPTIONS, name="myvoice", settings=SMALL, on_step=seen.append)
    assert result.base == "demo writer" and result.report.steps == 6 == len(seen)
    assert seen[0].step == 1 and seen[0].total == 6 and seen[0].tokens_per_s > 0  # progress from the first batch
    info = modelstore.resolve(tmp_path, "myvoice", "gpt2")
    meta = json.loads((info.path / "memeloop.json").read_text())
    assert meta["default_tone"] == "own" and "own" in meta["tones"] and "funny" in meta["tones"]
    assert "prompt" not in meta  # a fine-tuned bundle is asked with the control prefix
    assert not (tmp_path / "models" / ".checkpoints" / "myvoice").exists()  # installed: run complete
    from generator.textgen import load_writer

    writer = load_writer(info.path, max_new_tokens=16)
    assert writer.default_tone == "own"
    assert len(writer.write(2, seed=1)) == 2  # the voice by default
    assert len(writer.write(1, tone="funny", audience="general", seed=1)) == 1  # the base's tones still work


def test_an_interrupted_run_resumes_from_its_checkpoint_to_the_same_weights(tmp_path):
    straight = train_voice(tmp_path / "a", CAPTIONS, name="v", settings=SMALL)

    class Stop(Exception):
        pass

    def stop_at_3(step) -> None:
        if step.step == 3:
            raise Stop

    with pytest.raises(Stop):
        train_voice(tmp_path / "b", CAPTIONS, name="v", settings=SMALL, on_step=stop_at_3)
    checkpoint = tmp_path / "b" / "models" / ".checkpoints" / "v"
    assert json.loads((checkpoint / "state.json").read_text())["step"] == 2
    assert not (tmp_path / "b" / "models" / "v").exists()
    steps: list[Step] = []
    resumed = train_voice(tmp_path / "b", CAPTIONS, name="v", settings=SMALL, on_step=steps.append)
    assert resumed.report.resumed_from == 2 and [s.step for s in steps] == [3, 4, 5, 6]
    a, b = weights(straight.model.path), weights(resumed.model.path)
    assert a.keys() == b.keys() and all((a[k] == b[k]).all() for k in a)
    # other captions: the old checkpoint does not apply, the run starts over
    with pytest.raises(Stop):
        train_voice(tmp_path / "c", CAPTIONS, name="v", settings=SMALL, on_step=stop_at_3)
    steps.clear()
    train_voice(tmp_path / "c", [*CAPTIONS, "one more caption of mine"], name="v", settings=SMALL,
                on_step=steps.append)
    assert steps[0].step == 1 and steps[0].resumed_from == 0


def test_starts_from_an_installed_gpt2_when_there_is_one(tmp_path):
    assert choose_base(tmp_path, None) == ("demo writer", DEMO_BUNDLE)
    modelstore.install(tmp_path, tiny_gpt2(tmp_path / "ck"), model_id="gpt2")
    name, folder = choose_base(tmp_path, None)
    assert (name, folder) == ("gpt2", tmp_path / "models" / "gpt2")
    result = train_voice(tmp_path, CAPTIONS, name="mine", settings=Settings(epochs=1, batch_size=5, lr=1e-3))
    meta = json.loads((result.model.path / "memeloop.json").read_text())
    assert result.base == "gpt2" and meta["tones"] == ["own"] and meta["audiences"] == ["general"]
    assert json.loads((result.model.path / "config.json").read_text())["n_layer"] == 2


def test_bad_captions_are_one_line_data_errors(tmp_path):
    with pytest.raises(DataError, match="3 captions; fine-tuning needs at least 8"):
        examples_from_texts(["a", "b", "", "c"], tone="own", audience="general")
    with pytest.raises(DataError, match="caption 2 contains a control token"):
        examples_from_texts(["x", "<tone=funny> y"] * 5, tone="own", audience="general")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9\n".encode("latin-1"))
    with pytest.raises(DataError, match="not UTF-8"):
        read_caption_lines(bad)


def test_cli_from_captions_and_from_an_account(write_config, run_cli, tmp_path, clock):
    cfg = write_config()
    captions = tmp_path / "mine.txt"
    captions.write_text("\n".join(CAPTIONS) + "\n")
    got = run_cli("--config", str(cfg), "train", "gpt2", "--captions", str(captions), "--name", "mine",
                  "--epochs", "1", "--batch-size", "5")
    assert got.code == 0, got.err
    assert "gpt2 step 1/2 loss=" in got.err and 'writer_model = "mine"' in got.out
    assert run_cli("--config", str(cfg), "models", "verify", "mine").code == 0
    # configured by id, the voice's own tone passes the checks made before any model loads
    from bot.service.content_checks import check_voice, writer_choices

    cfg.write_text(cfg.read_text() + '\n[generator.post]\nwriter_model = "mine"\n')
    assert "own" in writer_choices(load_config(cfg))[0]
    check_voice(load_config(cfg), tone="own", audience="general")
    got = run_cli("--config", str(cfg), "train", "gpt2", "--captions", str(captions), "--corpus", "x.jsonl")
    assert got.code == 2 and "give one of" in got.err
    # an account's published posts are the captions
    app = build_app(load_config(cfg), clock=clock)
    try:
        with app.tx() as s:
            for i, text in enumerate(CAPTIONS):
                c = rows.candidate(s, now=app.clock(), text=text, account_id=app.account_ids["demo"])
                rows.post(s, candidate_id=c.id, account_id=app.account_ids["demo"],
                          at=clock.now + timedelta(hours=i), state="published" if i < 9 else "scheduled")
        assert account_captions(app.deps, "demo") == CAPTIONS[:9]
    finally:
        app.close()
    got = run_cli("--config", str(cfg), "train", "gpt2", "--from-account", "demo", "--name", "demovoice",
                  "--steps", "1", "--batch-size", "9")
    assert got.code == 0 and "fine-tuning demo writer on 9 captions" in got.err, got.err
    got = run_cli("--config", str(cfg), "train", "gpt2", "--from-account", "nobody")
    assert got.code == 2 and "unknown account 'nobody'" in got.err
