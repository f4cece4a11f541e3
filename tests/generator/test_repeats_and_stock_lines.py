"""The duplicate gate's index (generator/gates/repeats.py) and the stock-line detector
(generator/stock_lines.py), on captions the generators wrote."""
from __future__ import annotations

import pytest

from generator.gates.repeats import Earlier, RepeatIndex, repeat_reason
from generator.stock_lines import is_stock_line, stock_sentences, without_stock_lines


def _index(*texts: str) -> RepeatIndex:
    return RepeatIndex(Earlier(t, f"candidate {i} (pending)") for i, t in enumerate(texts, 1))


@pytest.mark.parametrize(("new", "repeats"), [
    ("this is my face", "candidate 1"),  # the same words on another image
    ("This is MY face!", "candidate 1"),  # case and punctuation do not count
    ("this is my face again", "candidate 1"),  # "again" is one content word more
    ("Now you know. #art", "candidate 2"),  # hashtags do not count
    ("this is my sad face", "candidate 1"),  # one more: still the same line
    ("this is my cat", None),  # face -> cat: nothing left in common
    ("when you sit in the garage", "candidate 3"),  # kitchen -> garage: the same line, one word swapped
    ("when you stand in the garage", None),  # two words swapped
    ("when the bike is in the garage", None),
    ("when the bike is in the garage", None),
])
def test_a_caption_repeats_an_earlier_one_when_fewer_than_two_content_words_differ(new, repeats):
    index = _index("this is my face", "Now you know. #science", "when you sit in the kitchen")
    hit = index.find(new)
    assert (hit.label.split(" (")[0] if hit else None) == repeats


def test_one_word_fewer_repeats_too_and_the_reason_names_the_earlier_caption():
    index = _index("the wall of my procrastination is tall")
    hit = index.find("the wall of my procrastination")
    assert hit is not None
    reason = repeat_reason("the wall of my procrastination", hit)
    assert reason.startswith("duplicate: candidate 1 (pending) already says this ('the wall of my")
    assert "fewer than 2 content words differ" in reason
    assert index.find("the wall of my excuses") is None  # procrastination, tall -> excuses: 3 words


# two 4-part stories of one coffee photo for one account, written minutes apart: three of the
# second's parts are the first's parts in another order
STORY_1 = ("Good things brew slowly. Small steps still move you forward.\n\nToday is a blank mug; fill it well. "
           "Make today count.\n\nLet the kettle sing and the worries wait. Keep going.\n\nStart with one warm cup "
           "and one clear goal. #coffeelover #motivation")
STORY_2 = ("Today is a blank mug; fill it well. Make today count.\n\nEvery great plan began at a kitchen table with "
           "a mug.\n\nGood things brew slowly. Small steps still move you forward.\n\nLet the kettle sing and the "
           "worries wait. #coffeelover #inspiration")


def test_a_story_whose_part_repeats_an_earlier_story_or_caption_is_a_repeat_and_the_reason_names_the_part():
    hit = _index(STORY_1).find(STORY_2)
    assert hit is not None and hit.label == "candidate 1 (pending)"
    assert hit.text in STORY_1 and "\n" not in hit.text  # the part it repeats, not the whole thread
    # a caption the account already has, told again as a story's part
    caption = "Good things brew slowly. Small steps still move you forward.\n\n#coffee #daily"
    assert _index(caption).find(STORY_2) is not None
    # and the other way round: a caption that repeats a part of a queued story
    assert _index(STORY_1).find("Let the kettle sing and the worries wait. Keep going.\n\n#tea") is not None
    # a story of other parts is new; a short part ("Keep going.") says too little to count
    other = "Moss grows slowly on old walls.\n\nBread rises while we sleep.\n\nKeep going."
    assert _index(STORY_1).find(other) is None and len(_index(STORY_1, other)) == 2


