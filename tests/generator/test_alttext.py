"""Alt text of a photo says only what its reading is sure of (issue 23 item 7)."""
from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from PIL import Image

from generator.alttext import describe, labels_of


def _reading(sure: bool, *guesses: tuple[str, int, float]) -> dict[str, Any]:
    """A candidate's params as photo_drafts / story store them (PhotoTopic.to_json's labels)."""
    return {"topic": "cats" if sure else "neutral", "sure": sure, "topic_source": "photo" if sure else "neutral",
            "labels": [{"name": n, "index": i, "prob": p} for n, i, p in guesses]}


def _orange_and_white() -> Image.Image:
    pixels = np.zeros((40, 40, 3), dtype=np.uint8)
    pixels[:, :24] = (240, 140, 30)
    pixels[:, 24:] = (255, 255, 255)
    return Image.fromarray(pixels, "RGB")


# a horse read as dog breeds: no guess is likely and they share nothing most of the mass holds
HORSE = _reading(False, ("Chihuahua", 151, 0.18), ("Golden Retriever", 207, 0.12), ("common sorrel horse", 339, 0.1),
                 ("horse-drawn vehicle", 603, 0.07), ("Labrador Retriever", 208, 0.06))
# unsure of the breed, sure it is a cat: the top guesses are all cats
CAT = _reading(False, ("tabby cat", 281, 0.35), ("a cat having a striped coat", 282, 0.3), ("Egyptian Mau", 285, 0.12))


def test_an_unsure_photo_with_nothing_in_common_says_only_its_colours() -> None:
    assert labels_of(HORSE) == ()
    alt = describe("photo", "What a day #horses", labels=labels_of(HORSE), image=_orange_and_white())
    assert alt == "A photo in orange and white."
    assert describe("photo", "What a day", labels=labels_of(HORSE)) == "A photo."  # no image read: no colours


def test_an_unsure_photo_says_what_its_top_guesses_share() -> None:
    assert labels_of(CAT) == ("a cat",)
    assert describe("photo", "Hi #cats", labels=labels_of(CAT), image=_orange_and_white()) == "A photo of a cat."


def test_a_sure_photo_says_its_coarse_class_not_every_guess_as_fact() -> None:
    # cats hold enough to be sure, but the top guess is a laptop: "A photo of laptop, tabby cat and ..." was wrong
    sure = _reading(True, ("laptop", 620, 0.3), ("tabby cat", 281, 0.12), ("Egyptian Mau", 285, 0.06))
    assert describe("photo", "Work from home", labels=labels_of(sure)) == "A photo of a cat."


def test_a_story_on_an_unsure_photo_is_still_a_photo() -> None:
    story = {**HORSE, "parts": 3}
    assert describe("story", "Part one. #x", labels=labels_of(story), image=_orange_and_white()) == \
        "A photo in orange and white."
    assert describe("story", "Part one.", labels=labels_of({"parts": 3})) == \
        "An image posted with the words: Part one."  # no reading: not said to be a photo


def test_rows_stored_with_bare_class_names_keep_them() -> None:
    assert labels_of({"labels": ["tabby", "tiger cat"]}) == ("tabby", "tiger cat")
    assert labels_of({}) is None and labels_of(None) is None


def test_no_alt_text_carries_a_hashtag() -> None:
    for params in (HORSE, CAT, {"labels": ["#cup"]}):
        for kind in ("photo", "story"):
            assert "#" not in describe(kind, "#a #b", labels=labels_of(params), image=_orange_and_white())


def test_shades_of_one_colour_are_said_once() -> None:
    pixels = np.zeros((40, 40, 3), dtype=np.uint8)
    pixels[:, :16], pixels[:, 16:30], pixels[:, 30:] = (192, 192, 192), (128, 128, 128), (0, 0, 0)
    image = Image.fromarray(pixels, "RGB")
    assert describe("photo", "x", labels=(), image=image) == "A photo in grey and black."


def test_colours_are_named_by_hue_and_a_strong_colour_on_grey_is_named_first() -> None:
    from skimage import data

    from generator.alttext import main_colours
    from generator.photo_topics import certain_lines

    # the astronaut's orange suit on a grey backdrop: ranked by area it was "grey and black" ("All grey, all day.")
    astronaut = Image.fromarray(data.astronaut())
    assert main_colours(astronaut)[0] == "orange"
    assert describe("photo", "x", labels=(), image=astronaut).startswith("A photo in orange")
    lines = certain_lines(None, main_colours(astronaut))
    assert all("orange" in line.lower() and not line.startswith("All ") for line in lines)
    # muted colours are colours, not greys; a grey is a grey
    for rgb, name in (((110, 140, 100), "green"), ((200, 150, 160), "pink"), ((120, 120, 124), "grey"),
                      ((205, 95, 50), "orange"), ((60, 90, 170), "blue")):
        assert main_colours(Image.new("RGB", (20, 20), rgb)) == [name], rgb
    assert main_colours(Image.fromarray(data.camera())).count("orange") == 0


