"""Story-thread use cases: write a story from an image, continue or steer it, edit a part, approve it.

A thread is ONE candidate (generator 'story'): its text is the parts joined by blank lines, so the
review lifecycle, safety, the duplicate guard and the ranker treat the thread as a unit, and every
review action (a plain `memeloop edit` too) works on it. thread_parts keeps what the writer wrote
for each part and what regenerates it (seed, steer, context). Publishing: bot/service/story_publish.py.
"""
from __future__ import annotations

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from bot.core.kinds import Kind, content_kind
from bot.errors import UsageError
from bot.service import review
from bot.service.adapt import follow_adaptation
from bot.service.content import Made, made_by, resolve_account
from bot.service.content_checks import check_parts, check_template, check_voice, read_photos
from bot.service.pipeline import Draft, GenerateRequest, GenerateResult, Models, run_generation

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from bot.config import Config
    from bot.core.deps import Deps
    from bot.service.review import ReviewResult
    from feedback.models import Candidate


@dataclass(frozen=True)
class StoryResult:
    run: GenerateResult
    topic: dict[str, Any]
    candidates: tuple[Made, ...]


@dataclass(frozen=True)
class Thread:
    candidate_id: int
    status: str
    parts: tuple[str, ...]
    lineage: tuple[dict[str, Any], ...]
    topic: str | None
    tone: str | None
    audience: str | None
    account: str | None = None


MAX_STEER = 280


def _image_of(deps: Deps, image: str | None, template: str | None = None) -> tuple[Path | None, Any, dict[str, Any]]:
    """A photo or GAN image file, a meme template's slug, or ``gan:SEED`` (the GAN's image for that
    seed, regenerated from it); or, with ``template``, only a slug of the template library (never a
    path: the web admin's choice). Returns (file or None, RGB image, what regenerates it)."""
    from bot.service.templates import all_templates

    if template is not None:
        check_template(deps.config, template)
        slugs = {t.slug: t for t in all_templates(deps.config)}
        path = Path(slugs[template].image_path)
        return path, read_photos([path])[0], {"image": str(path), "template": template}
    if not image:
        raise UsageError("give an image: a photo file, a template's name or gan:SEED")
    if image.startswith("gan:"):
        try:
            seed = int(image[4:])
        except ValueError:
            raise UsageError(f"{image}: a GAN image is gan:SEED with a whole-number seed") from None
        gan = deps.content_models().gan()
        return None, gan.generate_from_seed(seed).convert("RGB"), {"gan_seed": seed, "gan": gan.version,
                                                                   "gan_domain": gan.domain}
    path = Path(image)
    if not path.exists():
        templates = {t.slug: t for t in all_templates(deps.config)}
        if image not in templates:
            raise UsageError(f"{image}: no such file, and not a template ({', '.join(sorted(templates))})")
        path = Path(templates[image].image_path)
    return path, read_photos([path])[0], {"image": str(path)}


