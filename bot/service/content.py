"""Content-system use cases: caption a user's photo in a tone, turn a text into a meme.

Each one checks every argument first (bot/service/content_checks.py), takes its models from the
warm set on deps (bot/core/content_models.py: loaded once per process, on first use), builds the
pipeline's Drafts and hands them to the same run as the scheduled generators
(bot.service.pipeline.run_generation): media store, safety, duplicate guard, ranker, review queue.
Every candidate keeps in ``params`` what regenerates it (model versions, seeds, topic or template
scores). Story threads live in bot/service/story.py.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.core.kinds import Kind
from bot.errors import UsageError
from bot.service.content_checks import (
    MAX_CAPTIONS,
    check_about,
    check_range,
    check_template,
    check_topic,
    check_voice,
    read_photos,
)
from bot.service.pipeline import Draft, GenerateRequest, GenerateResult, Models, run_generation

if TYPE_CHECKING:
    from bot.config import Config
    from bot.core.deps import Deps
    from generator.types import Template

__all__ = ["MAX_CAPTIONS", "CaptionResult", "Made", "MakeResult", "caption_photos", "make_meme", "read_photos"]


@dataclass(frozen=True)
class Made:
    """One stored candidate of a content run, as the CLI shows it."""

    id: int
    status: str
    text: str
    reason: str | None
    params: dict[str, Any]
    alt: str = ""  # the alt text publishing sends with its image (bot.service.web_queries.alt_of)


@dataclass(frozen=True)
class CaptionResult:
    run: GenerateResult
    topics: tuple[dict[str, Any], ...]  # per photo: PhotoTopic.to_json()
    candidates: tuple[Made, ...]


def made_by(deps: Deps, generation_id: int) -> tuple[Made, ...]:
    from bot.service.web_queries import alt_of
    from feedback.repository import candidates as cand_repo

    with deps.tx() as session:
        return tuple(Made(c.id, c.status, c.text, c.status_reason, dict(c.params or {}),
                          alt_of(c, c.template.name if c.template is not None else None))
                     for c in cand_repo.of_generation(session, generation_id))


def shortfall(made: Sequence[Made], asked: int) -> str | None:
    """Why a run queued fewer than it was asked for, in words (None when it queued them all): how
    many drafts each gate refused, the most common first, with one reason as the gate gave it.
    Siblings the ranker did not forward are its choice, not a refusal, and are not counted."""
    from bot.service.pipeline_gates import gate_of

    queued = sum(1 for m in made if m.status == "pending")
    if queued >= asked:
        return None
    refused: dict[str, list[str]] = {}
    for m in made:
        if m.status not in ("filtered", "duplicate") or (m.reason or "").startswith("not forwarded"):
            continue
        gate = "duplicate" if m.status == "duplicate" else gate_of(m.reason) or (m.reason or "").split(":", 1)[0]
        refused.setdefault(gate or "filtered", []).append(m.reason or "no reason stored")
    head = f"queued {queued} of the {asked} asked for"
    if not refused:
        return f"{head}: the generator made no more"
    ranked = sorted(refused.items(), key=lambda kv: -len(kv[1]))
    counts = ", ".join(f"{len(reasons)} by {gate}" for gate, reasons in ranked)
    return f"{head}; drafts refused {counts} (e.g. {ranked[0][1][0]})"


def generation_made(deps: Deps, generation_id: int, asked: int) -> tuple[tuple[Made, ...], str | None]:
    """A run's stored candidates and, when it queued fewer than ``asked``, why (``shortfall``)."""
    made = made_by(deps, generation_id)
    return made, shortfall(made, asked)


def resolve_account(deps: Deps, account: str | None) -> str:
    acc = deps.resolve_account(account)  # ConfigError names an unknown account
    if acc is not None:
        return acc.name
    raise UsageError("several accounts are configured; pass --account NAME")


def _models(deps: Deps, topics: Any = None, writer: Any = None) -> tuple[Any, Any]:
    """The photo classifier and caption writer: the ones given (tests, the demo) or the warm ones."""
    warm = deps.content_models()
    return topics or warm.topics(), writer or warm.writer()


