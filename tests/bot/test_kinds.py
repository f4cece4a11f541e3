"""The content-kind registry: every kind the database allows is declared, and what callers ask of it."""
from __future__ import annotations

import pytest

from bot.core.kinds import KINDS, SCHEDULED, Kind, content_kind, platform_texts
from feedback.models import GENERATORS
from generator.story import join_parts, single_caption, split_parts, thread_texts

PARTS = ["The rocket waited on the pad all night.", "Nobody told it the launch was cancelled.",
         "So it went anyway."]


def test_every_stored_kind_is_declared_once():
    assert sorted(k.kind.value for k in KINDS) == sorted(GENERATORS)
    assert SCHEDULED == ("meme", "post")
    assert [k.kind for k in KINDS if k.text_on_image] == [Kind.MEME, Kind.TEXTMEME]
    assert [k.kind for k in KINDS if k.thread] == [Kind.STORY]


def test_unknown_kind_names_the_known_ones():
    with pytest.raises(ValueError, match="unknown content kind 'gif'.*meme, post"):
        content_kind("gif")


def test_a_thread_is_a_chain_or_one_numbered_caption():
    text = join_parts(PARTS)
    story = content_kind("story")
    assert platform_texts(story, text, "x", threads=True) == thread_texts(split_parts(text), "x")
    assert len(platform_texts(story, text, "x", threads=True)) == 3
    assert platform_texts(story, text, "instagram", threads=False) == [single_caption(split_parts(text))]
    assert platform_texts(content_kind("meme"), "one caption", "x", threads=True) == ["one caption"]


def test_run_settings_are_the_scheduled_generators_config():
    from bot.config import parse_config

    cfg = parse_config('[[accounts]]\nname = "a"\nplatform = "outbox"\n[generator.meme]\nforward_per_image = 3\n')
    assert content_kind("meme").forward_per_image(cfg) == 3
    assert content_kind("post").forward_per_image(cfg) == 1
    assert content_kind("post").run_settings(cfg) == {"captions_per_image": cfg.generator.post.captions_per_image}
    assert content_kind("story").run_settings(cfg) == {}