def new_story(deps: Deps, image: str | None, *, parts: int = 3, tone: str | None = None,
              audience: str | None = None, account: str | None = None, topic: str | None = None,
              seed: int | None = None, template: str | None = None, topics: Any = None, writer: Any = None,
              from_library: bool = False) -> StoryResult:
    """A thread of ``parts`` parts about ``image`` (or the library's ``template``; ``from_library``:
    ``image`` is that slug); every argument is checked before a model loads; the parts are written
    one after another by the warm writer. ``topic`` is a writer topic or the owner's words naming
    one; without it an unsure reading of the image is refused (lines that fit any photo make a
    caption, not a story)."""
    from generator.photo_topics import choose_topic
    from generator.story import join_parts, write_parts

    if from_library:
        template, image = image or "", None

    check_parts(parts)
    check_voice(deps.config, tone=tone, audience=audience, writer=writer)
    name = resolve_account(deps, account)
    call_to_action = deps.config.account(name).brand.to_brand().call_to_action
    path, picture, source = _image_of(deps, image, template)
    warm = deps.content_models()
    topics, writer = topics or warm.topics(), writer or warm.writer()
    reading = topics.topics([picture], known=writer.topics)[0]
    given = topic or source.get("gan_domain")  # a GAN image is about what its bundle draws
    if given and " ".join(given.split()) in writer.topics:
        reading = choose_topic(reading, writer.topics, topic=" ".join(given.split()))
    else:  # the owner's words name a topic the writer knows, or the photo's sure reading, or none
        reading = choose_topic(reading, writer.topics, about=given)
    if reading.source == "neutral":  # lines that fit any photo make a caption, not a story
        raise UsageError(f"{image or template}: read as {reading.read_as} ({reading.confidence:.0%}, unsure) and no "
                         f"topic given; say what the story is about with --topic (e.g. {', '.join(writer.topics)})")
    found = reading.to_json()
    seed = secrets.randbits(62) if seed is None else seed

    def make(req: GenerateRequest, config: Config, prefix: str) -> list[Draft]:
        import numpy as np

        adaptation = follow_adaptation(writer, config)
        rng = np.random.default_rng(req.seed)
        use_tone = req.tone or str(rng.choice(writer.tones))
        use_audience = req.audience or "general"  # the account's (pipeline.with_defaults), never random
        written = write_parts(writer, story=(), count=parts, topic=found["topic"], tone=use_tone,
                              audience=use_audience, seed=int(rng.integers(0, 2**62)), call_to_action=call_to_action)
        return [Draft(text=join_parts([p.text for p in written]), group_key=f"{prefix}:story", image=picture,
                      tone=use_tone, audience=use_audience, source_image_path=str(path) if path else None,
                      gan_seed=source.get("gan_seed"), read_as=reading.read_as,
                      read_confidence=round(reading.confidence, 4),
                      params={"topic": found["topic"], "labels": found["labels"], "parts": parts, "seed": req.seed,
                              "topic_source": reading.source, "about": reading.about, "sure": reading.sure,
                              "call_to_action": call_to_action,
                              "writer": writer.version, **source,
                              "part_seeds": [p.seed for p in written], "lineage": _lineage(written),
                              "by_text_only": True, "adaptation": adaptation})]

    def stored(session: Session, row: Candidate, draft: Draft, now: datetime) -> None:
        from feedback.repository import threads

        threads.set_lineage(session, row.id, 0, [(item["text"], item) for item in draft.params["lineage"]], now)

    models = Models(Kind.STORY, f"{topics.version}+{writer.version}"[:64], make,
                    {"topics_model": topics.version, "writer": writer.version, "forward_per_image": 1},
                    on_stored=stored)
    req = GenerateRequest(account=name, generator=Kind.STORY, count=1, seed=seed, tone=tone, audience=audience)
    try:
        run = run_generation(deps, req, models=models)
    finally:
        warm.served()
    return StoryResult(run, found, made_by(deps, run.generation_id))


def _call_to_action(deps: Deps, account: str | None) -> str | None:
    """The brand's call to action of the thread's account (None: the brand asks for none)."""
    names = {a.name for a in deps.config.accounts}
    name = account if account in names else (deps.config.accounts[0].name if len(names) == 1 else None)
    return deps.config.account(name).brand.to_brand().call_to_action if name else None


def _lineage(written: Sequence[Any]) -> list[dict[str, Any]]:
    return [{"text": p.text, "seed": p.seed, "steer": p.steer, **p.params} for p in written]


def thread(deps: Deps, candidate_id: int) -> Thread:
    from feedback.repository import candidates as cand_repo
    from feedback.repository import threads
    from generator.story import split_parts

    with deps.tx() as session:
        cand = cand_repo.get_candidate(session, candidate_id)
        if not content_kind(cand.generator).thread:
            raise UsageError(f"candidate {candidate_id} is a {cand.generator} candidate, not a story thread")
        rows = threads.lineage(session, candidate_id)
        return Thread(cand.id, cand.status, tuple(split_parts(cand.text)),
                      tuple({"position": r.position, "original_text": r.original_text, **(r.params or {})}
                            for r in rows),
                      (cand.params or {}).get("topic"), cand.tone, cand.audience,
                      cand.account.name if cand.account else None)


