import json

import pytest

from generator import BundleError, GeneratorError
from generator.textgen.corpus import build_corpus
from generator.textgen.corpus_io import prompt
from generator.textgen.postprocess import extract_hashtags

pytestmark = pytest.mark.slow
torch = pytest.importorskip("torch")

from generator.textgen import load_writer
from generator.textgen.train import TinyGPT2, train

TINY = TinyGPT2(vocab_size=400, n_positions=64, n_embd=32, n_layer=1, n_head=2)


@pytest.fixture(scope="module")
def tiny_bundle(tmp_path_factory):
    torch.set_num_threads(1)
    folder = tmp_path_factory.mktemp("writer")
    corpus = folder / "corpus.jsonl"
    rows = build_corpus.build()[:120]
    corpus.write_text("".join(json.dumps(r) + "\n" for r in rows))
    report = train(corpus, folder / "bundle", size=TINY, epochs=2, batch_size=16, lr=5e-3, seed=0, progress=False)
    return corpus, folder / "bundle", report


def test_a_few_training_steps_reduce_the_loss(tiny_bundle):
    _, _, report = tiny_bundle
    assert report.steps == 16
    assert report.last_loss < report.first_loss - 1.0


def test_writer_gives_clean_single_captions_reproducibly(tiny_bundle):
    _, bundle, _ = tiny_bundle
    writer = load_writer(bundle, max_new_tokens=30, hashtag_cap=2)
    assert set(writer.tones) == {"funny", "informative", "inspirational"}
    assert set(writer.audiences) == {"general", "promotional"}
    captions = writer.write(4, tone="funny", audience="general", seed=11, topic="abstract textures")
    assert len(captions) == 4
    assert captions == writer.write(4, tone="funny", audience="general", seed=11, topic="abstract textures")
    for caption in captions:
        assert caption and "<|endoftext|>" not in caption and "<tone=" not in caption
        assert len(extract_hashtags(caption)) <= 2
    assert writer.write(0) == []


def test_unknown_tone_is_a_generator_error(tiny_bundle):
    _, bundle, _ = tiny_bundle
    with pytest.raises(GeneratorError, match="unknown tone 'angry'"):
        load_writer(bundle).write(1, tone="angry")


def test_fine_tunes_from_a_local_base_model(tiny_bundle, tmp_path):
    corpus, bundle, _ = tiny_bundle
    report = train(corpus, tmp_path / "tuned", base=str(bundle), epochs=1, batch_size=32, lr=1e-3, progress=False)
    assert report.steps == 4 and load_writer(tmp_path / "tuned").version != load_writer(bundle).version


def test_broken_bundle_is_a_bundle_error(tmp_path):
    with pytest.raises(BundleError, match="does not exist"):
        load_writer(tmp_path / "missing")
    with pytest.raises(BundleError, match="has no memeloop.json"):
        load_writer(tmp_path)


def test_demo_writer_follows_the_tone_and_audience_prefix():
    from collections import Counter

    from generator.stock_lines import stock_sentences
    from generator.textgen.neutral import sentences

    writer = load_writer()
    tone_lines = {tone: {line for by_tone in build_corpus.TOPICS.values() for line in by_tone[tone]}
                  | {line for lines in build_corpus.GENERAL_LINES[tone].values() for line in lines}
                  for tone in writer.tones}
    for tone in writer.tones:
        for audience in writer.audiences:
            captions = writer.write(8, tone=tone, audience=audience, seed=5, topic="abstract textures")
            on_tone = sum(any(line in c for line in tone_lines[tone]) for c in captions)
            assert on_tone >= 6, (tone, captions)
            # the model follows the audience prefix: the page's "we" lines mostly for promotional; a
            # person's captions carry some (10-20% of samples: the weak side of this small writer)
            sampled = [c for topic in writer.topics for c in writer._sample(prompt(tone, audience, topic), 16, 5)]
            other = "general" if audience == "promotional" else "promotional"
            own = sum(any(line in c for line in build_corpus.GENERAL_LINES[tone][audience]) for c in sampled)
            wrong = sum(any(line in c for line in build_corpus.GENERAL_LINES[tone][other]) for c in sampled)
            if audience == "promotional":
                assert own >= 0.3 * len(sampled) and own >= 2 * wrong, (tone, own, wrong)
            else:
                assert wrong <= 0.25 * len(sampled), (tone, own, wrong)
            # ... and hands out no call to action or sign-off: those are the brand profile's to give
            assert not [c for c in captions if stock_sentences(c)], (audience, captions)
            # no line closes the captions of a tone whatever they are about (issue 23: "Science is
            # everywhere." closed most informative captions of every topic)
            endings = Counter(sentences(c)[-1] for topic in writer.topics
                              for c in writer.write(4, tone=tone, audience=audience, topic=topic, seed=5))
            line, seen = endings.most_common(1)[0]
            assert seen <= 3, (tone, audience, endings.most_common(3))