def test_the_index_agrees_with_the_pairwise_difference_on_many_captions():
    from generator.gates.siblings import difference

    texts = [f"{a} {b} {c}" for a in ("cats", "dogs", "moss") for b in ("sleep", "run", "grow")
             for c in ("", "today", "slowly")]
    texts += ["cats sleep today often", "moss", "when you", "dogs run fast and far", "fish", "cats swim today"]
    for i, new in enumerate(texts):
        earlier = texts[:i]
        hit = _index(*earlier).find(new)
        expected = [e for e in earlier if difference(new, e) < 2]
        assert (hit is not None) == bool(expected), (new, expected)
        if hit is not None:
            assert difference(new, hit.text) < 2


@pytest.mark.parametrize("line", ["Tag a friend who needs this.", "What do you see?", "Now you know.",
                                  "Double tap if you agree.", "Learn something new every day.",
                                  "Fun fact for your feed.", "More where this came from.", "Save this for later."])
def test_stock_calls_to_action_and_filler_lines_are_found(line):
    assert is_stock_line(line)


@pytest.mark.parametrize("line", ["Cats sleep twelve to sixteen hours a day.", "Coffee first, personality later.",
                                  "Today's view: a cat.", "The wall of my procrastination.", "Now the kettle sings."])
def test_lines_about_the_picture_are_not_stock(line):
    assert not is_stock_line(line)


def test_stock_sentences_spare_the_brands_own_call_to_action():
    text = "Moss grows slowly. Shop now at our studio. Tag a friend who needs this.\n\n#moss"
    assert stock_sentences(text) == ["Shop now at our studio.", "Tag a friend who needs this."]
    assert stock_sentences(text, ["Shop now at our studio.", None]) == ["Tag a friend who needs this."]


def test_without_stock_lines_keeps_the_rest_and_says_nothing_when_nothing_is_left():
    text = "Zoomed in on the wallpaper. It zoomed back. I regret nothing. Save this for later.\n\n#digitalart #daily"
    assert without_stock_lines(text) == "Zoomed in on the wallpaper. It zoomed back.\n\n#digitalart #daily"
    assert without_stock_lines("Now you know.\n\n#science #daily") == ""
    assert without_stock_lines(without_stock_lines(text)) == without_stock_lines(text)


def test_the_demo_writer_leaves_stock_lines_out_of_its_captions():
    from generator.textgen import load_writer
    from generator.textgen.neutral import sentences

    writer = load_writer()
    written = []
    for i, (tone, topic) in enumerate([("informative", "cats"), ("funny", "coffee"), ("inspirational", "space")]):
        written += writer.write(6, tone=tone, audience="general", topic=topic, seed=100 + i)
    assert len(written) == 18
    stock = [s for caption in written for s in sentences(caption) if is_stock_line(s)]
    assert stock == []
    assert all(sentences(c) for c in written)  # every caption still says something
    for start in range(0, 18, 6):  # one request's alternatives open with different lines
        openings = [sentences(c)[0].casefold() for c in written[start:start + 6]]
        assert len(set(openings)) == 6, openings


def test_a_photos_alt_text_names_each_class_once():
    from generator.alttext import describe

    assert describe("photo", "Rockets. #space", labels=("drilling rig", "missile", "missile")) == (
        "A photo of drilling rig and missile.")


@pytest.mark.parametrize("line", ["Thank you for being part of this little corner of the internet.",
                                  "Behind every post here is someone who stopped to look.",
                                  "This has been pinned above the studio kettle all week.",
                                  "Our newest favourite, and the desk plant agrees.",
                                  "Chosen by a very serious vote and one very loud opinion."])
def test_filler_about_the_page_and_its_makers_is_its_own_class(line):
    from generator.stock_lines import filler_sentences, is_filler_line

    assert is_filler_line(line) and not is_stock_line(line)  # a promotional brand profile may say it
    caption = f"Rest is part of the work, ask any cat. {line}\n\n#catlife"
    assert filler_sentences(caption) == [line]
    assert filler_sentences(caption, [line]) == []