def continue_story(deps: Deps, candidate_id: int, *, actor: str, parts: int = 1, steer: str | None = None,
                   seed: int | None = None, writer: Any = None,
                   expected_version: int | None = None) -> tuple[ReviewResult, Thread]:
    """``parts`` more parts after the story so far (steered by a sentence if given), as an edit
    (``expected_version``: only if the thread is still the version the caller showed)."""
    from feedback.repository import threads
    from generator.story import (
        MAX_PARTS,
        hashtags_of,
        join_parts,
        strip_call_to_action,
        strip_hashtags,
        write_parts,
    )

    steer = " ".join(steer.split()) if steer else None
    if steer is not None and len(steer) > MAX_STEER:
        raise UsageError(f"the steering sentence has {len(steer)} characters; at most {MAX_STEER}")
    current = thread(deps, candidate_id)
    room = MAX_PARTS - len(current.parts)
    if room < 1:
        raise UsageError(f"candidate {candidate_id} already has {len(current.parts)} parts, the most a story "
                         f"may have ({MAX_PARTS}); edit a part (memeloop thread edit) or start a new story")
    if not 1 <= parts <= room:
        raise UsageError(f"candidate {candidate_id} has {len(current.parts)} parts; a story has at most "
                         f"{MAX_PARTS}, so --parts must be 1-{room}")
    call_to_action = _call_to_action(deps, current.account)
    warm = deps.content_models()
    writer = writer or warm.writer()
    seed = secrets.randbits(62) if seed is None else seed
    follow_adaptation(writer, deps.config)
    try:
        written = write_parts(writer, story=current.parts, count=parts, topic=current.topic or "general",
                              tone=current.tone or writer.tones[0],
                              audience=current.audience or writer.audiences[0], seed=seed, steer=steer,
                              call_to_action=call_to_action)
    finally:
        warm.served()
    why = f"continued with {parts} part(s)" + (f", steered: {steer}" if steer else "")
    before = list(current.parts)
    tags = hashtags_of(before[-1])
    # the thread's hashtags and the brand's call to action move to its new end
    before[-1] = strip_call_to_action(strip_hashtags(before[-1]), call_to_action) or before[-1]
    after = [p.text for p in written]
    if tags and not hashtags_of(after[-1]):
        after[-1] = f"{after[-1]} {' '.join(tags)}"
    result = review.edit(deps, candidate_id, actor=actor, text=join_parts([*before, *after]), reason=why,
                         expected_version=expected_version)
    with deps.tx() as session:
        threads.set_lineage(session, candidate_id, len(current.parts),
                            [(item["text"], {**item, "continue_seed": seed}) for item in _lineage(written)],
                            deps.clock())
    return result, thread(deps, candidate_id)


def edit_part(deps: Deps, candidate_id: int, position: int, text: str, *, actor: str,
              expected_version: int | None = None) -> ReviewResult:
    """Replace part ``position`` (1-based) of the thread; the other parts stay as they are
    (``expected_version``: only if the thread is still the version the caller showed)."""
    from generator.story import join_parts

    current = thread(deps, candidate_id)
    if not 1 <= position <= len(current.parts):
        raise UsageError(f"candidate {candidate_id} has parts 1-{len(current.parts)}, not {position}")
    if not text.strip():
        raise UsageError("the part's text is empty")
    parts = list(current.parts)
    parts[position - 1] = text
    return review.edit(deps, candidate_id, actor=actor, text=join_parts(parts), reason=f"edited part {position}",
                       expected_version=expected_version)


def approve_thread(deps: Deps, candidate_id: int, *, actor: str, at: datetime | Literal["best"] | None = None,
                   account: str | None = None, expected_version: int | None = None, reason: str | None = None
                   ) -> ReviewResult:
    """Approve the whole thread as one unit (it is scheduled and published as one post)."""
    from generator.story import MAX_PARTS, MIN_PARTS

    current = thread(deps, candidate_id)
    if not MIN_PARTS <= len(current.parts) <= MAX_PARTS:
        raise UsageError(f"candidate {candidate_id} has {len(current.parts)} parts; a thread needs "
                         f"{MIN_PARTS}-{MAX_PARTS} (edit or continue it first)")
    return review.approve(deps, candidate_id, actor=actor, at=at, account=account, expected_version=expected_version,
                          reason=reason)
