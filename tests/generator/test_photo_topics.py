"""Photo topics: ImageNet classes of EfficientNet-Lite0 folded into the writer's topics."""
from __future__ import annotations

import numpy as np
import pytest

from generator.photo_topics import GROUPS, NEUTRAL, choose_topic, class_names, topic_for_text, topic_of

KNOWN = ("abstract textures", "cats", "coffee", "nature", "space")  # the demo writer's topics


def _probs(**by_index: float) -> np.ndarray:
    given = {int(key.lstrip("i")): value for key, value in by_index.items()}
    p = np.full(1000, (1.0 - sum(given.values())) / (1000 - len(given)))
    for index, value in given.items():
        p[index] = value
    return p


def test_class_names_are_imagenet_1k_in_order():
    names = class_names()
    assert len(names) == 1000 and names[0] == "tench" and names[967] == "espresso"
    assert all("cat" in names[i].lower() or names[i] == "Egyptian Mau" for i in GROUPS["cats"])


def test_enough_mass_in_a_group_names_the_group_even_when_another_class_is_on_top():
    # the rocket photo: "drilling rig" wins alone, but missile + missile + space shuttle carry more together
    t = topic_of(_probs(i540=0.42, i657=0.12, i744=0.07, i812=0.05), class_names())
    assert t.topic == "space" and t.group == "space" and t.confidence == pytest.approx(0.24, abs=0.01)
    assert t.labels[0].name == "drilling rig" and len(t.labels) == 5


def test_without_a_group_the_reading_is_unsure_and_the_topic_neutral():
    t = topic_of(_probs(i517=0.6, i970=0.05), class_names())  # crane, a little mountain
    assert t.group is None and t.topic == NEUTRAL and not t.sure and t.source == "neutral"
    assert t.read_as == class_names()[517] and t.confidence == pytest.approx(0.6)
    assert "crane" in t.describe() and "unsure" in t.reading() and "60%" in t.reading()


def test_a_group_the_writer_does_not_know_is_unsure():
    probs = _probs(i281=0.5, i285=0.3)
    assert topic_of(probs, class_names(), known=KNOWN).sure
    t = topic_of(probs, class_names(), known=("coffee", "space"))
    assert not t.sure and t.topic == NEUTRAL and t.read_as == "tabby cat"


@pytest.mark.parametrize(("about", "topic"), [
    ("our new oat latte", "coffee"), ("Flat white season is back", "coffee"), ("my kitten Miso", "cats"),
    ("an astronaut on a spacewalk", "space"), ("moss on the old garden wall", "nature"),
    ("my grandmother's birthday party", None), ("", None),
])
def test_an_owners_words_name_a_topic_the_writer_knows_or_none(about, topic):
    assert topic_for_text(about, KNOWN) == topic


def test_the_hint_wins_and_an_unsure_photo_without_one_is_neutral():
    unsure = topic_of(_probs(i450=0.29, i560=0.1), class_names(), known=KNOWN)  # the astronaut: bobsleigh
    assert unsure.read_as == "bobsleigh" and not unsure.sure
    assert choose_topic(unsure, KNOWN).topic == NEUTRAL
    hinted = choose_topic(unsure, KNOWN, about="our new oat latte")
    assert (hinted.topic, hinted.source, hinted.about, hinted.read_as) == ("coffee", "about", "our new oat latte",
                                                                           "bobsleigh")
    assert "from the hint" in hinted.reading() and "bobsleigh (29%, unsure)" in hinted.reading()
    assert choose_topic(unsure, KNOWN, about="grandma's party").topic == NEUTRAL
    sure = topic_of(_probs(i281=0.5, i285=0.3), class_names(), known=KNOWN)
    assert choose_topic(sure, KNOWN, about="grandma's party").topic == "cats"  # a sure photo without a hint
    assert choose_topic(sure, KNOWN, topic="space").source == "topic"
    assert choose_topic(sure, KNOWN, about="a latte art class").topic == "coffee"  # the owner knows better


def test_topic_json_round_numbers():
    t = topic_of(_probs(i281=0.5, i285=0.3), class_names())
    doc = t.to_json()
    assert doc["topic"] == "cats" and doc["labels"][0]["name"] == "tabby cat" and doc["labels"][0]["index"] == 281
    assert doc["sure"] and doc["read_as"] == "cats" and doc["source"] == "photo" and "reading" in doc