def caption_photos(deps: Deps, photos: Sequence[Path], *, tone: str | None, audience: str | None,
                   account: str | None, n: int = 5, seed: int | None = None, topics: Any = None,
                   writer: Any = None, topic: str | None = None, about: str | None = None) -> CaptionResult:
    """n captions per photo, written for the photo's topic in the given tone and audience; all n go
    to review (they are alternatives for the same photo, never each other's duplicates). Every
    argument is checked before a model loads; each photo is decoded once and all are classified in
    one batch.

    ``topic`` (one the writer knows) or ``about`` (the owner's words: "our new oat latte") say what
    the photos are about; they win over the classifier. Without them an unsure reading (a weak
    class, or one no writer topic covers) gets captions that fit any photo, never the misread class."""
    check_range("-n", n, 1, MAX_CAPTIONS)
    check_voice(deps.config, tone=tone, audience=audience, writer=writer)
    check_topic(deps.config, topic, writer=writer)
    check_about(about)
    images = read_photos(photos)
    name = resolve_account(deps, account)
    topics, writer = _models(deps, topics, writer)
    found = read_topics(topics, writer, images, topic=topic, about=about)
    seed = secrets.randbits(62) if seed is None else seed

    def make(req: GenerateRequest, config: Config, prefix: str) -> list[Draft]:
        return photo_drafts(writer, list(zip(photos, images, found)), req, prefix, config)

    models = Models(Kind.PHOTO, f"{topics.version}+{writer.version}"[:64], make,
                    {"topics_model": topics.version, "writer": writer.version, "forward_per_image": n,
                     "photos": [str(p) for p in photos]})
    req = GenerateRequest(account=name, generator=Kind.PHOTO, count=n * len(photos), seed=seed, tone=tone,
                          audience=audience)
    try:
        run = run_generation(deps, req, models=models)
    finally:
        deps.content_models().served()
    return CaptionResult(run, tuple(t.to_json() for t in found), made_by(deps, run.generation_id))


def read_topics(topics: Any, writer: Any, images: Sequence[Any], *, topic: str | None = None,
                about: str | None = None) -> list[Any]:
    """Each photo's reading (generator.photo_topics.PhotoTopic) with the topic to write for."""
    from generator.photo_topics import choose_topic

    return [choose_topic(t, writer.topics, topic=topic, about=about)
            for t in topics.topics(images, known=writer.topics)]


EXTRA_PER_PHOTO = 2


def photo_drafts(writer: Any, photos: Sequence[tuple[Path, Any, Any]], req: GenerateRequest, prefix: str,
                 config: Config | None = None) -> list[Draft]:
    """Captions for each photo; with ``config`` the writer follows the current adaptation (bot/service/adapt.py)."""
    import numpy as np

    from bot.service.adapt import follow_adaptation
    from generator.alttext import main_colours
    from generator.photo_topics import NEUTRAL, certain_lines
    from generator.textgen.neutral import about_photo, write_for

    adaptation = follow_adaptation(writer, config) if config is not None else 0
    rng = np.random.default_rng(req.seed)
    # a few more than asked: the gates (siblings, duplicate, ...) may refuse some, and the ranker
    # forwards the n best of each photo, so every photo still queues its n in the first round
    per_photo = req.count // max(1, len(photos)) + EXTRA_PER_PHOTO
    drafts = []
    for index, (path, image, topic) in enumerate(photos):
        writer_seed = int(rng.integers(0, 2**62))
        tone = req.tone or str(rng.choice(writer.tones))
        audience = req.audience or "general"  # the account's (pipeline.with_defaults), never drawn at random
        if topic.topic == NEUTRAL:  # unsure, no hint: only what is certain of the photo, never nothing
            lines = certain_lines(topic.ground, [] if topic.ground else main_colours(image))
            # a colour list says the same thing in every wording: one caption of the photo may open with it
            texts = about_photo(writer, per_photo, lines, tone=tone, audience=audience, seed=writer_seed,
                                once=not topic.ground)
        else:
            texts = write_for(writer, per_photo, topic=topic.topic, tone=tone, audience=audience, seed=writer_seed)
        reading = topic.to_json()
        for rank, text in enumerate(texts):
            drafts.append(Draft(
                text=text, group_key=f"{prefix}:photo{index}", image=image, beam_rank=rank, tone=tone,
                audience=audience, source_image_path=str(path), read_as=topic.read_as,
                read_confidence=round(topic.confidence, 4),
                params={"photo": str(path), "topic": topic.topic, "labels": reading["labels"],
                        "topic_source": topic.source, "about": topic.about, "sure": topic.sure,
                        "reading": reading["reading"], "writer_seed": writer_seed, "caption_index": rank,
                        "seed": req.seed, "photo_index": index, "by_text_only": True,
                        "adaptation": adaptation}))
    return drafts