def test_the_writer_corpus_writes_filler_for_the_promotional_audience_only():
    import json
    from pathlib import Path

    from generator.stock_lines import filler_sentences

    path = Path(__file__).resolve().parents[2] / "generator/textgen/corpus/captions.jsonl"
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    found = [r["audience"] for r in rows if filler_sentences(r["text"])]
    assert found and set(found) == {"promotional"}


def test_without_filler_lines_keeps_the_rest():
    from generator.stock_lines import without_filler_lines

    text = "Every great plan began at a kitchen table. Behind every post here is someone who stopped to look.\n\n#morning"
    assert without_filler_lines(text) == "Every great plan began at a kitchen table.\n\n#morning"
    assert without_filler_lines("Behind every post here is someone who stopped to look.") == ""
    assert without_filler_lines("Coffee first, personality later.") == "Coffee first, personality later."


class _LinesWriter:
    """A writer from a table of lines (neutral.about_photo takes anything with ``topics`` and ``write``):
    under each topic one topic line, then two of the general lines, chosen by the seed."""

    topics = ("cats", "coffee")
    general = ("Came for five minutes, stayed for an hour.", "My mum says it is lovely, so it is official.",
               "Posting it before I talk myself out of it.", "This was supposed to be a quick one.",
               "Took one photo and then forty more just in case.", "Nobody asked, but here it is anyway.")

    def write(self, n, *, tone, audience, seed, topic):
        import numpy as np

        rng = np.random.default_rng(seed)
        return [f"A {topic} line {i}. " + " ".join(rng.choice(self.general, 2, replace=False)) for i in range(n)]


def test_an_unsure_photos_colour_list_opens_one_caption_of_its_set():
    """Issue 23: four of five captions of the astronaut photo opened "A study in orange and grey." /
    "Today's palette: orange, grey, brown." / ...: one stock formula in a few wordings."""
    from generator.photo_topics import certain_lines
    from generator.textgen.neutral import about_photo, sentences

    lines = certain_lines(None, ["orange", "grey", "brown"])
    for seed in range(5):
        texts = about_photo(_LinesWriter(), 5, lines, tone="funny", audience="general", seed=seed, once=True)
        assert len(texts) == 5 and len(set(texts)) == 5
        assert [t for t in texts if sentences(t)[0] in lines] == texts[:1]
        assert all(s in _LinesWriter.general for t in texts[1:] for s in sentences(t))
    ground = certain_lines("a big cat", [])  # a common ground says what the photo shows: every caption may
    texts = about_photo(_LinesWriter(), 3, ground, tone="funny", audience="general", seed=1)
    assert all(sentences(t)[0] in ground for t in texts)


@pytest.mark.slow
def test_the_demo_writers_colour_list_opens_one_caption_of_an_unsure_photos_set():
    """Issue 23: four of five captions of the astronaut photo opened "A study in orange and grey." /
    "Today's palette: orange, grey, brown." / ...: one stock formula in a few wordings."""
    from generator.photo_topics import certain_lines
    from generator.textgen import load_writer
    from generator.textgen.neutral import about_photo, sentences

    lines = certain_lines(None, ["orange", "grey", "brown"])
    writer = load_writer()
    texts = about_photo(writer, 5, lines, tone="funny", audience="general", seed=7, once=True)
    opened = [t for t in texts if sentences(t)[0] in lines]
    assert len(texts) == 5 and len(set(texts)) == 5
    assert len(opened) == 1 and texts[0] is opened[0]
    assert all(sentences(t) for t in texts)
    # a photo's common ground says what it shows: every caption may open with one of its lines
    ground = certain_lines("a big cat", [])
    assert all(sentences(t)[0] in ground for t in about_photo(writer, 3, ground, tone="funny", audience="general",
                                                              seed=7))
