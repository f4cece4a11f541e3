import json
import subprocess
import sys
from pathlib import Path

import pytest

from generator import DataError
from generator.safety import find_unsafe
from generator.textgen.corpus import build_corpus
from generator.textgen.corpus_io import EOS, Example, prompt, read_corpus, training_text
from generator.textgen.postprocess import extract_hashtags

CORPUS = Path(build_corpus.__file__).with_name("captions.jsonl")


def test_importing_the_package_does_not_import_torch_or_transformers():
    code = ("import sys, generator.textgen, generator.textgen.postprocess, generator.safety; "
            "assert not {'torch', 'transformers', 'tokenizers'} & set(sys.modules)")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_shipped_corpus_meets_the_brief():
    examples = read_corpus(CORPUS)
    assert len(examples) >= 600
    assert len({e.tone for e in examples}) >= 3 and len({e.audience for e in examples}) >= 2
    assert all(extract_hashtags(e.text) for e in examples)
    assert not [e.text for e in examples if find_unsafe(e.text)]
    assert len({e.text for e in examples}) == len(examples)


def test_no_line_is_appended_to_every_caption_of_a_tone_or_audience():
    """Tone shows in a caption's wording, not in a sign-off every caption of the tone carries (issue 23:
    "Science is everywhere." closed a sixth of the informative captions whatever the picture)."""
    from collections import Counter, defaultdict

    from generator.gates.internals import find_internals
    from generator.stock_lines import stock_sentences
    from generator.textgen.neutral import sentences

    examples = read_corpus(CORPUS)
    by_group: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for e in examples:
        by_group[e.tone, e.audience].update(set(sentences(e.text)))
    for (tone, audience), counts in by_group.items():
        total = sum(1 for e in examples if (e.tone, e.audience) == (tone, audience))
        line, seen = counts.most_common(1)[0]
        assert seen <= 0.08 * total, (tone, audience, line, seen, total)  # the old sign-offs: 19-23%
    assert not [e.text for e in examples if stock_sentences(e.text) or find_internals(e.text)]
    # the lines that fit any photo are written under several topics: what generator.textgen.neutral finds
    general = {line for by_audience in build_corpus.GENERAL_LINES.values() for lines in by_audience.values()
               for line in lines}
    few = [line for line in general if len({e.topic for e in examples if line in e.text}) < 3]
    assert not few


def test_corpus_builder_reproduces_the_committed_file():
    rows = build_corpus.build()
    assert CORPUS.read_text(encoding="utf-8") == "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def test_training_text_is_prompt_caption_end_of_text():
    ex = Example("funny", "general", "abstract  textures", "Hi #art")
    assert prompt("funny", "general", "abstract  textures") == \
        "<tone=funny> <audience=general> <topic=abstract textures>"
    assert training_text(ex) == "<tone=funny> <audience=general> <topic=abstract textures> Hi #art" + EOS


def _write(tmp_path, lines):
    path = tmp_path / "corpus.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


GOOD = json.dumps({"tone": "funny", "audience": "general", "topic": "t", "text": "hello #x"})


@pytest.mark.parametrize("bad,message", [
    ("{not json", "line 3: not valid JSON"),
    ('["a list"]', "line 3: expected an object"),
    ('{"tone": "funny", "audience": "general"}', "line 3: missing or empty text"),
    ('{"tone": "Funny Tone", "audience": "general", "text": "x"}', "line 3: tone="),
    ('{"tone": "funny", "audience": "general", "text": "a <|endoftext|> b"}', "line 3: text contains"),
])
def test_bad_corpus_lines_name_file_and_line(tmp_path, bad, message):
    path = _write(tmp_path, [GOOD, GOOD, bad] + [GOOD] * 8)
    with pytest.raises(DataError, match=message) as info:
        read_corpus(path)
    assert str(path) in str(info.value)


def test_missing_tiny_and_binary_corpora_are_data_errors(tmp_path):
    with pytest.raises(DataError, match="does not exist"):
        read_corpus(tmp_path / "nope.jsonl")
    with pytest.raises(DataError, match="holds 2 captions"):
        read_corpus(_write(tmp_path, [GOOD, GOOD]))
    (tmp_path / "bin.jsonl").write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(DataError, match="not UTF-8"):
        read_corpus(tmp_path / "bin.jsonl")
