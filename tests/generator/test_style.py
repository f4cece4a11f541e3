"""generator/textgen/style.py: the tone and audience of captions memeloop did not write."""
from __future__ import annotations

import pytest

from generator.textgen.corpus_io import Example, read_corpus
from generator.textgen.style import (
    CORPUS,
    MIN_KNOWN,
    NaiveBayes,
    StyleClassifier,
    held_out,
    split_by_topic,
    tokens,
)


@pytest.fixture(scope="module")
def corpus() -> list[Example]:
    return read_corpus(CORPUS)


def test_held_out_topic_is_read_for_tone_and_audience(corpus):
    """Fitted without one topic's captions (none of its topic lines seen), the classifier reads that
    topic's tones and audiences well above chance (1/3 and 1/2), and the guesses it keeps (sure, and a
    caption like the corpus) are the better ones: the floors sit a little under what was measured
    (coffee held out: tone 0.92 of all, 0.77 kept of which 0.99 right; audience 0.86, 0.76 kept, 0.94
    right; the other topics alike)."""
    train, test = split_by_topic(corpus, "coffee")
    assert len(test) == 216 and not {e.text for e in train} & {e.text for e in test}
    acc = held_out(train, test)
    assert acc.tone_all >= 0.85 and acc.audience_all >= 0.78
    assert acc.tone_kept >= 0.7 and acc.tone_kept_right >= 0.95
    assert acc.audience_kept >= 0.65 and acc.audience_kept_right >= 0.88


def test_a_caption_in_another_vocabulary_gets_no_guess(corpus):
    """Naive Bayes is sure of something on any few words it has met; a caption most of whose words and
    word pairs the corpus never had (another subject's jargon among common words) is left unread."""
    import random

    rng = random.Random(4)
    jargon = "speedrun respawn stacktrace refactor deploy compile loot lag invoice squat treadmill".split()
    common = "again just every always today really still".split()
    vocab = {w for e in corpus for w in tokens(e.text)}
    assert not set(jargon) & vocab and set(common) <= vocab
    model = StyleClassifier.from_corpus()
    captions = [" ".join(rng.sample(jargon, 4) + rng.sample(common, 3)) for _ in range(50)]
    assert sum(model.guess(t).tone is not None or model.guess(t).audience is not None for t in captions) <= 5
    assert model.tone.known(tokens(captions[0])) < MIN_KNOWN <= model.tone.known(tokens(corpus[0].text))


def test_guesses_in_the_writers_labels_and_none_when_unsure(corpus):
    model = StyleClassifier.from_corpus()
    assert model is StyleClassifier.from_corpus()  # fitted once
    assert set(model.tone.classes) == {e.tone for e in corpus}
    assert set(model.audience.classes) == {e.audience for e in corpus}
    promo = model.guess("Our team kept talking about this one over lunch. #smallbusiness #behindthescenes")
    assert promo.audience == "promotional" and promo.audience_p >= 0.8
    assert model.guess("Believe in yourself: every big thing starts small. #motivation").tone == "inspirational"
    unsure = StyleClassifier.fit(corpus, min_p=(1.01, 1.01)).guess("he fits in the sink")
    assert (unsure.tone, unsure.audience) == (None, None) and 0 < unsure.tone_p <= 1  # kept only above min_p


def test_words_the_corpus_never_had_say_nothing():
    nb = NaiveBayes.fit([["cat", "purr"], ["tax", "form"], ["cat", "nap"]], ["pets", "money", "pets"])
    prior = nb.posterior([])
    assert nb.posterior(["zebra", "quantum"]) == prior and prior["pets"] == pytest.approx(2 / 3)
    assert nb.posterior(["tax"])["money"] > 0.5
    assert tokens("Cat's #NapTime, a cat nap!") == ["cat's", "#naptime", "cat", "nap", "cat's_cat", "cat_nap"]
    with pytest.raises(ValueError, match="as many labels"):
        NaiveBayes.fit([["a"]], [])
