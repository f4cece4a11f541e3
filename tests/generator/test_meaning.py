"""The meaning gate (generator/gates/meaning.py): pairs a seam forms must be attested."""
from __future__ import annotations

import json

import pytest

from generator.gates import check_text
from generator.gates.english import words_of
from generator.gates.meaning import (
    TABLE,
    Sources,
    build_table,
    bundle_sources,
    check_meaning,
    corpus_texts,
    relations,
)


@pytest.fixture(scope="module")
def demo() -> Sources:
    sources = bundle_sources(None)
    assert sources is not None
    return sources


def keys(text: str) -> set[str]:
    return {r.key for r in relations(words_of(text))}


def test_relations_read_verb_object_preposition_and_complement_pairs() -> None:
    assert "sit in wall" in keys("when you sit in the wall")
    assert "launch out of coffee" in keys("you launch out of coffee")
    assert "send obj time" in keys("when you send the whole time")
    assert "bike be face" in keys("the bike is my face")
    assert "be be nap" in keys("me trying to be a nap")
    assert "wall of procrastination" in keys("me staring at the wall of my procrastination")


@pytest.mark.parametrize("text", [
    # held out: none of these was looked at while the rules were written (fresh labels, seeds 200..260)
    "when you eat the exam",
    "me when the bike is my box",
    "when the mission is a galaxy and i have no idea",
    "when you try to be a photo instead",
])
def test_nonsense_joined_across_a_seam_is_refused(demo: Sources, text: str) -> None:
    reason = check_meaning(text, demo)
    assert reason is not None and "do not go together" in reason


@pytest.mark.parametrize("text", [
    "when you sit in the sun spot and the sun moves",  # a training caption
    "me staring at the wall of my procrastination",  # joined, every pair attested
    "me checking the clock at work",
    "when the coffee is hot",  # English says "hot coffee"
    "when you finally see the vet",
])
def test_captions_whose_pairs_are_attested_pass(demo: Sources, text: str) -> None:
    assert check_meaning(text, demo) is None


def test_a_pair_inside_one_training_caption_is_never_judged() -> None:
    sources = Sources(["my cat is a toaster on weekends"])
    assert check_meaning("my cat is a toaster", sources, frozenset()) is None
    refused = check_meaning("my dog is a toaster", sources, frozenset())
    assert refused is not None and "dog is toaster" in refused
    assert check_meaning("my dog is a toaster", sources, frozenset({"dog be toaster"})) is None


def test_no_human_caption_the_project_ships_is_refused_as_deployed(demo: Sources) -> None:
    flagged = [t for t in corpus_texts() if check_meaning(t, demo)]
    assert len(flagged) <= 0.01 * len(corpus_texts()), flagged[:5]


def test_the_shipped_table_is_built_from_the_shipped_corpora() -> None:
    shipped = set(json.loads(TABLE.read_text(encoding="utf-8"))["relations"])
    assert shipped == set(build_table(corpus_texts())), "run: python -m generator.gates.meaning"


def test_check_text_names_the_meaning_gate_only_with_sources(demo: Sources) -> None:
    verdict = check_text("the bike is my face", sources=demo)
    assert not verdict.ok and verdict.gate == "meaning" and (verdict.reason or "").startswith("meaning: ")
    assert check_text("the bike is my face").ok  # written captions have no seams to judge


def test_a_set_phrase_excuses_a_place_or_time_preposition_only(demo: Sources) -> None:
    assert check_meaning("me checking the clock at work", demo) is None  # "at work" goes with the verb
    assert check_meaning("when you go to the moon and you launch out of coffee", demo) is not None  # "of coffee" does not


def test_a_kept_verdict_is_the_verdict_judged_afresh(demo: Sources, monkeypatch: pytest.MonkeyPatch) -> None:
    """check_meaning keeps its verdict per text on the Sources: asked again (the pipeline's gate after
    the captioner), it answers what judging the text afresh answers, refusals and passes alike, also
    once the kept verdicts were forgotten past the bound."""
    import generator.gates.meaning as meaning

    texts = [*corpus_texts()[:60], "when you eat the exam", "the bike is my face", "me checking the clock at work",
             "when you go to the moon and you launch out of coffee", "when the coffee is hot"]
    fresh = [check_meaning(t, demo, meaning.attested()) for t in texts]  # ``known`` given: nothing kept
    assert any(fresh) and not all(fresh)
    monkeypatch.setattr(meaning, "VERDICTS", 25)
    kept = Sources(())
    kept.runs = demo.runs
    for _ in range(2):  # the second pass answers from the kept verdicts (and the bound forgets some)
        assert [check_meaning(t, kept) for t in texts] == fresh
        assert 0 < len(kept.verdicts) <= 25


def test_kept_verdicts_never_carry_one_brands_truth_over_to_another(demo: Sources) -> None:
    """What is kept per text (fluency, meaning) depends on the text alone; the truth gate, which
    depends on the account's brand profile, runs every time: the same draft checked for an account
    that declares the offer and one that does not gets each account's own verdict, in any order."""
    from generator.brand import Brand

    plain, offering = Brand(), Brand(offers=("20% off with code MEME20",))
    drafts = ["when the coffee is hot. 20% off with code MEME20", "the bike is my face. 20% off with code MEME20"]
    first = {(d, b.offers): check_text(d, brand=b, sources=Sources(demo_keys())) for d in drafts for b in (plain, offering)}
    for brand in (offering, plain, offering):
        for d in drafts:
            assert check_text(d, brand=brand, sources=demo) == first[(d, brand.offers)]
    assert first[(drafts[0], ())].ok and first[(drafts[0], ())].text == "when the coffee is hot."
    assert first[(drafts[0], offering.offers)].text == drafts[0]
    assert first[(drafts[1], ())].gate == first[(drafts[1], offering.offers)].gate == "meaning"


def demo_keys() -> list[str]:
    from generator.meme.bundle import load_bundle

    return list(load_bundle(None).caption_keys)


def test_the_captioner_judges_with_its_bundles_sources_built_once(demo: Sources) -> None:
    """The pipeline's meaning gate is given the captioner's Sources (bot/service/pipeline.py): the
    same pieces bundle_sources reads, built once; the captioner's refusals are the gates' own."""
    from generator.gates.coherence import check_coherence
    from generator.gates.fluency import check_fluency
    from generator.gates.meaning import attested
    from generator.meme import load_captioner

    cap = load_captioner(fluent=True)
    sources = cap.meaning_sources()
    assert sources is not None and sources is cap.meaning_sources() and sources.runs == demo.runs
    texts = ["the bike is my face", "when you sit in the wall", "me checking the clock at work",
             "when the coffee is hot", "trying to the store", "when you finally see the vet"]
    refused = [cap._refused(t) for t in texts]
    assert refused == [bool(check_fluency(t)) or check_meaning(t, demo, attested()) is not None
                       or check_coherence(t, demo) is not None for t in texts]
    assert any(refused) and not all(refused)
    assert set(texts) - {t for t in texts if check_fluency(t)} <= set(sources.verdicts)  # kept for the pipeline