@pytest.mark.slow
def test_real_photos_get_topics_that_name_them():
    from PIL import Image
    from skimage import data

    from generator.photo_topics import load_photo_topics

    topics = load_photo_topics()
    photos = [Image.fromarray(getattr(data, name)()) for name in ("chelsea", "coffee", "rocket")]
    cat, coffee, rocket = topics.topics(photos)
    assert cat.topic == "cats" and any("cat" in lb.name.lower() for lb in cat.labels)
    assert coffee.topic == "coffee" and coffee.labels[0].name == "espresso"
    assert rocket.topic == "space" and any(lb.name in ("missile", "space shuttle") for lb in rocket.labels)
    assert topics.version.startswith("effnet-lite0-")
    astronaut = topics.topics([Image.fromarray(data.astronaut())], known=KNOWN)[0]
    assert not astronaut.sure and astronaut.topic == NEUTRAL  # read as "bobsleigh": never written for it
    # what the alt text says each shows (generator.alttext): the rocket on its pad is a rocket, not in space
    from generator.alttext import labels_of

    said = [labels_of(t.to_json()) for t in (cat, coffee, rocket, astronaut)]
    assert said == [("a cat",), ("a cup of coffee",), ("a rocket",), ()], said


def test_unsure_top_guesses_back_off_to_what_they_share():
    from generator.photo_topics import certain_lines, common_ground

    # dog breeds only: "a dog" (the writer has no dog topic: said in the caption, not written for)
    dogs = topic_of(_probs(i268=0.3, i175=0.15, i246=0.06, i165=0.05), class_names(), known=KNOWN)
    assert dogs.topic == NEUTRAL and dogs.ground == "a dog" and dogs.hint
    assert choose_topic(dogs, KNOWN).ground == "a dog"
    assert common_ground(dogs.labels) == ("a dog", None) and "share: a dog" in dogs.reading()
    # the same guesses, less sure of them (the horse photo: 0.4 on dog breeds): nothing is certain
    assert topic_of(_probs(i268=0.17, i175=0.1, i246=0.06, i165=0.05), class_names(), known=KNOWN).ground is None
    # the astronaut's guesses disagree (bobsleigh, football helmet): nothing shared
    astronaut = topic_of(_probs(i450=0.29, i560=0.1), class_names(), known=KNOWN)
    assert astronaut.ground is None and astronaut.hint and astronaut.to_json()["hint"] is True
    # a coarse class the writer knows is written for, and the reading stays unsure
    cats = topic_of(_probs(i281=0.2, i285=0.12, i282=0.1, i283=0.05, i284=0.05), class_names(), known=KNOWN,
                    group_min=0.6)
    assert cats.topic == "cats" and cats.source == "ground" and not cats.sure and cats.ground == "a cat"
    assert choose_topic(cats, KNOWN).topic == "cats"
    assert choose_topic(cats, KNOWN, about="our new oat latte").topic == "coffee"
    lines = certain_lines("a dog", [])
    assert all("dog" in line for line in lines) and len(set(lines)) == len(lines) >= 3
    colours = certain_lines(None, ["light grey", "grey", "black"])
    assert all("grey" in line.lower() for line in colours) and not any("grey and grey" in line for line in colours)


def test_an_unsure_photo_gets_captions_about_what_is_certain_never_bare_stock_lines():
    from generator.photo_topics import certain_lines
    from generator.stock_lines import is_stock_line
    from generator.textgen import load_writer
    from generator.textgen.neutral import about_photo, sentences

    writer = load_writer()
    for tone in writer.tones:
        captions = about_photo(writer, 3, certain_lines(None, ["white", "grey", "blue"]), tone=tone,
                               audience="general", seed=3)
        assert len(captions) == 3
        for caption in captions:
            said = sentences(caption)
            assert any(colour in said[0].lower() for colour in ("white", "grey", "blue")), caption
            assert not any(is_stock_line(s) for s in said), caption


def test_a_photo_of_one_colour_still_gets_lines_that_differ():
    from generator.gates.siblings import difference
    from generator.photo_topics import certain_lines

    lines = certain_lines(None, ["orange"])
    assert len(lines) >= 3 and all("orange" in line.lower() for line in lines)
    assert all(difference(a, b) >= 2 for i, a in enumerate(lines) for b in lines[i + 1:])
