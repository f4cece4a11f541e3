"""Content systems through the service: caption a photo in a tone (and its CLI errors)."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from bot.app import build_app
from bot.config import load_config


@pytest.fixture
def photo_files(tmp_path: Path) -> dict[str, Path]:
    from skimage import data

    out = {}
    for name in ("chelsea", "coffee", "rocket"):
        out[name] = tmp_path / f"{name}.jpg"
        Image.fromarray(getattr(data, name)()).save(out[name], quality=90)
    return out


def test_caption_bad_input_is_one_line_and_exit_2(tmp_path, write_config, run_cli):
    config = write_config()
    bad = tmp_path / "notes.jpg"
    bad.write_text("not an image")
    result = run_cli("--config", str(config), "caption", str(bad), "--tone", "funny")
    assert result.code == 2 and f"{bad}: not an image" in result.err and "Traceback" not in result.err
    assert len(result.err.strip().splitlines()) == 1
    missing = run_cli("--config", str(config), "caption", str(tmp_path / "nope.jpg"))
    assert missing.code == 2
    img = tmp_path / "ok.png"
    Image.new("RGB", (64, 64)).save(img)
    zero = run_cli("--config", str(config), "caption", str(img), "-n", "0")
    assert zero.code == 2 and "-n must be between 1 and 20" in zero.err


@pytest.mark.slow
def test_captions_for_real_photos_differ_by_tone_and_all_go_to_review(tmp_path, write_config, photo_files):
    from generator.photo_topics import load_photo_topics
    from generator.textgen import load_writer

    app = build_app(load_config(write_config()))
    models: dict[str, Any] = {"topics": load_photo_topics(), "writer": load_writer()}
    funny = app.caption([photo_files["chelsea"], photo_files["coffee"]], tone="funny", audience="general",
                        account="demo", n=4, seed=3, **models)
    assert [t["topic"] for t in funny.topics] == ["cats", "coffee"]
    # n + 2 drafts per photo (content.EXTRA_PER_PHOTO), the n best of each go to review
    assert funny.run.stored == 12 and len(funny.candidates) == 12
    pending = [c for c in funny.candidates if c.status == "pending"]
    assert sorted(c.params["photo_index"] for c in pending) == [0, 0, 0, 0, 1, 1, 1, 1]
    first = app.candidate(funny.candidates[0].id)
    assert first.generator == "photo" and first.tone == "funny"
    assert all(c.params["topic"] == ("cats", "coffee")[c.params["photo_index"]] for c in funny.candidates)
    assert all(c.params["photo"].endswith(("chelsea.jpg", "coffee.jpg")[c.params["photo_index"]])
               for c in funny.candidates)
    assert funny.candidates[0].params["writer_seed"] > 0
    assert first.read_as == "cats" and (first.read_confidence or 0) > 0.5 and "written for cats" in (first.reading or "")
    inspiring = app.caption([photo_files["rocket"]], tone="inspirational", audience="general", account="demo",
                            n=4, seed=3, **models)
    assert inspiring.topics[0]["topic"] == "space"
    funny_rocket = app.caption([photo_files["rocket"]], tone="funny", audience="general", account="demo", n=4,
                               seed=3, **models)
    # the same photo again, in another tone: compared by caption only, so not a duplicate of the first run
    assert sum(c.status == "pending" for c in funny_rocket.candidates) >= 3
    a = {c.text for c in inspiring.candidates}
    b = {c.text for c in funny_rocket.candidates}
    assert a.isdisjoint(b), (a, b)
    app.close()


@pytest.mark.slow
def test_a_misread_photo_gets_the_owners_topic_or_a_neutral_caption_never_the_misread_class(
        tmp_path, write_config, run_cli):
    from skimage import data

    from generator.lexicon import unknown_words
    from generator.photo_topics import load_photo_topics
    from generator.textgen import load_writer

    astronaut = tmp_path / "astronaut.jpg"
    Image.fromarray(data.astronaut()).save(astronaut, quality=90)
    app = build_app(load_config(write_config()))
    models: dict[str, Any] = {"topics": load_photo_topics(), "writer": load_writer()}
    plain = app.caption([astronaut], tone="funny", audience="general", account="demo", n=3, seed=2, **models)
    (found,) = plain.topics
    assert not found["sure"] and found["topic"] == "neutral" and found["read_as"] == "bobsleigh"
    for made in plain.candidates:
        assert not unknown_words(made.text) and "#coffee" not in made.text, made.text
        assert made.params["topic_source"] == "neutral" and made.params["sure"] is False
    shown = app.candidate(plain.candidates[0].id)
    assert shown.read_as == "bobsleigh" and "unsure" in (shown.reading or "")
    hinted = app.caption([astronaut], tone="funny", audience="general", account="demo", n=2, seed=3,
                         about="our new oat latte", **models)
    assert hinted.topics[0]["topic"] == "coffee" and hinted.topics[0]["source"] == "about"
    assert all(c.params["about"] == "our new oat latte" for c in hinted.candidates)
    app.close()
    config = write_config()
    bad = run_cli("--config", str(config), "caption", str(astronaut), "--topic", "bobsleigh")
    assert bad.code == 2 and "--topic 'bobsleigh'" in bad.err and "coffee" in bad.err
    story = run_cli("--config", str(config), "story", str(astronaut))
    assert story.code == 2 and "read as bobsleigh" in story.err and "--topic" in story.err
    unsure = run_cli("--config", str(config), "caption", str(astronaut), "-n", "1", "--seed", "4")
    assert unsure.code == 0, unsure.err
    assert "not sure what astronaut.jpg shows: the captions say only what is certain" in unsure.out
    assert "--about \"...\" gives a better caption" in unsure.out


@pytest.mark.slow
def test_caption_cli_unknown_tone_names_the_known_ones(write_config, run_cli, photo_files):
    config = write_config()
    result = run_cli("--config", str(config), "caption", str(photo_files["coffee"]), "--tone", "grumpy")
    assert result.code == 2 and "--tone 'grumpy'" in result.err and "funny" in result.err
    ok = run_cli("--config", str(config), "caption", str(photo_files["coffee"]), "--tone", "informative", "-n", "2")
    assert ok.code == 0, ok.err
    assert "written for coffee (from the photo)" in ok.out and "captions, 2 pending" in ok.out
    assert "not sure what" not in ok.out  # a sure reading needs no hint


# --- text -> meme ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def matcher():
    from generator.meme.data import load_dataset
    from generator.meme.templates import DEMO_DATA_DIR
    from generator.template_match import fit_from_dataset

    return fit_from_dataset(load_dataset(DEMO_DATA_DIR))


def test_make_places_the_text_on_its_best_template_and_queues_it(write_config, matcher):
    app = build_app(load_config(write_config()))
    result = app.make("my cat ignores me again", account=None, seed=5, matcher=matcher)
    assert result.template.slug == "cat" and len(result.alternatives) == 3
    assert result.template.slug not in {a.slug for a in result.alternatives}
    (made,) = result.candidates
    assert made.status == "pending" and made.text == "my cat ignores me again"
    detail = app.candidate(made.id)
    assert detail.generator == "textmeme" and detail.template == "cat"
    assert made.params["matcher"] == matcher.version and len(made.params["alternatives"]) == 3
    base_path = Path(__file__).parents[2] / "generator/meme/demo_data/cat/image.jpg"
    assert detail.image_path is not None
    with Image.open(detail.image_path) as img, Image.open(base_path) as base:  # text drawn on the template
        assert img.size == base.size
        diff = np.abs(np.asarray(img.convert("RGB"), dtype=int) - np.asarray(base.convert("RGB"), dtype=int))
        assert diff.mean() > 2
    again = app.make("My cat ignores me again!", account="demo", seed=6, matcher=matcher)
    assert again.candidates[0].status == "duplicate"
    forced = app.make("a fresh take on mondays", account="demo", template="clock", seed=7, matcher=matcher)
    assert forced.template.slug == "clock"
    app.close()


def test_the_same_text_on_another_template_is_a_new_candidate(write_config, matcher):
    app = build_app(load_config(write_config()))
    text = "our new oat latte is finally here"
    first = app.make(text, account="demo", template="deep-field", seed=1, matcher=matcher)
    other = app.make(text, account="demo", template="coffee", seed=2, matcher=matcher)
    again = app.make(text + "!", account="demo", template="coffee", seed=3, matcher=matcher)
    assert first.candidates[0].status == "pending" and other.candidates[0].status == "pending"
    assert again.candidates[0].status == "duplicate"
    assert f"candidate {other.candidates[0].id}" in (again.candidates[0].reason or "")
    assert app.make(text, account="demo", seed=4, matcher=matcher).template.slug == "coffee"  # its keywords
    app.close()


def test_a_weak_template_match_is_said_so(write_config, matcher, run_cli):
    app = build_app(load_config(write_config()))
    sure = app.make("my cat ignores me again", account="demo", seed=5, matcher=matcher)
    assert not sure.weak and sure.template.prob >= 0.2
    # a bakery's text: no template's captions talk about bread; the matcher's pick is near a guess
    weak = app.make("me pretending the sourdough was supposed to look like that", account="demo", seed=6,
                    matcher=matcher)
    assert weak.weak and weak.template.prob < 0.2
    # the owner's own choice is never called weak
    forced = app.make("me pretending the sourdough was supposed to look like that!", account="demo",
                      template="coffee", seed=7, matcher=matcher)
    assert not forced.weak
    app.close()
    out = run_cli("--config", str(write_config()), "make", "me pretending the sourdough was supposed to look like that")
    assert out.code == 0, out.err
    assert "a weak match" in out.out and "--template" in out.out


def test_make_sends_unsafe_text_to_filtered_not_review(write_config, matcher):
    app = build_app(load_config(write_config()))
    result = app.make("this deploy is shit", account="demo", seed=1, matcher=matcher)
    assert result.candidates[0].status == "filtered" and "unsafe" in (result.candidates[0].reason or "")
    app.close()


def test_make_cli(write_config, run_cli):
    config = write_config()
    ok = run_cli("--config", str(config), "make", "when the deploy fails on friday", "--json")
    assert ok.code == 0, ok.err
    doc = json.loads(ok.out)
    assert len(doc["alternatives"]) == 3 and doc["candidates"][0]["status"] == "pending"
    empty = run_cli("--config", str(config), "make", "   ")
    assert empty.code == 2 and "the text is empty" in empty.err
    bad = run_cli("--config", str(config), "make", "hello there", "--template", "nope")
    assert bad.code == 2 and "--template 'nope' is not a template" in bad.err


# --- story threads ---------------------------------------------------------------------------------

def _story_candidate(app, parts: list[str]) -> int:
    from feedback.repository import candidates as cand_repo
    from generator.story import join_parts

    with app.tx() as session:
        return cand_repo.add_candidate(session, cand_repo.NewCandidate(
            generator="story", text=join_parts(parts), account_id=app.account_ids["demo"], tone="funny",
            audience="general", params={"topic": "space"}, status="pending"), app.clock()).id


def test_thread_edit_a_part_then_approve_as_a_unit(write_config):
    app = build_app(load_config(write_config()))
    cid = _story_candidate(app, ["one two three", "four five six", "seven eight nine"])
    result = app.edit_thread_part(cid, 2, "the middle, rewritten", actor="ann")
    assert (result.before, result.after) == ("pending", "pending")
    assert app.thread(cid).parts == ("one two three", "the middle, rewritten", "seven eight nine")
    approved = app.approve_thread(cid, actor="ann")
    assert approved.after == "approved" and approved.post_id is not None
    lonely = _story_candidate(app, ["just one part"])
    from bot.errors import UsageError

    with pytest.raises(UsageError, match="a thread needs 2-6"):
        app.approve_thread(lonely, actor="ann")
    app.close()


def test_thread_cli_errors_are_one_line(write_config, run_cli):
    config = write_config()
    app = build_app(load_config(config))
    cid = _story_candidate(app, ["one two three", "four five six"])
    meme_id = app.add_candidate(Path(__file__).parents[2] / "generator/meme/demo_data/cat/image.jpg", "hi",
                                account="demo", actor="t")
    app.close()
    bad_pos = run_cli("--config", str(config), "thread", "edit", str(cid), "5", "x")
    assert bad_pos.code == 2 and f"candidate {cid} has parts 1-2, not 5" in bad_pos.err
    not_story = run_cli("--config", str(config), "thread", "show", str(meme_id))
    assert not_story.code == 2 and "not a story thread" in not_story.err
    too_many = run_cli("--config", str(config), "thread", "continue", str(cid), "--parts", "5")
    assert too_many.code == 2 and "--parts must be 1-4" in too_many.err
    parts = run_cli("--config", str(config), "story", "rocket", "--parts", "9")
    assert parts.code == 2 and "--parts must be between 2 and 6" in parts.err
    gan = run_cli("--config", str(config), "story", "gan:seven")
    assert gan.code == 2 and "gan:SEED with a whole-number seed" in gan.err
    nothing = run_cli("--config", str(config), "story", "no-such-thing")
    assert nothing.code == 2 and "no such file, and not a template" in nothing.err
    shown = run_cli("--config", str(config), "thread", "show", str(cid))
    assert shown.code == 0 and "2. four five six" in shown.out
    app = build_app(load_config(config))
    full = _story_candidate(app, [f"part number {i} of six" for i in range(1, 7)])
    app.close()
    for argv in (("thread", "continue", str(full)), ("thread", "steer", str(full), "then it rained")):
        past = run_cli("--config", str(config), *argv)
        assert past.code == 2 and "Traceback" not in past.err and len(past.err.strip().splitlines()) == 1
        assert f"candidate {full} already has 6 parts, the most a story may have (6)" in past.err


@pytest.mark.slow
def test_story_from_a_template_continued_steered_and_published(write_config, tmp_path):
    from bot.service.publishing import publish_due
    from generator.photo_topics import load_photo_topics
    from generator.textgen import load_writer

    config = write_config('[storage]\nurl = "sqlite:///memeloop.db"\nmedia_dir = "media"\n\n'
                          '[[accounts]]\nname = "demo"\nplatform = "outbox"\n[accounts.outbox]\npath = "outbox"\n')
    app = build_app(load_config(config))
    writer = load_writer()
    result = app.story("rocket", parts=2, tone="funny", audience="general", seed=21, topics=load_photo_topics(),
                       writer=writer)
    (made,) = result.candidates
    assert result.topic["topic"] == "space" and made.status == "pending"
    assert made.params["parts"] == 2 and len(made.params["part_seeds"]) == 2 and made.params["writer"]
    detail = app.candidate(made.id)
    assert detail.generator == "story"
    review, thread = app.continue_thread(made.id, actor="ann", parts=1, steer="then the coffee machine exploded",
                                         seed=5, writer=writer)
    assert len(thread.parts) == 3 and review.after == "pending"
    assert [row["position"] for row in thread.lineage] == [0, 1, 2]
    assert thread.lineage[2]["steer"] == "then the coffee machine exploded"
    assert "#" not in thread.parts[1]  # the hashtags moved to the new end
    from_gan = app.story("gan:42", parts=2, tone="funny", audience="general", seed=3, writer=writer,
                         topics=load_photo_topics())
    assert from_gan.topic["topic"] == "abstract textures" and from_gan.candidates[0].params["gan_seed"] == 42
    assert app.candidate(from_gan.candidates[0].id).gan_seed == 42
    app.approve_thread(made.id, actor="ann", at=app.clock())
    assert publish_due(app.deps, owner="t").published == 1
    import json as _json

    records = [_json.loads(p.read_text()) for p in (tmp_path / "outbox" / "posts").glob("*.json")]
    assert sorted(r["text"][-5:] for r in records) == ["(1/3)", "(2/3)", "(3/3)"]
    app.close()