# --- text -> meme ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class MakeResult:
    run: GenerateResult
    template: Any  # generator.template_match.TemplateScore of the template used
    alternatives: tuple[Any, ...]  # the next best templates (TemplateScore), best first
    candidates: tuple[Made, ...]
    weak: bool = False  # the matcher chose, and the text is not much like any template's captions


# Below this probability the matcher's choice is right less than half the time (bench/data/
# make_meme_dev.jsonl: 5 of 13 texts below 0.2, 27 of 32 at 0.5 or more): the owner is told to check it.
WEAK_MATCH = 0.2


def make_meme(deps: Deps, text: str, *, account: str | None, template: str | None = None, seed: int | None = None,
              matcher: Any = None) -> MakeResult:
    """Place ``text`` on the template whose captions it is most like (or the one named) and queue it."""
    from bot.service.templates import all_templates

    text = " ".join(text.split())
    if not text:
        raise UsageError("the text is empty")
    check_template(deps.config, template)
    name = resolve_account(deps, account)
    templates = {t.slug: t for t in all_templates(deps.config)}
    matcher = matcher or deps.content_models().matcher()
    ranked = [s for s in matcher.rank(text, k=len(matcher.slugs)) if s.slug in templates]
    if not ranked:
        raise UsageError("no meme template has captions to match against (generator.meme.templates)")
    if template is not None:
        if template not in {s.slug for s in ranked}:  # a template of the user's library the matcher never saw
            from generator.template_match import TemplateScore

            ranked.insert(0, TemplateScore(template, 0.0))
        ranked.sort(key=lambda s: s.slug != template)
    chosen, alternatives = ranked[0], tuple(ranked[1:4])
    seed = secrets.randbits(62) if seed is None else seed

    def make(req: GenerateRequest, _config: Config, prefix: str) -> list[Draft]:
        return [text_meme_draft(text, templates[chosen.slug], chosen, alternatives, matcher.version, req, prefix)]

    models = Models(Kind.TEXTMEME, matcher.version, make, {"matcher": matcher.version, "forward_per_image": 1},
                    more=False)  # the user's one text: another seed would only place it again
    try:
        run = run_generation(deps, GenerateRequest(account=name, generator=Kind.TEXTMEME, count=1, seed=seed),
                             models=models)
    finally:
        deps.content_models().served()
    weak = template is None and chosen.prob < WEAK_MATCH
    return MakeResult(run, chosen, alternatives, made_by(deps, run.generation_id), weak)


def text_meme_draft(text: str, template: Template, chosen: Any, alternatives: Sequence[Any], matcher_version: str, req: GenerateRequest,
                    prefix: str) -> Draft:
    from PIL import Image

    from generator.annotate import render_meme

    with Image.open(template.image_path) as img:
        base = img.convert("RGB")
    return Draft(text=text, group_key=f"{prefix}:make", image=render_meme(base, text, template.boxes),
                 template=template, source_image_path=str(template.image_path), beam_score=chosen.prob,
                 params={"template": template.slug, "matcher": matcher_version, "score": round(chosen.prob, 4),
                         "alternatives": [{"template": a.slug, "score": round(a.prob, 4)} for a in alternatives],
                         "seed": req.seed, "text": text})
