"""Content kinds, declared once: per kind of candidate, how it is made, stored, rendered, previewed
and published. The pipeline, review, publishing and story code ask this table instead of testing
the kind's name.

A kind's name is what ``candidates.generator`` holds (feedback.models.GENERATORS lists the same
names for the database's check; a test keeps the two equal).

| kind     | made by                     | stored                   | rendered        | published              |
|----------|-----------------------------|--------------------------|-----------------|------------------------|
| meme     | generate job (captioner)    | template + k beams       | text on picture | one post               |
| post     | generate job (GAN + writer) | GAN image + n captions   | text beside     | one post               |
| manual   | `memeloop add` (a person)   | the person's image       | text beside     | one post               |
| photo    | `memeloop caption`          | the person's photo       | text beside     | one post               |
| textmeme | `memeloop make` (a person)  | template chosen for text | text on picture | one post               |
| story    | `memeloop story`            | numbered parts + lineage | text beside     | thread (see published) |

A thread goes out as a reply chain where the account's publisher takes threads
(``Publisher.threads``: X, Mastodon, Bluesky, the outbox) and as ONE caption holding every numbered
part where it does not (Instagram). ``platform_texts`` is that rule; the pipeline's preflight
previews the same texts the publisher will be given.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from bot.config import Config


class Kind(StrEnum):
    MEME = "meme"
    POST = "post"
    MANUAL = "manual"
    PHOTO = "photo"
    TEXTMEME = "textmeme"
    STORY = "story"


def _meme_settings(config: Config) -> dict[str, Any]:
    m = config.generator.meme
    return {"beam_width": m.beam_width, "images_per_run": m.images_per_run, "forward_per_image": m.forward_per_image}


def _post_settings(config: Config) -> dict[str, Any]:
    return {"captions_per_image": config.generator.post.captions_per_image}


@dataclass(frozen=True)
class ContentKind:
    kind: Kind
    what: str  # for people: help text, pages
    # made: a scheduled generate job (daemon, `memeloop generate --generator`) can make it, with these
    # generator settings recorded on its generation row; the other kinds come from a person's command
    settings: Callable[[Config], dict[str, Any]] | None = None
    words_by_person: bool = False  # the words are the user's own: no fluency gate
    # stored: the text is a story's numbered parts, with lineage rows beside it (post parts once out)
    thread: bool = False
    # rendered: the text is drawn onto the picture (a template); an edit re-renders it
    text_on_image: bool = False

    @property
    def scheduled(self) -> bool:
        return self.settings is not None

    def forward_per_image(self, config: Config) -> int:
        """How many of one image's clean drafts go forward to review when the run does not say."""
        return int(self.run_settings(config).get("forward_per_image", 1))

    def run_settings(self, config: Config) -> dict[str, Any]:
        return self.settings(config) if self.settings is not None else {}


KINDS: tuple[ContentKind, ...] = (
    ContentKind(Kind.MEME, "meme captioner (beam search)", settings=_meme_settings,
                text_on_image=True),
    ContentKind(Kind.POST, "GAN image + GPT-2 captions", settings=_post_settings),
    ContentKind(Kind.MANUAL, "a person's text on a person's image", words_by_person=True),
    ContentKind(Kind.PHOTO, "captions for a person's photo"),
    ContentKind(Kind.TEXTMEME, "a person's text on the template that fits it", words_by_person=True,
                text_on_image=True),
    ContentKind(Kind.STORY, "a story thread about a photo or topic", thread=True),
)
_BY_NAME = {k.kind.value: k for k in KINDS}
SCHEDULED: tuple[str, ...] = tuple(k.kind.value for k in KINDS if k.scheduled)  # ("meme", "post")


def content_kind(name: str) -> ContentKind:
    """The kind a candidate's ``generator`` names; ValueError naming the known kinds otherwise."""
    try:
        return _BY_NAME[name]
    except KeyError:
        raise ValueError(f"unknown content kind {name!r} (one of {', '.join(_BY_NAME)})") from None


def platform_texts(kind: ContentKind, text: str, platform: str, *, threads: bool) -> list[str]:
    """The texts a publisher is given, in order: the text itself; for a thread, its numbered parts as
    a chain (``threads``: the platform takes reply chains) or one caption holding every part."""
    if not kind.thread:
        return [text]
    from generator.story import single_caption, split_parts, thread_texts

    parts = split_parts(text)
    return thread_texts(parts, platform) if threads else [single_caption(parts)]
