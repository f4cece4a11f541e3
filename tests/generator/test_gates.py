"""The pure content gates (generator/gates) and the brand and alt-text helpers, on the examples the
review-queue issue found and on the human-written corpora the project ships."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from PIL import Image

from generator.alttext import describe, main_colours
from generator.brand import Brand, audience_for, promotional_line, with_hashtags, with_promotion
from generator.gates import check_text
from generator.gates.fluency import check_fluency
from generator.gates.internals import find_internals
from generator.gates.siblings import difference, too_close
from generator.gates.truth import claims, enforce_truth
from generator.textgen.postprocess import clean_caption

REPO = Path(__file__).resolve().parents[2]
HUMAN = [json.loads(line)["text"] for name in ("generator/meme/demo_data/captions.jsonl",
                                                "generator/textgen/corpus/captions.jsonl")
         for line in (REPO / name).read_text().splitlines() if line.strip()]
SHOP = Brand(name="Moss & Co", offers=("Use code MOSS15 for 15% off prints this month.",),
             link="https://moss.example/shop", call_to_action="Shop the prints.", hashtags=("#mossandco",))


# --- truth ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("line, kind", [
    ("Use code LOOP10 for 10% off this week.", "code"),
    ("Shop the collection, link in bio.", "link in bio"),
    ("Prints available now, link in bio.", "offer"),
    ("Limited edition, get yours today.", "offer"),
    ("Free shipping on every order.", "shipping"),
    ("Only $19.99 today.", "price"),
    ("Half price for members.", "discount"),
    ("See www.example.com for more.", "link"),
])
def test_every_undeclared_claim_is_found(line, kind):
    assert kind in {c.kind for c in claims(line)}


def test_an_undeclared_offer_is_removed_and_the_rest_of_the_caption_stays():
    verdict = enforce_truth("Even stones are shaped by patience. You have got this. Prints available now, link in "
                            "bio.\n\n#nature #shopsmall", Brand())
    assert verdict.ok and verdict.text == "Even stones are shaped by patience. You have got this.\n\n#nature"
    assert "offer 'Prints available'" in verdict.notes[0] and "link in bio" in verdict.notes[0]


def test_a_caption_that_is_only_an_offer_is_refused_with_the_claims_in_words():
    verdict = enforce_truth("Use code LOOP10 for 10% off this week.", Brand())
    assert not verdict.ok and verdict.gate == "truth"
    assert verdict.reason == "truth: undeclared code 'Use code LOOP10'; discount '10% off'"


def test_the_profiles_own_offer_link_and_call_to_action_pass_word_for_word():
    text = with_promotion("Moss grows slowly. Keep going.\n\n#moss", SHOP)
    assert text == ("Moss grows slowly. Keep going. Use code MOSS15 for 15% off prints this month. Shop the prints. "
                    "https://moss.example/shop\n\n#moss")
    assert enforce_truth(text, SHOP) == enforce_truth(text, SHOP) and enforce_truth(text, SHOP).text == text
    # another code or percentage than the profile's is still invented
    assert not enforce_truth("Use code MOSS50 for 50% off.", SHOP).ok
    # a link in bio needs a declared link; a sales call needs the profile's words
    assert enforce_truth("Nice. Link in bio.", Brand(link="https://x.example")).text == "Nice. Link in bio."
    assert "Get yours today" not in enforce_truth("Moss is soft. Get yours today.", SHOP).text


def test_a_promoted_text_that_already_ends_with_the_call_to_action_carries_it_once():
    # a story's writer ends its last part with the brand's call to action; the promotional line
    # (offer, call to action, link) then goes after it: the call to action must not appear twice
    text = with_promotion("Moss grows slowly. Shop the prints. #moss #green", SHOP)
    assert text.count("Shop the prints") == 1
    assert text == ("Moss grows slowly. Use code MOSS15 for 15% off prints this month. Shop the prints. "
                    "https://moss.example/shop #moss #green")
    # whatever its spacing or closing stop
    assert with_promotion("Moss grows slowly.  Shop  the prints\n\n#moss", SHOP).count("Shop the prints") == 1
    # the words inside a longer sentence of the writer's are not the call to action: the sentence stays whole
    assert with_promotion("Shop the prints with us.", SHOP).startswith("Shop the prints with us. Use code")


def test_promotion_needs_offers_and_the_audience_is_never_random():
    assert promotional_line(Brand()) is None and with_promotion("Hi.", Brand()) == "Hi."
    assert audience_for(Brand(), None) == "general"
    assert audience_for(Brand(audience="general"), None) == "general"
    assert audience_for(SHOP, "promotional") == "promotional"
    with pytest.raises(ValueError, match=r"\[accounts.brand\] offers"):
        audience_for(Brand(), "promotional")


def test_the_profiles_hashtags_go_first_within_the_cap():
    assert with_hashtags("Moss.\n\n#a #b #c #d #e", SHOP, 5) == "Moss.\n\n#mossandco #a #b #c #d"
    assert with_hashtags("Moss.", SHOP, 5) == "Moss. #mossandco"
    assert with_hashtags("Moss. #a", Brand(), 5) == "Moss. #a"


# --- internals --------------------------------------------------------------------------------------

@pytest.mark.parametrize("text", [
    "Abstract art from a model that trained for minutes on a laptop CPU",
    "The colours come from the training photos; the shapes are the model's own.",
    "3am, a small neural network, one pixel grid at a time",
    "...10% off this week. # <topic=nature",
    "hello <|endoftext|>",
    "No two seeds give the same pattern.",
    "Progressive GANs start at 4x4 pixels.",
    "Bark,cats> Lichens on the bean",
    "topic: coffee. A fresh cup.",
])
def test_machinery_is_found(text):
    assert find_internals(text)


def test_the_shipped_human_corpora_hold_no_machinery_talk():
    assert [t for t in HUMAN if find_internals(t)] == []


def test_the_writer_never_emits_a_control_token_even_cut_off():
    assert clean_caption("...10% off this week. # <topic=nature") == "...10% off this week."
    assert clean_caption("hi <tone=funny> there <|endof") == "hi there"


# --- fluency ----------------------------------------------------------------------------------------

@pytest.mark.parametrize("text, why", [
    ("me trying to the wall of my procrastination", "broken infinitive"),
    ("when you try to the grocery store", "broken infinitive"),
    ("me when the food bowl and i am", "unfinished clause"),
    ("Swipe back tomorro", "cut-off word"),
    ("when you go to the", "dangling 'the'"),
    ("this is the the best day", "repeated word"),
    ("the universe after my problems i galaxy", "a noun where a verb belongs"),
    ("when you say you'll the coffee is home", "missing verb"),
    ("when you bring the s goes off", "stray letter"),
    ("Lookes in sock I lost in 2019.", "misspelt word"),
    ("Save this for later. this for later.", "starts mid-way"),
    ("when you check your bank and it's a ask", "broken phrase"),
    ("when you say the group chat off and you can went to space", "unlikely word order 'can went'"),
])
def test_broken_constructions_are_found_with_the_reason(text, why):
    assert why in (check_fluency(text) or "")


def test_false_positives_on_the_human_written_corpora_stay_under_one_percent():
    flagged = [t for t in HUMAN if check_fluency(t)]
    assert len(flagged) / len(set(HUMAN)) < 0.01, flagged


@pytest.mark.slow
def test_the_shipped_word_class_table_is_what_training_makes():
    from generator.gates.classlm import TABLE, train

    assert json.loads(TABLE.read_text()) == train()


def test_numbers_hashtags_and_thread_numbers_are_read_as_a_person_would():
    assert check_fluency("my brain at 3 am #mood") is None
    assert check_fluency("The cat naps in the sun. (1/3)") is None


def test_check_text_runs_internals_then_truth_then_fluency():
    assert check_text("me trying to the wall").gate == "fluency"
    assert check_text("me trying to the wall", fluency=False).ok  # a person's own words
    assert check_text("A small neural network drew this. Use code X1 for 5% off.").gate == "internals"
    verdict = check_text("Moss is soft. Limited edition, get yours today.")
    assert verdict.ok and verdict.text == "Moss is soft." and verdict.notes


# --- siblings -----------------------------------------------------------------------------------------

def test_siblings_must_differ_by_two_content_words():
    a = "when you order a cup of coffee and forget why"
    assert difference(a, a + " out") == 0  # "out" is a stop word
    assert difference(a, "when you order a cup of coffee and forget why!!") == 0
    assert too_close(a + " out", [a]) == a
    assert too_close("when you order a pot of tea and forget why", [a]) is None
    # one noun swapped is one word of difference (two siblings the demo queued together)
    assert difference("when you sit in the kitchen", "when you sit in the garage") == 1
    assert too_close("when you ask for the moon and you bring the camera",
                     ["when you ask for a photo and you bring the camera"]) is not None
    assert too_close("when you sit in the garage", ["when you stand in the kitchen"]) is None


# --- alt text -------------------------------------------------------------------------------------------

def test_alt_text_describes_each_kind_without_hashtags():
    red = Image.new("RGB", (32, 32), (200, 30, 30))
    assert describe("post", "Art. #art #aiart", image=red) == "An abstract generated image in red."
    assert describe("photo", "So cute #cats", labels=("tabby", "tiger cat")) == "A photo of tabby and tiger cat."
    assert describe("meme", "when the build is green #dev", template_name="Cat") == \
        'Meme on the "Cat" template with the text "when the build is green".'
    assert describe("story", "Part one. #x", gan=True) == "An abstract generated image."
    for alt in (describe("post", "#a"), describe("photo", "#b", labels=("cup",)), describe("textmeme", "x #c")):
        assert "#" not in alt


def test_main_colours_of_equal_chroma_are_the_largest_areas_first():
    img = Image.new("RGB", (40, 40), (255, 255, 255))
    img.paste((40, 80, 200), (0, 0, 40, 25))
    assert main_colours(img)[:2] == ["blue", "white"]


# --- fluency on the demo meme model's own output ------------------------------------------------------

def _labelled(name: str) -> list[list[str]]:
    return [line.split("\t", 1) for line in (REPO / "tests/generator/data" / name).read_text(encoding="utf-8")
            .splitlines() if line and not line.startswith("#")]


LABELLED = _labelled("meme_fluency_labels.tsv")  # decoded as before issue 23's decoder change
LABELLED_TRIGRAM = _labelled("meme_fluency_labels_trigram.tsv")  # decoded with the trigram cost
# labelled before the q23-fluency round changed any rule (its later rules looked at its misses)
LABELLED_HELDOUT = _labelled("meme_fluency_labels_heldout.tsv")
LABELLED_FRESH = _labelled("meme_fluency_labels_fresh.tsv")  # the new decoder's output, labelled after those rules


def test_the_labelled_demo_meme_captions_are_what_the_file_says():
    assert len(LABELLED) >= 200 and {label for label, _ in LABELLED} == {"broken", "fine"}
    assert len({t for _, t in LABELLED}) == len(LABELLED)
    assert len(LABELLED_HELDOUT) >= 150 and {label for label, _ in LABELLED_HELDOUT} == {"broken", "fine"}
    earlier = {t for _, t in LABELLED + LABELLED_TRIGRAM}
    assert not earlier & {t for _, t in LABELLED_HELDOUT}  # held out: none of its lines was labelled before
    assert not (earlier | {t for _, t in LABELLED_HELDOUT}) & {t for _, t in LABELLED_FRESH}


@pytest.mark.parametrize("labelled, catch", [(LABELLED, 0.6), (LABELLED_TRIGRAM, 0.9), (LABELLED_HELDOUT, 0.9),
                                             (LABELLED_FRESH, 0.9)])
def test_the_fluency_gate_catches_most_broken_demo_meme_captions_and_passes_the_fine_ones(labelled, catch):
    """Hand-labelled output of the demo meme model (labelling rules in the files' header)."""
    broken = [t for label, t in labelled if label == "broken"]
    fine = [t for label, t in labelled if label == "fine"]
    caught = sum(1 for t in broken if check_fluency(t)) / len(broken)
    flagged = [t for t in fine if check_fluency(t)]
    assert caught >= catch, caught
    assert len(flagged) / len(fine) <= 0.05, flagged


@pytest.mark.parametrize("text, why", [
    ("when the teacher says the wifi to the wall of my procrastination", "without what was said"),
    ("my brain at 3 am to deal", "needs what follows"),
    ("when you bring the sun is a box", "two verbs in one clause"),
    ("me after i have a problem and it's just went to orbit", "past tense after 'be'"),
    ("when you say you'll be sit in the kitchen", "base verb after 'be'"),
    ("when the wifi password and you launch out", "clause without a verb"),
    ("when you ask the horse, which is a outline", "'a' before a vowel"),
    ("when you try to be a dramatic what", "a noun phrase without its noun"),
    ("when you finally be the moon", "bare 'be'"),
    ("me trying to be a galaxy and i still there the lecture", "a subject without its verb"),
    ("when you go to the moon is just a silhouette", "two verbs in one clause"),
    ("me trying to be five more minutes looks like", "'looks like' without"),
    ("when you look at the moon and you have open", "'have' without its object"),
    ("me checking the clock at the wall of my motivation left", "a verb left over at the end"),
    ("me when the weekend", "clause without a verb"),
    ("i have to remember where", "dangling 'where'"),
    ("this is a galaxy and i have to remember them", "'them' refers to nothing"),
    ("when you ask for a photo and i have to remember where the universe after i tell", "needs what follows"),
    ("this is my face when someone asks you to the wall", "no verb after"),
    ("when you sit in the middle of the same", "'the same' with nothing"),
    ("the universe when i try to be a galaxy and i have to remember where i left", "needs its object"),
    ("this is the face of my motivation left", "a verb left over at the end"),
    ("the blurry clock of my motivation left", "a verb left over at the end"),
    ("this is my face when someone asks for a galaxy and i have to deal and none", "a verb without what follows"),
])
def test_broken_clause_structure_is_found_with_the_reason(text, why):
    assert why in (check_fluency(text) or "")


@pytest.mark.parametrize("text", [
    "when the boss says the meeting is cancelled",
    "when the microwave beeps and you jump out of the atmosphere",
    "when someone tells you the moon landing was fake",
    "when you run into a problem you can't google",
    "this is where all my lost socks went",
    "when you ask for a photo and you want to be a morning person",
    "when someone asks how many tabs you have open",
    "capturing memories so i don't have to remember them",
    "The cat and the dog were here. I love them.",
    "the exact moment my motivation left",
    "when you just got your mane done",
    "Seasons change, and so can we.",
    "this is what five more minutes looks like",
    "Somewhere in here is the sock I lost in 2019. I regret nothing.",
    "when someone asks you to take a good selfie",
    "this is where all my lost socks went",
    "it's all the same",
    "when you check the amount of coffee left",
])
def test_sound_clauses_pass(text):
    assert check_fluency(text) is None