def test_a_photo_of_several_colours_is_never_called_all_one_colour() -> None:
    from generator.photo_topics import certain_lines

    lines = certain_lines(None, ["orange", "light grey"])
    assert len(lines) >= 3 and not any(line.startswith(("All ", "Today's colour", "Shades of")) for line in lines)
    assert "All grey, all day." in certain_lines(None, ["grey", "light grey"])


def test_the_shipped_photos_readings_say_what_they_show() -> None:
    """The readings EfficientNet-Lite0 gives skimage.data's photos (top guesses as stored): the rocket on
    its launch pad (top guess "drilling rig") is "a rocket", not "something in space"; the cat and
    the coffee keep theirs; the astronaut (bobsleigh, helmet) and the camera (tripod) say nothing."""
    rocket = _reading(True, ("drilling rig", 540, 0.42), ("missile", 657, 0.12), ("missile", 744, 0.07),
                      ("space shuttle", 812, 0.05))
    chelsea = _reading(True, ("Egyptian Mau", 285, 0.79), ("a cat having a striped coat", 282, 0.09),
                       ("tabby cat", 281, 0.07))
    coffee = _reading(True, ("espresso", 967, 0.9), ("tea cup", 968, 0.03), ("coffee mug", 504, 0.01))
    astronaut = _reading(False, ("bobsleigh", 450, 0.29), ("football helmet", 560, 0.1), ("go-kart", 573, 0.05))
    camera = _reading(False, ("tripod", 872, 0.94), ("binoculars", 447, 0.01))
    assert describe("photo", "Ready #space", labels=labels_of(rocket)) == "A photo of a rocket."
    assert labels_of(chelsea) == ("a cat",) and labels_of(coffee) == ("a cup of coffee",)
    assert labels_of(astronaut) == () and labels_of(camera) == ()


def test_coarse_classes_hold_only_what_their_phrase_says() -> None:
    """A teapot is not a cup of coffee, red wine is not something to eat, fungi and corn are not flowers."""
    teapot = _reading(False, ("teapot", 849, 0.8), ("coffeepot", 505, 0.1))
    wine = _reading(False, ("red wine", 966, 0.9))
    fungus = _reading(False, ("agaric", 992, 0.5), ("bolete", 997, 0.3), ("mushroom", 947, 0.1))
    corn = _reading(False, ("corn", 987, 0.9))
    daisy = _reading(False, ("daisy", 985, 0.9))
    pizza = _reading(False, ("pizza", 963, 0.8), ("pot pie", 964, 0.1))
    assert labels_of(teapot) == ("a coffee pot or teapot",)
    assert labels_of(wine) == () and labels_of(corn) == ()
    assert labels_of(fungus) == ("a mushroom",) and labels_of(daisy) == ("a flower",)
    assert labels_of(pizza) == ("something to eat",)


@pytest.mark.parametrize(("rgb", "name"), [
    # pinks that were "red": muted (dusty rose), and reds leaning to purple that are not dark
    ((190, 110, 125), "pink"), ((230, 120, 150), "pink"), ((255, 105, 180), "pink"), ((222, 93, 131), "pink"),
    ((219, 112, 147), "pink"), ((255, 182, 193), "pink"),
    # reds stay red: crimson, pure red, brick, raspberry; dark ones are dark red
    ((220, 20, 60), "red"), ((255, 0, 0), "red"), ((178, 34, 34), "red"), ((227, 11, 92), "red"),
    ((128, 0, 0), "dark red"), ((114, 47, 55), "dark red"),
    # cream and beige were "green" (just past yellow's hue band); tan, khaki, wheat are beige
    ((245, 245, 220), "beige"), ((255, 253, 208), "beige"), ((210, 180, 140), "beige"), ((245, 222, 179), "beige"),
    # a dull orange is brown (camel was "orange"); a bright one stays orange
    ((193, 154, 107), "brown"), ((139, 69, 19), "brown"), ((111, 78, 55), "brown"), ((255, 140, 0), "orange"),
    ((255, 127, 80), "orange"),
    # violet and medium purple were "blue" (CIELAB bends blue towards purple); blue and navy stay
    ((143, 0, 255), "purple"), ((147, 112, 219), "purple"), ((200, 160, 230), "light purple"),
    ((75, 0, 130), "dark purple"), ((0, 0, 255), "blue"), ((65, 105, 225), "blue"), ((0, 0, 128), "navy"),
    ((135, 206, 235), "light blue"),
])
def test_swatches_get_the_names_people_give_them(rgb: tuple[int, int, int], name: str) -> None:
    from generator.alttext import main_colours

    assert main_colours(Image.new("RGB", (8, 8), rgb)) == [name]


def test_the_sample_photos_are_described_in_their_colours() -> None:
    from skimage import data

    def alt(image: np.ndarray) -> str:
        return describe("photo", "x", labels=(), image=Image.fromarray(image))

    assert alt(data.rocket()) == "A photo in blue."  # a dusk sky: navy and blue are one colour, said once
    assert alt(data.chelsea()) == "A photo in brown."  # a tabby
    assert alt(data.coffee()).startswith("A photo in brown")  # a red cup on a wooden table
    assert "red" in alt(data.coffee())
    assert alt(data.astronaut()).startswith("A photo in orange")
