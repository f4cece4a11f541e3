"""The pipeline's gates: what every generator's drafts pass before anything is queued.

bot/service/pipeline.py calls ``Gates.apply`` on a run's drafts before they are scored and stored: the
account's brand profile adds its own promotional line to drafts written for the promotional
audience; then the pure text gates (generator/gates: internals, truth, fluency; for meme captions
meaning and coherence, with the meme bundle's training captions as the pieces its seams join: Models.sources) and the account's
platform preflight (bot.service.publishing.prepare_for, the same call publishing makes) run on each
draft (the preflight last, on the drafts every other gate and check let through: it encodes the
image). A refused draft is stored ``filtered`` with the gate's reason in words; its gate is
stored too (candidates.filter_gate) so `approve` can refuse what the platform would refuse.
Siblings (generator/gates/siblings.py) are checked when the ranker forwards an image's drafts.

Two gates judge what the caption writer wrote (photo, post and story captions), before the profile's
own lines are added:
- ``voice``: a caption that speaks as a business ("our team", "we made", "#smallbusiness",
  generator.gates.voice), unless the account's brand profile runs offers and the draft is for the
  promotional audience.
- ``off_topic``: a caption that names a word of another writer topic than the photo was read as
  ("mug" under a cat, "rocket" under a photo read as no topic), unless the owner's words (--about) or
  the photo's reading name it (generator.gates.offtopic).

Two more gates hold for every kind a model writes:
- ``stock_line``: a call to action or filler line the brand profile did not declare
  (generator.stock_lines: "Tag a friend who needs this.", "Now you know."); the profile's own call
  to action and promotional line pass. Words a person typed (``make``) are theirs to choose.
- ``duplicate``: a draft that says what the account already says (a pending, approved, scheduled or
  published candidate of the dedupe window, or a draft this run already queued) by fewer than 2
  content words (generator.gates.repeats), whatever the image: ``Repeats``, run by the pipeline
  just before an image's drafts are forwarded. Words a person typed may repeat (their choice).
"""
from __future__ import annotations

import logging
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

from bot.core.kinds import content_kind

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.orm import Session

    from bot.config import AccountConfig, Config
    from bot.core.media import Media
    from bot.service.pipeline import Draft
    from generator.brand import Brand

log = logging.getLogger(__name__)

GATES = ("preflight", "truth", "internals", "fluency", "meaning", "coherence", "siblings", "unsafe", "brand",
         "stock_line", "duplicate", "voice", "off_topic")


@dataclass(frozen=True)
class Refusal:
    gate: str
    reason: str


def gate_of(reason: str | None) -> str | None:
    """The gate named at the start of a stored reason ("fluency: ...", "preflight (instagram): ...")."""
    if not reason:
        return None
    head = reason.split(":", 1)[0].split(" (", 1)[0].strip()
    return head if head in GATES else None


def _quoted(words: Sequence[str]) -> str:
    return ", ".join(repr(str(w)) for w in words)


def preflight_text(platform: str, generator: str, text: str) -> str:
    """The text the platform's preflight sees: the first text its publisher is given (a story goes
    out numbered: a chain's first part, or one caption with every part), as bot/service/story_publish.py
    sends it."""
    from bot.core.kinds import platform_texts
    from bot.publishers.factory import platform_takes_threads

    kind = content_kind(generator)
    threads = kind.thread and platform_takes_threads(platform)
    return platform_texts(kind, text, platform, threads=threads)[0]


