"""Photo topics: ImageNet classes of EfficientNet-Lite0 folded into the writer's topics."""
from __future__ import annotations

import numpy as np
import pytest

from generator.photo_topics import GROUPS, class_names, topic_of


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


def test_without_a_group_the_top_class_is_the_topic():
    t = topic_of(_probs(i517=0.6, i970=0.05), class_names())  # crane, a little mountain
    assert t.group is None and t.topic == class_names()[517] and "crane" in t.describe()


def test_topic_json_round_numbers():
    t = topic_of(_probs(i281=0.5, i285=0.3), class_names())
    doc = t.to_json()
    assert doc["topic"] == "cats" and doc["labels"][0]["name"] == "tabby cat" and doc["labels"][0]["index"] == 281


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
