"""Text -> template matcher: hashed n-gram embedding + softmax regression on the caption corpus."""
from __future__ import annotations

import numpy as np
import pytest

from generator import DataError
from generator.meme.data import load_dataset
from generator.meme.templates import DEMO_DATA_DIR
from generator.template_match import MatchSettings, TemplateMatcher, embed, fit_from_dataset, template_words


@pytest.fixture(scope="module")
def corpus():
    data = load_dataset(DEMO_DATA_DIR)
    return [c.text for c in data.captions], [c.template for c in data.captions]


def test_embedding_is_deterministic_sparse_and_unit_length():
    x = embed(["When the deploy fails", "when the DEPLOY fails!", ""]).toarray()
    assert np.allclose(x[0], x[1]) and np.isclose(np.linalg.norm(x[0]), 1.0) and not x[2].any()
    assert (x[0] != 0).sum() < 200


def test_held_out_captions_find_their_template_far_above_the_most_frequent_baseline(corpus):
    texts, labels = corpus
    rng = np.random.default_rng(0)
    test = set(rng.choice(len(texts), size=len(texts) // 5, replace=False).tolist())
    train = [i for i in range(len(texts)) if i not in test]
    matcher = TemplateMatcher.fit([texts[i] for i in train], [labels[i] for i in train])
    held = sorted(test)
    probs = matcher.probabilities([texts[i] for i in held])
    top5 = np.argsort(-probs, axis=1)[:, :5]
    acc5 = np.mean([labels[i] in {matcher.slugs[j] for j in row} for i, row in zip(held, top5)])
    most = max({labels[i] for i in train}, key=[labels[i] for i in train].count)
    baseline = np.mean([labels[i] == most for i in held])
    assert acc5 >= 3 * baseline and acc5 > 0.6


def test_rank_and_version(corpus):
    texts, labels = corpus
    matcher = TemplateMatcher.fit(texts, labels, MatchSettings(steps=100))
    ranked = matcher.rank("the cat knocked my coffee off the table and stared at me", k=4)
    assert len(ranked) == 4 and ranked[0].slug in ("cat", "coffee") and ranked[0].prob >= ranked[1].prob
    assert matcher.version.startswith("tm-")
    other = TemplateMatcher.fit(texts[:-1], labels[:-1], MatchSettings(steps=100))
    assert other.version != matcher.version
    with pytest.raises(DataError, match="no words"):
        matcher.rank("!!! ???")


def test_too_little_data_is_a_data_error():
    with pytest.raises(DataError, match="at least 2 templates"):
        TemplateMatcher.fit(["a", "b"], ["x", "x"])
    with pytest.raises(DataError):
        TemplateMatcher.fit([], [])


def test_fit_from_dataset_knows_every_template_with_captions():
    data = load_dataset(DEMO_DATA_DIR)
    assert set(fit_from_dataset(data, MatchSettings(steps=20)).slugs) == {t.slug for t in data.templates}


def test_a_cached_fit_is_read_back_only_for_the_same_corpus(tmp_path):
    data = load_dataset(DEMO_DATA_DIR)
    settings = MatchSettings(steps=20)
    cache = tmp_path / "tm.npz"
    first = fit_from_dataset(data, settings, cache=cache)
    again = fit_from_dataset(data, settings, cache=cache)
    assert again.version == first.version and np.array_equal(again.weights, first.weights)
    assert again.slugs == first.slugs
    smaller = data.for_templates({t.slug for t in data.templates} - {"cat"})
    refit = fit_from_dataset(smaller, settings, cache=cache)
    assert "cat" not in refit.slugs and refit.version != first.version
    cache.write_bytes(b"garbage")
    assert fit_from_dataset(data, settings, cache=cache).version == first.version


# --- the templates' own words (template.toml description + keywords) -------------------------------

def test_every_shipped_template_describes_itself_and_a_bad_keywords_key_is_named(tmp_path):
    from generator.meme.templates import load_template, load_templates

    for t in load_templates():
        assert len(t.description.split()) >= 8 and len(t.keywords) >= 8, t.slug
        assert all(k == k.lower().strip() for k in t.keywords)
    folder = tmp_path / "tpl"
    folder.mkdir()
    (folder / "template.toml").write_text('name = "X"\nimage = "i.png"\nkeywords = "cat"\n')
    with pytest.raises(DataError, match="'keywords' must be an array of strings"):
        load_template(folder)
    (folder / "template.toml").write_text('name = "X"\nimage = "i.png"\ndescription = 3\n')
    with pytest.raises(DataError, match="'description' must be a string"):
        load_template(folder)


def test_keywords_place_a_text_the_corpus_never_saw_and_name_the_fit(corpus):
    from generator.template_match import TemplateWords, stem, template_words

    texts, labels = corpus
    data = load_dataset(DEMO_DATA_DIR)
    about = template_words(data.templates)
    plain = TemplateMatcher.fit(texts, labels, MatchSettings(steps=100))
    worded = TemplateMatcher.fit(texts, labels, MatchSettings(steps=100), about)
    text = "our new oat latte is finally here"  # the example: the corpus alone says galaxy
    assert worded.rank(text, k=1)[0].slug == "coffee"
    assert worded.keyword_votes([text])[0][worded.slugs.index("coffee")] == 2  # oat, latte
    assert plain.keyword_votes([text]).sum() == 0
    assert worded.version != plain.version
    changed = {**about, "coffee": TemplateWords(about["coffee"].description, ("tea",))}
    assert TemplateMatcher.fit(texts, labels, MatchSettings(steps=5), changed).version != \
        TemplateMatcher.fit(texts, labels, MatchSettings(steps=5), about).version
    assert stem("lattes") == stem("latte") and stem("launching") == stem("launch")


def test_the_held_out_texts_are_many_varied_and_never_in_the_training_corpus(corpus):
    import json
    from pathlib import Path

    from feedback.dedupe import caption_similarity

    path = Path(__file__).parents[2] / "bench/data/make_meme_texts.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    texts, labels = corpus
    assert len(rows) >= 100 and len({r["text"] for r in rows}) == len(rows)
    assert {r["template"] for r in rows} == set(labels)
    for row in rows:
        closest = max(caption_similarity(row["text"], t) for t in texts)
        assert closest < 0.8, row["text"]


def test_the_cache_keeps_the_keywords(tmp_path):
    data = load_dataset(DEMO_DATA_DIR)
    cache = tmp_path / "tm.npz"
    first = fit_from_dataset(data, MatchSettings(steps=10), cache=cache)
    again = fit_from_dataset(data, MatchSettings(steps=10), cache=cache)
    assert again.keywords == first.keywords and "latte" in again.keywords["coffee"]
    assert again.descriptions == first.descriptions and "caffeine" in again.descriptions["coffee"]
    text = "always stuck nowhere"
    assert np.array_equal(again.description_votes([text]), first.description_votes([text]))


def test_description_words_vote_besides_keywords(corpus):
    texts, labels = corpus
    about = template_words(load_dataset(DEMO_DATA_DIR).templates)
    matcher = TemplateMatcher.fit(texts, labels, MatchSettings(steps=20), about)
    votes = matcher.description_votes(["nowhere with the landlord", "the of and a to"])
    brick = matcher.slugs.index("brick-wall")
    assert votes[0][brick] == 1 and votes[0].sum() == 1  # "nowhere": brick-wall's description only
    assert votes[1].sum() == 0  # stopwords never vote
    assert matcher.keyword_votes(["nowhere"])[0][brick] == 0  # not a keyword: only the description votes
    off = TemplateMatcher(matcher.slugs, matcher.weights, matcher.bias,
                          MatchSettings(steps=20, description_weight=0.0), matcher.version, matcher.keywords,
                          matcher.descriptions)
    text = ["nowhere"]
    assert matcher.probabilities(text)[0][brick] > off.probabilities(text)[0][brick]