class Gates:
    """The gates of one run for one account (brand profile and platform from its config)."""

    def __init__(self, config: Config, account: str, generator: str, *, sources: Any = None) -> None:
        self.account: AccountConfig = config.account(account)
        self.brand: Brand = self.account.brand.to_brand()
        self.generator = generator
        self.kind = content_kind(generator)
        self._preflight: dict[Hashable, Refusal | None] = {}
        self.sources = sources  # generator.gates.meaning.Sources of the generator that wrote the drafts
        # words and topics the account never wants, matched like the safety list's words
        self.safety_words: tuple[str, ...] = tuple(config.safety.extra_words)
        self.banned: tuple[str, ...] = (*self.safety_words, *self.brand.banned_words, *self.brand.banned_topics)  # per image: its verdict does not depend on the text

    def unsafe(self, text: str) -> str | None:
        """Why ``text`` may not be posted for its words: the safety list's (the shipped list and
        safety.extra_words: "unsafe: ...") first, else the brand profile's banned words and topics
        ("brand: the account's brand profile never uses 'cheap'"); None when neither holds one."""
        from generator.safety import find_unsafe

        hits = find_unsafe(text, self.banned)
        if not hits:
            return None
        unsafe = find_unsafe(text, self.safety_words)
        if unsafe:
            return f"unsafe: {', '.join(map(str, unsafe))}"
        topics = {t.casefold() for t in self.brand.banned_topics}
        said = [h for h in hits if h not in topics]
        talked = [h for h in hits if h in topics]
        parts = ([f"uses {_quoted(said)}"] if said else []) + ([f"talks about {_quoted(talked)}"] if talked else [])
        return f"brand: the account's brand profile never {' or '.join(parts)}"

    def promote(self, drafts: Sequence[Draft]) -> list[Draft]:
        """Drafts for the promotional audience carry one of the profile's own offers (rotating);
        written captions carry the profile's own hashtags first, and its own call to action (the
        only one a caption may carry: the writers leave theirs out, generator.stock_lines)."""
        from generator.brand import promotional_line, with_call_to_action, with_hashtags, with_promotion

        out = []
        for i, d in enumerate(drafts):
            if d.template is None and self.brand.hashtags:
                d = replace(d, text=with_hashtags(d.text, self.brand, self.account.hashtag_cap))
            if d.audience == "promotional" and self.brand.promotional and d.template is None:
                offer = self.brand.offers[i % len(self.brand.offers)]
                d = replace(d, text=with_promotion(d.text, self.brand, i),
                            params={**d.params, "offers_used": [offer], "promotion": promotional_line(self.brand, i)})
            elif d.template is None and self.brand.call_to_action and not self.kind.words_by_person:
                d = replace(d, text=with_call_to_action(d.text, self.brand))
            out.append(d)
        return out

    def apply(self, drafts: Sequence[Draft], media: Sequence[Media]) -> tuple[list[Draft], list[Refusal | None]]:
        """Each draft as it goes on (the truth gate may have removed a sentence) and its refusal by a
        text gate. The platform's preflight (``publishable``) is left to the pipeline: it encodes
        the image, so it runs last, on the drafts every other gate let through."""
        from generator.gates import check_text

        # a person's own words (make): the truth gate judges only what was added to them
        given = [d.text if self.kind.words_by_person else "" for d in drafts]
        written = [self._written(d) for d in drafts]  # the writer's own words, before the profile's are added
        drafts = self.promote(drafts)
        out: list[Draft] = []
        refusals: list[Refusal | None] = []
        for draft, typed, wrote in zip(drafts, given, written):
            verdict = check_text(draft.text, brand=self.brand, fluency=not self.kind.words_by_person,
                                 sources=self.sources if draft.template is not None else None, given=typed)
            refusal = Refusal(verdict.gate or "truth", verdict.reason or "refused") if not verdict.ok else None
            if refusal is None and verdict.text != draft.text:
                if draft.template is not None:  # the words are drawn on the meme: filter, never re-draw
                    refusal = Refusal("truth", verdict.notes[0] if verdict.notes else "truth: undeclared claim")
                else:
                    draft = replace(draft, text=verdict.text, params={**draft.params, "gates": list(verdict.notes)})
            if refusal is None and wrote is not None and self.unsafe(draft.text) is None:
                refusal = wrote  # after the text gates; the safety list and banned words (run next) say it first
            if refusal is None and not self.kind.words_by_person:
                refusal = self._stock(draft)
            out.append(draft)
            refusals.append(refusal)
        return out, refusals

    def _written(self, draft: Draft) -> Refusal | None:
        """The ``voice`` and ``off_topic`` gates, on a written caption as the writer wrote it."""
        from generator.gates.offtopic import disowns, off_topic
        from generator.gates.voice import business_voice

        if self.kind.words_by_person or draft.template is not None:
            return None
        if not (self.brand.promotional and draft.audience == "promotional"):
            voice = business_voice(draft.text)
            if voice:
                return Refusal("voice", f"voice: {voice}, and the account does not promote a business "
                                        "(only a brand profile with offers, for the promotional audience, may)")
        params = draft.params or {}
        if "topic" in params:
            # the photo's reading names what it shows (its labels, an unsure photo's common ground: "a big cat")
            allowed = " ".join(str(v) for v in (params.get("about"), draft.read_as, params.get("labels"),
                                                params.get("reading")) if v)
            odd = off_topic(draft.text, params.get("topic"), allowed) or disowns(draft.text, params.get("topic"))
            if odd:
                return Refusal("off_topic", f"off_topic: {odd}")
        return None

    def _stock(self, draft: Draft) -> Refusal | None:
        from generator.stock_lines import filler_sentences, stock_sentences

        own = (self.brand.call_to_action, draft.params.get("promotion"))
        found = stock_sentences(draft.text, own)
        if found:
            return Refusal("stock_line", f"stock_line: {found[0]!r} is a call to action or filler line the "
                                         f"account's brand profile does not declare")
        # lines about the page and its makers: only a promotional brand profile's promotional captions
        if not (self.brand.promotional and draft.audience == "promotional"):
            filler = filler_sentences(draft.text, own)
            if filler:
                return Refusal("stock_line", f"stock_line: {filler[0]!r} speaks of the page or its makers, "
                                             "not the picture (only a brand profile with offers, for the "
                                             "promotional audience, may)")
        return None

    def publishable(self, draft: Draft) -> Refusal | None:
        """The platform's own preflight, run once per image (an image's refusal never depends on
        its caption; a caption that cannot fit is trimmed by the preflight, never refused), and once
        per template and size for memes: what a platform refuses of a meme is its template's picture
        (too narrow, too many pixels or bytes), never the few pixels a caption changes. Publishing
        runs the preflight again on the candidate's own image."""
        image: Any = draft.image
        key: Hashable = id(image) if draft.template is None else (draft.template.slug, image.size, image.mode)
        if key not in self._preflight:
            self._preflight[key] = self._run_preflight(draft)
        return self._preflight[key]

    def _run_preflight(self, draft: Draft) -> Refusal | None:
        from bot.service.publishing import prepare_for
        from generator import PreflightError
        from generator.platforms import REFUSES_NOTHING

        platform = self.account.platform
        if platform in REFUSES_NOTHING:  # its preflight only encodes: nothing to refuse
            return None
        image: Any = draft.image
        try:
            prepare_for(self.account, image.convert("RGB") if image.mode not in ("RGB", "RGBA") else image,
                        preflight_text(platform, self.generator, draft.text),
                        template_name=draft.template.name if draft.template is not None else None, alt_text="")
        except PreflightError as exc:
            return Refusal("preflight", f"preflight ({platform}): {exc}")
        return None


class Repeats:
    """The ``duplicate`` gate of one run's round: what the account already says, and what this
    round has queued so far."""

    def __init__(self, session: Session, account_id: int, since: datetime) -> None:
        from feedback.repository.dedupe import account_said
        from generator.gates.repeats import Earlier, RepeatIndex

        self._earlier = Earlier
        self.index = RepeatIndex(Earlier(text, f"candidate {cid} ({status})")
                                 for cid, status, text in account_said(session, account_id, since=since))

    def reason(self, text: str) -> str | None:
        from generator.gates.repeats import repeat_reason

        hit = self.index.find(text)
        return repeat_reason(text, hit) if hit is not None else None

    def queued(self, text: str) -> None:
        self.index.add(self._earlier(text, "another draft of this run"))
