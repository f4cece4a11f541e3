"""The torch-only GPT-2 sampler (generator/textgen/fast.py) against transformers' generate: same seed,
same captions, on the shipped demo bundle; and the writer that people wait for never imports
transformers."""
import json
import shutil
import subprocess
import sys
from typing import Any

import pytest

from generator.textgen.fast import supported
from generator.textgen.writer import DEMO_BUNDLE


def test_loading_and_writing_with_the_demo_bundle_never_imports_transformers():
    code = ("import sys; from generator.textgen import load_writer; w = load_writer(); "
            "w.write(2, tone='funny', audience='general', topic='cats', seed=1); "
            "assert 'transformers' not in sys.modules, 'transformers imported'")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_a_bundle_the_fast_path_does_not_reproduce_names_why(tmp_path):
    bundle = tmp_path / "b"
    shutil.copytree(DEMO_BUNDLE, bundle)
    assert supported(bundle) is None
    cfg = json.loads((bundle / "config.json").read_text())
    (bundle / "config.json").write_text(json.dumps({**cfg, "activation_function": "relu"}))
    assert supported(bundle) == "config activation_function='relu'"
    (bundle / "config.json").write_text(json.dumps(cfg))
    (bundle / "tokenizer.json").unlink()
    assert supported(bundle) == "no tokenizer.json"


@pytest.mark.slow
def test_fast_sampler_writes_what_transformers_generate_writes():
    from generator.textgen.writer import load_writer

    fast, reference = load_writer(), load_writer(reference=True)
    assert fast._fast is not None and reference._fast is None
    for seed in range(6):
        options: dict[str, Any] = {"tone": fast.tones[seed % 3], "audience": fast.audiences[seed % 2],
                   "topic": ("cats", "space", "coffee; then it rained")[seed % 3], "seed": seed}
        assert fast.write(3, **options) == reference.write(3, **options)
    story = "the cat sat on the mat and then it looked at me for a very long time without blinking once"
    assert (fast.write_after(story, 3, seed=9, tone="funny", audience="general", topic="cats")
            == reference.write_after(story, 3, seed=9, tone="funny", audience="general", topic="cats"))
